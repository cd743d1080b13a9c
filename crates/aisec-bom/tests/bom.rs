//! The BOM validates against the CycloneDX 1.6 schema, describes the fixture
//! models, and is deterministic.

use std::path::{Path, PathBuf};

use aisec_bom::{BomOptions, build_bom};
use aisec_core::{Finding, Report, Rule, Severity, ToolInfo, refs};
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures")).join(name)
}

fn schema_dir() -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/shared/schemas"
    ))
    .to_path_buf()
}

fn load(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(schema_dir().join(name)).unwrap()).unwrap()
}

/// Validation errors of `bom` against bom-1.6 with its spdx and jsf parts
/// registered locally (no network).
fn schema_errors(bom: &Value) -> Vec<String> {
    let registry = jsonschema::Registry::new()
        .add(
            "http://cyclonedx.org/schema/spdx.schema.json",
            load("spdx.schema.json"),
        )
        .unwrap()
        .add(
            "http://cyclonedx.org/schema/jsf-0.82.schema.json",
            load("jsf-0.82.schema.json"),
        )
        .unwrap()
        .prepare()
        .unwrap();
    let validator = jsonschema::options()
        .with_registry(&registry)
        .should_validate_formats(true)
        .build(&load("bom-1.6.schema.json"))
        .expect("schema compiles");
    validator
        .iter_errors(bom)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

fn fixed() -> BomOptions<'static> {
    BomOptions {
        serial_number: Some("urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79".into()),
        timestamp: Some("2026-01-01T00:00:00Z".into()),
        ..BomOptions::default()
    }
}

fn component<'a>(bom: &'a Value, r: &str) -> &'a Value {
    bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["bom-ref"] == r)
        .unwrap_or_else(|| panic!("no component {r}"))
}

static RULE: Rule = Rule {
    id: "AISEC-TST-001",
    name: "test",
    summary: "test",
    default_severity: Severity::High,
    explanation: "## Remediation\nnone",
    references: &[refs::CWE_502, refs::ATLAS_UNSAFE_ARTIFACT],
};

#[test]
fn hf_model_bom_validates_and_describes_the_model() {
    let bom = build_bom(&fixture("hf-model"), &fixed()).unwrap();
    let j = &bom.json;
    let errors = schema_errors(j);
    assert!(errors.is_empty(), "{errors:#?}\n{}", bom.to_json_string());
    assert!(bom.warnings.is_empty(), "{:?}", bom.warnings);
    assert_eq!(j["specVersion"], "1.6");

    let st = component(j, "model:model.safetensors");
    assert_eq!(st["type"], "machine-learning-model");
    assert_eq!(st["hashes"][0]["alg"], "SHA-256");
    assert_eq!(st["hashes"][0]["content"].as_str().unwrap().len(), 64);
    assert_eq!(st["licenses"][0]["license"]["id"], "Apache-2.0");
    let mc = &st["modelCard"];
    assert_eq!(
        mc["modelParameters"]["modelArchitecture"],
        "BertForSequenceClassification"
    );
    assert_eq!(mc["modelParameters"]["architectureFamily"], "bert");
    assert_eq!(mc["modelParameters"]["task"], "text-classification");
    assert_eq!(mc["modelParameters"]["datasets"][0]["ref"], "dataset:imdb");
    let metric = &mc["quantitativeAnalysis"]["performanceMetrics"][0];
    assert_eq!(
        (
            metric["type"].as_str(),
            metric["value"].as_str(),
            metric["slice"].as_str()
        ),
        (Some("accuracy"), Some("0.91"), Some("IMDB"))
    );
    let props = st["properties"].as_array().unwrap();
    let prop = |n: &str| {
        props
            .iter()
            .find(|p| p["name"] == n)
            .map(|p| p["value"].clone())
    };
    assert_eq!(prop("aisec:model:parameters"), Some("10".into()));
    assert_eq!(prop("aisec:format"), Some("safetensors".into()));
    assert_eq!(prop("aisec:framework"), Some("transformers".into()));
    assert_eq!(
        st["pedigree"]["ancestors"][0]["name"],
        "google-bert/bert-base-uncased"
    );

    let pt = component(j, "model:pytorch_model.bin");
    assert!(
        pt["properties"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["value"] == "pickle")
    );

    assert_eq!(component(j, "data:data/train.csv")["type"], "data");
    assert_eq!(component(j, "dataset:imdb")["type"], "data");

    let torch = component(j, "pkg:pypi/torch@2.3.1");
    assert_eq!(torch["purl"], "pkg:pypi/torch@2.3.1");
    assert_eq!(torch["version"], "2.3.1");
    component(j, "pkg:pypi/safetensors@0.4.3");
    // A range is not a version: the purl has none.
    component(j, "pkg:pypi/numpy");

    let deps = j["dependencies"].as_array().unwrap();
    let root = deps.iter().find(|d| d["ref"] == "root").unwrap();
    let on: Vec<&str> = root["dependsOn"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        on.contains(&"model:model.safetensors") && on.contains(&"pkg:pypi/torch@2.3.1"),
        "{on:?}"
    );
    let model = deps
        .iter()
        .find(|d| d["ref"] == "model:model.safetensors")
        .unwrap();
    assert_eq!(model["dependsOn"], serde_json::json!(["dataset:imdb"]));
    // Every ref in the graph is a component or the root.
    for d in deps {
        for r in d["dependsOn"].as_array().unwrap() {
            component(j, r.as_str().unwrap());
        }
    }
}

