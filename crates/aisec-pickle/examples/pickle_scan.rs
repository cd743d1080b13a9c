//! Scans the files given on the command line with the pickle scanner alone
//! and prints each finding: a quick look while the CLI is being wired.
//! `cargo run -p aisec-pickle --example pickle_scan -- FILE...`

use std::path::Path;

use aisec_core::{FileInput, Limits, ScanContext, Scanner};
use aisec_pickle::PickleScanner;

fn main() {
    let scanners: Vec<Box<dyn Scanner>> = vec![Box::new(PickleScanner)];
    let limits = Limits::default();
    let ctx = ScanContext::new(&limits, &scanners);
    for path in std::env::args().skip(1) {
        // Mapped, not read: the scanner skips payloads, so most pages of a
        // large model are never touched (as in the CLI's walker).
        let map = std::fs::File::open(&path).and_then(|f| {
            // SAFETY: the file is only read; a concurrent writer could change
            // the bytes under us, which the parser treats as any other input.
            unsafe { memmap2::Mmap::map(&f) }
        });
        let map = match map {
            Ok(m) => m,
            Err(e) => {
                eprintln!("{path}: {e}");
                continue;
            }
        };
        let bytes: &[u8] = &map;
        let file = FileInput::on_disk(&path, Path::new(&path), bytes);
        let findings = ctx.run(&file);
        println!("{path}: {} finding(s)", findings.len());
        for f in findings {
            println!(
                "  {} {:<8} {} | {}",
                f.rule_id,
                f.severity,
                f.message,
                f.evidence.as_deref().unwrap_or("")
            );
        }
    }
}
