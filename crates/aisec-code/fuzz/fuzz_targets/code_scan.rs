//! Everything the crate does with untrusted bytes: tree-sitter parsing, name
//! resolution, every rule and the taint pass, as a Python file and as a
//! notebook. A panic or a stack overflow is a bug.
#![no_main]

use std::path::Path;

use aisec_code::{CodeScanner, analyse_python};
use aisec_core::{FileInput, Limits, ScanContext, Scanner};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = analyse_python(data);
    let scanners: Vec<Box<dyn Scanner>> = vec![Box::new(CodeScanner)];
    let limits = Limits::default();
    let ctx = ScanContext::new(&limits, &scanners);
    for name in ["fuzz.py", "fuzz.ipynb"] {
        let file = FileInput::on_disk(name, Path::new(name), data);
        let _ = CodeScanner.scan(&file, &ctx);
    }
});
