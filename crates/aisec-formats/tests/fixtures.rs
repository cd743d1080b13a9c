//! The formats scanner against files made by fixtures/gen/formats_fixtures.py:
//! damaged copies of benign fixtures that their own loaders refuse, and
//! Hydra/NeMo configs. A `.nemo` archive is opened here with the `tar` crate
//! and its members handed to the scanner, as the hygiene scanner does in a
//! real scan.

use std::io::Read;
use std::path::Path;

use aisec_core::{FileInput, Finding, Limits, ScanContext, Scanner, Severity};
use aisec_formats::FormatsScanner;

fn fixture_path(name: &str) -> String {
    format!(
        "{}/../aisec-cli/tests/fixtures/formats/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn fixture(name: &str) -> Vec<u8> {
    let path = fixture_path(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn scan(name: &str) -> Vec<Finding> {
    let bytes = fixture(name);
    let scanners: Vec<Box<dyn Scanner>> = vec![Box::new(FormatsScanner)];
    let limits = Limits::default();
    let ctx = ScanContext::new(&limits, &scanners);
    ctx.run(&FileInput::on_disk(name, Path::new(name), &bytes))
}

/// Every member of a tar, scanned as the archive scanner would hand it on.
fn scan_tar(name: &str) -> Vec<Finding> {
    let bytes = fixture(name);
    let scanners: Vec<Box<dyn Scanner>> = vec![Box::new(FormatsScanner)];
    let limits = Limits::default();
    let ctx = ScanContext::new(&limits, &scanners);
    let parent = FileInput::on_disk(name, Path::new(name), &bytes);
    let mut out = Vec::new();
    let mut archive = tar::Archive::new(&bytes[..]);
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let member = entry.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        out.extend(ctx.scan_member(&parent, &member, &data));
    }
    out
}

fn rules(found: &[Finding]) -> Vec<(&str, Severity)> {
    found
        .iter()
        .map(|f| (f.rule_id.as_str(), f.severity))
        .collect()
}

#[test]
fn damaged_files_their_loaders_refuse_are_findings() {
    for name in [
        "damaged/truncated.gguf",
        "damaged/truncated.onnx",
        "damaged/zero-padded.onnx",
        "damaged/truncated.h5",
    ] {
        let found = scan(name);
        assert!(
            found
                .iter()
                .any(|f| f.rule_id == "AISEC-GEN-002" && f.severity >= Severity::Medium),
            "{name}: {found:?}"
        );
    }
    // Their intact originals are clean.
    for name in ["benign/model.gguf", "benign/model.onnx", "benign/legacy.h5"] {
        assert!(scan(name).is_empty(), "{name}");
    }
}

#[test]
fn every_cut_of_the_benign_models_is_reported() {
    // llama.cpp and the HDF5 library refuse these files cut anywhere (the
    // data section is bounds-checked, the superblock records the file's
    // end); so must we. (ONNX is left out: protobuf itself accepts a model
    // cut exactly at a top-level field boundary.)
    for name in ["benign/model.gguf", "benign/legacy.h5"] {
        let bytes = fixture(name);
        let scanners: Vec<Box<dyn Scanner>> = vec![Box::new(FormatsScanner)];
        let limits = Limits::default();
        for cut in (16..bytes.len()).step_by(61) {
            let ctx = ScanContext::new(&limits, &scanners);
            let found = ctx.run(&FileInput::on_disk(name, Path::new(name), &bytes[..cut]));
            assert!(
                found.iter().any(|f| f.rule_id == "AISEC-GEN-002"),
                "{name} cut at {cut}: {found:?}"
            );
        }
    }
}

#[test]
fn safetensors_offsets_past_the_end_of_a_small_file_are_high() {
    let found = scan("damaged/offsets-past-end.safetensors");
    assert!(
        rules(&found).contains(&("AISEC-MOD-002", Severity::High)),
        "{found:?}"
    );
}

#[test]
fn nemo_archive_with_os_system_target_is_critical() {
    let found = scan_tar("hydra/malicious/asr.nemo");
    assert_eq!(
        rules(&found),
        [("AISEC-MOD-013", Severity::Critical)],
        "{found:?}"
    );
    assert_eq!(
        found[0].location.member.as_deref(),
        Some("./model_config.yaml")
    );
    assert_eq!(found[0].location.line, Some(6));
    assert!(found[0].message.contains("os.system"));
    assert!(scan_tar("hydra/benign/asr.nemo").is_empty());
    let found = scan("hydra/malicious/trainer_config.json");
    assert_eq!(
        rules(&found),
        [("AISEC-MOD-013", Severity::Critical)],
        "{found:?}"
    );
    assert!(found[0].message.contains("partial"));
}
