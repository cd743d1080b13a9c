//! Fixture tests (fixtures made by `fixtures/gen/secrets_fixtures.py`): every
//! line ending in `# expect: ID` produces exactly that finding, and nothing
//! else is reported. Also: redaction in every field, notebooks, noise control.

use std::collections::BTreeSet;
use std::path::Path;

use aisec_core::{Confidence, FileInput, Finding, Limits, ScanContext, Scanner, Severity, generic};
use aisec_secrets::{RULES, SecretsScanner, find_secrets};

fn scan_with(name: &str, bytes: &[u8], limits: &Limits) -> Vec<Finding> {
    let scanners: Vec<Box<dyn Scanner>> = vec![Box::new(SecretsScanner)];
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

/// Every maximal run of 12+ token characters on the expected lines: the
/// secrets themselves, which must never appear in any output field.
fn secret_like_runs(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in src
        .lines()
        .filter(|l| l.contains("# expect:") || !l.contains('#'))
    {
        for run in line.split(|c: char| !(c.is_ascii_alphanumeric() || "_-+/".contains(c))) {
            if run.len() >= 24 {
                out.push(run.to_owned());
            }
        }
    }
    out
}

fn assert_redacted(findings: &[Finding], src: &str) {
    let json = serde_json::to_string(findings).unwrap();
    for run in secret_like_runs(src) {
        // Allow the public prefix (at most a quarter), never the body.
        let body = &run[run.len() / 2..];
        assert!(!json.contains(body), "secret material leaked: {body}");
    }
}

#[test]
fn positive_fixture_finds_every_expected_secret() {
    let bytes = fixture("positive.py");
    let src = String::from_utf8(bytes.clone()).unwrap();
    let want: BTreeSet<(u32, String)> = src
        .lines()
        .enumerate()
        .filter_map(|(i, l)| {
            l.split_once("# expect: ")
                .map(|(_, id)| (i as u32 + 1, id.trim().to_owned()))
        })
        .collect();
    let findings = scan("src/settings.py", &bytes);
    let got: BTreeSet<(u32, String)> = findings
        .iter()
        .map(|f| (f.location.line.unwrap(), f.rule_id.clone()))
        .collect();
    assert_eq!(
        got.difference(&want).collect::<Vec<_>>(),
        Vec::<&(u32, String)>::new(),
        "unexpected"
    );
    assert_eq!(
        want.difference(&got).collect::<Vec<_>>(),
        Vec::<&(u32, String)>::new(),
        "missing"
    );
    assert_eq!(findings.len(), want.len(), "{findings:#?}");
    assert_redacted(&findings, &src);
    // Severity follows the key: a Stripe test key is low, a live key critical.
    let stripe: Vec<Severity> = findings
        .iter()
        .filter(|f| f.rule_id == "AISEC-SEC-014")
        .map(|f| f.severity)
        .collect();
    assert_eq!(stripe, [Severity::Critical, Severity::Low]);
}

#[test]
fn every_secret_rule_has_a_positive_case() {
    let mut all = String::from_utf8(fixture("positive.py")).unwrap();
    all.push_str(&String::from_utf8(fixture("service-account.json")).unwrap());
    all.push_str("AISEC-SEC-011"); // service account: own test
    for r in RULES {
        assert!(all.contains(r.id), "{} untested", r.id);
    }
}

#[test]
fn negative_fixture_is_silent() {
    let f = scan("src/config.py", &fixture("negative.py"));
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn service_account_is_one_finding_not_two() {
    let bytes = fixture("service-account.json");
    let f = scan("deploy/sa.json", &bytes);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].rule_id, "AISEC-SEC-011");
    assert_eq!(f[0].location.line, Some(5));
    let ev = f[0].evidence.as_deref().unwrap();
    assert!(
        ev.starts_with("-----BEGIN PRIVATE KEY-----…[redacted"),
        "{ev}"
    );
    assert_redacted(&f, &String::from_utf8(bytes).unwrap());
}

