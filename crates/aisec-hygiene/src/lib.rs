//! Archive and file hygiene: zip and tar entries that escape the extraction
//! directory, links that point outside, decompression bombs, duplicate and
//! disagreeing zip headers, and file names that lie about their content.
//!
//! The archive scanner also *opens* zip, tar, 7z and compressed-stream members (bounded by the
//! limits) and hands each to every scanner through
//! [`ScanContext::scan_member`], so a pickle inside a zip inside a tarball is
//! found by the pickle scanner without either knowing about the other.
//!
//! Never does: extract to disk, follow a link, decompress past the limits.

mod paths;
pub mod rules;
pub mod zipdir;

use std::collections::HashMap;
use std::io::Read;

use aisec_core::{FileInput, FileKind, Finding, ScanContext, Scanner, Severity, generic};

pub use rules::RULES;

/// Zip compression methods aisec decompresses.
const METHOD_STORED: u16 = 0;
const METHOD_DEFLATE: u16 = 8;

/// Decompressed bytes below which no ratio is suspicious: tiny members of
/// repeated bytes compress by huge ratios innocently.
const BOMB_MIN_SIZE: u64 = 1024 * 1024;

pub struct ArchiveScanner;

impl Scanner for ArchiveScanner {
    fn name(&self) -> &'static str {
        "archive"
    }

    fn rules(&self) -> &'static [&'static aisec_core::Rule] {
        RULES
    }

    fn detect(&self, file: &FileInput<'_>) -> bool {
        matches!(
            file.kind,
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

    fn scan(&self, file: &FileInput<'_>, ctx: &ScanContext<'_>) -> Vec<Finding> {
        match file.kind {
            FileKind::Zip => scan_zip(file, ctx),
            FileKind::Tar => scan_tar(file, ctx),
            FileKind::SevenZip => scan_7z(file, ctx),
            kind => scan_compressed(file, ctx, kind),
        }
    }
}

/// Decompresses `reader` up to the limits. Returns the bytes read, why a
/// limit cut it short (if one did), and the decoder's error (if any).
fn bounded_read(
    reader: impl Read,
    compressed_len: u64,
    ctx: &ScanContext<'_>,
) -> (Vec<u8>, Option<String>, std::io::Result<()>) {
    let cap = decompression_cap(compressed_len, ctx);
    let mut out = Vec::new();
    let result = reader.take(cap + 1).read_to_end(&mut out).map(|_| ());
    if out.len() as u64 > cap {
        out.truncate(cap as usize);
        return (out, Some(limit_reason(cap, compressed_len, ctx)), result);
    }
    (out, None, result)
}

/// The most bytes one stream may expand to: the absolute limit, or the ratio
/// limit (but never less than [`BOMB_MIN_SIZE`]).
fn decompression_cap(compressed_len: u64, ctx: &ScanContext<'_>) -> u64 {
    let limits = ctx.limits;
    let by_ratio = compressed_len
        .saturating_mul(limits.max_compression_ratio)
        .max(BOMB_MIN_SIZE);
    limits.max_decompressed.min(by_ratio)
}

fn limit_reason(cap: u64, compressed_len: u64, ctx: &ScanContext<'_>) -> String {
    if cap == ctx.limits.max_decompressed {
        format!("expands past the {cap} byte limit")
    } else {
        format!(
            "expands more than {}x ({compressed_len} compressed bytes give over {cap} bytes)",
            ctx.limits.max_compression_ratio
        )
    }
}

fn malformed(file: &FileInput<'_>, what: &str, detail: impl std::fmt::Display) -> Finding {
    Finding::new(
        &generic::MALFORMED,
        file,
        format!("{what}: {detail}; only what could be read was scanned"),
    )
}

fn scan_zip(file: &FileInput<'_>, ctx: &ScanContext<'_>) -> Vec<Finding> {
    let bytes = file.bytes;
    let mut findings = Vec::new();
    let cd = match zipdir::read_central_directory(bytes) {
        Ok(cd) => cd,
        Err(e) => {
            findings.push(malformed(file, "broken zip", &e));
            // What a streaming extractor would still get out of it.
            let recovered = zipdir::scan_local_headers(bytes, ctx.limits.max_members);
            if !recovered.is_empty() {
                findings.push(
                    Finding::new(
                        &rules::HEADER_MISMATCH,
                        file,
                        format!(
                            "zip has no readable central directory; scanned the {} entries its local headers give",
                            recovered.len()
                        ),
                    )
                    .evidence(e.to_string()),
                );
            }
            for h in recovered {
                let name = String::from_utf8_lossy(h.name).into_owned();
                check_entry_name(file, &name, h.name, h.data_start, &mut findings);
                open_member(
                    file,
                    ctx,
                    &name,
                    h.method,
                    h.flags,
                    h.data_start,
                    h.compressed_size,
                    None,
                    &mut findings,
                );
            }
            return findings;
        }
    };

    if cd.prefix_len > 0 {
        findings.push(
            Finding::new(
                &rules::HEADER_MISMATCH,
                file,
                format!("{} bytes precede the first zip entry", cd.prefix_len),
            )
            .severity(Severity::Low)
            .bytes(0, cd.prefix_len),
        );
        // The prefix is a file of its own to anyone who reads from byte 0.
        let prefix = &bytes[..cd.prefix_len.min(bytes.len() as u64) as usize];
        findings.extend(ctx.scan_member(file, "<data before zip>", prefix));
    }

    let mut seen: HashMap<&[u8], u32> = HashMap::new();
    let mut extents: Vec<(u64, u64, usize)> = Vec::new();
    for (index, entry) in cd.entries.iter().enumerate() {
        if index >= ctx.limits.max_members {
            findings.push(Finding::new(
                &generic::LIMIT_EXCEEDED,
                file,
                format!(
                    "zip has {} entries; only the first {} were opened",
                    cd.entries.len(),
                    ctx.limits.max_members
                ),
            ));
            break;
        }
        let name = entry.name_lossy();
        let count = seen.entry(entry.name).or_insert(0);
        *count += 1;
        if *count == 2 {
            findings.push(
                Finding::new(
                    &rules::DUPLICATE_ENTRY,
                    file,
                    format!("zip entry `{name}` appears more than once; every copy is scanned"),
                )
                .evidence(name.clone()),
            );
        }
        check_entry_name(
            file,
            &name,
            entry.name,
            entry.local_header_offset,
            &mut findings,
        );

        let local = match zipdir::read_local_header(bytes, entry.local_header_offset) {
            Ok(l) => l,
            Err(e) => {
                findings.push(
                    malformed(file, &format!("zip entry `{name}`"), &e)
                        .bytes(entry.local_header_offset, entry.local_header_offset),
                );
                continue;
            }
        };
        let mut disagreements = Vec::new();
        if local.name != entry.name {
            disagreements.push(format!(
                "name `{}` in the local header",
                String::from_utf8_lossy(local.name)
            ));
        }
        if local.method != entry.method {
            disagreements.push(format!(
                "method {} in the local header, {} in the directory",
                local.method, entry.method
            ));
        }
        let sizes_in_descriptor = local.flags & zipdir::FLAG_DATA_DESCRIPTOR != 0;
        if !sizes_in_descriptor
            && (local.compressed_size != entry.compressed_size
                || local.uncompressed_size != entry.uncompressed_size)
        {
            disagreements.push(format!(
                "sizes {}/{} in the local header, {}/{} in the directory",
                local.compressed_size,
                local.uncompressed_size,
                entry.compressed_size,
                entry.uncompressed_size
            ));
        }
        if !disagreements.is_empty() {
            findings.push(
                Finding::new(
                    &rules::HEADER_MISMATCH,
                    file,
                    format!("zip entry `{name}` has {}", disagreements.join("; ")),
                )
                .bytes(entry.local_header_offset, local.data_start)
                .evidence(name.clone()),
            );
        }
        if entry.is_dir() {
            continue;
        }
        extents.push((
            entry.local_header_offset,
            local.data_start.saturating_add(entry.compressed_size),
            index,
        ));

        if entry.is_symlink() {
            let target = bytes
                .get(local.data_start as usize..)
                .and_then(|d| d.get(..entry.compressed_size.min(4096) as usize))
                .unwrap_or(&[]);
            if entry.method == METHOD_STORED && paths::link_escapes(entry.name, target) {
                findings.push(
                    Finding::new(
                        &rules::LINK_ESCAPE,
                        file,
                        format!("zip symlink `{name}` points outside the archive"),
                    )
                    .evidence(format!("{name} -> {}", String::from_utf8_lossy(target)))
                    .bytes(entry.local_header_offset, local.data_start),
                );
            }
            continue;
        }
        if entry.uncompressed_size > ctx.limits.max_decompressed
            || (entry.uncompressed_size > BOMB_MIN_SIZE
                && entry.compressed_size > 0
                && entry.method != METHOD_STORED
                && entry.uncompressed_size / entry.compressed_size
                    > ctx.limits.max_compression_ratio)
        {
            findings.push(
                Finding::new(
                    &rules::DECOMPRESSION_BOMB,
                    file,
                    format!(
                        "zip entry `{name}` claims {} bytes from {} compressed",
                        entry.uncompressed_size, entry.compressed_size
                    ),
                )
                .evidence(name.clone()),
            );
        }
        open_member(
            file,
            ctx,
            &name,
            entry.method,
            entry.flags,
            local.data_start,
            entry.compressed_size,
            Some(entry.crc32),
            &mut findings,
        );
        // The other interpretation, for readers that trust the local header.
        if !sizes_in_descriptor
            && local.compressed_size != entry.compressed_size
            && local.method == entry.method
        {
            open_member(
                file,
                ctx,
                &format!("{name} (local header)"),
                local.method,
                local.flags,
                local.data_start,
                local.compressed_size,
                None,
                &mut findings,
            );
        }
    }

    extents.sort_unstable();
    for pair in extents.windows(2) {
        let (_, end, a) = pair[0];
        let (start, _, b) = pair[1];
        if end > start {
            findings.push(
                Finding::new(
                    &rules::DECOMPRESSION_BOMB,
                    file,
                    format!(
                        "zip entries `{}` and `{}` overlap; overlapping entries are a bomb or a parser trick",
                        cd.entries[a].name_lossy(),
                        cd.entries[b].name_lossy()
                    ),
                )
                .severity(Severity::High)
                .bytes(start, end),
            );
            break;
        }
    }
    findings
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

/// Opens one zip member and scans it as a file of its own.
#[allow(clippy::too_many_arguments)]
fn open_member(
    file: &FileInput<'_>,
    ctx: &ScanContext<'_>,
    name: &str,
    method: u16,
    flags: u16,
    data_start: u64,
    compressed_size: u64,
    expected_crc: Option<u32>,
    findings: &mut Vec<Finding>,
) {
    let bytes = file.bytes;
    let start = data_start.min(bytes.len() as u64) as usize;
    let end = data_start
        .saturating_add(compressed_size)
        .min(bytes.len() as u64) as usize;
    let data = &bytes[start..end];
    if (end as u64) < data_start.saturating_add(compressed_size) {
        findings.push(malformed(
            file,
            &format!("zip entry `{name}`"),
            format!(
                "its data runs past the end of the file ({} of {} bytes present)",
                data.len(),
                compressed_size
            ),
        ));
    }
    if flags & zipdir::FLAG_ENCRYPTED != 0 {
        findings.push(
            Finding::new(
                &rules::UNSCANNABLE_MEMBER,
                file,
                format!("zip entry `{name}` is encrypted and could not be scanned"),
            )
            .evidence(name.to_owned()),
        );
        return;
    }
    match method {
        METHOD_STORED => {
            // No CRC check for stored members: it would page in every tensor
            // of a checkpoint just to checksum it. Deflated members are
            // checked below, since they are decompressed anyway.
            findings.extend(ctx.scan_member(file, name, data));
        }
        METHOD_DEFLATE => {
            let decoder = flate2::read::DeflateDecoder::new(data);
            let (out, bomb, result) = bounded_read(decoder, data.len() as u64, ctx);
            if let Some(why) = &bomb {
                findings.push(
                    Finding::new(
                        &rules::DECOMPRESSION_BOMB,
                        file,
                        format!("zip entry `{name}` {why}; scanned the first part only"),
                    )
                    .evidence(name.to_owned()),
                );
            }
            if let Err(e) = result {
                findings.push(malformed(
                    file,
                    &format!("zip entry `{name}`"),
                    format!("deflate error: {e}"),
                ));
            } else if bomb.is_none() && expected_crc.is_some_and(|crc| crc32fast::hash(&out) != crc)
            {
                findings.push(crc_mismatch(file, name));
            }
            findings.extend(ctx.scan_member(file, name, &out));
        }
        other => findings.push(
            Finding::new(
                &rules::UNSCANNABLE_MEMBER,
                file,
                format!(
                    "zip entry `{name}` uses compression method {other}, which aisec does not open"
                ),
            )
            .evidence(name.to_owned()),
        ),
    }
}

fn crc_mismatch(file: &FileInput<'_>, name: &str) -> Finding {
    Finding::new(
        &rules::HEADER_MISMATCH,
        file,
        format!(
            "zip entry `{name}` fails its CRC-32 check; the data is not what the archive recorded"
        ),
    )
    .severity(Severity::Medium)
    .evidence(name.to_owned())
}

fn scan_tar(file: &FileInput<'_>, ctx: &ScanContext<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut archive = tar::Archive::new(std::io::Cursor::new(file.bytes));
    let entries = match archive.entries() {
        Ok(e) => e,
        Err(e) => return vec![malformed(file, "broken tar", e)],
    };
    let mut seen: HashMap<Vec<u8>, u32> = HashMap::new();
    for (index, entry) in entries.enumerate() {
        if index >= ctx.limits.max_members {
            findings.push(Finding::new(
                &generic::LIMIT_EXCEEDED,
                file,
                format!(
                    "tar has more than {} entries; the rest were not opened",
                    ctx.limits.max_members
                ),
            ));
            break;
        }
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                findings.push(malformed(file, "broken tar", e));
                break;
            }
        };
        let raw_name = entry.path_bytes().into_owned();
        let name = String::from_utf8_lossy(&raw_name).into_owned();
        let header_pos = entry.raw_header_position();
        check_entry_name(file, &name, &raw_name, header_pos, &mut findings);
        let kind = entry.header().entry_type();
        if kind.is_symlink() || kind.is_hard_link() {
            let target = entry
                .link_name_bytes()
                .map(|t| t.into_owned())
                .unwrap_or_default();
            // Hard link targets are archive paths, relative to the root.
            let escapes = if kind.is_hard_link() {
                paths::unsafe_entry_name(&target).is_some()
            } else {
                paths::link_escapes(&raw_name, &target)
            };
            if escapes {
                findings.push(
                    Finding::new(
                        &rules::LINK_ESCAPE,
                        file,
                        format!(
                            "tar {} `{name}` points outside the archive",
                            if kind.is_symlink() {
                                "symlink"
                            } else {
                                "hard link"
                            }
                        ),
                    )
                    .evidence(format!("{name} -> {}", String::from_utf8_lossy(&target)))
                    .bytes(header_pos, header_pos + 512),
                );
            }
            continue;
        }
        if !kind.is_file() {
            continue;
        }
        let count = seen.entry(raw_name.clone()).or_insert(0);
        *count += 1;
        if *count == 2 {
            findings.push(
                Finding::new(
                    &rules::DUPLICATE_ENTRY,
                    file,
                    format!("tar entry `{name}` appears more than once; every copy is scanned"),
                )
                .evidence(name.clone()),
            );
        }
        let start = entry.raw_file_position();
        let size = entry.size();
        let end = start.saturating_add(size);
        if end > file.bytes.len() as u64 {
            findings.push(malformed(
                file,
                &format!("tar entry `{name}`"),
                "its data runs past the end of the file",
            ));
        }
        let data = &file.bytes[(start.min(file.bytes.len() as u64) as usize)
            ..(end.min(file.bytes.len() as u64) as usize)];
        findings.extend(ctx.scan_member(file, &name, data));
    }
    findings
}

