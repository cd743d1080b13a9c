//! Output files: written to a temporary file beside their destination and
//! renamed into place only on success, so that a failed run never leaves
//! output that looks good.
//!
//! The temporary holds what the command produces (plaintext for `decrypt`,
//! masked rows for `mask`), so it must not outlive the run either, however
//! the run ends:
//!
//! - On Linux it is an unnamed file (`O_TMPFILE`) in the output's directory:
//!   it has no name until the run succeeds, when it is linked under the
//!   output's name (or under a hidden name renamed over an existing output).
//!   Whatever ends the process before that, `kill -9` and a crash included,
//!   the kernel frees it; nothing is left to clean up.
//! - Where that is not available (other systems, file systems without
//!   `O_TMPFILE`, no `/proc` to link from), it is a hidden named file,
//!   `.aisec-tmp-XXXXXX` (six random characters), created mode 0600. Its drop
//!   guard deletes it on every error path and panic, and every live one is
//!   listed in a process-wide registry so that [`remove_temporaries`] (called
//!   by `crate::interrupt`'s signal handler) can delete them before a
//!   signal ends the process. Only `SIGKILL` (or a crash) leaves it behind.
//!
//! Creating, linking and renaming a temporary happen while the registry is
//! locked, and [`remove_temporaries`] keeps it locked until the process ends,
//! so a signal never races a temporary that is being created or put in place.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use tempfile::NamedTempFile;

use crate::error::{Error, Result};

/// Placeholder the streaming functions use for an output they only know as a
/// `Write`; the file functions replace it with the real path.
pub(crate) const OUTPUT_PLACEHOLDER: &str = "<output>";

/// Name prefix of every named temporary (hidden: a leading dot).
pub const TEMP_PREFIX: &str = ".aisec-tmp-";

/// Mode of temporaries (and so of outputs): owner read and write only, since
/// they hold personal data. The process umask can only remove bits from it.
pub const TEMP_MODE: u32 = 0o600;

/// The named temporaries that exist now, by registration number.
struct Registry {
    next: u64,
    live: BTreeMap<u64, PathBuf>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    next: 0,
    live: BTreeMap::new(),
});

/// The registry, even after a panic elsewhere (its map stays consistent:
/// every update is a single insert or remove).
fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Held by whoever removed the temporaries: while it lives no temporary is
/// created, linked or renamed into place.
#[must_use = "the temporaries stay blocked only while this is held"]
pub struct TemporariesRemoved {
    _lock: MutexGuard<'static, Registry>,
    /// How many named temporaries were deleted.
    pub removed: usize,
}

/// Deletes every named temporary this process has open and blocks new ones
/// until the returned guard is dropped. For a handler about to end the
/// process (see [`crate::interrupt`]); unnamed temporaries need nothing.
pub fn remove_temporaries() -> TemporariesRemoved {
    let mut lock = registry();
    let mut removed = 0;
    for path in std::mem::take(&mut lock.live).into_values() {
        if std::fs::remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    TemporariesRemoved {
        _lock: lock,
        removed,
    }
}

/// A temporary output file beside its destination; deleted when dropped
/// unless [`TempOutput::persist`] put it in place.
pub(crate) struct TempOutput {
    kind: Kind,
}

enum Kind {
    /// An `O_TMPFILE` inode with no name.
    #[cfg(target_os = "linux")]
    Unnamed { file: File, dir: PathBuf },
    /// A hidden named file, in the registry under `id`.
    Named { tmp: NamedTempFile, id: Registered },
}

/// A registry entry, removed when dropped.
struct Registered(u64);

impl Drop for Registered {
    fn drop(&mut self) {
        registry().live.remove(&self.0);
    }
}

fn dir_of(output: &Path) -> PathBuf {
    match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn named_builder() -> tempfile::Builder<'static, 'static> {
    let mut b = tempfile::Builder::new();
    b.prefix(TEMP_PREFIX);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(TEMP_MODE));
    }
    b
}

impl TempOutput {
    /// A temporary in the directory of `output` (so the final rename or link
    /// stays on one file system): unnamed where the system allows it.
    pub(crate) fn beside(output: &Path) -> Result<Self> {
        Self::create(output, true)
    }

