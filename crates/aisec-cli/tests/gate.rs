//! End-to-end tests of the ways past the gate of issue 14 (sections 7 and 8):
//! tracked files hidden by `.gitignore`, files the scan does not read
//! (FIFOs, links out of the tree), non-regular files given as arguments,
//! and control characters from scanned names reaching the terminal.
//!
//! The `git` binary builds the fixture repositories here; the product never
//! runs it (a scanned repository's config can make git execute commands).

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A database directory that never exists, so that a developer's own
/// imported database cannot change what these tests see.
const NO_DB: &str = "/nonexistent/aisec-test-db";

/// `os.system('echo pwned')` as a protocol 0 pickle: what loading runs.
const MALICIOUS_PICKLE: &[u8] = b"cos\nsystem\n(S'echo pwned'\ntR.";

/// Longest a scan of these small trees may take before the test calls it
/// hung (the bugs under test hang forever; a passing run takes well under a
/// second). Not a timing assertion: only a guard against waiting forever.
const HANG_GUARD: Duration = Duration::from_secs(120);

/// The binary under test; `AISEC_TEST_BIN` runs these tests against another
/// build (how they were shown to fail on the code before the fixes).
fn aisec_bin() -> std::ffi::OsString {
    std::env::var_os("AISEC_TEST_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_aisec").into())
}

/// Runs aisec in `dir`, killing it if it hangs.
fn aisec_in(dir: &Path, args: &[&str]) -> Output {
    let mut child = Command::new(aisec_bin())
        .env("AISEC_DB_DIR", NO_DB)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run aisec");
    // Drain the pipes on threads so a chatty child cannot block on them.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_thread = std::thread::spawn(move || {
        let mut v = Vec::new();
        stdout.read_to_end(&mut v).ok();
        v
    });
    let err_thread = std::thread::spawn(move || {
        let mut v = Vec::new();
        stderr.read_to_end(&mut v).ok();
        v
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > HANG_GUARD {
            child.kill().ok();
            child.wait().ok();
            panic!("aisec {args:?} hung (killed after {HANG_GUARD:?})");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out_thread.join().unwrap(),
        stderr: err_thread.join().unwrap(),
    }
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "core.hooksPath=/dev/null",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git is installed for the tests");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn json_report(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn findings(report: &Value) -> Vec<Value> {
    report["findings"].as_array().unwrap().clone()
}

/// Findings of `rule` (a prefix such as `AISEC-PKL`) at paths ending in `suffix`.
fn with_rule_at<'a>(report: &'a Value, rule: &str, suffix: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["rule_id"].as_str().unwrap().starts_with(rule)
                && f["location"]["path"].as_str().unwrap().ends_with(suffix)
        })
        .collect()
}

/// A repository whose `.gitignore` hides pickles, with a tracked one
/// (`git add -f`), a tracked one below an ignored directory, and an
/// untracked ignored one.
fn repo_hiding_a_tracked_pickle(dir: &Path) {
    git(dir, &["init", "-q"]);
    std::fs::write(dir.join(".gitignore"), "*.pkl\nhidden/\n").unwrap();
    std::fs::write(dir.join("model.pkl"), MALICIOUS_PICKLE).unwrap();
    std::fs::create_dir_all(dir.join("hidden/deep")).unwrap();
    std::fs::write(dir.join("hidden/deep/weights.bin"), MALICIOUS_PICKLE).unwrap();
    std::fs::write(dir.join("untracked.pkl"), MALICIOUS_PICKLE).unwrap();
    std::fs::create_dir(dir.join("sub")).unwrap();
    std::fs::write(dir.join("sub/nested.pkl"), MALICIOUS_PICKLE).unwrap();
    git(dir, &["add", ".gitignore"]);
    git(
        dir,
        &[
            "add",
            "-f",
            "model.pkl",
            "hidden/deep/weights.bin",
            "sub/nested.pkl",
        ],
    );
    git(dir, &["commit", "-q", "-m", "fixture"]);
}