/// Dictionary and header memory a 7z archive may ask for. 7-Zip's own
/// `-mx9` uses 64 MiB dictionaries; four times that covers real archives and
/// refuses the multi-gigabyte claims that would be an allocation bomb.
const SEVENZ_MEMORY_KB: usize = 256 * 1024;

/// 7z through sevenz-rust2: pure Rust and maintained, and 7z's coders
/// (LZMA, LZMA2, BCJ filters, PPMd, bzip2) and solid blocks are far too much
/// to write again. Names are judged from the header before anything is
/// decoded; members are decoded one at a time within the limits, and a
/// member past a limit is abandoned, never drained.
fn scan_7z(file: &FileInput<'_>, ctx: &ScanContext<'_>) -> Vec<Finding> {
    use sevenz_rust2::{ArchiveReader, EntryDecision, Error as SevenZError, Password};

    let encrypted = |what: &str| {
        Finding::new(
            &rules::UNSCANNABLE_MEMBER,
            file,
            format!("7z {what} encrypted and could not be scanned"),
        )
    };
    let mut reader = match ArchiveReader::new_with_memory_limit(
        std::io::Cursor::new(file.bytes),
        Password::empty(),
        SEVENZ_MEMORY_KB,
    ) {
        Ok(r) => r,
        Err(SevenZError::PasswordRequired | SevenZError::MaybeBadPassword(_)) => {
            return vec![encrypted("archive headers are")];
        }
        // Built without AES on purpose: an encrypted header names its method.
        Err(SevenZError::UnsupportedCompressionMethod(m)) if m.contains("AES") => {
            return vec![encrypted("archive headers are").evidence(m)];
        }
        Err(SevenZError::MaxMemLimited { actaul_kb, .. }) => {
            return vec![Finding::new(
                &generic::LIMIT_EXCEEDED,
                file,
                format!(
                    "7z archive needs {actaul_kb} KiB to decode, over the {SEVENZ_MEMORY_KB} KiB limit; nothing in it was scanned"
                ),
            )];
        }
        Err(e) => return vec![malformed(file, "broken 7z", e)],
    };
    // We already scan files in parallel; one decoder thread per archive.
    reader.set_thread_count(1);

    let mut findings = Vec::new();
    let mut seen: HashMap<&str, u32> = HashMap::new();
    let entries = &reader.archive().files;
    for entry in entries {
        check_entry_name(file, &entry.name, entry.name.as_bytes(), 0, &mut findings);
        if entry.is_directory {
            continue;
        }
        let count = seen.entry(entry.name.as_str()).or_insert(0);
        *count += 1;
        if *count == 2 {
            findings.push(
                Finding::new(
                    &rules::DUPLICATE_ENTRY,
                    file,
                    format!(
                        "7z entry `{}` appears more than once; every copy is scanned",
                        entry.name
                    ),
                )
                .evidence(entry.name.clone()),
            );
        }
    }
    drop(seen);

    let cap_each = decompression_cap(file.bytes.len() as u64, ctx);
    let mut budget = ctx.limits.max_decompressed;
    let mut opened = 0usize;
    let mut member_findings = Vec::new();
    let result = reader.for_each_entries_with_decision(|entry, data| {
        if entry.is_directory || !entry.has_stream {
            return Ok(EntryDecision::Continue);
        }
        if opened >= ctx.limits.max_members {
            member_findings.push(Finding::new(
                &generic::LIMIT_EXCEEDED,
                file,
                format!(
                    "7z has more than {} entries; the rest were not opened",
                    ctx.limits.max_members
                ),
            ));
            return Ok(EntryDecision::Stop);
        }
        opened += 1;
        let cap = cap_each.min(budget);
        let mut buf = Vec::new();
        let read = data.take(cap + 1).read_to_end(&mut buf);
        let over = buf.len() as u64 > cap;
        buf.truncate(cap as usize);
        budget -= buf.len() as u64;
        if over {
            member_findings.push(
                Finding::new(
                    &rules::DECOMPRESSION_BOMB,
                    file,
                    format!(
                        "7z entry `{}` {}; its first {cap} bytes were scanned",
                        entry.name,
                        limit_reason(cap, file.bytes.len() as u64, ctx)
                    ),
                )
                .evidence(entry.name.clone()),
            );
        }
        if let Err(e) = &read {
            member_findings.push(malformed(file, &format!("7z entry `{}`", entry.name), e));
        }
        member_findings.extend(ctx.scan_member(file, &entry.name, &buf));
        // A member we stopped reading would be drained in full to move on:
        // skip the rest of its block instead.
        Ok(if over || read.is_err() {
            EntryDecision::SkipBlock
        } else {
            EntryDecision::Continue
        })
    });
    findings.append(&mut member_findings);
    match result {
        Ok(()) => {}
        Err(SevenZError::PasswordRequired | SevenZError::MaybeBadPassword(_)) => {
            findings.push(encrypted("entries are"));
        }
        Err(SevenZError::UnsupportedCompressionMethod(m)) if m.contains("AES") => {
            findings.push(encrypted("entries are").evidence(m));
        }
        Err(SevenZError::ChecksumVerificationFailed) => findings.push(
            Finding::new(
                &rules::HEADER_MISMATCH,
                file,
                "7z entry data does not match its recorded CRC: the archive was altered after it was made",
            ),
        ),
        Err(SevenZError::UnsupportedCompressionMethod(m)) => findings.push(
            Finding::new(
                &rules::UNSCANNABLE_MEMBER,
                file,
                format!("7z entries use the {m} method, which aisec does not decode; they were not scanned"),
            )
            .evidence(m),
        ),
        Err(e) => findings.push(malformed(file, "broken 7z", e)),
    }
    findings
}

