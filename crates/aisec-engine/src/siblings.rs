//! The engine's [`SiblingSource`]: the one way a scanner reads a file that a
//! scanned file references (`-r base.txt`, a Terraform module directory,
//! ONNX external data).
//!
//! A reference is attacker-controlled, so every read is confined to the scan
//! root the referring file was found in: the path is resolved lexically first
//! (an absolute path or `..` that climbs out is refused without touching the
//! file system), then physically (a link whose target lies outside is refused;
//! a path through any link is refused unless `--follow-symlinks`); excluded
//! paths, non-regular files (FIFOs, devices, `/proc` entries) and large files
//! are refused; reads are counted against a per-scan limit and cached for the
//! scan only (no process-wide state, so two scans never share results).

use std::collections::HashMap;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aisec_core::{Limits, Sibling, SiblingError, SiblingMeta, SiblingSource};
use globset::GlobSet;

use crate::walk::{ScanRoot, WalkedFile};

/// Referenced-file reads for one scan, shared by every file of it.
pub struct TreeSiblings {
    roots: Vec<ScanRoot>,
    exclude: GlobSet,
    follow_symlinks: bool,
    max_bytes: u64,
    max_count: usize,
    count: AtomicUsize,
    reads: Mutex<HashMap<PathBuf, ReadOutcome>>,
    /// Resolutions by (referring directory, reference): the same `-r
    /// base.txt` or module directory named from many files of one directory
    /// is resolved once per scan (resolving costs a `readlink` per path
    /// component, which was 45 % of a 60-file Terraform directory's scan).
    resolved: Mutex<HashMap<(usize, PathBuf, String), Resolution>>,
}

type Resolution = Result<(PathBuf, PathBuf), SiblingError>;

/// A read's result, cached by physical path: refusals are cached too, so a
/// reference repeated in many files costs one look.
type ReadOutcome = Result<Arc<[u8]>, SiblingError>;

impl TreeSiblings {
    pub fn new(
        roots: Vec<ScanRoot>,
        exclude: GlobSet,
        follow_symlinks: bool,
        limits: &Limits,
    ) -> Self {
        TreeSiblings {
            roots,
            exclude,
            follow_symlinks,
            max_bytes: limits.max_sibling_bytes,
            max_count: limits.max_siblings,
            count: AtomicUsize::new(0),
            reads: Mutex::new(HashMap::new()),
            resolved: Mutex::new(HashMap::new()),
        }
    }

    /// A reader confined to one directory, for tools outside the scan
    /// pipeline that walk a tree of their own (`aisec bom`): links not
    /// followed, nothing excluded, paths shown relative to `root`.
    pub fn for_root(root: &Path, limits: &Limits) -> Self {
        let roots = vec![ScanRoot {
            canonical: std::fs::canonicalize(root).ok(),
            display: String::new(),
        }];
        TreeSiblings::new(roots, GlobSet::empty(), false, limits)
    }

    /// The source for references made by `file`.
    pub fn for_file<'a>(&'a self, file: &'a WalkedFile) -> FileSiblings<'a> {
        FileSiblings { tree: self, file }
    }

    /// [`Self::resolve_uncached`], memoised per scan by the root, the
    /// referring file's directory and the reference (the same directory can
    /// sit under two roots with different confinement).
    fn resolve(&self, file: &WalkedFile, reference: &str) -> Resolution {
        let key = (
            file.root,
            file.path.parent().unwrap_or(Path::new("")).to_path_buf(),
            reference.to_owned(),
        );
        let lock = || self.resolved.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(hit) = lock().get(&key) {
            return hit.clone();
        }
        let resolution = self.resolve_uncached(file, reference);
        lock().insert(key, resolution.clone());
        resolution
    }

