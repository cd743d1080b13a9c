//! Feeds arbitrary bytes to the archive scanner as a zip, a tar and a gzip
//! stream, a 7z (recursing into members), and to the raw zip directory reader.
#![no_main]

use aisec_core::{FileInput, FileKind, Limits, ScanContext, Scanner};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let scanners: Vec<Box<dyn Scanner>> = vec![
        Box::new(aisec_hygiene::ArchiveScanner),
        Box::new(aisec_hygiene::ExtensionMismatchScanner),
    ];
    // Small limits keep each run fast while still exercising every bound.
    let limits = Limits {
        max_decompressed: 1 << 20,
        max_members: 64,
        max_nesting: 3,
        ..Limits::default()
    };
    let ctx = ScanContext::new(&limits, &scanners);
    for kind in [
        FileKind::Zip,
        FileKind::Tar,
        FileKind::Gzip,
        FileKind::Bzip2,
        FileKind::Xz,
        FileKind::Lzma,
        FileKind::Zlib,
        FileKind::Lz4,
        FileKind::Zstd,
        FileKind::SevenZip,
    ] {
        let file = FileInput {
            path: "fuzz",
            member: None,
            fs_path: None,
            bytes: data,
            kind,
            depth: 0,
        };
        // `ctx.run` turns panics into findings, which would hide them from
        // the fuzzer: call the scanner directly and treat a caught panic in a
        // nested member as a crash too.
        let findings = aisec_hygiene::ArchiveScanner.scan(&file, &ctx);
        if let Some(f) = findings
            .iter()
            .find(|f| f.rule_id == aisec_core::generic::SCANNER_CRASHED.id)
        {
            panic!("nested scanner panic: {:?}", f.evidence);
        }
    }
    if let Ok(cd) = aisec_hygiene::zipdir::read_central_directory(data) {
        for e in &cd.entries {
            let _ = aisec_hygiene::zipdir::read_local_header(data, e.local_header_offset);
        }
    }
});
