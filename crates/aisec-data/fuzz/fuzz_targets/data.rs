//! Arbitrary bytes through every reader and detector of aisec-data, under
//! each name that routes to one (CSV, TSV, JSON Lines, JSON, notebooks and
//! text go by name or content, Parquet by its magic), and through the scanner.
#![no_main]

use aisec_core::{FileInput, Limits, ScanContext, Scanner, detect_kind};
use aisec_data::{DataScanner, SampleOptions};
use libfuzzer_sys::fuzz_target;

const NAMES: &[&str] = &["d.csv", "d.tsv", "d.jsonl", "d.json", "d.ipynb", "d.txt", "d.parquet", "noext"];

fuzz_target!(|data: &[u8]| {
    // libfuzzer-sys aborts on every panic, even one the reader contains
    // (the parquet decoders run under catch_unwind): print instead, so only
    // a panic that escapes to the harness's own catch_unwind is a crash.
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| std::panic::set_hook(Box::new(|info| eprintln!("contained panic: {info}"))));
    let opts = SampleOptions { max_rows: 256, max_bytes: 64 * 1024, ..SampleOptions::default() };
    for name in NAMES {
        let _ = aisec_data::profile(name, data, &opts);
    }
    // Parquet-shaped input reaches the footer decoder and the row reader.
    if data.len() > 8 {
        let mut pq = b"PAR1".to_vec();
        pq.extend_from_slice(data);
        pq.extend_from_slice(b"PAR1");
        let _ = aisec_data::profile("x.parquet", &pq, &opts);
    }
    let scanners: Vec<Box<dyn Scanner>> = vec![Box::new(DataScanner)];
    let limits = Limits::default();
    let ctx = ScanContext::new(&limits, &scanners);
    for name in ["d.csv", "d.jsonl"] {
        let file = FileInput { path: name, member: None, fs_path: None, bytes: data, kind: detect_kind(data, name), depth: 0 };
        // Call the scanner directly: `ctx.run` would catch a panic.
        if DataScanner.detect(&file) {
            let _ = DataScanner.scan(&file, &ctx);
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let mut hits = Vec::new();
        for hint in [None, Some(aisec_data::ColumnHint::Phone), Some(aisec_data::ColumnHint::Ssn), Some(aisec_data::ColumnHint::BirthDate), Some(aisec_data::ColumnHint::PersonName)] {
            aisec_data::detect::detect(text, aisec_data::detect::ValueContext { hint, secrets: true }, &mut hits);
        }
    }
});