#[test]
fn mlflow_model_bom_validates() {
    let bom = build_bom(&fixture("mlflow-model"), &fixed()).unwrap();
    let errors = schema_errors(&bom.json);
    assert!(errors.is_empty(), "{errors:#?}");
    let m = component(&bom.json, "model:model.pkl");
    let props = m["properties"].as_array().unwrap();
    assert!(
        props
            .iter()
            .any(|p| p["name"] == "aisec:framework" && p["value"] == "scikit-learn")
    );
    let card = &m["modelCard"];
    assert!(
        card["modelParameters"]["inputs"][0]["format"]
            .as_str()
            .unwrap()
            .contains("double")
    );
    assert!(
        card["properties"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "mlflow:run_id")
    );
    component(&bom.json, "pkg:pypi/scikit-learn@1.5.1");
    component(&bom.json, "pkg:pypi/mlflow@2.15.1");
}

#[test]
fn output_is_deterministic() {
    let a = build_bom(&fixture("hf-model"), &fixed())
        .unwrap()
        .to_json_string();
    let b = build_bom(&fixture("hf-model"), &fixed())
        .unwrap()
        .to_json_string();
    assert_eq!(a, b);
    // Without a given serial, it is derived from the content: stable too.
    let opts = BomOptions {
        timestamp: Some("2026-01-01T00:00:00Z".into()),
        ..BomOptions::default()
    };
    let s1 = build_bom(&fixture("hf-model"), &opts).unwrap().json["serialNumber"].clone();
    let s2 = build_bom(&fixture("hf-model"), &opts).unwrap().json["serialNumber"].clone();
    assert_eq!(s1, s2);
    let other = build_bom(&fixture("mlflow-model"), &opts).unwrap().json["serialNumber"].clone();
    assert_ne!(s1, other);
    // The default timestamp is now, and valid.
    let now = build_bom(&fixture("hf-model"), &BomOptions::default()).unwrap();
    assert!(schema_errors(&now.json).is_empty());
}

#[test]
fn findings_become_vulnerabilities() {
    let mut report = Report::new(
        ToolInfo {
            name: "aisec".into(),
            version: "0".into(),
        },
        vec![],
    );
    report.findings.push(
        Finding::at_path(&RULE, "pytorch_model.bin", "pickle imports os.system")
            .evidence("os.system"),
    );
    report
        .findings
        .push(Finding::at_path(&RULE, "elsewhere.py", "other").severity(Severity::Low));
    report.finalize();
    let opts = BomOptions {
        report: Some(&report),
        ..fixed()
    };
    let bom = build_bom(&fixture("hf-model"), &opts).unwrap();
    let errors = schema_errors(&bom.json);
    assert!(errors.is_empty(), "{errors:#?}");
    let vulns = bom.json["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulns.len(), 2);
    let v = vulns
        .iter()
        .find(|v| v["description"] == "pickle imports os.system")
        .unwrap();
    assert_eq!(v["id"], "AISEC-TST-001");
    assert_eq!(v["ratings"][0]["severity"], "high");
    assert_eq!(v["affects"][0]["ref"], "model:pytorch_model.bin");
    assert_eq!(v["cwes"], serde_json::json!([502]));
    assert_eq!(v["detail"], "os.system");
    // A finding on a file the BOM does not list affects the root.
    let other = vulns.iter().find(|v| v["description"] == "other").unwrap();
    assert_eq!(other["affects"][0]["ref"], "root");
}

#[test]
fn the_schema_check_can_fail() {
    let mut bom = build_bom(&fixture("hf-model"), &fixed()).unwrap().json;
    bom["components"][0]["type"] = "not-a-type".into();
    assert!(!schema_errors(&bom).is_empty());
}

#[test]
fn single_file_and_bad_inputs() {
    let bom = build_bom(&fixture("hf-model/model.safetensors"), &fixed()).unwrap();
    assert!(schema_errors(&bom.json).is_empty());
    component(&bom.json, "model:model.safetensors");

    let err = build_bom(&fixture("does-not-exist"), &fixed()).unwrap_err();
    assert!(err.to_string().contains("does-not-exist"), "{err}");
    let bad = BomOptions {
        serial_number: Some("nope".into()),
        ..fixed()
    };
    assert!(build_bom(&fixture("hf-model"), &bad).is_err());

    // Broken card sources are warnings naming the file, not failures.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.json"), "{not json").unwrap();
    std::fs::write(dir.path().join("README.md"), "---\nlicense: [\n---\n").unwrap();
    std::fs::write(dir.path().join("model.safetensors"), [0xffu8; 16]).unwrap();
    std::fs::write(dir.path().join("model.pkl"), b"\x80\x04garbage").unwrap();
    let bom = build_bom(dir.path(), &fixed()).unwrap();
    assert!(schema_errors(&bom.json).is_empty());
    assert!(
        bom.warnings.iter().any(|w| w.starts_with("config.json")),
        "{:?}",
        bom.warnings
    );
    assert!(
        bom.warnings.iter().any(|w| w.starts_with("README.md")),
        "{:?}",
        bom.warnings
    );
}
