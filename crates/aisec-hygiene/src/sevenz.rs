//! 7z archives, through sevenz-rust2 (built without AES: encrypted archives
//! are reported, never guessed at).

use std::cell::Cell;
use std::collections::HashMap;

use aisec_core::{FileInput, Finding, ScanContext, generic};

use crate::{MAX_BOMB_REPORTS, check_entry_name, inflate, malformed, rules};

/// Dictionary and header memory a 7z archive may ask for. 7-Zip's own
/// `-mx9` uses 64 MiB dictionaries; four times that covers real archives and
/// refuses the multi-gigabyte claims that would be an allocation bomb.
const SEVENZ_MEMORY_KB: usize = 256 * 1024;

/// 7z through sevenz-rust2: pure Rust and maintained, and 7z's coders
/// (LZMA, LZMA2, BCJ filters, PPMd, bzip2) and solid blocks are far too much
/// to write again. Names are judged from the header before anything is
/// decoded; members are decoded one at a time within the limits, and a
/// member past a limit is abandoned, never drained.
pub(crate) fn scan_7z(file: &FileInput<'_>, ctx: &ScanContext<'_>) -> Vec<Finding> {
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
                let (severity, rest) = out.cut_grade();
                member_findings.push(
                    Finding::new(
                        &rules::DECOMPRESSION_BOMB,
                        file,
                        format!(
                            "7z entry `{}` {why}; its first {} bytes were scanned{rest}",
                            entry.name,
                            out.data.len()
                        ),
                    )
                    .severity(severity)
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
