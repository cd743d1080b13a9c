//! Everything the crate does with untrusted bytes: the matching engine, the
//! scanner as a plain file, a notebook (JSON parse, cell attribution) and
//! a lock file. A panic, an out-of-bounds span or a secret in the evidence is
//! a bug.
#![no_main]

use std::path::Path;

use aisec_core::{FileInput, Limits, ScanContext, Scanner};
use aisec_secrets::{SecretsScanner, find_secrets_in_bytes, notebook_cells};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for m in find_secrets_in_bytes(data) {
        assert!(m.start < m.end && m.end <= data.len());
        let secret = String::from_utf8_lossy(&data[m.start..m.end]);
        assert!(secret.len() < 12 || !m.redacted.contains(secret.as_ref()));
    }
    let _ = notebook_cells(data);
    let scanners: Vec<Box<dyn Scanner>> = vec![Box::new(SecretsScanner)];
    let limits = Limits::default();
    let ctx = ScanContext::new(&limits, &scanners);
    for name in ["fuzz.py", "fuzz.ipynb", "poetry.lock"] {
        let file = FileInput::on_disk(name, Path::new(name), data);
        if SecretsScanner.detect(&file) {
            let _ = SecretsScanner.scan(&file, &ctx);
        }
    }
});
