//! Throughput of secret detection on one core, run with
//! `cargo bench -p aisec-secrets --bench throughput` (a plain timing harness,
//! not criterion: a few passes over a few hundred MB say what is needed).
//!
//! The corpus is a real mixed source tree read into memory first, so that
//! only matching is timed: by default the crates in the cargo registry
//! (Rust, C, Markdown, JSON, TOML, test data) and the Python standard
//! library. `AISEC_BENCH_TREE=dir1:dir2` chooses other trees;
//! `AISEC_BENCH_MB` caps the corpus (default 512).
//!
//! Two numbers: the engine alone (`find_secrets_in_bytes`), and the whole
//! scanner (`SecretsScanner::scan`: lock-file and path rules, line numbers,
//! findings).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

use aisec_core::{FileInput, FileKind, Limits, ScanContext, Scanner};
use aisec_secrets::{SecretsScanner, find_secrets_in_bytes, literal_hits};

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

/// CPU time of this thread, from `/proc` (clock ticks of 10 ms): on a shared
/// machine wall time measures the neighbours, CPU time measures us.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    // Fields 14 and 15 (utime, stime); `after` starts at field 3.
    let mut f = after.split_whitespace().skip(11);
    let mut tick = || f.next().and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (tick() + tick()) / 100.0
}

/// Runs `f` ROUNDS times; the best wall time and the best CPU time.
fn time(mut f: impl FnMut()) -> (f64, f64) {
    let (mut wall, mut cpu) = (f64::MAX, f64::MAX);
    for _ in 0..ROUNDS {
        let (t, c) = (Instant::now(), cpu_seconds());
        f();
        wall = wall.min(t.elapsed().as_secs_f64());
        cpu = cpu.min(cpu_seconds() - c);
    }
    (wall, cpu)
}

const ROUNDS: usize = 3;

fn default_trees() -> Vec<PathBuf> {
    let mut trees = Vec::new();
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    if let Some(h) = cargo_home {
        trees.push(h.join("registry/src"));
    }
    for v in ["3.13", "3.12", "3.11", "3.10"] {
        let p = PathBuf::from(format!("/usr/lib/python{v}"));
        if p.is_dir() {
            trees.push(p);
            break;
        }
    }
    trees
}

fn main() {
    let trees: Vec<PathBuf> = match std::env::var("AISEC_BENCH_TREE") {
        Ok(v) => v.split(':').map(PathBuf::from).collect(),
        Err(_) => default_trees(),
    };
    let cap: usize = std::env::var("AISEC_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512)
        << 20;
    let mut paths = Vec::new();
    for t in &trees {
        walk(t, &mut paths);
    }
    paths.sort();
    let mut corpus: Vec<(String, Vec<u8>)> = Vec::new();
    let mut total = 0usize;
    for p in paths {
        let Ok(bytes) = std::fs::read(&p) else {
            continue;
        };
        let name = p.to_string_lossy().into_owned();
        if aisec_core::detect_kind(&bytes, &name) != FileKind::Text {
            continue;
        }
        total += bytes.len();
        corpus.push((name, bytes));
        if total >= cap {
            break;
        }
    }
    let mb = total as f64 / (1 << 20) as f64;
    println!(
        "corpus: {} text files, {mb:.1} MiB from {}",
        corpus.len(),
        trees
            .iter()
            .map(|t| t.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );

    // Warm-up: builds the automaton and regexes, pages the corpus in.
    let mut found = 0usize;
    for (_, b) in &corpus {
        found += find_secrets_in_bytes(b).len();
    }
    println!("matches in corpus: {found}");

    let mut hits = 0;
    let (wall, cpu) = time(|| {
        hits = corpus
            .iter()
            .map(|(_, b)| literal_hits(black_box(b)))
            .sum::<usize>();
    });
    println!(
        "prefilter alone: {:.0} MiB/s wall, {:.0} MiB/s CPU; {hits} literal hits ({:.1} per MiB)",
        mb / wall,
        mb / cpu,
        hits as f64 / mb
    );
    let (wall, cpu) = time(|| {
        for (_, b) in &corpus {
            black_box(find_secrets_in_bytes(black_box(b)));
        }
    });
    println!(
        "engine:  {:.0} MiB/s wall, {:.0} MiB/s CPU ({:.2} GB/s), best of {ROUNDS}, one thread",
        mb / wall,
        mb / cpu,
        total as f64 / cpu / 1e9
    );

    let scanners: Vec<Box<dyn Scanner>> = vec![Box::new(SecretsScanner)];
    let limits = Limits::default();
    let ctx = ScanContext::new(&limits, &scanners);
    let (wall, cpu) = time(|| {
        for (name, b) in &corpus {
            let file = FileInput::on_disk(name, Path::new(name), b);
            black_box(SecretsScanner.scan(&file, &ctx));
        }
    });
    println!(
        "scanner: {:.0} MiB/s wall, {:.0} MiB/s CPU ({:.2} GB/s), best of {ROUNDS}, one thread",
        mb / wall,
        mb / cpu,
        total as f64 / cpu / 1e9
    );
}
