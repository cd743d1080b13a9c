//! Timings the issue asks for: importing the PyPI snapshot, opening the stored
//! database, and scanning a 500-package lockfile (requirements and uv.lock
//! forms). A plain harness (no criterion): each step runs several times and
//! the median, min and max are printed.
//!
//! run: cargo bench -p aisec-deps --bench deps

use std::path::Path;
use std::time::{Duration, Instant};

use aisec_core::{FileInput, Limits, ScanContext, Scanner};

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, Duration, Duration, T) {
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        last = Some(f());
        times.push(start.elapsed());
    }
    times.sort();
    (
        times[runs / 2],
        times[0],
        times[runs - 1],
        last.expect("runs > 0"),
    )
}

fn report(what: &str, (median, min, max): (Duration, Duration, Duration)) {
    println!("{what:<44} median {median:>10.3?}  min {min:>10.3?}  max {max:>10.3?}");
}

/// The full PyPA snapshot (2,661 records), relative to this crate.
const FULL_SNAPSHOT: &str = "../../../shared/data/osv-PyPI-all.zip";
/// The committed subset (173 records, `fixtures/gen/osv_subset.py`).
const SUBSET_SNAPSHOT: &str = "../../fixtures/shared/data/osv-PyPI-subset.zip";

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // The timings in the crate note are for the full snapshot, which
    // developers and CI have beside the project root; a fresh clone has only
    // the committed subset, whose import time is not comparable.
    let full = root.join(FULL_SNAPSHOT);
    let zip = if full.is_file() {
        full
    } else {
        root.join(SUBSET_SNAPSHOT)
    };
    let tmp = std::env::temp_dir().join(format!("aisec-deps-bench-{}", std::process::id()));

    let (md, mi, ma, summary) = time(5, || aisec_deps::import(&zip, &tmp).expect("import"));
    let name = zip.file_name().unwrap_or_default().to_string_lossy();
    report(&format!("import {name}"), (md, mi, ma));
    println!(
        "  -> {} advisories, {} packages, database {} KiB",
        summary.meta.advisories,
        summary.meta.packages.values().sum::<u64>(),
        summary.db_bytes / 1024
    );

    let (md, mi, ma, _) = time(50, || aisec_deps::open(&tmp).expect("open"));
    report("open the stored database", (md, mi, ma));

    let limits = Limits::default();
    let ctx = ScanContext::new(&limits, &[]);
    // Shown under the names the scanner recognises.
    for (name, shown, label) in [
        (
            "requirements-500.txt",
            "requirements.txt",
            "scan requirements-500.txt (500 pins)",
        ),
        ("uv-500.lock", "uv.lock", "scan uv-500.lock (500 packages)"),
    ] {
        let path = root.join("benches/data").join(name);
        let bytes = std::fs::read(&path).expect("bench input");
        let scanner = aisec_deps::scanner(Some(aisec_deps::open(&tmp).expect("open")));
        let input = FileInput::on_disk(shown, &path, &bytes);
        assert!(scanner.detect(&input), "{name} not detected");
        let (md, mi, ma, findings) = time(20, || scanner.scan(&input, &ctx));
        report(label, (md, mi, ma));
        println!("  -> {} findings", findings.len());
    }
    let path = root.join("benches/data/uv-500.lock");
    let bytes = std::fs::read(&path).expect("bench input");
    let (md, mi, ma, _) = time(5, || {
        let scanner = aisec_deps::scanner(Some(aisec_deps::open(&tmp).expect("open")));
        let input = FileInput::on_disk("uv.lock", &path, &bytes);
        scanner.scan(&input, &ctx)
    });
    report("open + scan uv-500.lock (a one-file CLI run)", (md, mi, ma));
    let _ = std::fs::remove_dir_all(&tmp);
}
