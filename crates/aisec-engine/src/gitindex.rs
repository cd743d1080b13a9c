//! Which files git tracks, read from `.git/index` without running git.
//!
//! `.gitignore` says which *untracked* files git leaves alone; a tracked file
//! is part of the repository whatever it says (`git add -f`), and a pull
//! request can commit both a `*.pkl` rule and a pickle. So the walker lets
//! `.gitignore` skip a file only when the index does not list it.
//!
//! Running `git ls-files` would be simpler and is exactly what we must not
//! do: the scanned repository's `.git/config` can set `core.fsmonitor`,
//! `core.hooksPath` and friends, which make git run a command of the
//! repository's choosing. Scanning must never execute what it scans.
//!
//! Why a parser of our own and not the `gix-index` crate: we need the paths
//! and modes of the entries and nothing else (no stat data, no extensions but
//! the split-index link, no checksum). `gix-index` brings the `gix-*` object,
//! hash, feature and lock crates (a few dozen dependencies to audit) to give
//! us a full, mutable index model, and it allocates from the header's entry
//! count and path lengths as it finds them; here every count and length is
//! checked against the bytes that are actually there and against named caps,
//! in about two hundred lines that are easy to review and fuzz.
//!
//! The trailing checksum is not verified: an index that lies can only list
//! more files (they are scanned: no harm) or fewer (they are then untracked,
//! which is what a repository that never added them looks like). An index
//! that does not parse is reported and the tree is scanned as if no
//! `.gitignore` existed: the safe direction.

use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest index file read. Real ones are about 100 bytes per tracked file:
/// the Linux kernel's is ~8 MiB, Chromium's ~40 MiB.
pub(crate) const MAX_INDEX_BYTES: u64 = 256 * 1024 * 1024;

/// Largest total of expanded path bytes: version 4 indexes compress paths
/// against the previous one, so a small file can describe long paths; this
/// bounds the memory that expansion takes.
const MAX_TOTAL_PATH_BYTES: usize = 256 * 1024 * 1024;

/// Longest path of one entry (Linux `PATH_MAX`: no longer path can be opened).
const MAX_PATH_BYTES: usize = 4096;

/// Largest `.git` pointer file or `config` read: both are a few hundred bytes.
const MAX_SMALL_FILE_BYTES: u64 = 1024 * 1024;

/// Submodules read, in total and in depth: enough for any real superproject,
/// bounded for a hostile one.
const MAX_REPOSITORIES: usize = 1024;
const MAX_SUBMODULE_DEPTH: usize = 8;

/// Fixed part of an entry before the object id: ctime, mtime (8 bytes each),
/// dev, ino, mode, uid, gid, size (4 bytes each).
const STAT_BYTES: usize = 40;
/// Offset of the mode inside the stat part.
const MODE_OFFSET: usize = 24;
const SHA1_LEN: usize = 20;
const SHA256_LEN: usize = 32;
const HEADER_LEN: usize = 12;

/// Entry flags (16 bits after the object id).
const FLAG_EXTENDED: u16 = 0x4000;
const NAME_MASK: u16 = 0x0fff;

/// Object types in the mode's top bits.
const MODE_TYPE_MASK: u32 = 0o170000;
const MODE_DIR: u32 = 0o040000;
const MODE_GITLINK: u32 = 0o160000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IndexEntry {
    /// The path relative to the work tree, `/`-separated, validated.
    pub path: Vec<u8>,
    pub mode: u32,
}

impl IndexEntry {
    pub fn is_gitlink(&self) -> bool {
        self.mode & MODE_TYPE_MASK == MODE_GITLINK
    }
}

#[derive(Debug, Default)]
pub(crate) struct ParsedIndex {
    pub entries: Vec<IndexEntry>,
    /// Hex object id of the shared index (`sharedindex.<id>`) when this is
    /// a split index: its entries are tracked too.
    pub shared_index: Option<String>,
}