    /// Resolves `reference` made by `file` to a path inside its root, or says
    /// why not. Returns the physical path and the path below the root.
    fn resolve_uncached(&self, file: &WalkedFile, reference: &str) -> Resolution {
        let root = self.roots.get(file.root).ok_or(SiblingError::OutsideRoot)?;
        let canonical_root = root.canonical.as_deref().ok_or(SiblingError::OutsideRoot)?;
        if reference.is_empty() || reference.contains('\0') {
            return Err(SiblingError::Missing);
        }
        let reference = Path::new(reference);
        if reference.is_absolute() {
            // Even one inside the root: a tree's meaning must not depend on
            // where it was checked out.
            return Err(SiblingError::OutsideRoot);
        }
        // The referring file's directory, below the root.
        let file_dir = file.path.parent().unwrap_or(Path::new(""));
        let dir = std::fs::canonicalize(if file_dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            file_dir
        })
        .map_err(|e| SiblingError::Unreadable(e.to_string()))?;
        let lexical = normalize(&dir.join(reference)).ok_or(SiblingError::OutsideRoot)?;
        if !lexical.starts_with(canonical_root) {
            return Err(SiblingError::OutsideRoot);
        }
        // The operating system's view: links resolved, `..` after a link taken
        // physically, as the tool that follows the reference would.
        let physical = std::fs::canonicalize(dir.join(reference)).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => SiblingError::Missing,
            _ => SiblingError::Unreadable(e.to_string()),
        })?;
        if !physical.starts_with(canonical_root) {
            return Err(SiblingError::OutsideRoot);
        }
        if physical != lexical && !self.follow_symlinks {
            return Err(SiblingError::Symlink);
        }
        let below = physical
            .strip_prefix(canonical_root)
            .map(Path::to_path_buf)
            .map_err(|_| SiblingError::OutsideRoot)?;
        if !below.as_os_str().is_empty() && self.exclude.is_match(&below) {
            return Err(SiblingError::Excluded);
        }
        Ok((physical, below))
    }

    fn display(&self, file: &WalkedFile, below: &Path) -> String {
        let below = below.to_string_lossy();
        match self.roots.get(file.root).map(|r| r.display.as_str()) {
            None | Some("") | Some(".") => below.into_owned(),
            Some(root) => format!("{}/{below}", root.trim_end_matches('/')),
        }
    }

    fn take_count(&self) -> Result<(), SiblingError> {
        if self.count.fetch_add(1, Ordering::Relaxed) >= self.max_count {
            return Err(SiblingError::CountExceeded(self.max_count));
        }
        Ok(())
    }

    fn read_regular(&self, path: &Path) -> Result<Arc<[u8]>, SiblingError> {
        let meta = std::fs::metadata(path).map_err(|e| SiblingError::Unreadable(e.to_string()))?;
        if !meta.is_file() {
            return Err(SiblingError::NotRegular);
        }
        if meta.len() > self.max_bytes {
            return Err(SiblingError::TooLarge {
                size: meta.len(),
                limit: self.max_bytes,
            });
        }
        self.take_count()?;
        let handle = open_no_block(path).map_err(|e| SiblingError::Unreadable(e.to_string()))?;
        // The path may have been swapped for a FIFO or device since the
        // metadata call: judge the handle we actually hold.
        let held = handle
            .metadata()
            .map_err(|e| SiblingError::Unreadable(e.to_string()))?;
        if !held.is_file() {
            return Err(SiblingError::NotRegular);
        }
        let mut bytes = Vec::with_capacity(held.len().min(self.max_bytes) as usize);
        handle
            .take(self.max_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| SiblingError::Unreadable(e.to_string()))?;
        if bytes.len() as u64 > self.max_bytes {
            return Err(SiblingError::TooLarge {
                size: bytes.len() as u64,
                limit: self.max_bytes,
            });
        }
        Ok(bytes.into())
    }
}

/// Opens for reading without blocking on a FIFO that replaced the file.
#[cfg(unix)]
fn open_no_block(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_no_block(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

/// `..` and `.` removed lexically; `None` when `..` climbs above `/`.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    Some(out)
}

/// [`TreeSiblings`] seen from one referring file.
pub struct FileSiblings<'a> {
    tree: &'a TreeSiblings,
    file: &'a WalkedFile,
}

