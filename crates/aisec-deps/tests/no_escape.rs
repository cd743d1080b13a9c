//! Regression tests for issue 14 §1: a requirements file (or a conda
//! environment's `pip:` section) in a scanned tree must not make the scan
//! read files outside the tree and print their lines. Scanned end to end
//! through `aisec_engine::scan`, the report serialised to JSON and searched:
//! on the old code, `-r ../outside/private.txt` put the marker below into
//! `AISEC-GEN-002` messages and `AISEC-DEP-003` evidence, and
//! `-r /proc/self/environ` the runner's environment.

use std::path::Path;

use aisec_core::{Finding, Limits, Report, Scanner};
use aisec_engine::{NoProgress, ScanRequest, WalkOptions};

const MARKER: &str = "SECRET_MARKER_123";
const TOKEN: &str = "ghp_1234567890abcdefghijABCDEFGHIJ0123";

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn scan(root: &Path, follow_symlinks: bool) -> Report {
    let scanners: Vec<Box<dyn Scanner>> = vec![Box::new(aisec_deps::scanner(None))];
    let request = ScanRequest {
        targets: vec![root.to_path_buf()],
        walk: WalkOptions {
            follow_symlinks,
            ..WalkOptions::default()
        },
        limits: Limits::default(),
    };
    aisec_engine::scan(&request, &scanners, &NoProgress).unwrap()
}

fn lines_of(report: &Report, file: &str, rule: &str) -> Vec<u32> {
    let mut lines: Vec<u32> = report
        .findings
        .iter()
        .filter(|f| f.rule_id == rule && f.location.path.ends_with(file))
        .filter_map(|f| f.location.line)
        .collect();
    lines.sort();
    lines
}

fn assert_nothing_leaked(report: &Report) {
    let json = serde_json::to_string(report).unwrap();
    for secret in [MARKER.to_owned(), MARKER.to_ascii_lowercase()] {
        assert!(!json.contains(&secret), "{secret} leaked: {json}");
    }
    // What `/proc/self/environ` would have given.
    if let Ok(path) = std::env::var("PATH") {
        assert!(
            !json.contains(&format!("PATH={path}")),
            "environment leaked"
        );
    }
    assert!(
        !json.contains("1234567890abcdefghij"),
        "token reprinted: {json}"
    );
}

/// The scanned tree `repo/` beside `outside/` (which is not scanned).
fn tree() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside/private.txt");
    // An invalid line, an unpinned one, a constraint pin: each came back
    // verbatim on the old code.
    write(
        &outside,
        &format!("{MARKER} == == broken\n{MARKER}\nnumpy=={MARKER}\n"),
    );
    let repo = dir.path().join("repo");
    write(
        &repo.join("requirements.txt"),
        "\
-r /proc/self/environ
-c /proc/self/environ
-r ../outside/private.txt
--requirement=../outside/private.txt
-r link.txt
-c ../outside/private.txt
--constraint=/etc/passwd
-r reqs/base.pip
numpy
",
    );
    write(
        &repo.join("reqs/base.pip"),
        "flask\n-r ../../outside/private.txt\n",
    );
    write(
        &repo.join("requirements-dev.txt"),
        &format!("torch== {TOKEN}\n-r {TOKEN}/x.txt\n"),
    );
    write(
        &repo.join("environment.yml"),
        "\
dependencies:
  - python=3.11
  - pip:
    - mlflow==2.9.2
    - -r ../outside/private.txt
    - -r /proc/self/environ
",
    );
    #[cfg(unix)]
    std::os::unix::fs::symlink(&outside, repo.join("link.txt")).unwrap();
    (dir, repo)
}

#[test]
fn includes_that_leave_the_tree_are_findings_and_never_read() {
    let (_dir, repo) = tree();
    for follow in [false, true] {
        let report = scan(&repo, follow);
        assert_nothing_leaked(&report);
        let mut want = vec![1, 2, 3, 4, 6, 7, 8];
        if cfg!(unix) {
            want.push(5); // the link out
            want.sort();
        }
        assert_eq!(
            lines_of(&report, "repo/requirements.txt", "AISEC-GEN-007"),
            want,
            "{:#?}",
            report.findings
        );
        assert_eq!(
            lines_of(&report, "repo/environment.yml", "AISEC-GEN-007"),
            vec![5, 6]
        );
        // Each escape names its reference, not what is there.
        let e: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.rule_id == "AISEC-GEN-007" && f.location.line == Some(3))
            .collect();
        assert_eq!(e[0].evidence.as_deref(), Some("../outside/private.txt"));
        // Includes inside the tree are still followed: flask comes from
        // reqs/base.pip (scanned only through the include).
        assert!(
            report
                .findings
                .iter()
                .any(|f| f.rule_id == "AISEC-DEP-003" && f.evidence.as_deref() == Some("flask")),
            "{:#?}",
            report.findings
        );
    }
}

#[test]
fn a_secret_on_a_broken_line_is_not_reprinted() {
    let (_dir, repo) = tree();
    let report = scan(&repo, false);
    assert_nothing_leaked(&report);
    let broken: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| {
            f.rule_id == "AISEC-GEN-002" && f.location.path.ends_with("requirements-dev.txt")
        })
        .collect();
    assert_eq!(broken.len(), 2, "{broken:#?}");
    assert!(
        broken[0].message.contains("ghp_…[redacted]"),
        "{}",
        broken[0].message
    );
}
