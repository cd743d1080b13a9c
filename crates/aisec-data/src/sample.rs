//! How much of a dataset is read, and where the bytes come from.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::sync::Mutex;

use serde::Serialize;

/// Bounds on what one profile reads. The defaults read enough of a dataset to
/// characterise every column (10 000 rows) while costing at most 16 MiB of
/// input and milliseconds of time, whatever the file's size.
#[derive(Debug, Clone, Serialize)]
pub struct SampleOptions {
    /// Rows (records, lines) read, counted from the start of the file; for
    /// Parquet across the sampled row groups.
    pub max_rows: u64,
    /// Bytes of input read: the head of a text file, the compressed column
    /// chunks of the sampled Parquet row groups (the footer comes on top).
    pub max_bytes: u64,
    /// Distinct columns profiled; further columns are counted, not profiled.
    pub max_columns: usize,
    /// Bytes of one value looked at (longer cells are cut, at a character
    /// boundary).
    pub max_cell_bytes: usize,
    /// Nesting of JSON objects and arrays flattened into columns.
    pub max_depth: usize,
    /// Run the credential detectors of aisec-secrets on values.
    pub secrets: bool,
}

impl Default for SampleOptions {
    fn default() -> Self {
        SampleOptions {
            max_rows: 10_000,
            max_bytes: 16 * 1024 * 1024,
            max_columns: 1024,
            max_cell_bytes: 16 * 1024,
            max_depth: 16,
            secrets: true,
        }
    }
}

/// Random access to a dataset's bytes: a memory map or slice, or a file read
/// with seeks, so that a Parquet footer and a few row groups are all that is
/// read of a 10 GB file.
pub trait ReadAt {
    fn len(&self) -> u64;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn read_at(&self, offset: u64, len: usize) -> std::io::Result<Vec<u8>>;
}

impl ReadAt for &[u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }

    fn read_at(&self, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        let end = start.saturating_add(len);
        self.get(start..end).map(<[u8]>::to_vec).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "read past the end")
        })
    }
}

/// A file read by seeking; a `Mutex` because `ReadAt` takes `&self`.
pub struct FileSource {
    file: Mutex<File>,
    len: u64,
}

impl FileSource {
    pub fn new(file: File) -> std::io::Result<Self> {
        let len = file.metadata()?.len();
        Ok(FileSource {
            file: Mutex::new(file),
            len,
        })
    }
}

impl ReadAt for FileSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
        let mut file = self
            .file
            .lock()
            .map_err(|_| std::io::Error::other("file lock poisoned"))?;
        file.seek(SeekFrom::Start(offset))?;
        let mut buf = Vec::with_capacity(len);
        file.by_ref().take(len as u64).read_to_end(&mut buf)?;
        if buf.len() != len {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "file shorter than expected",
            ));
        }
        Ok(buf)
    }
}
