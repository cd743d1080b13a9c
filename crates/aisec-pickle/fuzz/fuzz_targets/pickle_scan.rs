//! Everything the crate does with untrusted bytes: detection, the full scan
//! (symbolic VM, policy, nested payloads through the scan context), and the
//! two analyst listings. Any panic, overflow or runaway allocation is a bug.
#![no_main]

use std::path::Path;

use aisec_core::{FileInput, Limits, ScanContext, Scanner};
use aisec_pickle::{PickleScanner, decompile, disasm, scan_pickle};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let scanners: Vec<Box<dyn Scanner>> = vec![Box::new(PickleScanner)];
    let limits = Limits::default();
    let ctx = ScanContext::new(&limits, &scanners);
    let file = FileInput::on_disk("fuzz.pkl", Path::new("fuzz.pkl"), data);
    let _ = PickleScanner.detect(&file);
    let _ = scan_pickle(data, &file, &ctx);
    let _ = disasm(data);
    let _ = decompile(data);
});
