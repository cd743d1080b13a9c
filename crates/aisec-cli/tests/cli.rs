//! End-to-end tests of the `aisec` binary on committed fixtures
//! (`fixtures/gen/hygiene_fixtures.py` makes them).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A database directory that never exists, so that a developer's own
/// imported database cannot change what these tests see.
const NO_DB: &str = "/nonexistent/aisec-test-db";

fn aisec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aisec"))
        .env("AISEC_DB_DIR", NO_DB)
        .args(args)
        .current_dir(repo_root())
        .output()
        .expect("run aisec")
}

fn aisec_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aisec"))
        .env("AISEC_DB_DIR", NO_DB)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run aisec")
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

fn rule_ids(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap().to_owned())
        .collect()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn example_scan_finds_the_planted_problems_and_fails() {
    let out = aisec(&["scan", "examples/", "--color", "never"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("AISEC-ARC-001"), "{text}");
    assert!(text.contains("AISEC-ARC-004"), "{text}");
    // The hidden .cache directory is scanned.
    assert!(text.contains(".cache/tokenizer.tar"), "{text}");
    assert!(text.contains("AISEC-ARC-002"), "{text}");
    // The pipeline around the model: the hidden workflow, the serving
    // manifest and the evaluation data.
    assert!(text.contains(".github/workflows/publish.yml"), "{text}");
    assert!(text.contains("AISEC-IAC-031"), "{text}");
    assert!(text.contains("AISEC-IAC-018"), "{text}");
    assert!(text.contains("AISEC-DATA-001"), "{text}");
}

#[test]
fn fail_on_changes_the_exit_code() {
    let zip = fixture("traversal.zip");
    assert_eq!(aisec(&["scan", s(&zip)]).status.code(), Some(1));
    assert_eq!(
        aisec(&["scan", s(&zip), "--fail-on", "critical"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        aisec(&["scan", s(&fixture("bomb.gz")), "--fail-on", "medium"])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        aisec(&["scan", s(&fixture("bomb.gz"))]).status.code(),
        Some(0)
    );
    let bad = aisec(&["scan", s(&zip), "--fail-on", "severe"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown severity"));
}

#[test]
fn a_clean_model_has_no_findings() {
    let out = aisec(&["scan", s(&fixture("clean")), "-f", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let report = json_report(&out);
    assert_eq!(report["findings"].as_array().unwrap().len(), 0);
    assert_eq!(report["stats"]["files_scanned"], 2);
}

#[test]
fn json_report_is_versioned_and_complete() {
    let out = aisec(&["scan", s(&fixture("traversal.zip")), "-f", "json"]);
    let report = json_report(&out);
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["tool"]["name"], "aisec");
    let f = &report["findings"][0];
    assert_eq!(f["rule_id"], "AISEC-ARC-001");
    assert_eq!(f["severity"], "high");
    assert_eq!(f["evidence"], "../../outside.sh");
    assert!(f["location"]["byte_range"]["start"].as_u64().is_some());
    assert_eq!(f["references"][0]["id"], "CWE-22");
    assert_eq!(f["fingerprint"].as_str().unwrap().len(), 32);
    assert_eq!(report["stats"]["by_severity"]["high"], 1);
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let schema_path = repo_root().join("fixtures/shared/schemas/sarif-schema-2.1.0.json");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(&schema_path).unwrap()).unwrap();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("schema compiles");
    let out = aisec(&["scan", s(&fixture("")), "-f", "sarif"]);
    assert_eq!(out.status.code(), Some(1));
    let sarif = json_report(&out);
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");

    // What GitHub code scanning needs beyond the schema.
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(
        rules
            .iter()
            .all(|r| r["helpUri"].is_string() && r["properties"]["security-severity"].is_string())
    );
    let results = run["results"].as_array().unwrap();
    assert!(results.len() >= 5);
    for r in results {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
        assert!(r["partialFingerprints"]["aisecFingerprint/v1"].is_string());
        assert!(r["locations"][0]["physicalLocation"]["region"]["startLine"].is_u64());
    }
    // A schema that cannot fail would make this test worthless: break it.
    let mut broken = sarif.clone();
    broken["runs"][0]["results"][0]["level"] = Value::from("fatal");
    assert!(!validator.is_valid(&broken));
}

#[test]
fn truncated_zip_is_reported_and_the_scan_goes_on() {
    let out = aisec(&["scan", s(&fixture("")), "-f", "json"]);
    let report = json_report(&out);
    let truncated: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["location"]["path"]
                .as_str()
                .unwrap()
                .ends_with("truncated.zip")
        })
        .collect();
    assert!(truncated.iter().any(|f| {
        f["rule_id"] == "AISEC-GEN-002"
            && f["message"]
                .as_str()
                .unwrap()
                .contains("no end-of-central-directory")
    }));
    // The other fixtures were still scanned.
    let ids = rule_ids(&report);
    for id in [
        "AISEC-ARC-001",
        "AISEC-ARC-002",
        "AISEC-ARC-003",
        "AISEC-ARC-005",
    ] {
        assert!(ids.iter().any(|i| i == id), "{id} missing: {ids:?}");
    }
}

#[test]
fn traversal_link_bomb_and_duplicates_are_each_found() {
    let check = |name: &str, rule: &str, evidence: &str| {
        let out = aisec(&["scan", s(&fixture(name)), "-f", "json"]);
        let report = json_report(&out);
        let hit = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule_id"] == rule)
            .unwrap_or_else(|| panic!("{rule} not found in {name}: {report}"));
        assert!(
            hit["evidence"]
                .as_str()
                .unwrap_or(hit["message"].as_str().unwrap())
                .contains(evidence),
            "{hit}"
        );
    };
    check("traversal.zip", "AISEC-ARC-001", "../../outside.sh");
    check("symlink.tar", "AISEC-ARC-002", "../../../etc/passwd");
    check("bomb.gz", "AISEC-ARC-003", "200x");
    check("duplicate.zip", "AISEC-ARC-005", "data.pkl");
}

#[cfg(unix)]
#[test]
fn unreadable_paths_loops_and_odd_names_are_reported_not_fatal() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir(root.join("sub")).unwrap();
    // A directory link back to an ancestor: a loop once links are followed.
    std::os::unix::fs::symlink("..", root.join("sub/loop")).unwrap();
    // A link to itself cannot be opened by anyone, root included.
    std::os::unix::fs::symlink("self", root.join("self")).unwrap();
    // A name that is not UTF-8.
    let odd = std::ffi::OsStr::from_bytes(b"bad-\xff-name.zip");
    std::fs::copy(fixture("traversal.zip"), root.join(odd)).unwrap();

    let out = aisec_in(root, &["scan", ".", "--follow-symlinks", "-f", "json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_report(&out);
    let findings = report["findings"].as_array().unwrap();
    let by_rule =
        |rule: &str| -> Vec<&Value> { findings.iter().filter(|f| f["rule_id"] == rule).collect() };
    let unreadable = by_rule("AISEC-GEN-001");
    assert!(
        unreadable
            .iter()
            .any(|f| f["message"].as_str().unwrap().contains("loop")),
        "{findings:#?}"
    );
    assert!(
        unreadable
            .iter()
            .any(|f| f["location"]["path"].as_str().unwrap().ends_with("self")),
        "{findings:#?}"
    );
    // The non-UTF-8 name is shown lossily and its content still scanned.
    assert!(by_rule("AISEC-ARC-001").iter().any(|f| {
        f["location"]["path"]
            .as_str()
            .unwrap()
            .contains("bad-\u{fffd}-name.zip")
    }));

    // Without --follow-symlinks, the loop is not entered and `..` stays inside.
    let out = aisec_in(root, &["scan", ".", "-f", "json"]);
    let report = json_report(&out);
    assert!(!rule_ids(&report).iter().any(|r| r == "AISEC-GEN-001"));
}

#[cfg(unix)]
#[test]
fn links_leaving_the_tree_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/etc/hostname", dir.path().join("tokenizer.json")).unwrap();
    std::os::unix::fs::symlink("../../nowhere", dir.path().join("dangling")).unwrap();
    std::fs::write(dir.path().join("inside.txt"), "x").unwrap();
    std::os::unix::fs::symlink("inside.txt", dir.path().join("ok-link")).unwrap();
    let out = aisec(&["scan", s(dir.path()), "-f", "json"]);
    let report = json_report(&out);
    let escapes: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "AISEC-GEN-006")
        .map(|f| f["location"]["path"].as_str().unwrap())
        .collect();
    assert_eq!(escapes.len(), 2, "{report}");
    assert!(escapes.iter().any(|p| p.ends_with("tokenizer.json")));
    assert!(escapes.iter().any(|p| p.ends_with("dangling")));
}

#[test]
fn content_decides_the_type_and_hidden_files_count() {
    let dir = tempfile::tempdir().unwrap();
    // A zip hiding under a text name in a hidden directory.
    std::fs::create_dir_all(dir.path().join(".github/workflows")).unwrap();
    std::fs::copy(
        fixture("traversal.zip"),
        dir.path().join(".github/workflows/notes.txt"),
    )
    .unwrap();
    // VCS internals are skipped.
    std::fs::create_dir_all(dir.path().join(".git/objects")).unwrap();
    std::fs::copy(
        fixture("traversal.zip"),
        dir.path().join(".git/objects/x.zip"),
    )
    .unwrap();
    let out = aisec(&["scan", s(dir.path()), "-f", "json"]);
    let report = json_report(&out);
    let paths: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["location"]["path"].as_str().unwrap())
        .collect();
    assert!(
        paths
            .iter()
            .any(|p| p.ends_with(".github/workflows/notes.txt")),
        "{paths:?}"
    );
    assert!(!paths.iter().any(|p| p.contains(".git/")), "{paths:?}");
    let ids = rule_ids(&report);
    assert!(ids.contains(&"AISEC-ARC-001".to_owned()));
    assert!(ids.contains(&"AISEC-ARC-004".to_owned()));
}

#[test]
fn gitignore_applies_in_git_trees_unless_no_ignore() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    std::fs::write(dir.path().join(".gitignore"), "ignored/\n").unwrap();
    std::fs::create_dir(dir.path().join("ignored")).unwrap();
    std::fs::copy(fixture("traversal.zip"), dir.path().join("ignored/t.zip")).unwrap();
    assert_eq!(aisec(&["scan", s(dir.path())]).status.code(), Some(0));
    assert_eq!(
        aisec(&["scan", s(dir.path()), "--no-ignore"]).status.code(),
        Some(1)
    );
    // --exclude and --include
    let root = dir.path();
    std::fs::copy(fixture("traversal.zip"), root.join("t.zip")).unwrap();
    assert_eq!(
        aisec(&["scan", s(root), "--exclude", "t.zip"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        aisec(&["scan", s(root), "--include", "*.json"])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn config_disables_overrides_and_waives() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::copy(fixture("traversal.zip"), root.join("t.zip")).unwrap();
    std::fs::copy(fixture("bomb.gz"), root.join("b.gz")).unwrap();
    let scan = |config: &str| -> Value {
        std::fs::write(root.join("aisec.toml"), config).unwrap();
        let out = aisec(&["scan", s(root), "-f", "json"]);
        assert_ne!(
            out.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        json_report(&out)
    };

    let r = scan("[rules]\ndisable = [\"AISEC-ARC-001\"]\n");
    assert!(!rule_ids(&r).contains(&"AISEC-ARC-001".to_owned()));
    assert_eq!(r["stats"]["suppressed"]["by_config"], 1);

    let r = scan("[rules]\nseverity = { \"AISEC-ARC-003\" = \"critical\" }\n");
    let bomb = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "AISEC-ARC-003")
        .unwrap();
    assert_eq!(bomb["severity"], "critical");

    let r = scan(
        "[[waiver]]\nrule = \"AISEC-ARC-001\"\npath = \"**/t.zip\"\nreason = \"test archive\"\nexpires = 2999-01-01\n",
    );
    assert!(!rule_ids(&r).contains(&"AISEC-ARC-001".to_owned()));
    assert_eq!(r["stats"]["suppressed"]["by_waiver"], 1);

    let r =
        scan("[[waiver]]\nrule = \"AISEC-ARC-001\"\nreason = \"was fine\"\nexpires = 2020-01-01\n");
    let ids = rule_ids(&r);
    assert!(
        ids.contains(&"AISEC-ARC-001".to_owned()),
        "expired waivers stop suppressing"
    );
    assert!(
        ids.contains(&"AISEC-GEN-004".to_owned()),
        "and are reported"
    );

    // fail-on from the config file
    std::fs::write(root.join("aisec.toml"), "[scan]\nfail-on = \"critical\"\n").unwrap();
    assert_eq!(aisec(&["scan", s(root)]).status.code(), Some(0));

    // Bad configs are usage errors naming the file.
    for bad in [
        "[rules]\ndisable = [\"AISEC-NOPE-001\"]\n",
        "[[waiver]]\nrule = \"AISEC-ARC-001\"\n",
        "[scan\n",
    ] {
        std::fs::write(root.join("aisec.toml"), bad).unwrap();
        let out = aisec(&["scan", s(root)]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("aisec.toml"),
            "{bad}"
        );
    }
    // --no-config ignores it.
    assert_eq!(
        aisec(&["scan", s(root), "--no-config"]).status.code(),
        Some(1)
    );
}

#[test]
fn baseline_hides_known_findings_only() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::copy(fixture("traversal.zip"), root.join("t.zip")).unwrap();
    let baseline = dir.path().join("baseline.json");
    let out = aisec(&["scan", s(root), "-f", "json", "-o", s(&baseline)]);
    assert_eq!(out.status.code(), Some(1));

    let out = aisec(&["scan", s(root), "--baseline", s(&baseline), "-f", "json"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json_report(&out)["stats"]["suppressed"]["by_baseline"], 1);

    std::fs::copy(fixture("symlink.tar"), root.join("new.tar")).unwrap();
    let out = aisec(&["scan", s(root), "--baseline", s(&baseline), "-f", "json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(rule_ids(&json_report(&out)), vec!["AISEC-ARC-002"]);

    std::fs::write(&baseline, "{not json").unwrap();
    let out = aisec(&["scan", s(root), "--baseline", s(&baseline)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("baseline.json"));
}

#[test]
fn missing_paths_are_usage_errors() {
    let out = aisec(&["scan", "no/such/dir"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/dir"));
}

#[test]
fn rules_and_explain_document_every_rule() {
    let out = aisec(&["rules", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let rules: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules = rules.as_array().unwrap();
    assert!(rules.len() >= 13);
    for r in rules {
        let id = r["id"].as_str().unwrap();
        let explanation = r["explanation"].as_str().unwrap();
        assert!(
            explanation.contains("## Remediation"),
            "{id} lacks a remediation"
        );
        let out = aisec(&["explain", &id.to_ascii_lowercase()]);
        assert_eq!(out.status.code(), Some(0));
        assert!(String::from_utf8_lossy(&out.stdout).starts_with(&format!("# {id}")));
    }
    let out = aisec(&["explain", "AISEC-XYZ-999"]);
    assert_eq!(out.status.code(), Some(2));
    // A retired id says where its job went.
    let out = aisec(&["explain", "aisec-sec-019"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("AISEC-SEC-019 is retired") && err.contains("AISEC-DATA-012"),
        "{err}"
    );
}

#[test]
fn output_file_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.sarif");
    let out = aisec(&[
        "scan",
        s(&fixture("traversal.zip")),
        "-f",
        "sarif",
        "-o",
        s(&path),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(v["version"], "2.1.0");
}

#[test]
fn docs_rules_md_is_current() {
    let out = aisec(&["rules", "--format", "markdown"]);
    assert_eq!(out.status.code(), Some(0));
    let generated = String::from_utf8(out.stdout).unwrap();
    let committed = std::fs::read_to_string(repo_root().join("docs/rules.md")).unwrap_or_default();
    assert!(
        generated == committed,
        "docs/rules.md is stale: run `cargo run -q -- rules --format markdown > docs/rules.md`"
    );
}

#[test]
fn pickles_are_found_in_renamed_files_and_inside_archives() {
    let out = aisec(&["scan", "examples/", "-f", "json"]);
    let report = json_report(&out);
    let critical: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "AISEC-PKL-001" && f["severity"] == "critical")
        .map(|f| {
            let l = &f["location"];
            match l["member"].as_str() {
                Some(m) => format!("{}!{m}", l["path"].as_str().unwrap()),
                None => l["path"].as_str().unwrap().to_owned(),
            }
        })
        .collect();
    assert!(
        critical.contains(&"examples/demo-model/adapter.safetensors".to_owned()),
        "{critical:?}"
    );
    assert!(
        critical.contains(&"examples/demo-model/checkpoint.zip!checkpoint/data.pkl".to_owned()),
        "{critical:?}"
    );
    assert_eq!(
        aisec(&["scan", "examples/", "--fail-on", "critical"])
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn pickle_subcommands_show_the_call_without_running_it() {
    let out = aisec(&[
        "pickle",
        "decompile",
        "examples/demo-model/adapter.safetensors",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("os.system('echo pwned')"), "{text}");
    let out = aisec(&[
        "pickle",
        "disasm",
        "examples/demo-model/adapter.safetensors",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("STACK_GLOBAL"), "{text}");
    let out = aisec(&["pickle", "disasm", "no/such.pkl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such.pkl"));
}

#[test]
fn model_formats_from_the_real_libraries() {
    // Made by fixtures/gen/formats_fixtures.py with numpy, safetensors, gguf.
    let out = aisec(&["scan", s(&fixture("formats/benign")), "-f", "json"]);
    let report = json_report(&out);
    assert_eq!(report["findings"].as_array().unwrap().len(), 0, "{report}");
    assert_eq!(report["stats"]["files_scanned"], 17);

    let out = aisec(&["scan", s(&fixture("formats/malicious")), "-f", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let report = json_report(&out);
    let has = |file: &str, rule: &str, severity: &str| {
        report["findings"].as_array().unwrap().iter().any(|f| {
            f["location"]["path"].as_str().unwrap().ends_with(file)
                && f["rule_id"] == rule
                && f["severity"] == severity
        })
    };
    assert!(has("evil.gguf", "AISEC-MOD-001", "critical"), "{report}");
    assert!(
        has("tokenizer_config.json", "AISEC-MOD-001", "critical"),
        "{report}"
    );
    assert!(has("config.json", "AISEC-MOD-003", "high"), "{report}");
    assert!(has("objects.npy", "AISEC-MOD-004", "medium"), "{report}");
    assert!(has("objects.npy", "AISEC-PKL-001", "critical"), "{report}");
    // npz → zip member → npy → pickle, three containers deep.
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule_id"] == "AISEC-PKL-001"
                && f["location"]["member"] == "data.npy!<object array pickle>"),
        "{report}"
    );
    assert!(
        has("smuggled.safetensors", "AISEC-MOD-002", "medium"),
        "{report}"
    );
    // Legacy Keras HDF5: vlen and fixed strings, JSON-escaped keys, superblock
    // v3 after a user block, and dense attributes (reported, then searched).
    for file in ["legacy.h5", "escaped.h5", "latest.h5", "dense.h5"] {
        assert!(has(file, "AISEC-MOD-009", "critical"), "{file}: {report}");
    }
    assert!(has("dense.h5", "AISEC-GEN-002", "low"), "{report}");
    assert!(!has("latest.h5", "AISEC-GEN-002", "low"), "{report}");
    // TorchScript archives written by torch.jit.save (fixtures/gen/torch_fixtures.py).
    assert!(
        has("ts_setstate.pt", "AISEC-MOD-011", "critical"),
        "{report}"
    );
    assert!(has("ts_file_io.pt", "AISEC-MOD-011", "high"), "{report}");
    assert!(
        has("ts_custom_op.pt", "AISEC-MOD-012", "medium"),
        "{report}"
    );
    let ts_findings: Vec<_> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["location"]["path"].as_str().unwrap().contains("/ts_"))
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert!(
        ts_findings.iter().all(|r| r.starts_with("AISEC-MOD-01")),
        "TorchScript's own pickles and zip layout are not findings: {ts_findings:?}"
    );
}

#[test]
fn pickles_in_every_compressed_wrapper_are_found() {
    // gzip, bzip2, xz, lzma-alone, zlib, lz4, zstd (one and two frames), 7z,
    // plain and as joblib writes them.
    let out = aisec(&[
        "scan",
        s(&fixture("formats/malicious/wrapped")),
        "-f",
        "json",
    ]);
    let report = json_report(&out);
    let mut files: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "AISEC-PKL-001" && f["severity"] == "critical")
        .map(|f| {
            f["location"]["path"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    files.dedup();
    assert_eq!(files.len(), 15, "{files:?}\n{report}");
}

#[test]
fn seven_zip_members_are_scanned_and_its_tricks_reported() {
    let scan = |name: &str| {
        let out = aisec(&[
            "scan",
            s(&fixture(&format!("sevenz/{name}"))),
            "-f",
            "json",
            "--no-config",
        ]);
        let report = json_report(&out);
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["rule_id"].as_str().unwrap().to_owned(),
                    f["location"]["member"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect::<Vec<_>>()
    };
    // The payload is the last member of a solid block.
    let solid = scan("checkpoint-solid.7z");
    assert!(
        solid.contains(&("AISEC-PKL-001".into(), "model/data.pkl".into())),
        "{solid:?}"
    );
    let traversal = scan("traversal.7z");
    assert!(
        traversal.iter().any(|(r, _)| r == "AISEC-ARC-001"),
        "{traversal:?}"
    );
    assert!(
        traversal.iter().any(|(r, _)| r == "AISEC-PKL-001"),
        "{traversal:?}"
    );
    for encrypted in ["encrypted.7z", "encrypted-headers.7z"] {
        let found = scan(encrypted);
        assert_eq!(
            found,
            vec![("AISEC-ARC-006".to_owned(), String::new())],
            "{encrypted}"
        );
    }
    let bomb = scan("bomb.7z");
    assert!(bomb.iter().any(|(r, _)| r == "AISEC-ARC-003"), "{bomb:?}");
    assert_eq!(scan("benign.7z"), vec![]);
}

fn sign_key(name: &str) -> PathBuf {
    repo_root()
        .join("crates/aisec-sign/tests/fixtures/keys")
        .join(name)
}

#[test]
fn signatures_from_the_reference_tool_verify_and_tampering_is_named() {
    let sample = repo_root().join("fixtures/shared/model-signing/samples/p256-files");
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    copy_dir(&sample.join("model"), &model);
    let sig = s(&sample.join("model.sig")).to_owned();
    let key = s(&sample.join("pub.pem")).to_owned();
    let out = aisec(&["verify", s(&model), "--key", &key, "--signature", &sig]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    std::fs::write(model.join("config.json"), "{}").unwrap();
    let out = aisec(&["verify", s(&model), "--key", &key, "--signature", &sig]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("config.json"));
}

#[test]
fn sign_then_verify_and_gate_a_scan_on_it() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m");
    std::fs::create_dir(&model).unwrap();
    std::fs::write(model.join("weights.bin"), b"\x00\x01\x02").unwrap();
    std::fs::write(model.join("config.json"), "{\"a\": 1}").unwrap();
    let key = sign_key("p256-sec1.pem");
    let public = sign_key("p256-pub.pem");

    // Unsigned: the gate fails the scan.
    let out = aisec(&[
        "scan",
        s(&model),
        "-f",
        "json",
        "--require-signature",
        s(&public),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(rule_ids(&json_report(&out)), vec!["AISEC-SIG-001"]);

    let out = aisec(&["sign", s(&model), "--key", s(&key)]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(model.join("model.sig").is_file());
    assert_eq!(
        aisec(&["verify", s(&model), "--key", s(&public)])
            .status
            .code(),
        Some(0)
    );
    let out = aisec(&["scan", s(&model), "--require-signature", s(&public)]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // A file added after signing breaks both.
    std::fs::write(model.join("extra.py"), "print('hi')\n").unwrap();
    let out = aisec(&["verify", s(&model), "--key", s(&public)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("extra.py"));
    let out = aisec(&[
        "scan",
        s(&model),
        "-f",
        "json",
        "--require-signature",
        s(&public),
    ]);
    assert_eq!(rule_ids(&json_report(&out)), vec!["AISEC-SIG-002"]);

    // --ignore-paths are paths from the working directory, as model_signing takes them.
    let extra = model.join("extra.py");
    let out = aisec(&[
        "verify",
        s(&model),
        "--key",
        s(&public),
        "--ignore-paths",
        s(&extra),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = aisec(&[
        "verify",
        s(&model),
        "--key",
        s(&public),
        "--ignore-paths",
        "/etc",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bom_is_cyclonedx_and_reproducible() {
    let model = fixture("formats/benign");
    let args = [
        "bom",
        s(&model),
        "--timestamp",
        "2024-01-01T00:00:00Z",
        "--with-findings",
    ];
    let a = aisec(&args);
    assert_eq!(
        a.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&a.stderr)
    );
    let b = aisec(&args);
    assert_eq!(a.stdout, b.stdout, "same input, same BOM");
    let bom: Value = serde_json::from_slice(&a.stdout).unwrap();
    assert_eq!(bom["specVersion"], "1.6");
    let models = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["type"] == "machine-learning-model")
        .count();
    assert!(models >= 3, "{bom}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
