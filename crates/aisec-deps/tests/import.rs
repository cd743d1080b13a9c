//! Import and matching of OSV features the PyPA snapshot lacks: malicious
//! packages, withdrawn records, aliases across databases, SEMVER and
//! `last_affected` events, invalid records, other ecosystems.

use std::io::Write;
use std::path::Path;

use aisec_core::{FileInput, Limits, ScanContext, Scanner, Severity};

fn export(dir: &Path, records: &[(&str, &str)]) -> std::path::PathBuf {
    let path = dir.join("all.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    for (name, body) in records {
        zip.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(body.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
    path
}

const RECORDS: &[(&str, &str)] = &[
    (
        "MAL-2024-1.json",
        r#"{"id":"MAL-2024-1","modified":"2024-05-01T00:00:00Z","summary":"Malicious code in torchtriton (PyPI)",
            "affected":[{"package":{"ecosystem":"PyPI","name":"torchtriton"},"versions":["3.0.0"]}]}"#,
    ),
    (
        "PYSEC-2024-9.json",
        r#"{"id":"PYSEC-2024-9","modified":"2024-06-01T00:00:00Z","aliases":["CVE-2024-9"],
            "details":"Path traversal in demo-pkg. Long text follows.",
            "affected":[{"package":{"ecosystem":"PyPI","name":"Demo_Pkg"},
              "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.5"}]}]}]}"#,
    ),
    (
        "GHSA-aaaa-bbbb-cccc.json",
        r#"{"id":"GHSA-aaaa-bbbb-cccc","modified":"2024-06-02T00:00:00Z","aliases":["CVE-2024-9"],
            "summary":"demo-pkg path traversal",
            "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            "affected":[{"package":{"ecosystem":"PyPI","name":"demo-pkg"},
              "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"1.0"},{"fixed":"1.6"}]}]}]}"#,
    ),
    (
        "GHSA-semv-erra-nges.json",
        r#"{"id":"GHSA-semv-erra-nges","modified":"2024-01-01T00:00:00Z","summary":"semver range",
            "database_specific":{"severity":"MODERATE"},
            "affected":[{"package":{"ecosystem":"PyPI","name":"semver-pkg"},
              "ranges":[{"type":"SEMVER","events":[{"introduced":"2.0.0"},{"last_affected":"2.1.0"}]},
                        {"type":"GIT","repo":"https://example.com/x","events":[{"introduced":"abc"}]}]}]}"#,
    ),
    (
        "PYSEC-2020-1.json",
        r#"{"id":"PYSEC-2020-1","modified":"2020-01-01T00:00:00Z","withdrawn":"2020-02-01T00:00:00Z",
            "affected":[{"package":{"ecosystem":"PyPI","name":"demo-pkg"},"versions":["1.2"]}]}"#,
    ),
    (
        "RUSTSEC-2024-1.json",
        r#"{"id":"RUSTSEC-2024-1","modified":"2024-01-01T00:00:00Z",
            "affected":[{"package":{"ecosystem":"crates.io","name":"demo-pkg"},"versions":["1.2"]}]}"#,
    ),
    ("BROKEN-1.json", r#"{"id": 5"#),
    ("README.md", "not an advisory"),
];

fn scan(db: aisec_deps::VulnDb, text: &str) -> Vec<aisec_core::Finding> {
    let input = FileInput::on_disk(
        "requirements.txt",
        Path::new("requirements.txt"),
        text.as_bytes(),
    );
    let limits = Limits::default();
    let ctx = ScanContext::new(&limits, &[]);
    aisec_deps::scanner(Some(db)).scan(&input, &ctx)
}

