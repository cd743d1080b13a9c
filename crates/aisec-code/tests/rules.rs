//! Fixture tests: every line of a fixture that ends in `# expect: ID [ID...]`
//! must produce exactly those findings on that line, and no other line may
//! produce any. `*_neg.py` fixtures therefore assert silence.

use std::collections::BTreeSet;
use std::path::Path;

use aisec_code::{CodeScanner, RULES};
use aisec_core::{FileInput, Finding, Limits, ScanContext, Scanner, generic};

fn scan_with(name: &str, bytes: &[u8], limits: &Limits) -> Vec<Finding> {
    let scanners: Vec<Box<dyn Scanner>> = vec![Box::new(CodeScanner)];
    let ctx = ScanContext::new(limits, &scanners);
    ctx.run(&FileInput::on_disk(name, Path::new(name), bytes))
}

fn scan(name: &str, bytes: &[u8]) -> Vec<Finding> {
    scan_with(name, bytes, &Limits::default())
}

fn fixture(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn expected(src: &str) -> BTreeSet<(u32, String)> {
    let mut out = BTreeSet::new();
    for (i, line) in src.lines().enumerate() {
        if let Some((_, ids)) = line.split_once("# expect: ") {
            for id in ids.split_whitespace() {
                out.insert((i as u32 + 1, id.to_owned()));
            }
        }
    }
    out
}

fn check_fixture(name: &str) {
    let bytes = fixture(name);
    let want = expected(std::str::from_utf8(&bytes).unwrap());
    let findings = scan(name, &bytes);
    let got: BTreeSet<(u32, String)> = findings
        .iter()
        .map(|f| (f.location.line.unwrap_or(0), f.rule_id.clone()))
        .collect();
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{name}: missing {missing:?}, unexpected {extra:?}\n{findings:#?}"
    );
    // One finding per expected (line, rule): nothing reported twice.
    assert_eq!(
        findings.len(),
        want.len(),
        "{name}: duplicates in {findings:#?}"
    );
}

#[test]
fn deserialization_positive() {
    check_fixture("deserialization_pos.py");
}

#[test]
fn deserialization_negative() {
    check_fixture("deserialization_neg.py");
}

#[test]
fn remote_code_positive() {
    check_fixture("remote_code_pos.py");
}

#[test]
fn remote_code_negative() {
    check_fixture("remote_code_neg.py");
}

#[test]
fn llm_positive() {
    check_fixture("llm_pos.py");
}

#[test]
fn llm_negative() {
    check_fixture("llm_neg.py");
}

#[test]
fn web_positive() {
    check_fixture("web_pos.py");
}

#[test]
fn web_negative() {
    check_fixture("web_neg.py");
}

#[test]
fn every_rule_has_a_positive_fixture() {
    let all: String = [
        "deserialization_pos.py",
        "remote_code_pos.py",
        "llm_pos.py",
        "web_pos.py",
    ]
    .iter()
    .map(|f| String::from_utf8(fixture(f)).unwrap())
    .collect();
    for rule in RULES {
        assert!(all.contains(rule.id), "{} has no positive fixture", rule.id);
    }
}

#[test]
fn severities_follow_the_evidence() {
    let f = scan(
        "a.py",
        b"import torch\ntorch.load(p)\ntorch.load(p, weights_only=False)\n",
    );
    assert_eq!(f.len(), 2);
    assert_eq!(f[0].severity, aisec_core::Severity::Medium);
    assert_eq!(f[1].severity, aisec_core::Severity::High);
    assert_eq!(
        f[1].evidence.as_deref(),
        Some("torch.load(p, weights_only=False)")
    );
    assert_eq!(f[1].location.column, Some(1));
}

#[test]
fn shebang_scripts_without_extension_are_python() {
    let f = scan("bin/run_model", &fixture("run_model"));
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].rule_id, "AISEC-CODE-002");
    assert_eq!(f[0].location.line, Some(3));
    // Plain text that merely mentions pickle is not Python.
    assert!(scan("notes.txt", b"pickle.loads(x)\n").is_empty());
}

#[test]
fn notebook_findings_name_cell_and_file_line() {
    let f = scan("train.ipynb", &fixture("train.ipynb"));
    let got: Vec<(&str, Option<u32>)> = f
        .iter()
        .map(|f| (f.rule_id.as_str(), f.location.line))
        .collect();
    assert_eq!(
        got,
        [("AISEC-CODE-001", Some(20)), ("AISEC-CODE-006", Some(38))],
        "{f:#?}"
    );
    assert!(
        f[0].message.starts_with("cell 2, line 4: "),
        "{}",
        f[0].message
    );
    assert!(
        f[1].message.starts_with("cell 3, line 2: "),
        "{}",
        f[1].message
    );
}

#[test]
fn broken_notebook_is_malformed_and_named() {
    let f = scan("nb/broken.ipynb", &fixture("broken.ipynb"));
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].rule_id, generic::MALFORMED.id);
    assert!(f[0].message.contains("nb/broken.ipynb"));
    assert!(f[0].message.contains("not valid JSON"));
}

#[test]
fn oversized_files_are_cut_and_reported() {
    let mut src = b"import pickle\npickle.loads(a)\n".to_vec();
    src.extend(std::iter::repeat_n(b'#', 100));
    src.extend_from_slice(b"\npickle.loads(b)\n");
    let limits = Limits {
        max_full_read: 40,
        ..Limits::default()
    };
    let f = scan_with("big.py", &src, &limits);
    let ids: Vec<&str> = f.iter().map(|f| f.rule_id.as_str()).collect();
    assert_eq!(ids, [generic::LIMIT_EXCEEDED.id, "AISEC-CODE-002"]);
}

#[test]
fn syntax_errors_do_not_hide_the_rest() {
    let f = scan(
        "py2.py",
        b"import pickle\nprint 'python 2'\nx = = 1\npickle.loads(x)\n",
    );
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].location.line, Some(4));
}
