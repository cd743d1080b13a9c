//! One error type for the crate: every variant names the file and says what
//! is wrong, so the CLI can print it as it is.

use std::path::PathBuf;

/// What went wrong, and where.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The policy file is not valid: `key` is the TOML key path
    /// (`column[2].action`, `key.env`, ...).
    #[error("{file}: {key}: {message}", file = file.display())]
    Policy {
        file: PathBuf,
        key: String,
        message: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}", path = path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The input cannot be processed at all (bad header, a row rejected under
    /// `strict`, a malformed file). `line` is 1-based; 0 when unknown.
    #[error("{path}:{line}: {message}", path = path.display())]
    Input {
        path: PathBuf,
        line: u64,
        message: String,
    },
    /// A bad row under `strict`: the run stopped there and wrote no output.
    #[error("{path}:{line}: {message} (strict: stopped at the first bad row, no output written)", path = path.display())]
    Rejected {
        path: PathBuf,
        line: u64,
        message: String,
    },
    /// A key, identity or passphrase is missing, too short or unreadable.
    #[error("{0}")]
    Key(String),
    /// Encryption or decryption failed (wrong key, tampering, truncation).
    #[error("{path}: {message}", path = path.display())]
    Crypto { path: PathBuf, message: String },
    /// A documented memory bound was reached.
    #[error("{path}: {message}", path = path.display())]
    Limit { path: PathBuf, message: String },
    /// Arguments that contradict each other or name nothing.
    #[error("{0}")]
    Usage(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
