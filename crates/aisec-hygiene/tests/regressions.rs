//! Inputs the fuzzer found, kept so they stay fixed.

use std::path::Path;

use aisec_core::{FileInput, FileKind, Limits, ScanContext, Scanner};

fn scan(bytes: &[u8], kind: FileKind) -> Vec<aisec_core::Finding> {
    let scanners: Vec<Box<dyn Scanner>> = vec![Box::new(aisec_hygiene::ArchiveScanner)];
    let limits = Limits::default();
    let ctx = ScanContext::new(&limits, &scanners);
    let mut file = FileInput::on_disk("crash.xz", Path::new("crash.xz"), bytes);
    file.kind = kind;
    // The scanner itself, not `ctx.run`, which would turn a panic into a finding.
    aisec_hygiene::ArchiveScanner.scan(&file, &ctx)
}

#[test]
fn lzma_rs_header_overflow_is_a_malformed_stream_not_a_panic() {
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fuzz-regressions/lzma-rs-xz-overflow.bin"),
    )
    .unwrap();
    let findings = scan(&bytes, FileKind::Xz);
    assert!(
        findings
            .iter()
            .any(|f| f.rule_id == aisec_core::generic::MALFORMED.id
                && f.message.contains("broken xz stream")),
        "{findings:#?}"
    );
}
