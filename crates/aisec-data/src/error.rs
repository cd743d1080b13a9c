//! Errors name the file and say what is wrong with it.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum DataError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a readable Parquet file: {why}")]
    Parquet { path: String, why: String },
    #[error("{path}: {why}")]
    Unsupported { path: String, why: String },
}