#[test]
fn tracked_files_are_scanned_whatever_gitignore_says() {
    for version in ["2", "3", "4"] {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        repo_hiding_a_tracked_pickle(root);
        git(root, &["update-index", "--index-version", version]);

        let out = aisec_in(root, &["scan", ".", "-f", "json", "--no-config"]);
        assert_eq!(out.status.code(), Some(1), "index v{version}: {out:?}");
        let report = json_report(&out);
        assert!(
            !with_rule_at(&report, "AISEC-PKL", "model.pkl").is_empty(),
            "index v{version}: {report:#}"
        );
        assert!(
            !with_rule_at(&report, "AISEC-PKL", "hidden/deep/weights.bin").is_empty(),
            "index v{version}: {report:#}"
        );
        // `.gitignore` still skips what git does not track.
        assert!(
            with_rule_at(&report, "", "untracked.pkl").is_empty(),
            "index v{version}: {report:#}"
        );
    }
}

#[test]
fn tracked_files_count_when_scanning_a_directory_below_the_work_tree() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    repo_hiding_a_tracked_pickle(root);
    let out = aisec_in(root, &["scan", "sub", "-f", "json", "--no-config"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let report = json_report(&out);
    let hits = with_rule_at(&report, "AISEC-PKL", "nested.pkl");
    assert!(!hits.is_empty(), "{report:#}");
    assert_eq!(
        hits[0]["location"]["path"].as_str().unwrap(),
        "sub/nested.pkl"
    );
    // --exclude still applies to tracked files.
    let out = aisec_in(
        root,
        &[
            "scan",
            ".",
            "-f",
            "json",
            "--no-config",
            "--exclude",
            "hidden",
            "--exclude",
            "model.pkl",
            "--exclude",
            "sub",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

#[test]
fn a_worktree_reads_the_index_its_git_file_points_to() {
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("main");
    std::fs::create_dir(&main).unwrap();
    repo_hiding_a_tracked_pickle(&main);
    git(&main, &["worktree", "add", "-q", "../wt"]);
    let wt = dir.path().join("wt");
    assert!(wt.join(".git").is_file());
    let out = aisec_in(&wt, &["scan", ".", "-f", "json", "--no-config"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let report = json_report(&out);
    assert!(
        !with_rule_at(&report, "AISEC-PKL", "model.pkl").is_empty(),
        "{report:#}"
    );
}

#[test]
fn a_malformed_index_is_reported_and_nothing_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    repo_hiding_a_tracked_pickle(root);
    // Entry count far beyond what the file holds.
    let index = root.join(".git/index");
    let mut bytes = std::fs::read(&index).unwrap();
    bytes[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
    std::fs::write(&index, bytes).unwrap();

    let out = aisec_in(root, &["scan", ".", "-f", "json", "--no-config"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let report = json_report(&out);
    let malformed = with_rule_at(&report, "AISEC-GEN-002", ".git/index");
    assert_eq!(malformed.len(), 1, "{report:#}");
    assert!(
        malformed[0]["message"]
            .as_str()
            .unwrap()
            .contains("git index"),
        "{report:#}"
    );
    // The fallback scans everything, the untracked ignored file included.
    for name in ["model.pkl", "hidden/deep/weights.bin", "untracked.pkl"] {
        assert!(
            !with_rule_at(&report, "AISEC-PKL", name).is_empty(),
            "{name}: {report:#}"
        );
    }
}

#[test]
fn fifos_inside_the_tree_are_reported_not_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let status = Command::new("mkfifo")
        .arg(root.join("pipe.pkl"))
        .status()
        .unwrap();
    assert!(status.success());
    let out = aisec_in(root, &["scan", ".", "-f", "json", "--no-config"]);
    // Unread content fails the default gate.
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let report = json_report(&out);
    let hits = with_rule_at(&report, "AISEC-GEN-001", "pipe.pkl");
    assert_eq!(hits.len(), 1, "{report:#}");
    assert_eq!(
        hits[0]["message"].as_str().unwrap(),
        "not a regular file (FIFO); not read"
    );
    assert_eq!(hits[0]["severity"], "high");
}

#[test]
fn follow_symlinks_never_leaves_the_tree() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("payload.pkl"), MALICIOUS_PICKLE).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::os::unix::fs::symlink(outside.path().join("payload.pkl"), root.join("model.pkl")).unwrap();
    std::os::unix::fs::symlink(outside.path(), root.join("models")).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", root.join("tokenizer.json")).unwrap();
    // Links inside the tree are followed.
    std::fs::create_dir(root.join("real")).unwrap();
    std::fs::write(root.join("real/inner.pkl"), MALICIOUS_PICKLE).unwrap();
    std::os::unix::fs::symlink("real", root.join("alias")).unwrap();

    let out = aisec_in(
        root,
        &[
            "scan",
            ".",
            "--follow-symlinks",
            "-f",
            "json",
            "--no-config",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let report = json_report(&out);
    for link in ["model.pkl", "models", "tokenizer.json"] {
        assert_eq!(
            with_rule_at(&report, "AISEC-GEN-006", link).len(),
            1,
            "{link}: {report:#}"
        );
    }
    // Nothing outside was read: no pickle finding through either link.
    assert!(
        with_rule_at(&report, "AISEC-PKL", "model.pkl").is_empty(),
        "{report:#}"
    );
    assert!(
        !findings(&report)
            .iter()
            .any(|f| f["location"]["path"].as_str().unwrap().contains("payload")),
        "{report:#}"
    );
    assert!(
        !with_rule_at(&report, "AISEC-PKL", "alias/inner.pkl").is_empty(),
        "{report:#}"
    );
}

#[test]
fn non_regular_files_named_as_arguments_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let status = Command::new("mkfifo")
        .arg(root.join("fifo"))
        .status()
        .unwrap();
    assert!(status.success());
    for target in ["/dev/zero", "fifo"] {
        let out = aisec_in(root, &["scan", target, "--no-config"]);
        assert_eq!(out.status.code(), Some(2), "{target}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("{target}: not a regular file")),
            "{target}: {err}"
        );
    }
    // A link to a regular file named explicitly is still scanned.
    std::fs::write(root.join("real.pkl"), MALICIOUS_PICKLE).unwrap();
    std::os::unix::fs::symlink("real.pkl", root.join("link.pkl")).unwrap();
    let out = aisec_in(root, &["scan", "link.pkl", "-f", "json", "--no-config"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(!with_rule_at(&json_report(&out), "AISEC-PKL", "link.pkl").is_empty());
}

#[test]
fn control_characters_in_scanned_names_never_reach_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let title = "evil\u{1b}]0;owned\u{7}.pkl";
    let clear = "x\u{1b}[2J\nFAKE ROW.pkl";
    std::fs::write(root.join(title), MALICIOUS_PICKLE).unwrap();
    std::fs::write(root.join(clear), MALICIOUS_PICKLE).unwrap();

    let out = aisec_in(root, &["scan", ".", "--color", "never", "--no-config"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let table = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(
        !table.chars().any(|c| c.is_control() && c != '\n'),
        "{table:?}"
    );
    assert!(table.contains("evil\\u{1b}]0;owned\\u{7}.pkl"), "{table}");
    assert!(table.contains("x\\u{1b}[2J\\nFAKE ROW.pkl"), "{table}");
    // The newline did not start a line of its own.
    assert!(!table.lines().any(|l| l.starts_with("FAKE ROW")), "{table}");

    // JSON keeps the exact names (its escaping is safe for terminals).
    let out = aisec_in(root, &["scan", ".", "-f", "json", "--no-config"]);
    let raw = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(!raw.contains('\u{1b}'), "JSON escapes ESC");
    let report = json_report(&out);
    let paths: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["location"]["path"].as_str().unwrap())
        .collect();
    assert!(paths.iter().any(|p| p.ends_with(title)), "{paths:?}");
    assert!(paths.iter().any(|p| p.ends_with(clear)), "{paths:?}");

    // Error messages naming a path escape it too.
    let out = aisec_in(root, &["scan", "missing\u{1b}[2J", "--no-config"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!err.contains('\u{1b}'), "{err:?}");
    assert!(err.contains("missing\\u{1b}[2J"), "{err}");
}

#[test]
fn pickle_views_escape_the_names_a_pickle_carries() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(
        root.join("esc.pkl"),
        b"cos\x1b[2J\nsys\x1b]0;x\x07tem\n(S'a'\ntR.",
    )
    .unwrap();
    for view in ["disasm", "decompile"] {
        let out = aisec_in(root, &["pickle", view, "esc.pkl"]);
        assert_eq!(out.status.code(), Some(0), "{view}: {out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{view}: {text:?}"
        );
        assert!(text.contains("os\\u{1b}[2J"), "{view}: {text}");
    }
}

#[test]
fn split_indexes_and_submodules_list_their_tracked_files() {
    // A split index keeps most entries in `.git/sharedindex.<id>`.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    repo_hiding_a_tracked_pickle(root);
    git(root, &["update-index", "--split-index"]);
    let shared = std::fs::read_dir(root.join(".git"))
        .unwrap()
        .filter_map(|e| e.ok())
        .any(|e| e.file_name().to_string_lossy().starts_with("sharedindex."));
    assert!(shared, "git wrote a shared index");
    // The main index holds entries with empty names standing for shared
    // ones: not a reason to call it malformed.
    let main = std::fs::read(root.join(".git/index")).unwrap();
    assert!(main.windows(4).any(|w| w == b"link"), "a split index");
    let out = aisec_in(root, &["scan", ".", "-f", "json", "--no-config"]);
    let report = json_report(&out);
    for name in ["model.pkl", "hidden/deep/weights.bin", "sub/nested.pkl"] {
        assert!(
            !with_rule_at(&report, "AISEC-PKL", name).is_empty(),
            "split index, {name}: {report:#}"
        );
    }
    assert!(
        with_rule_at(&report, "AISEC-GEN-002", "index").is_empty(),
        "split index: {report:#}"
    );
    assert!(
        with_rule_at(&report, "", "untracked.pkl").is_empty(),
        "split index: {report:#}"
    );

    // A submodule whose own .gitignore hides a pickle it tracks.
    let sub_src = dir.path().join("sub-src");
    std::fs::create_dir(&sub_src).unwrap();
    repo_hiding_a_tracked_pickle(&sub_src);
    let top = tempfile::tempdir().unwrap();
    git(top.path(), &["init", "-q"]);
    git(
        top.path(),
        &[
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "add",
            "-q",
            sub_src.to_str().unwrap(),
            "vendor/sub",
        ],
    );
    assert!(top.path().join("vendor/sub/.git").is_file());
    let out = aisec_in(top.path(), &["scan", ".", "-f", "json", "--no-config"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let report = json_report(&out);
    assert!(
        !with_rule_at(&report, "AISEC-PKL", "vendor/sub/model.pkl").is_empty(),
        "submodule: {report:#}"
    );
    assert!(
        !with_rule_at(&report, "AISEC-PKL", "vendor/sub/hidden/deep/weights.bin").is_empty(),
        "submodule: {report:#}"
    );
}

/// The per-file work budget is configurable, and reaching it is one high
/// finding that fails the default gate (content past a limit is unscanned).
#[test]
fn the_per_file_budget_is_configurable_and_fails_the_gate_when_reached() {
    let dir = tempfile::tempdir().unwrap();
    let npz =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats/benign/arrays.npz");
    std::fs::copy(&npz, dir.path().join("arrays.npz")).unwrap();

    let out = aisec_in(dir.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{:?}",
        findings(&json_report(&out))
    );

    std::fs::write(
        dir.path().join("aisec.toml"),
        "[limits]\nmax-file-members = 1\n",
    )
    .unwrap();
    let out = aisec_in(dir.path(), &["scan", ".", "--format", "json"]);
    let report = json_report(&out);
    let budget = with_rule_at(&report, "AISEC-GEN-003", "arrays.npz");
    assert_eq!(budget.len(), 1, "{:?}", findings(&report));
    assert_eq!(budget[0]["severity"], "high");
    assert!(
        budget[0]["message"]
            .as_str()
            .unwrap()
            .contains("archive members"),
        "{}",
        budget[0]["message"]
    );
    assert_eq!(out.status.code(), Some(1));
}