/// Parses an index of version 2, 3 or 4 whose object ids are `hash_len`
/// bytes (20 for SHA-1 repositories, 32 for SHA-256).
pub(crate) fn parse_index(bytes: &[u8], hash_len: usize) -> Result<ParsedIndex, String> {
    if bytes.len() < HEADER_LEN + hash_len {
        return Err("shorter than its header".to_owned());
    }
    if &bytes[..4] != b"DIRC" {
        return Err("does not start with the `DIRC` signature".to_owned());
    }
    let version = be32(bytes, 4);
    if !(2..=4).contains(&version) {
        return Err(format!("unsupported index version {version}"));
    }
    let count = be32(bytes, 8) as usize;
    // The trailer holds the checksum; entries and extensions end before it.
    let end = bytes.len() - hash_len;
    let min_entry = STAT_BYTES + hash_len + 2 + 1;
    if count > (end - HEADER_LEN) / min_entry {
        return Err(format!(
            "claims {count} entries, more than its {} bytes can hold",
            bytes.len()
        ));
    }

    let mut parsed = ParsedIndex {
        entries: Vec::with_capacity(count),
        shared_index: None,
    };
    let mut total_path = 0usize;
    let mut replacements = 0usize;
    let mut previous: Vec<u8> = Vec::new();
    let mut at = HEADER_LEN;
    for i in 0..count {
        let start = at;
        let fixed = STAT_BYTES + hash_len + 2;
        if end - at < fixed {
            return Err(format!("entry {i} is truncated"));
        }
        let mode = be32(bytes, at + MODE_OFFSET);
        let flags = u16::from_be_bytes([bytes[at + fixed - 2], bytes[at + fixed - 1]]);
        at += fixed;
        if flags & FLAG_EXTENDED != 0 {
            if version < 3 {
                return Err(format!("entry {i} has extended flags in a version 2 index"));
            }
            if end - at < 2 {
                return Err(format!("entry {i} is truncated"));
            }
            at += 2;
        }
        let path = if version == 4 {
            let (strip, used) =
                decode_varint(&bytes[at..end]).ok_or_else(|| format!("entry {i}: bad varint"))?;
            at += used;
            let suffix = nul_terminated(&bytes[at..end])
                .ok_or_else(|| format!("entry {i}: path not terminated"))?;
            at += suffix.len() + 1;
            let keep = previous
                .len()
                .checked_sub(usize::try_from(strip).unwrap_or(usize::MAX))
                .ok_or_else(|| {
                    format!("entry {i}: strips more of the previous path than it has")
                })?;
            if keep + suffix.len() > MAX_PATH_BYTES {
                return Err(format!(
                    "entry {i}: path longer than {MAX_PATH_BYTES} bytes"
                ));
            }
            let mut path = previous[..keep].to_vec();
            path.extend_from_slice(suffix);
            path
        } else {
            let name = nul_terminated(&bytes[at..end.min(at + MAX_PATH_BYTES + 1)])
                .ok_or_else(|| format!("entry {i}: path not terminated"))?;
            let declared = usize::from(flags & NAME_MASK);
            // The 12-bit length saturates at 0xfff for longer names.
            if declared < usize::from(NAME_MASK) && declared != name.len() {
                return Err(format!(
                    "entry {i}: path is {} bytes but its flags say {declared}",
                    name.len()
                ));
            }
            // Entries are padded with 1 to 8 NULs to a multiple of 8 bytes.
            let padded = (at - start + name.len() + 8) & !7;
            if start + padded > end {
                return Err(format!("entry {i} is truncated"));
            }
            at = start + padded;
            name.to_vec()
        };
        total_path += path.len();
        if total_path > MAX_TOTAL_PATH_BYTES {
            return Err(format!(
                "lists more than {MAX_TOTAL_PATH_BYTES} bytes of paths"
            ));
        }
        if path.is_empty() {
            // In a split index an entry with an empty name replaces the
            // shared index's entry at its position (stat data only): the
            // path is the shared one's. Anywhere else it is invalid.
            replacements += 1;
            previous.clear();
            continue;
        }
        let is_dir = mode & MODE_TYPE_MASK == MODE_DIR;
        validate_path(&path, is_dir)
            .map_err(|why| format!("entry {i}: path `{}` {why}", String::from_utf8_lossy(&path)))?;
        previous.clone_from(&path);
        // Sparse-index directory entries stand for files that are not
        // checked out: nothing on disk to scan.
        if !is_dir {
            parsed.entries.push(IndexEntry { path, mode });
        }
    }

    // Extensions: a 4-byte signature, a 4-byte size, the data.
    while at < end {
        if end - at < 8 {
            return Err("truncated extension header".to_owned());
        }
        let signature = &bytes[at..at + 4];
        let size = be32(bytes, at + 4) as usize;
        at += 8;
        if size > end - at {
            return Err(format!(
                "extension `{}` is longer than the file",
                String::from_utf8_lossy(signature)
            ));
        }
        if signature == b"link" {
            if size < hash_len {
                return Err("split-index link extension is truncated".to_owned());
            }
            let id: String = bytes[at..at + hash_len]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            // An all-zero id means "no shared index".
            if id.bytes().any(|c| c != b'0') {
                parsed.shared_index = Some(id);
            }
        }
        at += size;
    }
    if replacements > 0 && parsed.shared_index.is_none() {
        return Err(format!(
            "{replacements} entries have an empty path outside a split index"
        ));
    }
    Ok(parsed)
}

