//! Arbitrary bytes through the CSV, TSV and JSON Lines masking paths under a
//! policy that uses every action, and under a default action with the header
//! taken from the input.
#![no_main]

use std::path::Path;

use aisec_dataset::{Dialect, MaskKey, MaskOptions, Policy, mask_json_lines_stream, mask_stream};
use libfuzzer_sys::fuzz_target;

const POLICY: &str = r#"
[[column]]
name = "a"
action = "tokenise"
format = "email"
[[column]]
name = "b"
action = "generalise"
width = 7
top = 100
[[column]]
name = "c"
action = "generalise"
to = "year-month"
[[column]]
name = "d"
action = "hash"
encoding = "base64url"
length = 9
[[column]]
name = "e"
action = "tokenise"
format = "card"
"#;

fuzz_target!(|data: &[u8]| {
    let key = MaskKey::new(b"fuzzing key, sixteen bytes+".to_vec()).unwrap();
    let all = Policy::parse(POLICY, Path::new("p.toml")).unwrap();
    let default = Policy::parse("default = \"hash\"", Path::new("d.toml")).unwrap();
    for dialect in [Dialect::CSV, Dialect::TSV] {
        let sep = dialect.delimiter as char;
        let mut input = ["a", "b", "c", "d", "e"].join(&sep.to_string()).into_bytes();
        input.push(b'\n');
        input.extend_from_slice(data);
        let options = MaskOptions { dialect, strict: false };
        let mut out = Vec::new();
        if let Ok(s) = mask_stream(Path::new("f"), &input[..], &mut out, &all, Some(&key), options) {
            assert_eq!(s.rows_read, s.rows_written + s.rejected.count);
        }
        let _ = mask_stream(Path::new("f"), data, &mut Vec::new(), &default, Some(&key), options);
    }
    for policy in [&all, &default] {
        if let Ok(s) = mask_json_lines_stream(Path::new("f.jsonl"), data, &mut Vec::new(), policy, Some(&key), false) {
            assert_eq!(s.rows_read, s.rows_written + s.rejected.count);
        }
    }
});
