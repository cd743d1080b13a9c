//! Archive and file hygiene: zip and tar entries that escape the extraction
//! directory, links that point outside, decompression bombs, duplicate and
//! disagreeing zip headers, polyglot zips, and file names that lie about their
//! content.
//!
//! The archive scanner also *opens* zip, tar, 7z and compressed-stream members (bounded by the
//! limits) and hands each to every scanner through
//! [`ScanContext::scan_member`], so a pickle inside a zip inside a tarball is
//! found by the pickle scanner without either knowing about the other.
//!
//! Zips are opened the way the most lenient loader opens them: from the end
//! record, whatever precedes the archive (Python's `zipfile`, which Keras,
//! NumPy and torch's Python side use, does the same), and members flagged as
//! encrypted are tried as plaintext, as torch's reader ignores the flag.
//!
//! All decompression streams through [`inflate`], charging the top-level
//! file's budget per chunk; once the budget is spent the scan of that file
//! stops with the one finding the context recorded. Within one zip, deflated
//! members whose compressed bytes are identical to a member already opened
//! (42.zip's sixteen copies per level) are not opened again when the first
//! copy was a container or hit a limit: the copy would cost the same and say
//! the same.
//!
//! Never does: extract to disk, follow a link, decompress past the limits.

mod compressed;
mod extension;
mod inflate;
mod paths;
pub mod rules;
mod sevenz;
mod tar;
mod zip;
pub mod zipdir;

use aisec_core::{FileInput, FileKind, Finding, ScanContext, Scanner, generic};

pub use extension::ExtensionMismatchScanner;
pub use rules::RULES;

/// Decompression-bomb findings one archive reports one by one; the rest are
/// counted in one more finding, so sixteen identical bombs on a level (or a
/// thousand) say so a bounded number of times.
const MAX_BOMB_REPORTS: usize = 3;

pub struct ArchiveScanner;

impl Scanner for ArchiveScanner {
    fn name(&self) -> &'static str {
        "archive"
    }

    fn rules(&self) -> &'static [&'static aisec_core::Rule] {
        RULES
    }

    fn detect(&self, file: &FileInput<'_>) -> bool {
        is_container(file.kind) || claimed_container(file).is_some()
    }

    fn scan(&self, file: &FileInput<'_>, ctx: &ScanContext<'_>) -> Vec<Finding> {
        let kind = if is_container(file.kind) {
            file.kind
        } else {
            match claimed_container(file) {
                Some(kind) => kind,
                None => return Vec::new(),
            }
        };
        match kind {
            FileKind::Zip => zip::scan_zip(file, ctx),
            FileKind::Tar => tar::scan_tar(file, ctx),
            FileKind::SevenZip => sevenz::scan_7z(file, ctx),
            kind => compressed::scan_compressed(file, ctx, kind),
        }
    }
}

fn is_container(kind: FileKind) -> bool {
    matches!(
        kind,
        FileKind::Zip
            | FileKind::Tar
            | FileKind::Gzip
            | FileKind::Bzip2
            | FileKind::Xz
            | FileKind::Lzma
            | FileKind::Zlib
            | FileKind::Lz4
            | FileKind::Zstd
            | FileKind::SevenZip
    )
}

/// The container a file's name claims when its content has no signature of
/// any known kind: `lzma.open("m.xz")` and `tarfile.open("m.tar")` go by the
/// name, so the file is opened as what it claims, and a file that is not
/// what it claims is reported as damaged rather than passed in silence.
/// Unix `compress` (.Z, LZW) is not zlib and is reported by
/// [`compressed::scan_compressed`] as a format aisec does not decode.
fn claimed_container(file: &FileInput<'_>) -> Option<FileKind> {
    if file.bytes.is_empty() || aisec_core::sniff_content(file.bytes).is_some() {
        return None;
    }
    aisec_core::kind_from_name(file.name()).filter(|&k| is_container(k))
}

fn malformed(file: &FileInput<'_>, what: &str, detail: impl std::fmt::Display) -> Finding {
    Finding::new(
        &generic::MALFORMED,
        file,
        format!("{what}: {detail}; only what could be read was scanned"),
    )
}

fn check_entry_name(
    file: &FileInput<'_>,
    name: &str,
    raw: &[u8],
    offset: u64,
    findings: &mut Vec<Finding>,
) {
    if let Some(why) = paths::unsafe_entry_name(raw) {
        findings.push(
            Finding::new(
                &rules::PATH_TRAVERSAL,
                file,
                format!(
                    "archive entry `{name}` would be written outside the target directory: {why}"
                ),
            )
            .evidence(name.to_owned())
            .bytes(offset, offset),
        );
    }
}

/// Whether bytes look like text: a zlib-looking start (`x^`) in a text file
/// is a coincidence, not a damaged stream.
fn looks_like_text(bytes: &[u8]) -> bool {
    const TEXT_SNIFF: usize = 64;
    bytes
        .iter()
        .take(TEXT_SNIFF)
        .all(|&b| b.is_ascii_graphic() || b.is_ascii_whitespace())
}
