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

mod inflate;
mod paths;
pub mod rules;
pub mod zipdir;

use std::cell::Cell;
use std::collections::HashMap;

use aisec_core::{FileInput, FileKind, Finding, ScanContext, Scanner, Severity, excerpt, generic};

use inflate::{BOMB_MIN_SIZE, Collector, Counted, Inflated};
pub use rules::RULES;

/// Zip compression methods aisec decompresses.
const METHOD_STORED: u16 = 0;
const METHOD_DEFLATE: u16 = 8;

/// Decompression-bomb findings one archive reports one by one; the rest are
/// counted in one more finding, so sixteen identical bombs on a level (or a
/// thousand) say so a bounded number of times.
const MAX_BOMB_REPORTS: usize = 3;

/// Prefix bytes quoted in the polyglot finding's evidence.
const PREFIX_EVIDENCE_BYTES: usize = 64;

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
            FileKind::Zip => scan_zip(file, ctx),
            FileKind::Tar => scan_tar(file, ctx),
            FileKind::SevenZip => scan_7z(file, ctx),
            kind => scan_compressed(file, ctx, kind),
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
/// [`scan_compressed`] as a format aisec does not decode.
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

/// What opening one zip member found out, for the copies of it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Opened {
    /// Scanned in full; a copy is scanned again (its findings name it).
    Scanned,
    /// A container: its content was scanned once, a copy would cost as much
    /// and say the same (42.zip's sixteen copies per level).
    Container,
    /// Cut by a limit: a copy is the same bomb.
    Limited,
}

/// Per-archive bookkeeping that keeps findings and work bounded.
struct ZipState<'a> {
    bombs_reported: usize,
    bombs_more: usize,
    /// Whether any bomb counted in bulk was left (partly) unscanned.
    more_unscanned: bool,
    /// Members of this archive whose decompression a limit cut short; past
    /// [`MAX_BOMB_REPORTS`] of them, members whose sizes already claim a
    /// bomb are not opened at all (and are counted, high, as unscanned).
    cut: usize,
    /// First-copy name and outcome by (method, compressed bytes).
    opened: HashMap<(u16, &'a [u8]), (String, Opened)>,
}

impl ZipState<'_> {
    fn new() -> Self {
        ZipState {
            bombs_reported: 0,
            bombs_more: 0,
            more_unscanned: false,
            cut: 0,
            opened: HashMap::new(),
        }
    }

    /// Reports a bomb. `unscanned`: a limit cut it, so what lies past the cut
    /// was not scanned, which the bulk count says. (Bombs stay at the rule's
    /// medium: zero-filled tensors compressed past the ratio are real, and a
    /// pickle, the usual payload, runs from its first bytes, which are read.)
    fn bomb(&mut self, finding: Finding, unscanned: bool, findings: &mut Vec<Finding>) {
        if self.bombs_reported < MAX_BOMB_REPORTS {
            self.bombs_reported += 1;
            findings.push(finding);
        } else {
            self.bombs_more += 1;
            self.more_unscanned |= unscanned;
        }
    }

    /// The counts of what was reported in bulk, once per archive.
    fn finish(self, file: &FileInput<'_>, findings: &mut Vec<Finding>) {
        if self.bombs_more > 0 {
            let finding = Finding::new(
                &rules::DECOMPRESSION_BOMB,
                file,
                format!(
                    "{} more zip entries are decompression bombs (only the first {MAX_BOMB_REPORTS} are listed){}",
                    self.bombs_more,
                    if self.more_unscanned {
                        "; they were not fully scanned"
                    } else {
                        ""
                    }
                ),
            );
            findings.push(finding);
        }
    }
}

/// One zip member to open: where its data is and how it is stored.
struct Member<'n> {
    name: &'n str,
    method: u16,
    flags: u16,
    data_start: u64,
    compressed_size: u64,
    expected_crc: Option<u32>,
    /// The directory already reported this member as a bomb by its sizes.
    declared_bomb: bool,
}