#[test]
fn osv_features_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let zip = export(dir.path(), RECORDS);
    let db_dir = dir.path().join("db");
    let summary = aisec_deps::import(&zip, &db_dir).unwrap();
    let m = &summary.meta;
    assert_eq!(
        (
            m.advisories,
            m.malicious,
            m.withdrawn_skipped,
            m.other_ecosystem_skipped,
            m.invalid_skipped
        ),
        (4, 1, 1, 1, 1)
    );
    assert!(
        m.invalid_examples[0].starts_with("BROKEN-1.json:"),
        "{:?}",
        m.invalid_examples
    );
    assert_eq!(m.newest_advisory, "2024-06-02T00:00:00Z");
    assert!(
        summary.to_string().contains("1 invalid records skipped"),
        "{summary}"
    );

    let findings = scan(
        aisec_deps::open(&db_dir).unwrap(),
        "\u{feff}torchtriton==3.0.0\ndemo.pkg==1.2\nsemver-pkg==2.1.0\nsemver-pkg==2.1.1\n",
    );
    let got: Vec<_> = findings
        .iter()
        .map(|f| (f.rule_id.as_str(), f.location.line, f.severity))
        .collect();
    assert_eq!(
        got,
        vec![
            ("AISEC-DEP-002", Some(1), Severity::Critical),
            ("AISEC-DEP-001", Some(2), Severity::Critical),
            ("AISEC-DEP-001", Some(3), Severity::Medium),
        ]
    );
    // Two records of one CVE are one finding with every id, the fix being
    // the version that fixes both.
    let demo = &findings[1];
    assert_eq!(
        demo.message,
        "demo-pkg 1.2 has a known vulnerability, GHSA-aaaa-bbbb-cccc (CVE-2024-9, PYSEC-2024-9): \
         demo-pkg path traversal; fixed in 1.6 [CVSS 9.8 CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H]"
    );
    let ids: Vec<_> = demo.references.iter().map(|r| r.id.as_ref()).collect();
    assert!(
        ids.ends_with(&["GHSA-aaaa-bbbb-cccc", "CVE-2024-9", "PYSEC-2024-9"]),
        "{ids:?}"
    );
    assert!(
        findings[0].message.contains("known malicious package"),
        "{}",
        findings[0].message
    );
    assert!(
        findings[2]
            .message
            .contains("no fixed version is published")
    );

    // Re-importing replaces the database atomically; status sees the new one.
    let status = aisec_deps::status(&db_dir).unwrap();
    assert_eq!(status.meta.advisories, 4);
}

#[test]
fn empty_and_foreign_databases_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let zip = export(dir.path(), &[("README.md", "x")]);
    let e = aisec_deps::import(&zip, &dir.path().join("db")).unwrap_err();
    assert!(e.to_string().contains("no OSV advisories"), "{e}");

    let db_dir = dir.path().join("junk");
    std::fs::create_dir_all(&db_dir).unwrap();
    std::fs::write(db_dir.join("osv.db"), b"hello world, not a database").unwrap();
    let e = aisec_deps::open(&db_dir).unwrap_err().to_string();
    assert!(e.contains("not an aisec advisory database"), "{e}");

    let mut future = b"AISECOSV".to_vec();
    future.extend_from_slice(&99u32.to_le_bytes());
    future.extend_from_slice(&[0; 8]);
    std::fs::write(db_dir.join("osv.db"), &future).unwrap();
    let e = aisec_deps::open(&db_dir).unwrap_err().to_string();
    assert!(e.contains("database format 99"), "{e}");

    // Truncation is caught at open, not at the first lookup.
    let good = tempfile::tempdir().unwrap();
    aisec_deps::import(&export(good.path(), RECORDS), good.path()).unwrap();
    let bytes = std::fs::read(good.path().join("osv.db")).unwrap();
    std::fs::write(db_dir.join("osv.db"), &bytes[..bytes.len() - 10]).unwrap();
    let e = aisec_deps::open(&db_dir).unwrap_err().to_string();
    assert!(e.contains("truncated"), "{e}");
}

#[test]
fn db_dir_honours_the_environment_override() {
    // Only this test touches the variable in this test binary.
    unsafe { std::env::set_var(aisec_deps::DB_DIR_ENV, "/tmp/aisec-db-override") };
    assert_eq!(
        aisec_deps::default_db_dir(),
        Path::new("/tmp/aisec-db-override")
    );
    unsafe { std::env::remove_var(aisec_deps::DB_DIR_ENV) };
    assert!(aisec_deps::default_db_dir().ends_with("aisec/db"));
}

#[cfg(not(feature = "update"))]
#[test]
fn update_without_network_support_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let e = aisec_deps::update(dir.path()).unwrap_err().to_string();
    assert!(e.contains("`aisec db update` needs network support"), "{e}");
    assert!(e.contains("aisec db import"), "{e}");
}
