//! A text dataset ends at its first NUL byte: a CSV head in front of a huge
//! sparse file (zeros) is profiled from the head, not sampled into the zeros
//! and called malformed (issue 14, section 7).

use std::path::Path;

use aisec_core::{FileInput, Limits, ScanContext, Scanner};
use aisec_data::DataScanner;

#[test]
fn a_csv_head_before_zeros_is_profiled() {
    let mut bytes = b"id,email\n".to_vec();
    for i in 0..400 {
        bytes.extend_from_slice(format!("{i},person{i}@example.org\n").as_bytes());
    }
    assert!(bytes.len() > 8 * 1024, "longer than the sniff window");
    bytes.resize(bytes.len() + 4 * 1024 * 1024, 0);
    let input = FileInput::on_disk("users.csv", Path::new("users.csv"), &bytes);
    let limits = Limits::default();
    let scanners: Vec<Box<dyn Scanner>> = Vec::new();
    let ctx = ScanContext::new(&limits, &scanners);
    assert!(DataScanner.detect(&input));
    let found = DataScanner.scan(&input, &ctx);
    assert!(
        !found.iter().any(|f| f.rule_id == "AISEC-GEN-002"),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|f| f.rule_id.starts_with("AISEC-DATA") && f.message.contains("`email`")),
        "{found:#?}"
    );
}
