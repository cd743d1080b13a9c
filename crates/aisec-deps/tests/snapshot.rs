//! End-to-end tests against PyPA advisories in OSV form: import them, open
//! the stored database, scan the fixtures and compare the advisory ids with
//! those computed independently (tests/peer/osv_reference.py, and pip-audit
//! where it agrees; see the crate note).
//!
//! The advisories are `fixtures/shared/data/osv-PyPI-subset.zip`: every record
//! of the full 2,661-record snapshot that names a package of these fixtures,
//! plus its 10 withdrawn records (made by `fixtures/gen/osv_subset.py`), so a
//! fresh clone runs these tests alone and each fixture sees the advisories it
//! sees against the full snapshot.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use aisec_core::{Confidence, FileInput, Finding, Limits, ScanContext, Scanner, Severity};
use aisec_engine::WalkedFile;
use aisec_engine::siblings::TreeSiblings;
use aisec_engine::walk::ScanRoot;

fn snapshot() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(SNAPSHOT)
}

/// The subset, relative to this crate.
const SNAPSHOT: &str = "../../fixtures/shared/data/osv-PyPI-subset.zip";
/// Records of the subset that are neither withdrawn nor invalid (163 of 173:
/// `fixtures/gen/osv_subset.py` prints both numbers).
const SNAPSHOT_ADVISORIES: u64 = 163;
/// Withdrawn records: all those of the full snapshot, kept in the subset.
const SNAPSHOT_WITHDRAWN: u64 = 10;
/// Distinct PyPI packages the subset's live records name (the fixtures'
/// packages that have advisories; none of the records names another).
const SNAPSHOT_PACKAGES: u64 = 22;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The snapshot imported once per test run, under cargo's per-target temp dir
/// (reused and overwritten, so nothing piles up in /tmp).
fn db_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("aisec-deps-snapshot-db");
        let summary = aisec_deps::import(&snapshot(), &dir).expect("importing the snapshot");
        assert_eq!(summary.meta.advisories, SNAPSHOT_ADVISORIES);
        dir
    })
}

fn scan_with(rel: &str, db: Option<aisec_deps::VulnDb>) -> Vec<Finding> {
    let path = fixtures().join(rel);
    let bytes = std::fs::read(&path).unwrap();
    let input = FileInput::on_disk(rel, &path, &bytes);
    let scanner = aisec_deps::scanner(db);
    assert!(scanner.detect(&input), "{rel} not detected");
    // References are read through the engine's confined reader, rooted at
    // the fixtures directory, as in a scan of it.
    let limits = Limits::default();
    let tree = TreeSiblings::new(
        vec![ScanRoot {
            canonical: Some(std::fs::canonicalize(fixtures()).unwrap()),
            display: String::new(),
        }],
        globset::GlobSet::empty(),
        false,
        &limits,
    );
    let walked = WalkedFile {
        path: path.clone(),
        display: rel.to_owned(),
        size: bytes.len() as u64,
        root: 0,
    };
    let siblings = tree.for_file(&walked);
    let ctx = ScanContext::with_siblings(&limits, &[], &siblings);
    scanner.scan(&input, &ctx)
}

fn scan(rel: &str) -> Vec<Finding> {
    scan_with(rel, Some(aisec_deps::open(db_dir()).unwrap()))
}

/// package → advisory ids, from the vulnerability findings.
fn advisories(findings: &[Finding]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in findings.iter().filter(|f| f.rule_id == "AISEC-DEP-001") {
        let pkg = f.message.split(' ').next().unwrap().to_owned();
        let id = f.evidence.as_deref().unwrap().rsplit(' ').next().unwrap();
        out.entry(pkg).or_default().push(id.to_owned());
    }
    for ids in out.values_mut() {
        ids.sort();
    }
    out
}

fn expect(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
    pairs
        .iter()
        .map(|(p, ids)| {
            let mut ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
            ids.sort();
            (p.to_string(), ids)
        })
        .collect()
}

