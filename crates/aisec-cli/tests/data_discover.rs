//! End-to-end tests of `aisec data scan` on the fixtures of aisec-data
//! (`fixtures/gen/data_fixtures.py` makes them).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../aisec-data/tests/fixtures")
        .join(name)
}

fn aisec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aisec"))
        .env("AISEC_DB_DIR", "/nonexistent/aisec-test-db")
        .args(args)
        .output()
        .expect("run aisec")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn sensitive_csv_exits_1_with_a_masked_table() {
    let out = aisec(&["data", "scan", s(&fixture("customers.csv"))]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("customers.csv (csv, 40 rows read)"), "{text}");
    for line in [
        "email",
        "payment_card",
        "us_ssn",
        "iban",
        "name: passport number",
    ] {
        assert!(text.contains(line), "{line} missing in {text}");
    }
    assert!(text.contains("**** **** **** "), "{text}");
    // No raw value of the file is printed.
    let raw = std::fs::read_to_string(fixture("customers.csv")).unwrap();
    let second = raw.lines().nth(1).unwrap();
    for cell in second
        .split(',')
        .filter(|c| c.len() > 6 && c.chars().any(char::is_alphanumeric))
    {
        assert!(!text.contains(cell.trim_matches('"')), "raw {cell} printed");
    }
}

#[test]
fn benign_files_exit_0() {
    let out = aisec(&[
        "data",
        "scan",
        s(&fixture("benign_features.csv")),
        s(&fixture("benign_runs.jsonl")),
        s(&fixture("benign_items.parquet")),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .matches("no sensitive column")
            .count(),
        3
    );
}

#[test]
fn json_output_and_sampling_flags() {
    let out = aisec(&[
        "data",
        "scan",
        "--format",
        "json",
        "--sample-rows",
        "15",
        s(&fixture("customers.parquet")),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let doc = json(&out);
    assert_eq!(doc["sample"]["max_rows"], 15);
    let file = &doc["files"][0];
    assert_eq!(file["format"], "parquet");
    assert_eq!(file["rows_sampled"], 15);
    assert_eq!(file["rows_total"], 40);
    assert_eq!(file["truncated"], true);
    let email = file["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "email")
        .unwrap();
    assert_eq!(email["hint"], "email");
    assert_eq!(email["detections"][0]["detector"], "email");
    assert_eq!(email["detections"][0]["hits"], 15);
    assert_eq!(email["detections"][0]["hit_ratio"], 1.0);
}

#[test]
fn directories_are_searched_and_errors_exit_2() {
    let out = aisec(&["data", "scan", "--format", "json", s(&fixture(""))]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["files"].as_array().unwrap().len(), 10);
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.parquet");
    std::fs::write(&bad, b"PAR1 this is not parquet PAR1").unwrap();
    let out = aisec(&["data", "scan", s(&bad)]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("broken.parquet: not a readable Parquet file"),
        "{err}"
    );
    let out = aisec(&["data", "scan", "/nonexistent/data.csv"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn help_teaches_with_examples() {
    let out = aisec(&["data", "scan", "--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Examples:") && text.contains("--sample-rows") && text.contains("Exit code"),
        "{text}"
    );
}

#[test]
fn aisec_scan_reports_data_rules_once() {
    let out = aisec(&[
        "scan",
        "--format",
        "json",
        s(&fixture("customers.csv")),
        s(&fixture("analysis.ipynb")),
    ]);
    let doc = json(&out);
    let ids: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"AISEC-DATA-001"), "{ids:?}");
    assert!(ids.contains(&"AISEC-DATA-003"), "{ids:?}");
    // The notebook's e-mails are reported once, by the data family's
    // notebook rule (AISEC-DATA-012), and by no other scanner.
    let nb: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["location"]["path"].as_str().unwrap().ends_with(".ipynb"))
        .map(|f| f["rule_id"].as_str().unwrap())
        .filter(|id| !id.starts_with("AISEC-SEC"))
        .collect();
    assert!(nb.iter().all(|id| *id == "AISEC-DATA-012"), "{nb:?}");
    assert!(!nb.is_empty(), "{nb:?}");
    let cell_kinds: Vec<(&str, &str)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["location"]["path"].as_str().unwrap().ends_with(".ipynb"))
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap(),
                f["message"].as_str().unwrap(),
            )
        })
        .collect();
    let mut dedup = cell_kinds.clone();
    dedup.sort_unstable();
    dedup.dedup();
    assert_eq!(
        dedup.len(),
        cell_kinds.len(),
        "reported twice: {cell_kinds:?}"
    );
}

/// `aisec data scan DIR` walks as `aisec scan` does: hidden files and
/// directories are searched (attackers hide where tools do not look), and
/// `.gitignore` does not hide datasets (they are what repositories ignore).
#[test]
fn hidden_and_ignored_datasets_are_searched() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".cache")).unwrap();
    std::fs::create_dir_all(dir.path().join(".git")).unwrap();
    std::fs::write(dir.path().join(".gitignore"), "*.csv\n").unwrap();
    let rows = "name,email\nAda,ada.lovelace@example.org\nAlan,alan.turing@example.org\n";
    std::fs::write(dir.path().join(".cache/.customers.csv"), rows).unwrap();
    std::fs::write(dir.path().join("ignored.csv"), rows).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_aisec"))
        .args(["data", "scan", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let paths: Vec<&str> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.iter().any(|p| p.ends_with(".cache/.customers.csv")),
        "{paths:?}"
    );
    assert!(
        paths.iter().any(|p| p.ends_with("ignored.csv")),
        "{paths:?}"
    );
    assert_eq!(out.status.code(), Some(1), "{report}");
}
