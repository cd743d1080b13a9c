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

use std::sync::Arc;

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