fn rules_of(findings: &[Finding]) -> Vec<(String, Option<u32>)> {
    let mut r: Vec<_> = findings
        .iter()
        .map(|f| (f.rule_id.clone(), f.location.line))
        .collect();
    r.sort();
    r
}

#[test]
fn requirements_of_an_ml_service() {
    let findings = scan("ml/requirements.txt");
    assert_eq!(
        advisories(&findings),
        expect(&[
            (
                "mlflow",
                &[
                    "PYSEC-2023-252",
                    "PYSEC-2023-253",
                    "PYSEC-2023-260",
                    "PYSEC-2023-28",
                    "PYSEC-2023-29",
                    "PYSEC-2023-68",
                    "PYSEC-2023-69",
                    "PYSEC-2023-70",
                    "PYSEC-2024-51",
                ],
            ),
            ("torch", &["PYSEC-2022-43015"]),
            ("gradio", &["PYSEC-2023-249", "PYSEC-2023-255"]),
            (
                "langchain",
                &[
                    "PYSEC-2023-109",
                    "PYSEC-2023-110",
                    "PYSEC-2023-138",
                    "PYSEC-2023-145",
                    "PYSEC-2023-146",
                    "PYSEC-2023-147",
                    "PYSEC-2023-162",
                    "PYSEC-2023-205",
                    "PYSEC-2023-91",
                    "PYSEC-2023-92",
                    "PYSEC-2023-98",
                    "PYSEC-2024-43",
                ],
            ),
            ("jupyter-server", &["PYSEC-2023-155", "PYSEC-2023-157"]),
            ("notebook", &["PYSEC-2022-180", "PYSEC-2022-212"]),
        ])
    );
    // numpy>=1.21 is the only loose requirement.
    let unpinned: Vec<_> = findings
        .iter()
        .filter(|f| f.rule_id == "AISEC-DEP-003")
        .map(|f| f.location.line)
        .collect();
    assert_eq!(unpinned, vec![Some(9)]);

    // A CVSS-rated record: severity from the computed base score, the fix,
    // every alias as a reference, the line of the requirement.
    let f = findings
        .iter()
        .find(|f| f.evidence.as_deref() == Some("mlflow==1.23.1 PYSEC-2023-252"))
        .unwrap();
    assert_eq!(f.location.line, Some(2));
    assert_eq!(f.severity, Severity::High);
    assert!(f.message.contains("fixed in 2.9.2"), "{}", f.message);
    assert!(
        f.message
            .contains("CVSS 7.5 CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"),
        "{}",
        f.message
    );
    assert!(
        f.references.iter().any(|r| r.id == "CVE-2023-6909"),
        "{:?}",
        f.references
    );
    // Unrated records default to high.
    let f = findings
        .iter()
        .find(|f| {
            f.evidence.as_deref()
                == Some("torch==1.13.0 ; platform_system != \"Darwin\" PYSEC-2022-43015")
        })
        .unwrap();
    assert_eq!(f.severity, Severity::High);
    assert!(f.message.contains("fixed in 1.13.1"), "{}", f.message);
}

