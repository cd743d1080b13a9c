//! Scans a directory tree with the code scanner on one thread and prints one
//! line per finding (`path:line\tRULE\tseverity\tmessage`), then the time to
//! stderr. Used by `benches/compare_bandit.sh` to run aisec on the same tree
//! as bandit; not the product's CLI.
//!
//! `cargo run --release -p aisec-code --example scan_code -- DIR`

use std::path::{Path, PathBuf};
use std::time::Instant;

use aisec_code::CodeScanner;
use aisec_core::{FileInput, Limits, ScanContext, Scanner};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() && e.file_name() != ".git" {
            walk(&e.path(), out);
        } else if ft.is_file() {
            out.push(e.path());
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::args().nth(1).expect("usage: scan_code DIR"));
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    let scanners: Vec<Box<dyn Scanner>> = vec![Box::new(CodeScanner)];
    let limits = Limits::default();
    let ctx = ScanContext::new(&limits, &scanners);
    let start = Instant::now();
    let (mut scanned, mut bytes_read) = (0usize, 0u64);
    for p in &files {
        let Ok(bytes) = std::fs::read(p) else {
            continue;
        };
        let rel = p
            .strip_prefix(&root)
            .unwrap_or(p)
            .to_string_lossy()
            .into_owned();
        let file = FileInput::on_disk(&rel, p, &bytes);
        if !CodeScanner.detect(&file) {
            continue;
        }
        scanned += 1;
        bytes_read += bytes.len() as u64;
        let t = Instant::now();
        if std::env::var_os("AISEC_PARSE_ONLY").is_some() {
            std::hint::black_box(aisec_code::parse_only(&bytes));
            continue;
        }
        let findings = ctx.run(&file);
        if std::env::var_os("AISEC_SLOW").is_some() && t.elapsed().as_millis() > 50 {
            eprintln!("slow: {rel} ({} bytes) {:?}", bytes.len(), t.elapsed());
        }
        for f in findings {
            println!(
                "{}:{}\t{}\t{}\t{}",
                rel,
                f.location.line.unwrap_or(0),
                f.rule_id,
                f.severity,
                f.message
            );
        }
    }
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "analysed {scanned} Python files and notebooks, {:.1} MB in {:.3} s ({:.1} MB/s, one thread)",
        bytes_read as f64 / 1e6,
        secs,
        bytes_read as f64 / 1e6 / secs
    );
}
