//! The scan pipeline of aisec, in trivy's shape: walk → read → scanners →
//! filters (config, waivers, baseline) → [`Report`]. Writers and the exit code
//! live in `aisec-report` and the CLI; no step reaches back into an earlier one.
//!
//! Invariants: files are memory-mapped or read, never executed; a path that
//! cannot be read becomes an `AISEC-GEN-001` finding and the scan goes on; the
//! report is sorted, so output is deterministic whatever the thread count.

pub mod config;
pub mod filter;
mod gitindex;
pub mod siblings;
pub mod walk;

use std::fs::File;
use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use aisec_core::{FileInput, Finding, Limits, Report, ScanContext, Scanner, ToolInfo, generic};
use rayon::prelude::*;

pub use config::{Config, ConfigError};
pub use filter::{Baseline, BaselineError};
pub use walk::{WalkError, WalkOptions, WalkedFile};

/// Files smaller than this are read into memory: for small files a read is
/// cheaper than setting up and tearing down a mapping.
const MMAP_THRESHOLD: u64 = 64 * 1024;

/// Told about progress from many threads at once.
pub trait Progress: Sync {
    fn start(&self, _files: u64, _bytes: u64) {}
    fn file_done(&self, _bytes: u64) {}
    fn finish(&self) {}
}

/// Progress that goes nowhere (pipes, CI, `--quiet`).
pub struct NoProgress;
impl Progress for NoProgress {}

pub struct ScanRequest {
    pub targets: Vec<PathBuf>,
    pub walk: WalkOptions,
    pub limits: Limits,
}

/// Walks, reads and scans; returns the unfiltered, unsorted report.
pub fn scan(
    request: &ScanRequest,
    scanners: &[Box<dyn Scanner>],
    progress: &dyn Progress,
) -> Result<Report, WalkError> {
    let walked = walk::walk(&request.targets, &request.walk)?;
    let total_bytes = walked.files.iter().map(|f| f.size).sum();
    progress.start(walked.files.len() as u64, total_bytes);

    let siblings = siblings::TreeSiblings::new(
        walked.roots.clone(),
        walk::glob_set(&request.walk.exclude)?,
        request.walk.follow_symlinks,
        &request.limits,
    );
    let bytes_scanned = AtomicU64::new(0);
    let files_scanned = AtomicU64::new(0);
    let mut findings: Vec<Finding> = walked
        .files
        .par_iter()
        .flat_map_iter(|file| {
            // One context per file: its budget covers this file and all
            // nested in it.
            let file_siblings = siblings.for_file(file);
            let ctx = ScanContext::with_siblings(&request.limits, scanners, &file_siblings);
            let found = scan_file(file, &ctx);
            if found.1 {
                files_scanned.fetch_add(1, Ordering::Relaxed);
                bytes_scanned.fetch_add(file.size, Ordering::Relaxed);
            }
            progress.file_done(file.size);
            found.0
        })
        .collect();
    progress.finish();
    findings.extend(walked.findings);

    let mut report = Report::new(
        ToolInfo {
            name: "aisec".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        },
        request
            .targets
            .iter()
            .map(|t| t.to_string_lossy().into_owned())
            .collect(),
    );
    report.findings = findings;
    report.stats.files_scanned = files_scanned.into_inner();
    report.stats.bytes_scanned = bytes_scanned.into_inner();
    Ok(report)
}

/// The bytes of a file: a memory map for large files, a buffer for small.
enum FileBytes {
    Mapped(memmap2::Mmap),
    Read(Vec<u8>),
}

impl std::ops::Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Mapped(m) => m,
            FileBytes::Read(v) => v,
        }
    }
}

fn read_file(file: &WalkedFile) -> std::io::Result<FileBytes> {
    let mut handle = open_regular(&file.path)?;
    if file.size >= MMAP_THRESHOLD {
        // SAFETY: the map is read-only and lives only while we scan. If another
        // process truncates the file meanwhile, reads past the new end fault;
        // ripgrep accepts the same trade-off for the same speed.
        let map = unsafe { memmap2::Mmap::map(&handle)? };
        advise(&map);
        Ok(FileBytes::Mapped(map))
    } else {
        let mut buf = Vec::with_capacity(file.size as usize);
        handle.read_to_end(&mut buf)?;
        Ok(FileBytes::Read(buf))
    }
}

/// Opens a file the walker saw as regular, non-blocking, and checks it
/// again once open: if it was swapped for a FIFO or device since, reading it
/// would block or never end.
#[cfg(unix)]
fn open_regular(path: &std::path::Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let handle = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    if !handle.metadata()?.is_file() {
        return Err(std::io::Error::other(
            "not a regular file (replaced during the scan); not read",
        ));
    }
    Ok(handle)
}

#[cfg(not(unix))]
fn open_regular(path: &std::path::Path) -> std::io::Result<File> {
    File::open(path)
}

/// Tells the kernel how the scan will touch a mapped file. Model files and
/// archives are read at a few places (headers, directories, pickles) and
/// skipped elsewhere: without `MADV_RANDOM` each page fault reads ahead the
/// device's whole read-ahead window (8 MiB on some virtual disks), and a scan
/// of a 2 GB checkpoint that needs 1 MB pulls in most of the file. Text is
/// read front to back, so it gets the opposite advice.
#[cfg(unix)]
fn advise(map: &memmap2::Mmap) {
    // Random before the first touch: the sniff below would otherwise fault
    // in a whole read-ahead window. Advice only: a kernel that refuses it
    // still serves the reads.
    let _ = map.advise(memmap2::Advice::Random);
    let head = &map[..map.len().min(aisec_core::SNIFF_LEN)];
    if aisec_core::sniff_content(head).is_none() && !head.contains(&0) {
        let _ = map.advise(memmap2::Advice::Sequential);
    }
}

#[cfg(not(unix))]
fn advise(_: &memmap2::Mmap) {}

/// Scans one file; the flag says whether it could be read at all.
fn scan_file(file: &WalkedFile, ctx: &ScanContext<'_>) -> (Vec<Finding>, bool) {
    let bytes = match read_file(file) {
        Ok(b) => b,
        Err(e) => {
            return (
                vec![Finding::at_path(
                    &generic::UNREADABLE,
                    file.display.clone(),
                    format!("cannot read: {e}"),
                )],
                false,
            );
        }
    };
    let input = FileInput::on_disk(&file.display, &file.path, &bytes);
    (ctx.run(&input), true)
}

/// Applies config, fingerprints, waivers and the baseline, in that order,
/// and sorts the report.
pub fn filter(
    report: &mut Report,
    config: &Config,
    baseline: Option<&Baseline>,
    today: jiff::civil::Date,
) {
    report.stats.suppressed.by_config = filter::apply_rule_config(&mut report.findings, config);
    report.finalize();
    report.stats.suppressed.by_waiver = filter::apply_waivers(report, config, today);
    if let Some(b) = baseline {
        report.stats.suppressed.by_baseline = b.apply(report);
    }
    // Expired-waiver findings were appended (with fingerprints of their own):
    // sort and count again, but never re-fingerprint. Fingerprints number
    // identical findings by occurrence, so recomputing them after the
    // baseline removed some would give a survivor a removed one's identity.
    report.sort();
    report.recount();
}

/// Sizes the global thread pool the scan runs on. Call before the first scan.
pub fn set_threads(threads: usize) -> Result<(), String> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .map_err(|e| e.to_string())
}