#[test]
fn notebook_output_secrets_name_the_cell_and_pii_is_not_ours() {
    let bytes = fixture("analysis.ipynb");
    let f = scan("nb/analysis.ipynb", &bytes);
    let ids: Vec<&str> = f.iter().map(|f| f.rule_id.as_str()).collect();
    // The e-mails of cell 3 are aisec-data's (AISEC-DATA-012), not ours too.
    assert_eq!(ids, ["AISEC-SEC-003"], "{f:#?}");
    assert!(
        f[0].message.contains("saved output of cell 2"),
        "{}",
        f[0].message
    );
    let src = String::from_utf8(bytes).unwrap();
    let line_of = |needle: &str| src.lines().position(|l| l.contains(needle)).unwrap() as u32 + 1;
    assert_eq!(f[0].location.line, Some(line_of("token: hf_")));
    assert_redacted(&f, &src);
}

#[test]
fn lock_files_get_no_entropy_findings() {
    let bytes = fixture("package-lock.json");
    assert!(scan("web/package-lock.json", &bytes).is_empty());
    // The same text under another name would be reported: the rule is live.
    let other = scan("web/creds.json", &bytes);
    assert!(
        other.iter().any(|f| f.rule_id == "AISEC-SEC-018"),
        "{other:#?}"
    );
}

#[test]
fn test_paths_are_downgraded_not_hidden() {
    let bytes = fixture("positive.py");
    let f = scan("tests/fixtures/positive.py", &bytes);
    assert!(!f.is_empty());
    assert!(
        f.iter()
            .all(|f| f.severity == Severity::Low && f.confidence == Confidence::Low)
    );
    assert!(f[0].message.contains("probably a fixture"));
}

#[test]
fn binary_files_are_not_scanned_and_big_files_are_cut() {
    let scanner = SecretsScanner;
    let bin = FileInput::on_disk("w.bin", Path::new("w.bin"), b"\x00\x01ghp_");
    assert!(!scanner.detect(&bin));
    let mut big = b"x = 1\n".repeat(10);
    big.extend_from_slice(&fixture("positive.py"));
    let limits = Limits {
        max_full_read: 60,
        ..Limits::default()
    };
    let f = scan_with("big.py", &big, &limits);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].rule_id, generic::LIMIT_EXCEEDED.id);
}

#[test]
fn find_secrets_is_reusable_on_plain_text() {
    let text = String::from_utf8(fixture("positive.py")).unwrap();
    let line = text.lines().find(|l| l.contains("GH = ")).unwrap();
    let m = find_secrets(line);
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].rule.id, "AISEC-SEC-012");
    assert_eq!(&line[m[0].start..m[0].start + 4], "ghp_");
    assert_eq!(m[0].end - m[0].start, 40);
    assert!(
        m[0].redacted
            .starts_with("ghp_…[redacted 40 chars, sha256:")
    );
    // Alone, in prose, without the surrounding assignment, it is still found.
    let bare = &line[m[0].start..m[0].end];
    assert_eq!(find_secrets(&format!("see {bare}.")).len(), 1);
    // A token glued to a longer identifier is not a token.
    assert!(find_secrets(&format!("x{bare}")).is_empty());
}

#[test]
fn pem_files_plain_and_encrypted() {
    let f = scan("home/.ssh/id_ed25519", &fixture("id_ed25519"));
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(
        (f[0].rule_id.as_str(), f[0].severity),
        ("AISEC-SEC-015", Severity::High)
    );
    assert!(
        f[0].evidence
            .as_deref()
            .unwrap()
            .starts_with("-----BEGIN OPENSSH PRIVATE KEY-----…")
    );
    let f = scan("certs/encrypted.pem", &fixture("encrypted.pem"));
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].severity, Severity::Medium);
    assert_redacted(&f, &String::from_utf8(fixture("encrypted.pem")).unwrap());
}