fn be32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn nul_terminated(bytes: &[u8]) -> Option<&[u8]> {
    bytes.iter().position(|&b| b == 0).map(|n| &bytes[..n])
}

/// Git's offset varint (`varint.c`): seven bits a byte, most significant
/// first, each continuation adding one. Returns the value and bytes used.
fn decode_varint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut used = 0;
    let mut c = *bytes.first()?;
    used += 1;
    let mut value = u64::from(c & 0x7f);
    while c & 0x80 != 0 {
        value = value.checked_add(1)?;
        if value >> 57 != 0 {
            return None;
        }
        c = *bytes.get(used)?;
        used += 1;
        value = (value << 7) + u64::from(c & 0x7f);
    }
    Some((value, used))
}

/// Git's own `verify_path`, in short: relative, no empty, `.` or `..`
/// components, no `.git`. A path that breaks these cannot come from git and
/// could send us outside the tree, so it makes the whole index suspect.
fn validate_path(path: &[u8], is_dir: bool) -> Result<(), &'static str> {
    let path = if is_dir {
        path.strip_suffix(b"/").unwrap_or(path)
    } else {
        path
    };
    if path.is_empty() {
        return Err("is empty");
    }
    for component in path.split(|&b| b == b'/') {
        match component {
            b"" => return Err("has an empty component or is absolute"),
            b"." | b".." => return Err("has a `.` or `..` component"),
            c if c.eq_ignore_ascii_case(b".git") => return Err("enters a `.git` directory"),
            _ => {}
        }
    }
    Ok(())
}

/// Where a repository keeps its index: the `.git` directory, or the
/// directory a `.git` file (worktrees, submodules) points to.
pub(crate) fn git_dir(dot_git: &Path) -> Option<PathBuf> {
    let meta = std::fs::symlink_metadata(dot_git).ok()?;
    if meta.is_dir() {
        return Some(dot_git.to_path_buf());
    }
    if !meta.is_file() {
        return None;
    }
    let text = read_regular(dot_git, MAX_SMALL_FILE_BYTES).ok()??;
    let text = String::from_utf8_lossy(&text);
    let pointer = text.lines().find_map(|l| l.strip_prefix("gitdir:"))?.trim();
    if pointer.is_empty() {
        return None;
    }
    let base = dot_git.parent().unwrap_or(Path::new("."));
    Some(base.join(pointer))
}

/// The object id length of the repository: 32 bytes when its config (or
/// that of the main repository, for a worktree) says
/// `objectformat = sha256`.
fn hash_len(git_dir: &Path) -> usize {
    let mut dirs = vec![git_dir.to_path_buf()];
    if let Ok(Some(common)) = read_regular(&git_dir.join("commondir"), MAX_SMALL_FILE_BYTES) {
        dirs.push(git_dir.join(String::from_utf8_lossy(&common).trim()));
    }
    for dir in dirs {
        if let Ok(Some(config)) = read_regular(&dir.join("config"), MAX_SMALL_FILE_BYTES) {
            let sha256 = String::from_utf8_lossy(&config).lines().any(|l| {
                let l: String = l.chars().filter(|c| !c.is_whitespace()).collect();
                l.eq_ignore_ascii_case("objectformat=sha256")
            });
            if sha256 {
                return SHA256_LEN;
            }
        }
    }
    SHA1_LEN
}

/// Reads a file only if it is a regular file of at most `max` bytes;
/// `Ok(None)` when it does not exist. Opened non-blocking and checked after
/// opening, so a FIFO or device planted where the file should be can neither
/// block the scan nor be read.
pub(crate) fn read_regular(path: &Path, max: u64) -> std::io::Result<Option<Vec<u8>>> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    if meta.len() > max {
        return Err(std::io::Error::other(format!(
            "larger than the {max} bytes read"
        )));
    }
    let mut buf = Vec::with_capacity(meta.len() as usize);
    file.take(max + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > max {
        return Err(std::io::Error::other(format!(
            "larger than the {max} bytes read"
        )));
    }
    Ok(Some(buf))
}

