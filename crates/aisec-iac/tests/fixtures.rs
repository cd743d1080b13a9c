//! Fixture tests: every fixture under `tests/fixtures/` is scanned from disk
//! through the engine (so Terraform sibling files and local modules are read
//! as in a real scan, through the confined `SiblingSource`). A line ending in
//! `# expect: ID, ID` (or a comment line `# expect-next: ID` before it)
//! must produce exactly those findings on that line, and no other finding
//! may appear anywhere. Files without expectations are the negative fixtures.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use aisec_core::{Finding, Limits, Scanner};
use aisec_engine::{NoProgress, ScanRequest, WalkOptions};
use aisec_iac::{IacScanner, RULES};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn all_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            all_files(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Findings for one fixture, from one engine scan of the whole fixture tree:
/// sibling `.tf` files and local modules are read through the engine's
/// confined reader, exactly as `aisec scan` reads them.
pub fn scan_path(p: &Path) -> Vec<Finding> {
    static REPORT: OnceLock<BTreeMap<String, Vec<Finding>>> = OnceLock::new();
    let by_path = REPORT.get_or_init(|| {
        let scanners: Vec<Box<dyn Scanner>> = vec![Box::new(IacScanner)];
        let request = ScanRequest {
            targets: vec![fixtures_dir()],
            walk: WalkOptions {
                no_ignore: true,
                ..WalkOptions::default()
            },
            limits: Limits::default(),
        };
        let report = aisec_engine::scan(&request, &scanners, &NoProgress).unwrap();
        let mut by_path: BTreeMap<String, Vec<Finding>> = BTreeMap::new();
        for f in report.findings {
            by_path.entry(f.location.path.clone()).or_default().push(f);
        }
        by_path
    });
    by_path
        .get(p.to_string_lossy().as_ref())
        .cloned()
        .unwrap_or_default()
}

fn ids(list: &str) -> Vec<String> {
    list.split(',')
        .map(|s| s.trim().trim_start_matches("//").trim().to_owned())
        .filter(|s| s.starts_with("AISEC-"))
        .collect()
}

/// `(line, rule)` pairs the fixture asks for, with multiplicity.
fn expectations(text: &str) -> BTreeMap<(u32, String), usize> {
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let n = i as u32 + 1;
        for (marker, target) in [("expect-next:", n + 1), ("expect:", n)] {
            if let Some(p) = line.find(marker) {
                if marker == "expect:" && line[..p].ends_with("expect-next:") {
                    continue;
                }
                if marker == "expect:" && line.contains("expect-next:") {
                    continue;
                }
                for id in ids(&line[p + marker.len()..]) {
                    *out.entry((target, id)).or_insert(0) += 1;
                }
            }
        }
    }
    out
}

#[test]
fn every_fixture_reports_exactly_its_expectations() {
    let mut files = Vec::new();
    all_files(&fixtures_dir(), &mut files);
    files.sort();
    let mut failures = Vec::new();
    let mut positives = 0;
    for p in &files {
        let text = std::fs::read_to_string(p).unwrap();
        let want = expectations(&text);
        if !want.is_empty() {
            positives += 1;
        }
        let found = scan_path(p);
        let mut got: BTreeMap<(u32, String), usize> = BTreeMap::new();
        for f in &found {
            let line = f.location.line.expect("every finding has a line");
            assert!(line >= 1);
            *got.entry((line, f.rule_id.clone())).or_insert(0) += 1;
        }
        if got != want {
            let rel = p
                .strip_prefix(fixtures_dir())
                .unwrap()
                .display()
                .to_string();
            let mut msg = format!("{rel}:\n");
            for (k, v) in &want {
                if got.get(k) != Some(v) {
                    msg += &format!(
                        "  missing {}x {} at line {}\n",
                        v - got.get(k).copied().unwrap_or(0).min(*v),
                        k.1,
                        k.0
                    );
                }
            }
            for f in &found {
                let k = (f.location.line.unwrap(), f.rule_id.clone());
                if want.get(&k).copied().unwrap_or(0) < got[&k] {
                    msg += &format!("  unexpected {} at line {}: {}\n", k.1, k.0, f.message);
                }
            }
            failures.push(msg);
        }
    }
    assert!(positives >= 10, "fixtures went missing");
    assert!(failures.is_empty(), "{}", failures.join(""));
}

/// Every rule has a positive fixture (a line that expects it) and at least
/// one negative fixture directory or file that exercises the same resource
/// kind without it (the negative files are checked above to be silent).
#[test]
fn every_rule_has_a_positive_fixture() {
    let mut files = Vec::new();
    all_files(&fixtures_dir(), &mut files);
    let mut seen = std::collections::BTreeSet::new();
    let mut negatives = 0;
    for p in &files {
        let text = std::fs::read_to_string(p).unwrap();
        let e = expectations(&text);
        if e.is_empty() {
            negatives += 1;
        }
        seen.extend(e.into_keys().map(|(_, id)| id));
    }
    for r in RULES {
        assert!(seen.contains(r.id), "{} has no positive fixture", r.id);
    }
    assert!(negatives >= 10);
}
