//! Scans the files given on the command line with the pickle scanner alone
//! and prints each finding: a quick look while the CLI is being wired.
//! `cargo run -p aisec-pickle --example pickle_scan -- FILE...`

use std::path::Path;

use aisec_core::{FileInput, Limits, ScanContext, Scanner};
use aisec_pickle::PickleScanner;

fn main() {
    let scanners: Vec<Box<dyn Scanner>> = vec![Box::new(PickleScanner)];
    let limits = Limits::default();
    let ctx = ScanContext {
        limits: &limits,
        scanners: &scanners,
    };
    for path in std::env::args().skip(1) {
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{path}: {e}");
                continue;
            }
        };
        let file = FileInput::on_disk(&path, Path::new(&path), &bytes);
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
