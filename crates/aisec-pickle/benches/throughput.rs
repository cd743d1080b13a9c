//! Throughput of the pickle scanner, run with
//! `cargo bench -p aisec-pickle --bench throughput` (a plain timing harness,
//! not criterion: one scan of a gigabyte says what is needed).
//!
//! 1. A ~1 GiB data-heavy pickle generated here (never committed): 1024
//!    NumPy-style arrays of 1 MiB each, pickled as protocol 4 does
//!    (`_reconstruct` + BUILD with a BINBYTES8 payload, framed, memoized).
//! 2. The committed fixture corpus, scanned in-process, many rounds.
//!
//! `AISEC_BENCH_ARRAYS=N` changes the number of arrays (default 1024).
//! `AISEC_BENCH_WRITE=/path.pkl` also writes the generated pickle there, for
//! running peers on the same file (see `benches/compare_peers.sh`).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aisec_core::{FileInput, Limits, ScanContext, Scanner};
use aisec_pickle::{PickleScanner, scan_pickle};

const ARRAYS: usize = 1024;
const ARRAY_BYTES: usize = 1 << 20;

fn sbu(out: &mut Vec<u8>, s: &str) {
    out.push(0x8c);
    out.push(s.len() as u8);
    out.extend_from_slice(s.as_bytes());
}

/// `pickle.dumps([array, ...], protocol=4)` for 1 MiB `uint8` arrays, in
/// the shape NumPy's `__reduce__` gives (without memo references, so each
/// array stands alone): `_reconstruct(ndarray, (0,), b'b')` then BUILD with
/// `(1, (n,), dtype('u1'), False, <BINBYTES8 payload>)`.
fn data_heavy_pickle(arrays: usize) -> Vec<u8> {
    let mut p = Vec::with_capacity(arrays * (ARRAY_BYTES + 160) + 64);
    p.extend_from_slice(b"\x80\x04]\x94(");
    let payload: Vec<u8> = (0..ARRAY_BYTES).map(|i| (i * 31 % 251) as u8).collect();
    for _ in 0..arrays {
        let mut head = Vec::new();
        sbu(&mut head, "numpy._core.multiarray");
        sbu(&mut head, "_reconstruct");
        head.push(0x93);
        sbu(&mut head, "numpy");
        sbu(&mut head, "ndarray");
        head.extend_from_slice(b"\x93K\x00\x85C\x01b\x87R(K\x01J");
        head.extend_from_slice(&(ARRAY_BYTES as i32).to_le_bytes());
        head.push(0x85);
        sbu(&mut head, "numpy");
        sbu(&mut head, "dtype");
        head.push(0x93);
        sbu(&mut head, "u1");
        head.extend_from_slice(b"\x89\x88\x87R(K\x03");
        sbu(&mut head, "|");
        head.extend_from_slice(b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89");
        p.push(0x95);
        p.extend_from_slice(&(head.len() as u64).to_le_bytes());
        p.extend_from_slice(&head);
        p.push(0x8e);
        p.extend_from_slice(&(ARRAY_BYTES as u64).to_le_bytes());
        p.extend_from_slice(&payload);
        p.extend_from_slice(b"tb");
    }
    p.extend_from_slice(b"e.");
    p
}

fn ctx_scan(data: &[u8], name: &str) -> usize {
    let scanners: Vec<Box<dyn Scanner>> = vec![Box::new(PickleScanner)];
    let limits = Limits::default();
    let ctx = ScanContext::new(&limits, &scanners);
    let file = FileInput::on_disk(name, Path::new(name), data);
    scan_pickle(data, &file, &ctx).len()
}

fn fixtures() -> Vec<(PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out = Vec::new();
    for kind in ["benign", "malicious"] {
        let mut entries: Vec<_> = std::fs::read_dir(root.join(kind))
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        entries.sort();
        for path in entries {
            if let Ok(bytes) = std::fs::read(&path) {
                out.push((path, bytes));
            }
        }
    }
    out
}

fn best_of(rounds: usize, mut f: impl FnMut()) -> Duration {
    (0..rounds)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is ignored.
    let arrays = std::env::var("AISEC_BENCH_ARRAYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(ARRAYS);
    let data = data_heavy_pickle(arrays);
    if let Ok(path) = std::env::var("AISEC_BENCH_WRITE") {
        std::fs::write(&path, &data).expect("write generated pickle");
        eprintln!("wrote {} bytes to {path}", data.len());
    }
    let findings = ctx_scan(&data, "big.pkl");
    let t = best_of(5, || {
        black_box(ctx_scan(black_box(&data), "big.pkl"));
    });
    let gib = data.len() as f64 / (1u64 << 30) as f64;
    println!(
        "data-heavy pickle: {:.3} GiB in {:.1} ms (best of 5) = {:.1} GiB/s, {findings} finding(s)",
        gib,
        t.as_secs_f64() * 1e3,
        gib / t.as_secs_f64()
    );
    drop(data);

    let corpus = fixtures();
    let rounds = 200;
    for (label, filter) in [
        ("fixture corpus", ""),
        ("  benign only", "/benign/"),
        ("  malicious only", "/malicious/"),
    ] {
        let files: Vec<_> = corpus
            .iter()
            .filter(|(p, _)| p.to_string_lossy().contains(filter))
            .map(|(p, b)| (p.to_string_lossy().into_owned(), b))
            .collect();
        let total: usize = files.iter().map(|(_, b)| b.len()).sum();
        let t = Instant::now();
        for _ in 0..rounds {
            for (path, bytes) in &files {
                black_box(ctx_scan(black_box(bytes), path));
            }
        }
        let per_pass = t.elapsed() / rounds as u32;
        println!(
            "{label}: {} files, {} bytes, {:.1} us per pass ({:.2} us per file), {rounds} passes",
            files.len(),
            total,
            per_pass.as_secs_f64() * 1e6,
            per_pass.as_secs_f64() * 1e6 / files.len().max(1) as f64
        );
    }
}
