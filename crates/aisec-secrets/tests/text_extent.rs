//! Text scanners read text, not what follows it: a text head in front of a
//! huge sparse file (zeros) must not be read in full (issue 14, section 7).

use std::path::Path;

use aisec_core::{FileInput, Limits, ScanContext, Scanner};
use aisec_secrets::{SecretsScanner, text_prefix};

/// More text than the 8 KiB sniff window, so the file is sniffed as text.
fn text_head() -> Vec<u8> {
    b"# configuration notes\n".repeat(500)
}

#[test]
fn reading_stops_at_the_first_nul_and_says_so() {
    let mut bytes = text_head();
    let head = bytes.len();
    // Zeros, then a key the scanner must not be made to read for: what a
    // sparse file looks like to a memory map.
    bytes.resize(head + 1024 * 1024, 0);
    bytes.extend_from_slice(b"\nAWS_SECRET=AKIAIOSFODNN7REALKEY1\n");
    let input = FileInput::on_disk("notes.txt", Path::new("notes.txt"), &bytes);
    assert_eq!(input.kind, aisec_core::FileKind::Text);
    let limits = Limits::default();
    let scanners: Vec<Box<dyn Scanner>> = Vec::new();
    let ctx = ScanContext::new(&limits, &scanners);

    let found = SecretsScanner.scan(&input, &ctx);
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
    assert_eq!(found.len(), 1, "nothing past the NUL was read: {found:#?}");
}

#[test]
fn text_without_nul_is_read_whole() {
    let bytes = text_head();
    assert_eq!(text_prefix(&bytes), &bytes[..]);
    let mut cut = bytes.clone();
    cut.push(0);
    cut.extend_from_slice(b"more");
    assert_eq!(text_prefix(&cut), &bytes[..]);
}
