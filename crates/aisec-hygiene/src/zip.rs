//! Zip archives: entry names, links, the two headers of each entry, bombs
//! (declared, measured and overlapping), polyglot prefixes, encrypted and
//! unsupported members; every member is opened and handed to the other
//! scanners through [`ScanContext::scan_member`].

use std::collections::HashMap;

use aisec_core::{FileInput, Finding, ScanContext, Severity, excerpt, generic};

use crate::inflate::{self, BOMB_MIN_SIZE, Inflated};
use crate::{MAX_BOMB_REPORTS, check_entry_name, is_container, malformed, paths, rules, zipdir};

/// Zip compression methods aisec decompresses.
const METHOD_STORED: u16 = 0;
const METHOD_DEFLATE: u16 = 8;

/// Prefix bytes quoted in the polyglot finding's evidence.
const PREFIX_EVIDENCE_BYTES: usize = 64;

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
    /// was not scanned, which the bulk count says. A cut bomb whose rest is
    /// zeros stays at the rule's medium (zero-filled tensors compress past
    /// the ratio in real artifacts); one whose rest may hold content, and
    /// bombs counted without being opened, are high: unscanned content fails
    /// the default gate.
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
            // What was counted, not opened, is content nobody looked at.
            let finding = if self.more_unscanned {
                finding.severity(Severity::High)
            } else {
                finding
            };
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

pub(crate) fn scan_zip(file: &FileInput<'_>, ctx: &ScanContext<'_>) -> Vec<Finding> {
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
                if m.declared_bomb && out.hidden_tail {
                    // Its sizes were reported already; what the cut hid is new.
                    findings.push(
                        Finding::new(
                            &rules::DECOMPRESSION_BOMB,
                            file,
                            format!(
                                "zip entry `{name}` {why}; what follows the cut may hold content and was not scanned"
                            ),
                        )
                        .severity(Severity::High)
                        .evidence(name.to_owned()),
                    );
                }
                if !m.declared_bomb {
                    let (severity, rest) = out.cut_grade();
                    state.bomb(
                        Finding::new(
                            &rules::DECOMPRESSION_BOMB,
                            file,
                            format!("zip entry `{name}` {why}; scanned the first part only{rest}"),
                        )
                        .severity(severity)
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
