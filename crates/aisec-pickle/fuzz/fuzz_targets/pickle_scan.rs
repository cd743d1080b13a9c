//! Everything the crate does with untrusted bytes: content sniffing and
//! detection (under a pickle name, a text name and no name: protocol 0/1
//! streams are judged by what the loader would execute), the full scan
//! (symbolic VM in both frame readings, policy, nested payloads through the
//! scan context), and the two analyst listings. Any panic, overflow or
//! runaway allocation is a bug.
//!
//! Seeds: the committed fixtures, e.g.
//! `cargo fuzz run pickle_scan corpus/pickle_scan ../tests/fixtures/malicious ../tests/fixtures/benign`.
#![no_main]

use std::path::Path;

use aisec_core::{FileInput, Limits, ScanContext, Scanner};
use aisec_pickle::{PickleScanner, decompile, disasm, scan_pickle};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let scanners: Vec<Box<dyn Scanner>> = vec![Box::new(PickleScanner)];
    let limits = Limits::default();
    let ctx = ScanContext::new(&limits, &scanners);
    for name in ["fuzz.txt", "fuzz"] {
        let _ = aisec_core::detect_kind(data, name);
        let _ = PickleScanner.detect(&FileInput::on_disk(name, Path::new(name), data));
    }
    let file = FileInput::on_disk("fuzz.pkl", Path::new("fuzz.pkl"), data);
    let _ = PickleScanner.detect(&file);
    let _ = scan_pickle(data, &file, &ctx);
    let _ = aisec_pickle::vm::Machine::run_chunked(data, 0);
    let _ = disasm(data);
    let _ = decompile(data);
});
