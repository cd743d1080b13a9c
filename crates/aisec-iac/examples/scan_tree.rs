//! Scans a directory tree with the IaC scanner on one thread and prints one
//! line per finding (`path:line\tRULE\tseverity\tmessage`), then the file
//! count and time to stderr. Used for the peer comparison with checkov and
//! for timing; not the product's CLI (which wires the scanner in itself).
//!
//! `cargo run --release -p aisec-iac --example scan_tree -- DIR [--quiet]`

use std::path::{Path, PathBuf};
use std::time::Instant;

use aisec_core::{FileInput, Limits, ScanContext, Scanner};
use aisec_iac::IacScanner;

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let Ok(ft) = e.file_type() else { continue };
        let p = e.path();
        if ft.is_dir() && e.file_name() != ".git" {
            walk(&p, out);
        } else if ft.is_file() {
            out.push(p);
        }
    }
}

fn main() {
    let root = PathBuf::from(
        std::env::args()
            .nth(1)
            .expect("usage: scan_tree DIR [--quiet]"),
    );
    let quiet = std::env::args().any(|a| a == "--quiet");
    let start = Instant::now();
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    let scanners: Vec<Box<dyn Scanner>> = vec![Box::new(IacScanner)];
    let limits = Limits::default();
    let ctx = ScanContext::new(&limits, &scanners);
    let (mut scanned, mut findings) = (0usize, 0usize);
    for p in &files {
        let Ok(bytes) = std::fs::read(p) else {
            continue;
        };
        let shown = p.to_string_lossy().into_owned();
        let file = FileInput::on_disk(&shown, p, &bytes);
        if !IacScanner.detect(&file) {
            continue;
        }
        scanned += 1;
        for f in ctx.run(&file) {
            findings += 1;
            if !quiet {
                println!(
                    "{}:{}\t{}\t{}\t{}",
                    f.location.path,
                    f.location.line.unwrap_or(0),
                    f.rule_id,
                    f.severity,
                    f.message
                );
            }
        }
    }
    eprintln!(
        "{} files walked, {scanned} IaC files scanned, {findings} findings in {:.3} s (one thread, walking and reading included)",
        files.len(),
        start.elapsed().as_secs_f64()
    );
}
