//! No reader panics on arbitrary bytes, under every name that routes to one.

use aisec_data::{SampleOptions, profile};
use proptest::prelude::*;

const NAMES: &[&str] = &[
    "d.csv",
    "d.tsv",
    "d.jsonl",
    "d.json",
    "d.parquet",
    "d.txt",
    "d.ipynb",
    "noext",
];

fn small() -> SampleOptions {
    SampleOptions {
        max_rows: 64,
        max_bytes: 4096,
        ..SampleOptions::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        for name in NAMES {
            let _ = profile(name, &bytes, &small());
        }
    }

    #[test]
    fn parquet_shaped_bytes(body in proptest::collection::vec(any::<u8>(), 0..1024), footer in 0u32..2048) {
        let mut bytes = b"PAR1".to_vec();
        bytes.extend_from_slice(&body);
        bytes.extend_from_slice(&footer.to_le_bytes());
        bytes.extend_from_slice(b"PAR1");
        let _ = profile("x.parquet", &bytes, &small());
    }

    #[test]
    fn text_like_values(lines in proptest::collection::vec("[ -~]{0,80}", 0..40)) {
        let text = lines.join("\n");
        for name in NAMES {
            let _ = profile(name, text.as_bytes(), &small());
        }
    }

    #[test]
    fn json_lines_of_nested_values(depth in 0usize..200, key in "[a-z_]{1,12}", value in "[ -~]{0,40}") {
        let mut doc = serde_json::json!(value);
        for _ in 0..depth {
            doc = serde_json::json!({ key.clone(): [doc] });
        }
        let line = doc.to_string();
        let _ = profile("d.jsonl", format!("{line}\n{line}\n").as_bytes(), &small());
    }
}
