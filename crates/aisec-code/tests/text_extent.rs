//! The code scanner parses source, not what follows it: a Python head in
//! front of a huge sparse file (zeros) must not be parsed in full (issue 14,
//! section 7; tree-sitter over 256 MiB of zeros took 14 s).

use std::path::Path;

use aisec_code::CodeScanner;
use aisec_core::{FileInput, Limits, ScanContext, Scanner};

#[test]
fn parsing_stops_at_the_first_nul_and_says_so() {
    // More than the 8 KiB sniff window, so the file is sniffed as text.
    let mut bytes = b"import os\nx = 1\n".repeat(700);
    let head = bytes.len();
    bytes.extend_from_slice(b"eval(input())\n");
    let eval_at = bytes.len();
    bytes.truncate(head);
    bytes.resize(head + 1024 * 1024, 0);
    bytes.extend_from_slice(b"\nimport pickle\npickle.loads(input())\n");
    assert!(eval_at > head);
    let input = FileInput::on_disk("train.py", Path::new("train.py"), &bytes);
    let limits = Limits::default();
    let scanners: Vec<Box<dyn Scanner>> = Vec::new();
    let ctx = ScanContext::new(&limits, &scanners);

    let found = CodeScanner.scan(&input, &ctx);
    let unread: Vec<_> = found
        .iter()
        .filter(|f| f.rule_id == "AISEC-GEN-003")
        .collect();
    assert_eq!(unread.len(), 1, "{found:#?}");
    assert!(
        unread[0]
            .message
            .contains(&format!("NUL byte) at byte {head} of {}", bytes.len())),
        "{}",
        unread[0].message
    );
    // CPython refuses source with a NUL byte: nothing after it runs.
    assert_eq!(found.len(), 1, "{found:#?}");
}

#[test]
fn source_before_a_nul_is_still_analysed() {
    let mut bytes = b"x = 1\n".repeat(2000);
    bytes.extend_from_slice(b"import pickle\npickle.loads(open('m').read())\n");
    let code_end = bytes.len();
    bytes.resize(code_end + 4096, 0);
    let input = FileInput::on_disk("load.py", Path::new("load.py"), &bytes);
    let limits = Limits::default();
    let scanners: Vec<Box<dyn Scanner>> = Vec::new();
    let ctx = ScanContext::new(&limits, &scanners);
    let found = CodeScanner.scan(&input, &ctx);
    assert!(
        found.iter().any(|f| f.rule_id.starts_with("AISEC-CODE")),
        "{found:#?}"
    );
}