#[test]
fn lockfiles() {
    assert_eq!(
        advisories(&scan("poetry/poetry.lock")),
        expect(&[
            (
                "langchain",
                &["PYSEC-2023-162", "PYSEC-2023-205", "PYSEC-2024-43"]
            ),
            ("mlflow", &["PYSEC-2024-51"]),
            (
                "nltk",
                &["PYSEC-2021-356", "PYSEC-2021-859", "PYSEC-2022-5"]
            ),
            (
                "notebook",
                &[
                    "PYSEC-2018-17",
                    "PYSEC-2018-18",
                    "PYSEC-2019-158",
                    "PYSEC-2019-159",
                    "PYSEC-2020-215",
                    "PYSEC-2021-118",
                    "PYSEC-2022-180",
                    "PYSEC-2022-212",
                ],
            ),
        ])
    );
    assert_eq!(
        advisories(&scan("uv/uv.lock")),
        expect(&[
            ("fastapi", &["PYSEC-2021-100", "PYSEC-2024-38"]),
            ("gradio", &["PYSEC-2023-255"]),
            (
                "pillow",
                &[
                    "PYSEC-2022-168",
                    "PYSEC-2022-42979",
                    "PYSEC-2023-175",
                    "PYSEC-2023-227"
                ],
            ),
        ])
    );
    assert_eq!(
        advisories(&scan("pipenv/Pipfile.lock")),
        expect(&[
            ("ipython", &["PYSEC-2022-12", "PYSEC-2023-17"]),
            ("jinja2", &["PYSEC-2019-217", "PYSEC-2021-66"]),
            ("jupyterlab", &["PYSEC-2021-130"]),
        ])
    );
    assert_eq!(
        advisories(&scan("pdm/pdm.lock")),
        expect(&[(
            "aiohttp",
            &[
                "PYSEC-2023-120",
                "PYSEC-2023-246",
                "PYSEC-2023-250",
                "PYSEC-2023-251",
                "PYSEC-2024-24",
                "PYSEC-2024-26",
            ],
        )])
    );
    assert_eq!(
        advisories(&scan("pylock/pylock.toml")),
        expect(&[
            ("llama-index", &["PYSEC-2024-12"]),
            (
                "werkzeug",
                &["PYSEC-2023-221", "PYSEC-2023-57", "PYSEC-2023-58"]
            ),
        ])
    );
    // Lockfiles are pinned by nature: no hygiene noise.
    let uv = scan("uv/uv.lock");
    assert!(uv.iter().all(|f| f.rule_id == "AISEC-DEP-001"), "{uv:?}");
    let line = uv
        .iter()
        .find(|f| f.message.starts_with("gradio"))
        .unwrap()
        .location
        .line;
    assert_eq!(line, Some(20));
}

#[test]
fn pyproject_conda_and_installed_packages() {
    assert_eq!(
        advisories(&scan("pyproject/pyproject.toml")),
        expect(&[
            ("mlflow", &["PYSEC-2024-51"]),
            ("jupyter-core", &["PYSEC-2022-42974"]),
            ("nbconvert", &["PYSEC-2022-249"]),
            ("torch", &["PYSEC-2022-43015"]),
        ])
    );
    let conda = scan("conda/conda.yaml");
    assert_eq!(
        advisories(&conda),
        expect(&[
            ("torch", &["PYSEC-2022-43015"]),
            ("mlflow", &["PYSEC-2024-51"]),
            ("streamlit", &["PYSEC-2022-248"]),
        ])
    );
    let torch = conda
        .iter()
        .find(|f| f.message.starts_with("torch"))
        .unwrap();
    assert_eq!(torch.confidence, Confidence::Medium);
    assert_eq!(torch.location.line, Some(6));
    // cloudpickle is unpinned in the pip section.
    assert!(
        conda
            .iter()
            .any(|f| f.rule_id == "AISEC-DEP-003" && f.location.line == Some(11))
    );

    let site = "venv/lib/python3.11/site-packages";
    assert_eq!(
        advisories(&scan(&format!("{site}/gradio-3.13.0.dist-info/METADATA"))),
        expect(&[(
            "gradio",
            &[
                "PYSEC-2023-16",
                "PYSEC-2023-249",
                "PYSEC-2023-255",
                "PYSEC-2023-90"
            ],
        )])
    );
    assert_eq!(
        advisories(&scan(&format!("{site}/Jinja2-2.10.dist-info/METADATA"))),
        expect(&[("Jinja2", &["PYSEC-2019-217", "PYSEC-2021-66"])])
    );
}

#[test]
fn without_a_database_hygiene_still_runs_and_the_cli_line_says_why() {
    let empty = tempfile::tempdir().unwrap();
    let db = aisec_deps::open(empty.path());
    let line = aisec_deps::db_status_line(&db);
    assert!(line.contains("vulnerability matching skipped"), "{line}");
    assert!(line.contains("aisec db import"), "{line}");
    let findings = scan_with("ml/requirements.txt", db.ok());
    assert_eq!(rules_of(&findings), vec![("AISEC-DEP-003".into(), Some(9))]);

    let ok = aisec_deps::open(db_dir());
    let line = aisec_deps::db_status_line(&ok);
    assert!(
        line.contains(&format!("{SNAPSHOT_ADVISORIES} advisories")),
        "{line}"
    );
}

