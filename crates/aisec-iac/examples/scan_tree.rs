//! Scans a directory tree with the IaC scanner through the engine (so
//! Terraform sibling files and local modules are read the way `aisec scan`
//! reads them: through the scan's confined `SiblingSource`) and prints one
//! line per finding (`path:line\tRULE\tseverity\tmessage`), then the file
//! count and time to stderr. Used for the peer comparison with checkov and
//! for timing; not the product's CLI (which wires the scanner in itself).
//!
//! `cargo run --release -p aisec-iac --example scan_tree -- DIR [--quiet] [--threads N]`
//!
//! `--generate N PER_DIR DIR` first writes a timing tree: N Terraform files
//! in directories of PER_DIR files each, copies of this crate's Terraform
//! fixtures (the shape the sibling-cost measurements in `terraform` use).

use std::path::{Path, PathBuf};
use std::time::Instant;

use aisec_core::{Limits, Scanner};
use aisec_engine::{NoProgress, ScanRequest, WalkOptions};
use aisec_iac::IacScanner;

fn tf_fixtures(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            tf_fixtures(&p, out);
        } else if p.extension().is_some_and(|x| x == "tf") && !p.ends_with("broken.tf") {
            out.push(p);
        }
    }
}

fn generate(n: usize, per_dir: usize, dest: &Path) {
    let mut pool = Vec::new();
    tf_fixtures(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"),
        &mut pool,
    );
    pool.sort();
    for i in 0..n {
        let src = &pool[i % pool.len()];
        let sub = dest.join(format!("m{:03}", i / per_dir.max(1)));
        std::fs::create_dir_all(&sub).unwrap();
        let name = format!("f{i:05}_{}", src.file_name().unwrap().to_string_lossy());
        std::fs::copy(src, sub.join(name)).unwrap();
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--generate") {
        let n = args[i + 1].parse().expect("--generate N PER_DIR DIR");
        let per_dir = args[i + 2].parse().expect("--generate N PER_DIR DIR");
        generate(n, per_dir, Path::new(&args[i + 3]));
        return;
    }
    let root = PathBuf::from(
        args.first()
            .expect("usage: scan_tree DIR [--quiet] [--threads N]"),
    );
    let quiet = args.iter().any(|a| a == "--quiet");
    if let Some(i) = args.iter().position(|a| a == "--threads") {
        let n = args[i + 1].parse().expect("--threads N");
        aisec_engine::set_threads(n).unwrap();
    }
    let start = Instant::now();
    let scanners: Vec<Box<dyn Scanner>> = vec![Box::new(IacScanner)];
    let request = ScanRequest {
        targets: vec![root],
        walk: WalkOptions::default(),
        limits: Limits::default(),
    };
    let report = aisec_engine::scan(&request, &scanners, &NoProgress).expect("scan");
    let mut findings = report.findings;
    findings.sort_by(|a, b| {
        (&a.location.path, a.location.line, &a.rule_id, &a.message).cmp(&(
            &b.location.path,
            b.location.line,
            &b.rule_id,
            &b.message,
        ))
    });
    if !quiet {
        for f in &findings {
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
    eprintln!(
        "{} files scanned, {} findings in {:.3} s (walking and reading included)",
        report.stats.files_scanned,
        findings.len(),
        start.elapsed().as_secs_f64()
    );
}
