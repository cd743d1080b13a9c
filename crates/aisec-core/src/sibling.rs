//! Files a format names beside the scanned one: pip's `-r`/`-c` includes,
//! local Terraform modules, ONNX external data, conda environment files.
//!
//! Scanners get bytes from the engine only. A reference inside a scanned file
//! is attacker-controlled (`-r /proc/self/environ`, `source = "../../.ssh"`),
//! so scanners never open it themselves: they ask the [`SiblingSource`] the
//! engine put in the [`crate::ScanContext`], which confines every read to the
//! scan root (after resolving `..` and symbolic links), honours `--exclude`
//! and `--follow-symlinks`, reads regular files only, and bounds size and
//! count. Core defines the interface and does no I/O itself.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Why a referenced file was not read. The variants name what the reference
/// did, never what the file holds: a refused read must not leak content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SiblingError {
    /// The scanned file has no directory of its own (an archive member, a
    /// remote object, a test input): references are not followed there.
    #[error("references are not followed inside archives")]
    NoDirectory,
    /// The reference resolves outside the scanned tree (an absolute path, `..`
    /// climbing out, or a link whose target is outside).
    #[error("points outside the scanned tree; not read")]
    OutsideRoot,
    /// The reference passes through a symbolic link and links are not
    /// followed (`--follow-symlinks`).
    #[error("passes through a symbolic link; not followed without --follow-symlinks")]
    Symlink,
    /// The referenced path matches an `--exclude` pattern.
    #[error("excluded from the scan; not read")]
    Excluded,
    /// A directory, FIFO, socket or device: reading it could block or have
    /// side effects.
    #[error("not a regular file; not read")]
    NotRegular,
    /// Larger than the per-reference read limit.
    #[error("{size} bytes, over the {limit}-byte limit for referenced files; not read")]
    TooLarge { size: u64, limit: u64 },
    /// The scan has read as many referenced files as it may.
    #[error("the scan reached its limit of {0} referenced files; not read")]
    CountExceeded(usize),
    #[error("no such file")]
    Missing,
    /// Any other I/O error, as the operating system words it.
    #[error("cannot read: {0}")]
    Unreadable(String),
}

impl SiblingError {
    /// Whether the reference itself is suspicious (it tried to leave the
    /// tree), as opposed to a broken or absent file.
    pub fn is_escape(&self) -> bool {
        matches!(self, SiblingError::OutsideRoot)
    }
}

/// A referenced file that was read.
#[derive(Debug, Clone)]
pub struct Sibling {
    /// The file as shown in findings: the scan root as the user named it,
    /// then the path below it (`repo/requirements/base.txt`).
    pub display: String,
    pub bytes: Arc<[u8]>,
}

/// A referenced file that was looked at but not read (ONNX external data:
/// only its existence and length matter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiblingMeta {
    pub display: String,
    pub size: u64,
}

/// Reads what scanned files reference, on the engine's terms. `from` is the
/// display path of the referring file ([`crate::FileInput::path`]); relative
/// references resolve against its directory.
pub trait SiblingSource: Send + Sync {
    /// Reads a referenced regular file.
    fn read(&self, from: &str, reference: &str) -> Result<Sibling, SiblingError>;
    /// Looks at a referenced regular file without reading it.
    fn stat(&self, from: &str, reference: &str) -> Result<SiblingMeta, SiblingError>;
    /// The regular files directly inside a referenced directory (names only,
    /// sorted), each readable as `reference/name`.
    fn list(&self, from: &str, reference: &str) -> Result<Vec<String>, SiblingError>;
}

/// For inputs that have no tree around them (tests, fuzzing, benchmarks,
/// remote sources): every reference is refused with
/// [`SiblingError::NoDirectory`].
pub struct NoSiblings;

impl SiblingSource for NoSiblings {
    fn read(&self, _: &str, _: &str) -> Result<Sibling, SiblingError> {
        Err(SiblingError::NoDirectory)
    }
    fn stat(&self, _: &str, _: &str) -> Result<SiblingMeta, SiblingError> {
        Err(SiblingError::NoDirectory)
    }
    fn list(&self, _: &str, _: &str) -> Result<Vec<String>, SiblingError> {
        Err(SiblingError::NoDirectory)
    }
}