impl SiblingSource for FileSiblings<'_> {
    fn read(&self, _from: &str, reference: &str) -> Result<Sibling, SiblingError> {
        let (physical, below) = self.tree.resolve(self.file, reference)?;
        let cached = self
            .tree
            .reads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&physical)
            .cloned();
        let bytes = match cached {
            Some(result) => result?,
            None => {
                let result = self.tree.read_regular(&physical);
                self.tree
                    .reads
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(physical, result.clone());
                result?
            }
        };
        Ok(Sibling {
            display: self.tree.display(self.file, &below),
            bytes,
        })
    }

    fn stat(&self, _from: &str, reference: &str) -> Result<SiblingMeta, SiblingError> {
        let (physical, below) = self.tree.resolve(self.file, reference)?;
        let meta =
            std::fs::metadata(&physical).map_err(|e| SiblingError::Unreadable(e.to_string()))?;
        if !meta.is_file() {
            return Err(SiblingError::NotRegular);
        }
        Ok(SiblingMeta {
            display: self.tree.display(self.file, &below),
            size: meta.len(),
        })
    }

    fn list(&self, _from: &str, reference: &str) -> Result<Vec<String>, SiblingError> {
        let (physical, below) = self.tree.resolve(self.file, reference)?;
        let meta =
            std::fs::metadata(&physical).map_err(|e| SiblingError::Unreadable(e.to_string()))?;
        if !meta.is_dir() {
            return Err(SiblingError::NotRegular);
        }
        self.tree.take_count()?;
        let entries =
            std::fs::read_dir(&physical).map_err(|e| SiblingError::Unreadable(e.to_string()))?;
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            // The entry's own type: a link is not a regular file here, so a
            // listing never leads a scanner through a link.
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|name| !self.tree.exclude.is_match(below.join(name)))
            .collect();
        names.sort();
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::walk::glob_set;

    struct Tree {
        _dir: tempfile::TempDir,
        root: PathBuf,
    }

    fn tree() -> Tree {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("requirements.txt"), "-r sub/base.txt\n").unwrap();
        std::fs::write(root.join("sub/base.txt"), "numpy==1.26.4\n").unwrap();
        std::fs::write(dir.path().join("private.txt"), "TOKEN=outside\n").unwrap();
        Tree { _dir: dir, root }
    }

    fn siblings(t: &Tree, exclude: &[&str], follow: bool) -> (TreeSiblings, WalkedFile) {
        let roots = vec![ScanRoot {
            canonical: Some(std::fs::canonicalize(&t.root).unwrap()),
            display: "repo".to_owned(),
        }];
        let exclude = glob_set(&exclude.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
        let file = WalkedFile {
            path: t.root.join("requirements.txt"),
            display: "repo/requirements.txt".to_owned(),
            size: 0,
            root: 0,
        };
        (
            TreeSiblings::new(roots, exclude, follow, &Limits::default()),
            file,
        )
    }

    #[test]
    fn reads_inside_the_root_with_a_display_path() {
        let t = tree();
        let (s, f) = siblings(&t, &[], false);
        let got = s.for_file(&f).read("", "sub/base.txt").unwrap();
        assert_eq!(&*got.bytes, b"numpy==1.26.4\n");
        assert_eq!(got.display, "repo/sub/base.txt");
        let got = s.for_file(&f).read("", "sub/../sub/./base.txt").unwrap();
        assert_eq!(got.display, "repo/sub/base.txt");
        assert_eq!(
            s.for_file(&f).list("", "sub").unwrap(),
            vec!["base.txt".to_owned()]
        );
        assert_eq!(s.for_file(&f).stat("", "sub/base.txt").unwrap().size, 14);
    }

    #[test]
    fn escapes_are_refused_before_any_read() {
        let t = tree();
        let (s, f) = siblings(&t, &[], true);
        let src = s.for_file(&f);
        for reference in [
            "/proc/self/environ",
            "../private.txt",
            "sub/../../private.txt",
            "/etc/passwd",
        ] {
            assert_eq!(
                src.read("", reference).unwrap_err(),
                SiblingError::OutsideRoot,
                "{reference}"
            );
        }
        assert_eq!(src.list("", "..").unwrap_err(), SiblingError::OutsideRoot);
        assert_eq!(
            src.read("", "missing.txt").unwrap_err(),
            SiblingError::Missing
        );
        assert_eq!(src.read("", "sub").unwrap_err(), SiblingError::NotRegular);
    }

    #[cfg(unix)]
    #[test]
    fn links_out_are_refused_and_links_in_need_follow_symlinks() {
        let t = tree();
        std::os::unix::fs::symlink(t.root.join("../private.txt"), t.root.join("out.txt")).unwrap();
        std::os::unix::fs::symlink("/proc/self/environ", t.root.join("env.txt")).unwrap();
        std::os::unix::fs::symlink(t.root.join("sub/base.txt"), t.root.join("in.txt")).unwrap();
        for follow in [false, true] {
            let (s, f) = siblings(&t, &[], follow);
            let src = s.for_file(&f);
            assert_eq!(
                src.read("", "out.txt").unwrap_err(),
                SiblingError::OutsideRoot
            );
            assert_eq!(
                src.read("", "env.txt").unwrap_err(),
                SiblingError::OutsideRoot
            );
            let inside = src.read("", "in.txt");
            if follow {
                assert_eq!(&*inside.unwrap().bytes, b"numpy==1.26.4\n");
            } else {
                assert_eq!(inside.unwrap_err(), SiblingError::Symlink);
            }
        }
    }

    #[cfg(unix)]
    #[test]
    fn fifos_are_never_opened() {
        let t = tree();
        let fifo = t.root.join("pipe.txt");
        let status = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !status.is_ok_and(|s| s.success()) {
            return; // no mkfifo on this system: nothing to check
        }
        let (s, f) = siblings(&t, &[], false);
        assert_eq!(
            s.for_file(&f).read("", "pipe.txt").unwrap_err(),
            SiblingError::NotRegular
        );
    }

    #[test]
    fn exclusions_size_and_count_are_honoured() {
        let t = tree();
        let (s, f) = siblings(&t, &["sub"], false);
        assert_eq!(
            s.for_file(&f).read("", "sub/base.txt").unwrap_err(),
            SiblingError::Excluded
        );

        let roots = vec![ScanRoot {
            canonical: Some(std::fs::canonicalize(&t.root).unwrap()),
            display: String::new(),
        }];
        let limits = Limits {
            max_sibling_bytes: 4,
            max_siblings: 1,
            ..Limits::default()
        };
        let s = TreeSiblings::new(roots, glob_set(&[]).unwrap(), false, &limits);
        assert!(matches!(
            s.for_file(&f).read("", "sub/base.txt").unwrap_err(),
            SiblingError::TooLarge { size: 14, limit: 4 }
        ));
        std::fs::write(t.root.join("a.txt"), "a").unwrap();
        std::fs::write(t.root.join("b.txt"), "b").unwrap();
        assert!(s.for_file(&f).read("", "a.txt").is_ok());
        // Cached: the same file again costs nothing.
        assert!(s.for_file(&f).read("", "a.txt").is_ok());
        assert_eq!(
            s.for_file(&f).read("", "b.txt").unwrap_err(),
            SiblingError::CountExceeded(1)
        );
    }
}
