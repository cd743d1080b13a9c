//! Scans a directory tree with the secrets scanner on one thread and prints
//! one line per finding (`path:line\tRULE\tredacted`), then the time and the
//! bytes read to stderr. Used by `benches/compare_peers.sh` to run aisec on
//! the same tree as detect-secrets; not the product's CLI.
//!
//! `cargo run --release -p aisec-secrets --example secrets_scan_tree -- DIR`

use std::path::{Path, PathBuf};
use std::time::Instant;

use aisec_core::{FileInput, Limits, ScanContext, Scanner};
use aisec_secrets::SecretsScanner;

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
            .expect("usage: secrets_scan_tree DIR"),
    );
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    let scanners: Vec<Box<dyn Scanner>> = vec![Box::new(SecretsScanner)];
    let limits = Limits::default();
    let ctx = ScanContext::new(&limits, &scanners);
    let start = Instant::now();
    let mut bytes_read = 0u64;
    for p in &files {
        let Ok(bytes) = std::fs::read(p) else {
            continue;
        };
        bytes_read += bytes.len() as u64;
        let rel = p
            .strip_prefix(&root)
            .unwrap_or(p)
            .to_string_lossy()
            .into_owned();
        let file = FileInput::on_disk(&rel, p, &bytes);
        if !SecretsScanner.detect(&file) {
            continue;
        }
        for f in SecretsScanner.scan(&file, &ctx) {
            println!(
                "{}:{}\t{}\t{}",
                rel,
                f.location.line.unwrap_or(0),
                f.rule_id,
                f.evidence.unwrap_or_default()
            );
        }
    }
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "scanned {} files, {:.1} MB in {:.3} s ({:.0} MB/s, one thread, reading included)",
        files.len(),
        bytes_read as f64 / 1e6,
        secs,
        bytes_read as f64 / 1e6 / secs
    );
}