/// An in-memory tree behind the [`SiblingSource`] interface, for tests and
/// fuzzing of scanners that follow references. Paths are `/`-separated and
/// relative to the tree's root; confinement is the engine's lexical half
/// (absolute references and `..` above the root are
/// [`SiblingError::OutsideRoot`]). Counts the reads it serves.
#[derive(Debug, Default)]
pub struct MemorySiblings {
    files: BTreeMap<String, Arc<[u8]>>,
    reads: AtomicUsize,
}

impl MemorySiblings {
    /// A tree of `(path, content)` pairs.
    pub fn new<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut tree = MemorySiblings::default();
        for (path, text) in files {
            tree.put(path, text);
        }
        tree
    }

    pub fn put(&mut self, path: &str, text: &str) {
        self.files.insert(path.to_owned(), text.as_bytes().into());
    }

    /// The content at `path`, as stored.
    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(|b| &b[..])
    }

    /// Reads served so far.
    pub fn reads(&self) -> usize {
        self.reads.load(Ordering::Relaxed)
    }

    /// `reference` made by the file at `from`, as a path of the tree.
    fn resolve(from: &str, reference: &str) -> Result<String, SiblingError> {
        if reference.starts_with('/') {
            return Err(SiblingError::OutsideRoot);
        }
        let mut parts: Vec<&str> = from.split('/').collect();
        parts.pop();
        for c in reference.split('/') {
            match c {
                "" | "." => {}
                ".." => {
                    parts.pop().ok_or(SiblingError::OutsideRoot)?;
                }
                c => parts.push(c),
            }
        }
        Ok(parts.join("/"))
    }
}

impl SiblingSource for MemorySiblings {
    fn read(&self, from: &str, reference: &str) -> Result<Sibling, SiblingError> {
        let path = Self::resolve(from, reference)?;
        self.reads.fetch_add(1, Ordering::Relaxed);
        let bytes = self.files.get(&path).ok_or(SiblingError::Missing)?;
        Ok(Sibling {
            display: path,
            bytes: Arc::clone(bytes),
        })
    }

    fn stat(&self, from: &str, reference: &str) -> Result<SiblingMeta, SiblingError> {
        let path = Self::resolve(from, reference)?;
        let bytes = self.files.get(&path).ok_or(SiblingError::Missing)?;
        Ok(SiblingMeta {
            size: bytes.len() as u64,
            display: path,
        })
    }

    fn list(&self, from: &str, reference: &str) -> Result<Vec<String>, SiblingError> {
        let dir = Self::resolve(from, reference)?;
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let names: Vec<String> = self
            .files
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix))
            .filter(|rest| !rest.contains('/'))
            .map(str::to_owned)
            .collect();
        if names.is_empty() {
            return Err(SiblingError::Missing);
        }
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_siblings_resolve_like_the_engine_lexically() {
        let tree =
            MemorySiblings::new([("a/req.txt", "x"), ("a/b/base.txt", "y"), ("top.txt", "z")]);
        assert_eq!(
            &*tree.read("a/req.txt", "b/../b/base.txt").unwrap().bytes,
            b"y"
        );
        assert_eq!(
            tree.read("a/req.txt", "../top.txt").unwrap().display,
            "top.txt"
        );
        assert_eq!(
            tree.read("a/req.txt", "../../etc/passwd").unwrap_err(),
            SiblingError::OutsideRoot
        );
        assert_eq!(
            tree.read("a/req.txt", "/proc/self/environ").unwrap_err(),
            SiblingError::OutsideRoot
        );
        assert_eq!(
            tree.list("a/req.txt", ".").unwrap(),
            vec!["req.txt".to_owned()]
        );
        assert_eq!(tree.stat("top.txt", "a/b/base.txt").unwrap().size, 1);
        assert_eq!(tree.reads(), 2);
    }
}
