//! Tar archives: entry names, symlinks and hard links that leave the
//! archive, duplicate names; every entry with content is handed to the other
//! scanners through [`ScanContext::scan_member`].

use std::collections::HashMap;

use aisec_core::{FileInput, Finding, ScanContext, generic};

use crate::{check_entry_name, malformed, paths, rules};

pub(crate) fn scan_tar(file: &FileInput<'_>, ctx: &ScanContext<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut archive = ::tar::Archive::new(std::io::Cursor::new(file.bytes));
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
fn tar_entry_has_content(kind: ::tar::EntryType) -> bool {
    use ::tar::EntryType as T;
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