/// A `Write` that keeps at most `cap` bytes and then fails, for decoders
/// that push their output (lzma-rs) rather than being read from.
struct CappedSink {
    buf: Vec<u8>,
    cap: usize,
    hit: bool,
}

impl std::io::Write for CappedSink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let room = self.cap - self.buf.len();
        if data.len() > room {
            self.buf.extend_from_slice(&data[..room]);
            self.hit = true;
            return Err(std::io::Error::other("decompression limit reached"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Decodes every frame of a zstd stream (frames are independent, and a
/// second frame is where an appended payload would sit) within the limits.
fn read_zstd_frames(
    bytes: &[u8],
    ctx: &ScanContext<'_>,
) -> (Vec<u8>, Option<String>, std::io::Result<()>) {
    let cap = decompression_cap(bytes.len() as u64, ctx);
    let mut out = Vec::new();
    let mut input = bytes;
    while !input.is_empty() {
        let before = input.len();
        let decoder = match ruzstd::decoding::StreamingDecoder::new(&mut input) {
            Ok(d) => d,
            Err(e) => return (out, None, Err(std::io::Error::other(e.to_string()))),
        };
        let room = cap + 1 - out.len() as u64;
        if let Err(e) = decoder.take(room).read_to_end(&mut out) {
            return (out, None, Err(e));
        }
        if out.len() as u64 > cap {
            out.truncate(cap as usize);
            return (
                out,
                Some(limit_reason(cap, bytes.len() as u64, ctx)),
                Ok(()),
            );
        }
        if input.len() == before {
            break;
        }
    }
    (out, None, Ok(()))
}

/// Decompresses a gzip, bzip2, xz, lzma, zlib, zstd or lz4 stream within the
/// limits and scans what came out as a member of its own.
fn scan_compressed(file: &FileInput<'_>, ctx: &ScanContext<'_>, kind: FileKind) -> Vec<Finding> {
    let mut findings = Vec::new();
    let compressed = file.bytes.len() as u64;
    let (out, bomb, result) = match kind {
        FileKind::Gzip => bounded_read(
            flate2::read::MultiGzDecoder::new(file.bytes),
            compressed,
            ctx,
        ),
        FileKind::Zlib => bounded_read(flate2::read::ZlibDecoder::new(file.bytes), compressed, ctx),
        FileKind::Bzip2 => bounded_read(
            bzip2::read::MultiBzDecoder::new(file.bytes),
            compressed,
            ctx,
        ),
        FileKind::Zstd => read_zstd_frames(file.bytes, ctx),
        FileKind::Lz4 => bounded_read(
            lz4_flex::frame::FrameDecoder::new(file.bytes),
            compressed,
            ctx,
        ),
        FileKind::Xz | FileKind::Lzma => {
            let cap = decompression_cap(compressed, ctx);
            let mut sink = CappedSink {
                buf: Vec::new(),
                cap: cap as usize,
                hit: false,
            };
            let mut input = file.bytes;
            // lzma-rs 0.3 overflows an addition on crafted xz headers (a panic
            // when overflow checks are on, found by our fuzzer): contain it
            // here and report the stream as malformed like any other error.
            let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                if kind == FileKind::Xz {
                    lzma_rs::xz_decompress(&mut input, &mut sink)
                } else {
                    lzma_rs::lzma_decompress(&mut input, &mut sink)
                }
            }));
            let result = decoded.unwrap_or_else(|_| {
                Err(lzma_rs::error::Error::XzError(
                    "decoder failed on a malformed header".to_owned(),
                ))
            });
            let bomb = sink.hit.then(|| limit_reason(cap, compressed, ctx));
            let result = match result {
                Err(_) if sink.hit => Ok(()),
                Err(e) => Err(std::io::Error::other(format!("{e:?}"))),
                Ok(()) => Ok(()),
            };
            (sink.buf, bomb, result)
        }
        _ => return findings,
    };
    // zlib's two-byte header is a weak signal: a stream that yields nothing
    // was never zlib, and is left to the other scanners.
    if kind == FileKind::Zlib && out.is_empty() && result.is_err() {
        return findings;
    }
    let what = kind.as_str();
    if let Some(why) = bomb {
        findings.push(Finding::new(
            &rules::DECOMPRESSION_BOMB,
            file,
            format!("{what} stream {why}; scanned the first part only"),
        ));
    }
    if let Err(e) = result {
        findings.push(malformed(file, &format!("broken {what} stream"), e));
    }
    let name = file.name();
    let lower = name.to_ascii_lowercase();
    let inner = if lower.ends_with(".tgz") || lower.ends_with(".tbz2") || lower.ends_with(".txz") {
        format!("{}.tar", &name[..name.len() - 4])
    } else if let Some(dot) = name.rfind('.').filter(|_| {
        [".gz", ".bz2", ".xz", ".lzma", ".z", ".zlib", ".lz4", ".zst"]
            .iter()
            .any(|ext| lower.ends_with(ext))
    }) {
        name[..dot].to_owned()
    } else {
        format!("{name}.{what}-decompressed")
    };
    findings.extend(ctx.scan_member(file, &inner, &out));
    findings
}

/// Reports names whose extension lies about the content.
pub struct ExtensionMismatchScanner;

impl Scanner for ExtensionMismatchScanner {
    fn name(&self) -> &'static str {
        "extension"
    }

    fn rules(&self) -> &'static [&'static aisec_core::Rule] {
        &[]
    }

    fn detect(&self, file: &FileInput<'_>) -> bool {
        aisec_core::kind_from_name(file.name()).is_some()
    }

    fn scan(&self, file: &FileInput<'_>, _ctx: &ScanContext<'_>) -> Vec<Finding> {
        let Some(claimed) = aisec_core::kind_from_name(file.name()) else {
            return Vec::new();
        };
        let Some(actual) = aisec_core::sniff_content(file.bytes) else {
            return Vec::new();
        };
        if actual == claimed || actual == FileKind::Empty {
            return Vec::new();
        }
        let severity = if actual == FileKind::Pickle {
            Severity::High
        } else if claims_inert_format(claimed) {
            Severity::Medium
        } else {
            // `.pkl` holding a zip is how torch.save writes; `.gz` holding a
            // tar is fine. Only inert-format claims are lies worth reporting.
            return Vec::new();
        };
        vec![
            Finding::new(
                &rules::EXTENSION_MISMATCH,
                file,
                format!(
                    "named as {} but the content is {}",
                    claimed.as_str(),
                    actual.as_str()
                ),
            )
            .severity(severity)
            .evidence(format!("{} -> {}", file.name(), actual.as_str()))
            .bytes(0, 8.min(file.bytes.len() as u64)),
        ]
    }
}

/// Formats whose name tells a reader "this cannot run code".
fn claims_inert_format(kind: FileKind) -> bool {
    matches!(
        kind,
        FileKind::Safetensors
            | FileKind::Gguf
            | FileKind::Numpy
            | FileKind::Protobuf
            | FileKind::Hdf5
            | FileKind::Text
    )
}
