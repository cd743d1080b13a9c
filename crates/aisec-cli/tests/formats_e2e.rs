//! End-to-end checks of the model-format fixtures added for issue 14: NeMo /
//! Hydra `_target_` configs, files their own loaders reject, and templates
//! or Keras configs under names that do not say what they are. Each folder
//! has a malicious side that must fail the default gate and a benign side
//! that must not.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn fixtures(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/formats")
        .join(sub)
}

/// Scans `dir` (no config, no database) and returns the exit code and the
/// JSON report.
fn scan(dir: &Path) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_aisec"))
        .env("AISEC_DB_DIR", "/nonexistent/aisec-test-db")
        .args(["scan", "--no-config", "--format", "json"])
        .arg(dir)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), report)
}

fn findings(report: &Value) -> Vec<(String, String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let loc = &f["location"];
            let path = match loc["member"].as_str() {
                Some(m) => format!("{}!{m}", loc["path"].as_str().unwrap()),
                None => loc["path"].as_str().unwrap().to_owned(),
            };
            (
                path,
                f["rule_id"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn has(found: &[(String, String, String)], file: &str, rule: &str, severity: &str) -> bool {
    found
        .iter()
        .any(|(p, r, s)| p.contains(file) && r == rule && s == severity)
}

#[test]
fn hydra_targets_fail_the_gate_and_framework_configs_do_not() {
    let (code, report) = scan(&fixtures("hydra/malicious"));
    let found = findings(&report);
    assert_eq!(code, 1, "{found:?}");
    assert!(
        found
            .iter()
            .any(|(p, r, s)| p.ends_with("model_config.yaml")
                && r == "AISEC-MOD-013"
                && s == "critical"),
        "{found:?}"
    );
    let (code, report) = scan(&fixtures("hydra/benign"));
    assert_eq!(code, 0, "{:?}", findings(&report));
    assert!(findings(&report).is_empty(), "{:?}", findings(&report));
}

#[test]
fn files_their_loaders_reject_are_findings() {
    let (code, report) = scan(&fixtures("damaged"));
    let found = findings(&report);
    for file in ["truncated.gguf", "truncated.h5", "zero-padded.onnx"] {
        assert!(
            found
                .iter()
                .any(|(p, r, _)| p.ends_with(file) && r == "AISEC-GEN-002"),
            "{file}: {found:?}"
        );
    }
    assert!(
        has(
            &found,
            "offsets-past-end.safetensors",
            "AISEC-MOD-002",
            "high"
        ),
        "{found:?}"
    );
    assert_eq!(code, 1, "{found:?}");
    // Every damaged file is reported somehow: none passes silently.
    for entry in std::fs::read_dir(fixtures("damaged")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            found.iter().any(|(p, _, _)| p.ends_with(&name)),
            "{name}: {found:?}"
        );
    }
}

#[test]
fn templates_and_keras_configs_under_other_names_are_judged_by_content() {
    let (code, report) = scan(&fixtures("evasion/malicious"));
    let found = findings(&report);
    assert_eq!(code, 1, "{found:?}");
    for entry in std::fs::read_dir(fixtures("evasion/malicious")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            found
                .iter()
                .any(|(p, _, s)| p.contains(&name) && s == "critical"),
            "{name} is not critical: {found:?}"
        );
    }
    let (code, report) = scan(&fixtures("evasion/benign"));
    assert_eq!(code, 0, "{:?}", findings(&report));
}