#[test]
fn status_reports_source_date_and_counts() {
    let status = aisec_deps::status(db_dir()).unwrap();
    let m = &status.meta;
    assert_eq!(m.withdrawn_skipped, SNAPSHOT_WITHDRAWN);
    assert_eq!(m.invalid_skipped, 0);
    assert_eq!(m.malicious, 0);
    // The newest `modified` among the subset's live records (mlflow's
    // PYSEC-2024-51), not the snapshot's date.
    assert!(
        m.newest_advisory.starts_with("2024-05-16"),
        "{}",
        m.newest_advisory
    );
    assert_eq!(m.packages["PyPI"], SNAPSHOT_PACKAGES);
    let text = status.to_string();
    assert!(text.contains("osv-PyPI-subset.zip"), "{text}");
    assert!(
        text.contains(&format!("advisories:      {SNAPSHOT_ADVISORIES}")),
        "{text}"
    );
}

#[test]
fn hygiene_rules() {
    let findings = scan_with("hygiene/requirements.txt", None);
    assert_eq!(
        rules_of(&findings),
        vec![
            ("AISEC-DEP-003".into(), Some(6)),
            ("AISEC-DEP-003".into(), Some(7)),
            ("AISEC-DEP-003".into(), Some(8)),
            ("AISEC-DEP-004".into(), Some(6)),
            ("AISEC-DEP-004".into(), Some(7)),
            ("AISEC-DEP-004".into(), Some(8)),
            ("AISEC-DEP-005".into(), Some(2)),
            ("AISEC-DEP-005".into(), Some(3)),
            ("AISEC-DEP-006".into(), Some(2)),
        ]
    );
}

#[test]
fn malformed_files_name_file_and_line_and_the_scan_goes_on() {
    let toml = scan("bad/pyproject.toml");
    assert_eq!(toml.len(), 1);
    assert_eq!(toml[0].rule_id, "AISEC-GEN-002");
    assert!(
        toml[0]
            .message
            .starts_with("bad/pyproject.toml: invalid TOML"),
        "{}",
        toml[0].message
    );
    assert!(toml[0].location.line.is_some());

    let yaml = scan("bad/environment.yml");
    assert_eq!(yaml.len(), 1);
    assert!(
        yaml[0]
            .message
            .starts_with("bad/environment.yml: invalid YAML"),
        "{}",
        yaml[0].message
    );

    // The include loop is reported, and the requirements on both sides of it
    // are still checked (each file in its own scan).
    let findings = scan("loop/requirements.txt");
    let malformed: Vec<_> = findings
        .iter()
        .filter(|f| f.rule_id == "AISEC-GEN-002")
        .collect();
    assert_eq!(malformed.len(), 1);
    assert!(
        malformed[0].message.contains("include loop"),
        "{}",
        malformed[0].message
    );
    assert_eq!(malformed[0].location.line, Some(1));
    assert_eq!(advisories(&findings)["mlflow"].len(), 9);
    assert_eq!(
        advisories(&scan("loop/requirements-base.txt"))["gradio"].len(),
        2
    );
}

#[test]
fn corrupt_zip_is_a_clear_error() {
    let out = tempfile::tempdir().unwrap();
    let zip = fixtures().join("bad/corrupt-all.zip");
    let e = aisec_deps::import(&zip, out.path())
        .unwrap_err()
        .to_string();
    assert!(e.contains("corrupt-all.zip"), "{e}");
    assert!(e.contains("not a readable zip"), "{e}");
    // Nothing was written: an existing database would have been kept.
    assert!(!out.path().join("osv.db").exists());
    let e = aisec_deps::import(&fixtures().join("ml/requirements.txt"), out.path()).unwrap_err();
    assert!(e.to_string().contains("requirements.txt"), "{e}");
}