    pub(crate) fn create(output: &Path, allow_unnamed: bool) -> Result<Self> {
        let dir = dir_of(output);
        #[cfg(target_os = "linux")]
        if allow_unnamed {
            if let Some(file) = unnamed::create(&dir) {
                return Ok(TempOutput {
                    kind: Kind::Unnamed { file, dir },
                });
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = allow_unnamed;
        // Created and registered under one lock: a signal handler that
        // removes temporaries sees this one or runs before it exists.
        let mut reg = registry();
        let tmp = named_builder()
            .tempfile_in(&dir)
            .map_err(|e| Error::io(&dir, e))?;
        let id = reg.next;
        reg.next += 1;
        reg.live.insert(id, tmp.path().to_path_buf());
        drop(reg);
        Ok(TempOutput {
            kind: Kind::Named {
                tmp,
                id: Registered(id),
            },
        })
    }

    pub(crate) fn file_mut(&mut self) -> &mut File {
        match &mut self.kind {
            #[cfg(target_os = "linux")]
            Kind::Unnamed { file, .. } => file,
            Kind::Named { tmp, .. } => tmp.as_file_mut(),
        }
    }

    /// The temporary's name, if it has one (never for an unnamed file).
    #[cfg(test)]
    pub(crate) fn path(&self) -> Option<&Path> {
        match &self.kind {
            #[cfg(target_os = "linux")]
            Kind::Unnamed { .. } => None,
            Kind::Named { tmp, .. } => Some(tmp.path()),
        }
    }

    /// Flushes the temporary to disk and puts it in place as `output`.
    pub(crate) fn persist(mut self, output: &Path) -> Result<()> {
        // Outside the lock: syncing a large file takes a while, and a signal
        // meanwhile must still be able to remove it.
        self.file_mut()
            .sync_all()
            .map_err(|e| Error::io(output, e))?;
        let mut reg = registry();
        match self.kind {
            #[cfg(target_os = "linux")]
            Kind::Unnamed { file, dir } => unnamed::link(&file, &dir, output),
            Kind::Named { tmp, id } => {
                let result = tmp
                    .persist(output)
                    .map(drop)
                    .map_err(|e| Error::io(output, e.error));
                // Gone either way (renamed, or deleted by the failed
                // persist's drop): unlisted before anyone else can look.
                reg.live.remove(&id.0);
                drop(reg);
                drop(id);
                result
            }
        }
    }
}

#[cfg(target_os = "linux")]
mod unnamed {
    //! `O_TMPFILE` files, given a name only on success.

    use std::fs::File;
    use std::os::fd::AsRawFd;
    use std::path::Path;

    use rustix::fs::{AtFlags, CWD, Mode, OFlags};

    use crate::error::{Error, Result};

    /// Where the kernel shows this process's open files as links, the only
    /// way an unprivileged process can link an `O_TMPFILE` file (`linkat`
    /// with `AT_EMPTY_PATH` needs `CAP_DAC_READ_SEARCH`).
    const PROC_FD: &str = "/proc/self/fd";

    /// An unnamed file in `dir`, or `None` where the file system or the
    /// kernel does not support them or `/proc` is not mounted (the caller
    /// falls back to a named temporary, which reports real errors such as
    /// a missing directory).
    pub(super) fn create(dir: &Path) -> Option<File> {
        if !Path::new(PROC_FD).is_dir() {
            return None;
        }
        let fd = rustix::fs::openat(
            CWD,
            dir,
            OFlags::WRONLY | OFlags::TMPFILE | OFlags::CLOEXEC,
            Mode::from_raw_mode(super::TEMP_MODE),
        )
        .ok()?;
        Some(File::from(fd))
    }

    /// Gives `file` the name `output`: linked straight there when nothing
    /// has that name, else linked under a hidden name and renamed over it
    /// (`link` never replaces a file). The hidden name exists only between
    /// those two calls, with the registry locked.
    pub(super) fn link(file: &File, dir: &Path, output: &Path) -> Result<()> {
        let source = format!("{PROC_FD}/{}", file.as_raw_fd());
        let link_to = |to: &Path| {
            rustix::fs::linkat(CWD, source.as_str(), CWD, to, AtFlags::SYMLINK_FOLLOW)
                .map_err(std::io::Error::from)
        };
        match link_to(output) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io(output, e)),
        }
        let named = super::named_builder()
            .make_in(dir, |path| link_to(path))
            .map_err(|e| Error::io(dir, e))?;
        named
            .persist(output)
            .map_err(|e| Error::io(output, e.error))?;
        Ok(())
    }
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

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::Mutex;

