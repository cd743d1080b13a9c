//! Every manifest parser, and the scanner's findings on what they return, on
//! arbitrary text. The first byte picks the format, the rest is the file.
//! The requirements, conda-spec and metadata grammars are hand-written; the
//! others wrap toml/serde_json/serde_yaml_ng and are here for the glue.
#![no_main]

use aisec_core::{FileInput, FileKind, Limits, ScanContext, Scanner};
use aisec_deps::parse::ManifestKind;
use libfuzzer_sys::fuzz_target;

const KINDS: &[(ManifestKind, &str)] = &[
    (ManifestKind::Requirements, "requirements.txt"),
    (ManifestKind::PyProject, "pyproject.toml"),
    (ManifestKind::PoetryLock, "poetry.lock"),
    (ManifestKind::UvLock, "uv.lock"),
    (ManifestKind::PipfileLock, "Pipfile.lock"),
    (ManifestKind::PdmLock, "pdm.lock"),
    (ManifestKind::PyLock, "pylock.toml"),
    (ManifestKind::CondaEnv, "environment.yml"),
    (ManifestKind::InstalledMetadata, "x-1.0.dist-info/METADATA"),
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let (kind, name) = KINDS[selector as usize % KINDS.len()];
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    // No fs path: includes are not followed, so the fuzzer never reads files.
    let _ = aisec_deps::parse_manifest(kind, text);
    let input = FileInput {
        path: name,
        member: None,
        fs_path: None,
        bytes: rest,
        kind: FileKind::Text,
        depth: 0,
    };
    let scanner = aisec_deps::scanner(None);
    let limits = Limits::default();
    let ctx = ScanContext::new(&limits, &[]);
    if scanner.detect(&input) {
        let _ = scanner.scan(&input, &ctx);
    }
});
