//! Lines of scanned text files, for the table's source snippets.
//!
//! Why a provider rather than a snippet stored in each finding: a snippet
//! captured at scan time would have to be filled by every text scanner (or by
//! the scan loop) and would travel in every finding, JSON and SARIF included,
//! for the one human format that shows it; the JSON schema is a stable
//! interface and the scan hot path is not the place for presentation. So the
//! table writer asks a [`SourceLines`] for the one line it shows, and stays a
//! formatter: it never opens a file. The CLI hands it [`DiskLines`], confined
//! to the scanned roots; tests and other callers hand it [`NoSource`] or a map.
//!
//! A provider returns the line as the file has it. Masking (credentials) and
//! escaping (control characters) are the writer's job, so they apply whatever
//! the provider, in one place.

use std::cell::RefCell;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The text of line `line` (1-based) of a file a finding names.
pub trait SourceLines {
    /// The line without its line end, or `None` when it is not available (not
    /// a regular file in the scanned tree, too large, binary, gone).
    fn line(&self, path: &str, line: u32) -> Option<String>;
}

/// No source at all: findings are printed without snippets.
pub struct NoSource;

impl SourceLines for NoSource {
    fn line(&self, _: &str, _: u32) -> Option<String> {
        None
    }
}

/// Files larger than this get no snippet. Findings with lines come from text
/// formats (Dockerfiles, Terraform, YAML, requirements, Python), far smaller;
/// the bound keeps printing a report from reading a large file again.
pub const MAX_SOURCE_BYTES: u64 = 4 << 20;

/// Reads lines of the regular files under the scanned roots, one file at a
/// time (the table is grouped by file, so each file is read once).
///
/// A finding's path is the display path the walker produced (relative to the
/// working directory, as the user named the target), so it opens as is; it is
/// then resolved and must lie inside one of the roots, like the walker's own
/// files. The file may have changed since the scan: the snippet is the line
/// as it reads now, which is what the user will open in an editor anyway.
pub struct DiskLines {
    roots: Vec<PathBuf>,
    /// The last file read, by display path: `None` when it was refused.
    last: RefCell<Option<(String, Option<Vec<u8>>)>>,
}

impl DiskLines {
    /// A source confined to `targets` (files or directories, as given to the
    /// scan). Targets that do not resolve (remote sources, vanished paths)
    /// confine nothing in.
    pub fn new(targets: &[PathBuf]) -> Self {
        DiskLines {
            roots: targets
                .iter()
                .filter_map(|t| std::fs::canonicalize(t).ok())
                .collect(),
            last: RefCell::new(None),
        }
    }

    fn read(&self, path: &str) -> Option<Vec<u8>> {
        let real = std::fs::canonicalize(Path::new(path)).ok()?;
        if !self.roots.iter().any(|r| real.starts_with(r)) {
            return None;
        }
        let file = open_regular(&real).ok()?;
        if file.metadata().ok()?.len() > MAX_SOURCE_BYTES {
            return None;
        }
        let mut bytes = Vec::new();
        // `take` as well: the file may grow between the size check and the read.
        file.take(MAX_SOURCE_BYTES + 1)
            .read_to_end(&mut bytes)
            .ok()?;
        (bytes.len() as u64 <= MAX_SOURCE_BYTES).then_some(bytes)
    }
}

impl SourceLines for DiskLines {
    fn line(&self, path: &str, line: u32) -> Option<String> {
        let mut last = self.last.borrow_mut();
        if last.as_ref().is_none_or(|(p, _)| p != path) {
            *last = Some((path.to_owned(), self.read(path)));
        }
        let bytes = last.as_ref()?.1.as_deref()?;
        let index = usize::try_from(line.checked_sub(1)?).ok()?;
        let text = bytes.split(|&b| b == b'\n').nth(index)?;
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        // A NUL says binary: its "lines" mean nothing to a reader.
        (!text.contains(&0)).then(|| String::from_utf8_lossy(text).into_owned())
    }
}

/// Opens without blocking and checks the opened file: a path swapped for a
/// FIFO or device after the scan must not hang the report.
#[cfg(unix)]
fn open_regular(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    if file.metadata()?.is_file() {
        Ok(file)
    } else {
        Err(std::io::Error::other("not a regular file"))
    }
}

#[cfg(not(unix))]
fn open_regular(path: &Path) -> std::io::Result<std::fs::File> {
    let file = std::fs::File::open(path)?;
    if file.metadata()?.is_file() {
        Ok(file)
    } else {
        Err(std::io::Error::other("not a regular file"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lines_of_regular_files_inside_the_roots_only() {
        let dir = std::env::temp_dir().join(format!("aisec-report-src-{}", std::process::id()));
        let inside = dir.join("in");
        std::fs::create_dir_all(&inside).unwrap();
        std::fs::write(inside.join("a.txt"), "one\r\ntwo\nthree").unwrap();
        std::fs::write(dir.join("outside.txt"), "secret\n").unwrap();
        std::fs::write(inside.join("bin"), b"a\0b\n").unwrap();
        let src = DiskLines::new(std::slice::from_ref(&inside));
        let a = inside.join("a.txt");
        let a = a.to_str().unwrap();
        assert_eq!(src.line(a, 1).as_deref(), Some("one"));
        assert_eq!(src.line(a, 3).as_deref(), Some("three"));
        assert_eq!(src.line(a, 4), None);
        assert_eq!(src.line(a, 0), None);
        let escape = inside.join("../outside.txt");
        assert_eq!(src.line(escape.to_str().unwrap(), 1), None);
        assert_eq!(src.line(inside.join("bin").to_str().unwrap(), 1), None);
        assert_eq!(src.line(inside.to_str().unwrap(), 1), None);
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.join("outside.txt"), inside.join("link")).unwrap();
            assert_eq!(src.line(inside.join("link").to_str().unwrap(), 1), None);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
