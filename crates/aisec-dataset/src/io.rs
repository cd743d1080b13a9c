//! Output files: written beside their destination and renamed into place only
//! on success, so that a failed run never leaves output that looks good.

use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::{Error, Result};

/// Placeholder the streaming functions use for an output they only know as a
/// `Write`; the file functions replace it with the real path.
pub(crate) const OUTPUT_PLACEHOLDER: &str = "<output>";

pub(crate) fn temp_beside(output: &Path) -> Result<NamedTempFile> {
    let dir = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    tempfile::Builder::new()
        .prefix(".aisec-tmp-")
        .tempfile_in(&dir)
        .map_err(|e| Error::io(&dir, e))
}

pub(crate) fn persist(tmp: NamedTempFile, output: &Path) -> Result<()> {
    tmp.as_file().sync_all().map_err(|e| Error::io(output, e))?;
    tmp.persist(output)
        .map_err(|e| Error::io(output, e.error))?;
    Ok(())
}

/// Refuses to overwrite the input with the output.
pub(crate) fn refuse_same_file(input: &Path, output: &Path) -> Result<()> {
    if let (Ok(a), Ok(b)) = (std::fs::canonicalize(input), std::fs::canonicalize(output)) {
        if a == b {
            return Err(Error::Usage(format!(
                "{}: the output is the input file; write to another path",
                output.display()
            )));
        }
    }
    Ok(())
}

/// Names the real output in an I/O error that carries the placeholder.
pub(crate) fn rename_paths(e: Error, _input: &Path, output: &Path) -> Error {
    match e {
        Error::Io { path, source } if path == Path::new(OUTPUT_PLACEHOLDER) => Error::Io {
            path: output.to_path_buf(),
            source,
        },
        other => other,
    }
}