/// Why the tracked files of a repository could not be listed.
#[derive(Debug)]
pub(crate) struct IndexProblem {
    /// The index file at fault.
    pub path: PathBuf,
    pub message: String,
}

/// Every path tracked in the repository whose work tree is `work_tree`
/// (`.git` at `work_tree/.git`), and in its checked-out submodules, relative
/// to `work_tree` as `/`-separated bytes. A missing index means nothing is
/// tracked yet (a fresh `git init`).
pub(crate) fn tracked_paths(work_tree: &Path) -> Result<Vec<Vec<u8>>, IndexProblem> {
    let mut out = Vec::new();
    let mut repositories = 0usize;
    collect(work_tree, Vec::new(), 0, &mut repositories, &mut out)?;
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

fn collect(
    work_tree: &Path,
    prefix: Vec<u8>,
    depth: usize,
    repositories: &mut usize,
    out: &mut Vec<Vec<u8>>,
) -> Result<(), IndexProblem> {
    *repositories += 1;
    if *repositories > MAX_REPOSITORIES || depth > MAX_SUBMODULE_DEPTH {
        return Err(IndexProblem {
            path: work_tree.join(".git"),
            message: format!(
                "more than {MAX_REPOSITORIES} submodules or nesting deeper than {MAX_SUBMODULE_DEPTH}"
            ),
        });
    }
    let Some(git_dir) = git_dir(&work_tree.join(".git")) else {
        // An uninitialised submodule: nothing checked out.
        return Ok(());
    };
    let hash_len = hash_len(&git_dir);
    let mut pending = vec![git_dir.join("index")];
    let mut first = true;
    while let Some(index_path) = pending.pop() {
        let problem = |message: String| IndexProblem {
            path: index_path.clone(),
            message,
        };
        let bytes = match read_regular(&index_path, MAX_INDEX_BYTES) {
            Ok(Some(b)) => b,
            Ok(None) if first => return Ok(()),
            Ok(None) => return Err(problem("the shared index it links to is missing".into())),
            Err(e) => return Err(problem(format!("cannot read: {e}"))),
        };
        let parsed = parse_index(&bytes, hash_len).map_err(problem)?;
        if first {
            if let Some(id) = &parsed.shared_index {
                pending.push(git_dir.join(format!("sharedindex.{id}")));
            }
        } else if parsed.shared_index.is_some() {
            return Err(problem("a shared index that links to another".into()));
        }
        first = false;
        for entry in parsed.entries {
            let mut full = prefix.clone();
            full.extend_from_slice(&entry.path);
            if entry.is_gitlink() {
                let sub = work_tree.join(bytes_to_path(&entry.path));
                let mut sub_prefix = full.clone();
                sub_prefix.push(b'/');
                collect(&sub, sub_prefix, depth + 1, repositories, out)?;
            } else {
                out.push(full);
            }
        }
    }
    Ok(())
}

pub(crate) fn bytes_to_path(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An index as git writes it: version 2/3 with padded names, or 4 with
    /// prefix-compressed ones.
    fn build(version: u32, entries: &[(&[u8], u32)]) -> Vec<u8> {
        let mut out = b"DIRC".to_vec();
        out.extend_from_slice(&version.to_be_bytes());
        out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        let mut previous: &[u8] = b"";
        for (path, mode) in entries {
            let start = out.len();
            let mut stat = [0u8; STAT_BYTES];
            stat[MODE_OFFSET..MODE_OFFSET + 4].copy_from_slice(&mode.to_be_bytes());
            out.extend_from_slice(&stat);
            out.extend_from_slice(&[0xab; SHA1_LEN]);
            let flags = path.len().min(usize::from(NAME_MASK)) as u16;
            out.extend_from_slice(&flags.to_be_bytes());
            if version == 4 {
                let common = previous
                    .iter()
                    .zip(path.iter())
                    .take_while(|(a, b)| a == b)
                    .count();
                let strip = previous.len() - common;
                assert!(strip < 0x80, "test helper encodes one-byte varints");
                out.push(strip as u8);
                out.extend_from_slice(&path[common..]);
                out.push(0);
            } else {
                out.extend_from_slice(path);
                let len = out.len() - start;
                let padded = (len + 8) & !7;
                out.resize(start + padded, 0);
            }
            previous = path;
        }
        out.extend_from_slice(&[0; SHA1_LEN]);
        out
    }

    fn paths(p: &ParsedIndex) -> Vec<&[u8]> {
        p.entries.iter().map(|e| e.path.as_slice()).collect()
    }

    #[test]
    fn versions_2_3_and_4_give_the_same_paths() {
        let entries: &[(&[u8], u32)] = &[
            (b"a.pkl", 0o100644),
            (b"models/evil.pkl", 0o100644),
            (b"models/evil2.pkl", 0o100755),
            (b"z", 0o120000),
        ];
        for version in 2..=4 {
            let parsed = parse_index(&build(version, entries), SHA1_LEN).unwrap();
            assert_eq!(
                paths(&parsed),
                vec![&b"a.pkl"[..], b"models/evil.pkl", b"models/evil2.pkl", b"z"],
                "version {version}"
            );
        }
    }

    #[test]
    fn version_4_prefix_stripping_is_bounded_by_the_previous_path() {
        let mut bytes = build(4, &[(b"ab", 0o100644), (b"ac", 0o100644)]);
        // Second entry's strip count: 1 -> 9 (more than "ab" has).
        let second = HEADER_LEN + STAT_BYTES + SHA1_LEN + 2 + 1 + 2 + 1;
        let strip = second + STAT_BYTES + SHA1_LEN + 2;
        assert_eq!(bytes[strip], 1);
        bytes[strip] = 9;
        let err = parse_index(&bytes, SHA1_LEN).unwrap_err();
        assert!(err.contains("strips more"), "{err}");
    }

    #[test]
    fn hostile_counts_paths_and_truncation_are_errors_not_panics() {
        let good = build(2, &[(b"a", 0o100644), (b"b/c", 0o100644)]);
        // Every truncation fails cleanly.
        for n in 0..good.len() - SHA1_LEN {
            assert!(parse_index(&good[..n], SHA1_LEN).is_err(), "prefix {n}");
        }
        // An entry count the file cannot hold.
        let mut huge = good.clone();
        huge[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(parse_index(&huge, SHA1_LEN).unwrap_err().contains("claims"));
        // Paths git would never write, which could lead outside the tree.
        for bad in [
            &b"../etc/shadow"[..],
            b"/etc/shadow",
            b"a//b",
            b".git/config",
            b"x/.GIT/y",
        ] {
            let bytes = build(3, &[(bad, 0o100644)]);
            assert!(parse_index(&bytes, SHA1_LEN).is_err(), "{bad:?}");
        }
        // Wrong signature and version.
        let mut sig = good.clone();
        sig[0] = b'X';
        assert!(parse_index(&sig, SHA1_LEN).is_err());
        let mut ver = good;
        ver[4..8].copy_from_slice(&5u32.to_be_bytes());
        assert!(
            parse_index(&ver, SHA1_LEN)
                .unwrap_err()
                .contains("version 5")
        );
    }

    #[test]
    fn empty_names_are_split_index_replacements_only() {
        let mut plain = build(2, &[(b"", 0o100644)]);
        assert!(
            parse_index(&plain, SHA1_LEN)
                .unwrap_err()
                .contains("empty path")
        );
        // The same entry with a link extension naming a shared index.
        plain.truncate(plain.len() - SHA1_LEN);
        plain.extend_from_slice(b"link");
        plain.extend_from_slice(&(SHA1_LEN as u32).to_be_bytes());
        plain.extend_from_slice(&[0x11; SHA1_LEN]);
        plain.extend_from_slice(&[0; SHA1_LEN]);
        let parsed = parse_index(&plain, SHA1_LEN).unwrap();
        assert!(parsed.entries.is_empty());
        assert_eq!(
            parsed.shared_index.as_deref(),
            Some(&"11".repeat(SHA1_LEN)[..])
        );
    }

    #[test]
    fn varints_follow_git() {
        assert_eq!(decode_varint(&[0x05]), Some((5, 1)));
        // 0x80 0x00 is 128 in git's encoding (continuations add one).
        assert_eq!(decode_varint(&[0x80, 0x00]), Some((128, 2)));
        assert_eq!(decode_varint(&[0x80]), None);
        assert_eq!(decode_varint(&[0xff; 20]), None);
    }

    #[test]
    fn gitlinks_and_sparse_directories_are_told_apart() {
        let parsed = parse_index(
            &build(
                3,
                &[(b"sub", 0o160000), (b"sparse/", 0o040000), (b"f", 0o100644)],
            ),
            SHA1_LEN,
        )
        .unwrap();
        assert_eq!(paths(&parsed), vec![&b"sub"[..], b"f"]);
        assert!(parsed.entries[0].is_gitlink());
        assert!(!parsed.entries[1].is_gitlink());
    }
}