    use super::*;

    /// Serialises the tests that make named temporaries: one of them removes
    /// every registered temporary of the process.
    static NAMED: Mutex<()> = Mutex::new(());

    fn named_lock() -> MutexGuard<'static, ()> {
        NAMED.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Names in `dir`, sorted.
    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[cfg(unix)]
    #[test]
    fn named_temporary_is_hidden_and_mode_0600_and_so_is_the_output() {
        let _g = named_lock();
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.csv");
        let mut tmp = TempOutput::create(&out, false).unwrap();
        let path = tmp.path().unwrap().to_path_buf();
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with(TEMP_PREFIX), "{name}");
        assert_eq!(mode(&path), TEMP_MODE);
        tmp.file_mut().write_all(b"secret\n").unwrap();
        tmp.persist(&out).unwrap();
        assert_eq!(entries(dir.path()), ["out.csv"]);
        assert_eq!(mode(&out), TEMP_MODE);
        assert_eq!(std::fs::read(&out).unwrap(), b"secret\n");
    }

    #[test]
    fn dropped_temporaries_leave_nothing_and_unlist_themselves() {
        let _g = named_lock();
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.csv");
        for allow_unnamed in [false, true] {
            let mut tmp = TempOutput::create(&out, allow_unnamed).unwrap();
            tmp.file_mut().write_all(b"partial plaintext").unwrap();
            drop(tmp);
            assert!(entries(dir.path()).is_empty(), "{allow_unnamed}");
        }
        assert!(registry().live.is_empty());
    }

    #[test]
    fn remove_temporaries_deletes_the_named_ones_and_blocks_new_ones() {
        let _g = named_lock();
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.csv");
        let mut tmp = TempOutput::create(&out, false).unwrap();
        tmp.file_mut().write_all(b"partial plaintext").unwrap();
        let path = tmp.path().unwrap().to_path_buf();
        assert!(path.exists());
        let removed = remove_temporaries();
        assert_eq!(removed.removed, 1);
        assert!(!path.exists());
        // While it is held, the registry cannot be taken.
        assert!(REGISTRY.try_lock().is_err());
        drop(removed);
        // The guard of the deleted temporary finds nothing left to do.
        drop(tmp);
        assert!(entries(dir.path()).is_empty());
    }

    #[test]
    fn persist_replaces_an_existing_output() {
        let _g = named_lock();
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.csv");
        for (allow_unnamed, text) in [(false, &b"one"[..]), (true, b"two"), (true, b"three")] {
            std::fs::write(&out, b"old contents").unwrap();
            let mut tmp = TempOutput::create(&out, allow_unnamed).unwrap();
            tmp.file_mut().write_all(text).unwrap();
            tmp.persist(&out).unwrap();
            assert_eq!(std::fs::read(&out).unwrap(), text);
            assert_eq!(entries(dir.path()), ["out.csv"]);
        }
        // A fresh output name is linked straight into place.
        std::fs::remove_file(&out).unwrap();
        let mut tmp = TempOutput::beside(&out).unwrap();
        tmp.file_mut().write_all(b"new").unwrap();
        tmp.persist(&out).unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"new");
    }

    /// On Linux the temporary has no name while it is written: nothing in
    /// the directory, so nothing for `kill -9` to leave behind.
    #[cfg(target_os = "linux")]
    #[test]
    fn linux_temporaries_have_no_name_until_persisted() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.csv");
        let mut tmp = TempOutput::beside(&out).unwrap();
        assert!(
            tmp.path().is_none(),
            "O_TMPFILE unavailable in the test dir"
        );
        tmp.file_mut().write_all(b"plaintext").unwrap();
        assert!(entries(dir.path()).is_empty());
        tmp.persist(&out).unwrap();
        assert_eq!(entries(dir.path()), ["out.csv"]);
        assert_eq!(mode(&out), TEMP_MODE);
    }

    #[test]
    fn a_missing_directory_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("missing/out.csv");
        let e = TempOutput::beside(&out).err().unwrap().to_string();
        assert!(e.contains("missing"), "{e}");
    }
}