fn scan_zip(file: &FileInput<'_>, ctx: &ScanContext<'_>) -> Vec<Finding> {
    let bytes = file.bytes;
    let mut findings = Vec::new();
    let mut state = ZipState::new();
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
                if ctx.budget_exhausted() {
                    break;
                }
                let name = String::from_utf8_lossy(h.name).into_owned();
                check_entry_name(file, &name, h.name, h.data_start, &mut findings);
                let member = Member {
                    name: &name,
                    method: h.method,
                    flags: h.flags,
                    data_start: h.data_start,
                    compressed_size: h.compressed_size,
                    expected_crc: None,
                    declared_bomb: false,
                };
                open_member(file, ctx, &member, &mut state, &mut findings);
            }
            state.finish(file, &mut findings);
            return findings;
        }
    };

    // Bytes before the first entry: a prefix the directory's offsets do not
    // count (what zipdir measured), or one they do (`zip -A`, self-extracting
    // stubs). Either way the file is two things at once.
    let first_entry = cd
        .entries
        .iter()
        .map(|e| e.local_header_offset)
        .min()
        .unwrap_or(cd.prefix_len)
        .min(bytes.len() as u64);
    let prefix_len = cd.prefix_len.max(first_entry);
    if prefix_len > 0 {
        let prefix = &bytes[..prefix_len as usize];
        let shown = &prefix[..prefix.len().min(PREFIX_EVIDENCE_BYTES)];
        findings.push(
            Finding::new(
                &rules::POLYGLOT_PREFIX,
                file,
                format!(
                    "{prefix_len} bytes precede the zip archive: loaders that find the archive from its end (Python's zipfile, so Keras, NumPy and torch) open it anyway, and the file is also whatever the prefix is"
                ),
            )
            .bytes(0, prefix_len)
            .evidence(excerpt(&String::from_utf8_lossy(shown))),
        );
        // The prefix is a file of its own to anyone who reads from byte 0.
        findings.extend(ctx.scan_member(file, "<data before zip>", prefix));
    }

    let mut seen: HashMap<&[u8], u32> = HashMap::new();
    let mut extents: Vec<(u64, u64, usize)> = Vec::new();
    for (index, entry) in cd.entries.iter().enumerate() {
        if ctx.budget_exhausted() {
            // The context holds the one finding that says where and why.
            break;
        }
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
        if (local.flags ^ entry.flags) & zipdir::FLAG_ENCRYPTED != 0 {
            disagreements.push("the encryption flag in only one of its two headers".to_owned());
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
        let declared_bomb = entry.uncompressed_size > ctx.limits.max_decompressed
            || (entry.uncompressed_size > BOMB_MIN_SIZE
                && entry.compressed_size > 0
                && entry.method != METHOD_STORED
                && entry.uncompressed_size / entry.compressed_size
                    > ctx.limits.max_compression_ratio);
        let claims = || {
            Finding::new(
                &rules::DECOMPRESSION_BOMB,
                file,
                format!(
                    "zip entry `{name}` claims {} bytes from {} compressed",
                    entry.uncompressed_size, entry.compressed_size
                ),
            )
            .evidence(name.clone())
        };
        if declared_bomb && state.cut >= MAX_BOMB_REPORTS {
            // Enough bombs of this archive were opened to their cut: this
            // one is counted as unscanned rather than inflated again.
            state.bomb(claims(), true, &mut findings);
            continue;
        }
        let member = Member {
            name: &name,
            method: entry.method,
            // A reader that honours the flag in either header skips the data.
            flags: entry.flags | (local.flags & zipdir::FLAG_ENCRYPTED),
            data_start: local.data_start,
            compressed_size: entry.compressed_size,
            expected_crc: Some(entry.crc32),
            declared_bomb,
        };
        let cut = open_member(file, ctx, &member, &mut state, &mut findings);
        if declared_bomb {
            state.bomb(claims(), cut, &mut findings);
        }
        // The other interpretation, for readers that trust the local header.
        if !sizes_in_descriptor
            && local.compressed_size != entry.compressed_size
            && local.method == entry.method
        {
            let other = format!("{name} (local header)");
            let member = Member {
                name: &other,
                method: local.method,
                flags: local.flags,
                data_start: local.data_start,
                compressed_size: local.compressed_size,
                expected_crc: None,
                declared_bomb: false,
            };
            open_member(file, ctx, &member, &mut state, &mut findings);
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
    state.finish(file, &mut findings);
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

fn encrypted_finding(file: &FileInput<'_>, name: &str) -> Finding {
    Finding::new(
        &rules::UNSCANNABLE_MEMBER,
        file,
        format!("zip entry `{name}` is encrypted and could not be scanned"),
    )
    .evidence(name.to_owned())
}

/// The encryption flag on data that reads as plaintext (CVE-2025-1945):
/// torch's reader ignores the flag and loads it, scanners that honour the
/// flag skip it.
fn flag_on_plaintext(file: &FileInput<'_>, name: &str) -> Finding {
    Finding::new(
        &rules::HEADER_MISMATCH,
        file,
        format!(
            "zip entry `{name}` is flagged as encrypted but its data is plaintext: loaders that ignore the flag (torch.load) read it, scanners that honour it skip it; it was scanned"
        ),
    )
    .evidence(name.to_owned())
    .reference(rules::CVE_2025_1945)
}

/// Opens one zip member and scans it as a file of its own. Returns whether
/// a limit cut its decompression short (so part of it was not scanned).
fn open_member<'a>(
    file: &FileInput<'a>,
    ctx: &ScanContext<'_>,
    m: &Member<'_>,
    state: &mut ZipState<'a>,
    findings: &mut Vec<Finding>,
) -> bool {
    let bytes: &'a [u8] = file.bytes;
    let name = m.name;
    let start = m.data_start.min(bytes.len() as u64) as usize;
    let end = m
        .data_start
        .saturating_add(m.compressed_size)
        .min(bytes.len() as u64) as usize;
    let data: &'a [u8] = &bytes[start..end];
    if (end as u64) < m.data_start.saturating_add(m.compressed_size) {
        findings.push(malformed(
            file,
            &format!("zip entry `{name}`"),
            format!(
                "its data runs past the end of the file ({} of {} bytes present)",
                data.len(),
                m.compressed_size
            ),
        ));
    }
    let encrypted = m.flags & zipdir::FLAG_ENCRYPTED != 0;
    match m.method {
        METHOD_STORED => {
            if encrypted {
                // Plaintext under the flag: its CRC holds, or it starts like a
                // known format (a forged CRC must not hide a pickle).
                let plain = m
                    .expected_crc
                    .is_some_and(|crc| crc32fast::hash(data) == crc)
                    || aisec_core::sniff_content(data).is_some();
                if !plain {
                    findings.push(encrypted_finding(file, name));
                    return false;
                }
                findings.push(flag_on_plaintext(file, name));
            }
            // No CRC check for stored members: it would page in every tensor
            // of a checkpoint just to checksum it. Deflated members are
            // checked below, since they are decompressed anyway.
            findings.extend(ctx.scan_member(file, name, data));
            false
        }
        METHOD_DEFLATE => {
            let key = (m.method, data);
            match state.opened.get(&key) {
                Some((_, Opened::Container)) => return false,
                Some((first, Opened::Limited)) => {
                    if !m.declared_bomb {
                        let finding = Finding::new(
                            &rules::DECOMPRESSION_BOMB,
                            file,
                            format!(
                                "zip entry `{name}` holds the same compressed bytes as `{first}`, which expands past a limit; it was not opened again"
                            ),
                        )
                        .evidence(name.to_owned());
                        state.bomb(finding, true, findings);
                    }
                    return true;
                }
                _ => {}
            }
            let out: Inflated = inflate::inflate(data, false, ctx, file);
            if out.budget_spent() {
                return false;
            }
            let crc_ok = m
                .expected_crc
                .is_none_or(|crc| out.stop.is_some() || crc32fast::hash(&out.data) == crc);
            if encrypted {
                if out.error.is_some() || !crc_ok {
                    findings.push(encrypted_finding(file, name));
                    return false;
                }
                findings.push(flag_on_plaintext(file, name));
            }
            if let Some(why) = out.limit() {
                state.cut += 1;
                if !m.declared_bomb {
                    state.bomb(
                        Finding::new(
                            &rules::DECOMPRESSION_BOMB,
                            file,
                            format!("zip entry `{name}` {why}; scanned the first part only"),
                        )
                        .evidence(name.to_owned()),
                        true,
                        findings,
                    );
                }
            }
            if let Some(e) = &out.error {
                findings.push(malformed(
                    file,
                    &format!("zip entry `{name}`"),
                    format!("deflate error: {e}"),
                ));
            } else if !crc_ok {
                findings.push(crc_mismatch(file, name));
            }
            let container = is_container(aisec_core::detect_kind(&out.data, name));
            let outcome = if out.stop.is_some() {
                Opened::Limited
            } else if container {
                Opened::Container
            } else {
                Opened::Scanned
            };
            state
                .opened
                .entry(key)
                .or_insert((name.to_owned(), outcome));
            findings.extend(ctx.scan_member(file, name, &out.data));
            outcome == Opened::Limited
        }
        _ if encrypted => {
            findings.push(encrypted_finding(file, name));
            false
        }
        other => {
            findings.push(
                Finding::new(
                    &rules::UNSCANNABLE_MEMBER,
                    file,
                    format!(
                        "zip entry `{name}` uses compression method {other}, which aisec does not open"
                    ),
                )
                .evidence(name.to_owned()),
            );
            false
        }
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
        if ctx.budget_exhausted() {
            break;
        }
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
        if !tar_entry_has_content(kind) {
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

/// Whether a tar entry's data is a file to an extractor. Python's tarfile
/// extracts contiguous files, GNU sparse files and every type it does not
/// know as regular files, so a payload under type `Z` is still written out;
/// only directories, links, devices, FIFOs and the headers that describe
/// the next entry carry nothing to scan.
fn tar_entry_has_content(kind: tar::EntryType) -> bool {
    use tar::EntryType as T;
    !matches!(
        kind,
        T::Directory
            | T::Symlink
            | T::Link
            | T::Char
            | T::Block
            | T::Fifo
            | T::XHeader
            | T::XGlobalHeader
            | T::GNULongName
            | T::GNULongLink
    )
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

    // Solid blocks hide where one member's compressed bytes end, so the
    // ratio of each member is judged against the whole archive.
    let whole = Cell::new(file.bytes.len() as u64);
    let mut opened = 0usize;
    let mut member_findings = Vec::new();
    let mut bombs = 0usize;
    let mut budget_spent = false;
    let result = reader.for_each_entries_with_decision(|entry, data| {
        if entry.is_directory || !entry.has_stream {
            return Ok(EntryDecision::Continue);
        }
        if ctx.budget_exhausted() {
            budget_spent = true;
            return Ok(EntryDecision::Stop);
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
        let out = inflate::pull(data, &whole, ctx, file);
        if out.budget_spent() {
            budget_spent = true;
            return Ok(EntryDecision::Stop);
        }
        if let Some(why) = out.limit() {
            bombs += 1;
            if bombs <= MAX_BOMB_REPORTS {
                member_findings.push(
                    Finding::new(
                        &rules::DECOMPRESSION_BOMB,
                        file,
                        format!(
                            "7z entry `{}` {why}; its first {} bytes were scanned",
                            entry.name,
                            out.data.len()
                        ),
                    )
                    .evidence(entry.name.clone()),
                );
            }
        }
        if let Some(e) = &out.error {
            member_findings.push(malformed(file, &format!("7z entry `{}`", entry.name), e));
        }
        member_findings.extend(ctx.scan_member(file, &entry.name, &out.data));
        // A member we stopped reading would be drained in full to move on:
        // skip the rest of its block instead.
        Ok(if out.stop.is_some() || out.error.is_some() {
            EntryDecision::SkipBlock
        } else {
            EntryDecision::Continue
        })
    });
    if bombs > MAX_BOMB_REPORTS {
        member_findings.push(Finding::new(
            &rules::DECOMPRESSION_BOMB,
            file,
            format!(
                "{} more 7z entries are decompression bombs (only the first {MAX_BOMB_REPORTS} are listed); they were not fully scanned",
                bombs - MAX_BOMB_REPORTS
            ),
        ));
    }
    findings.append(&mut member_findings);
    if budget_spent {
        return findings;
    }
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

/// A `Write` over a [`Collector`], for decoders that push their output
/// (lzma-rs) rather than being read from; fails once a bound is reached.
struct PushSink<'c, 'f, 'n> {
    collector: Collector<'c, 'f>,
    consumed: &'n Cell<u64>,
    stopped: bool,
}

impl std::io::Write for PushSink<'_, '_, '_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if !self.collector.accept(data, self.consumed.get()) {
            self.stopped = true;
            return Err(std::io::Error::other("decompression limit reached"));
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Decodes every frame of a zstd stream (frames are independent, and a
/// second frame is where an appended payload would sit) within the limits,
/// and checks each frame's content checksum as `zstd -d` does.
fn read_zstd_frames(bytes: &[u8], ctx: &ScanContext<'_>, file: &FileInput<'_>) -> Inflated {
    let consumed = Cell::new(0);
    let mut input = Counted::new(bytes, &consumed);
    let mut sink = Collector::new(ctx, file);
    while consumed.get() < bytes.len() as u64 {
        let before = consumed.get();
        let mut decoder = match ruzstd::decoding::StreamingDecoder::new(&mut input) {
            Ok(d) => d,
            Err(e) => return sink.finish(Some(e.to_string())),
        };
        if let Some(e) = inflate::pull_into(&mut decoder, &consumed, &mut sink) {
            return sink.finish(Some(e));
        }
        if sink.stopped() {
            return sink.finish(None);
        }
        let frame = decoder.into_frame_decoder();
        if let (Some(stored), Some(computed)) = (
            frame.get_checksum_from_data(),
            frame.get_calculated_checksum(),
        ) {
            if stored != computed {
                return sink.finish(Some(
                    "a frame's content checksum does not match its data".to_owned(),
                ));
            }
        }
        if consumed.get() == before {
            break;
        }
    }
    sink.finish(None)
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

/// Unix `compress` (LZW) and its `pack` cousin: `.Z` files aisec does not decode.
const LZW_MAGIC: &[u8] = b"\x1f\x9d";

/// Decompresses a gzip, bzip2, xz, lzma, zlib, zstd or lz4 stream within the
/// limits and scans what came out as a member of its own.
fn scan_compressed(file: &FileInput<'_>, ctx: &ScanContext<'_>, kind: FileKind) -> Vec<Finding> {
    let mut findings = Vec::new();
    let claimed = kind != file.kind;
    if claimed && kind == FileKind::Zlib && file.bytes.starts_with(LZW_MAGIC) {
        return vec![Finding::new(
            &rules::UNSCANNABLE_MEMBER,
            file,
            "Unix compress (LZW) data, which aisec does not decode; it was not scanned",
        )];
    }
    let consumed = Cell::new(0);
    let input = Counted::new(file.bytes, &consumed);
    let mut out = match kind {
        FileKind::Gzip => inflate::pull(
            flate2::bufread::MultiGzDecoder::new(input),
            &consumed,
            ctx,
            file,
        ),
        FileKind::Zlib => inflate::inflate(file.bytes, true, ctx, file),
        FileKind::Bzip2 => inflate::pull(
            bzip2::bufread::MultiBzDecoder::new(input),
            &consumed,
            ctx,
            file,
        ),
        FileKind::Zstd => read_zstd_frames(file.bytes, ctx, file),
        FileKind::Lz4 => {
            let mut out = inflate::pull(
                lz4_flex::frame::FrameDecoder::new(input),
                &consumed,
                ctx,
                file,
            );
            if out.stop.is_none() && out.error.is_none() {
                out.error = inflate::lz4_frames_complete(file.bytes).err();
            }
            out
        }
        FileKind::Xz | FileKind::Lzma => {
            let mut sink = PushSink {
                collector: Collector::new(ctx, file),
                consumed: &consumed,
                stopped: false,
            };
            let mut input = input;
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
            let error = match decoded {
                Err(_) => Some("decoder failed on a malformed header".to_owned()),
                Ok(Err(_)) if sink.stopped => None,
                Ok(Err(e)) => Some(format!("{e:?}")),
                Ok(Ok(())) => None,
            };
            sink.collector.finish(error)
        }
        _ => return findings,
    };
    if out.budget_spent() {
        // The context holds the one finding; what was decoded is not scanned.
        return findings;
    }
    // zlib's two-byte header is a weak signal: text that starts `x^` and
    // does not decode was never zlib, and is left to the other scanners.
    if kind == FileKind::Zlib && !claimed && out.error.is_some() && looks_like_text(file.bytes) {
        return findings;
    }
    let what = kind.as_str();
    if let Some(why) = out.limit() {
        findings.push(Finding::new(
            &rules::DECOMPRESSION_BOMB,
            file,
            format!("{what} stream {why}; scanned the first part only"),
        ));
    }
    if let Some(e) = out.error.take() {
        let what = if claimed {
            format!("named as {what} but not a readable {what} stream")
        } else {
            format!("broken {what} stream")
        };
        findings.push(malformed(file, &what, e));
    }
    if claimed && out.data.is_empty() {
        return findings;
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
    findings.extend(ctx.scan_member(file, &inner, &out.data));
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
        // Text that starts `x^` passes zlib's two-byte header check by chance.
        if actual == FileKind::Zlib && looks_like_text(file.bytes) {
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
