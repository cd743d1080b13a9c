//! Finding the files to scan: a parallel directory walk (the `ignore` crate,
//! as in ripgrep) that keeps hidden files, skips VCS internals, and turns every
//! path it cannot read into a finding instead of a log line.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use aisec_core::{Finding, generic};
use globset::{Glob, GlobSet, GlobSetBuilder};
use ignore::{WalkBuilder, WalkState};

/// Directories that hold a version-control system's own objects: content
/// addressed blobs that are scanned where they are checked out, not here.
const VCS_DIRS: &[&str] = &[".git", ".hg", ".svn", ".jj", ".bzr", "_darcs", ".fossil"];

#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    /// Do not read `.gitignore` (and git's exclude files).
    pub no_ignore: bool,
    pub follow_symlinks: bool,
    /// When non-empty, only files matching one of these globs are scanned.
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub threads: Option<usize>,
}

#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    #[error("invalid glob `{glob}`: {source}")]
    Glob {
        glob: String,
        #[source]
        source: globset::Error,
    },
    #[error("{0}: no such file or directory")]
    Missing(String),
}

/// A file the walker will hand to the scanners.
#[derive(Debug, Clone)]
pub struct WalkedFile {
    pub path: PathBuf,
    /// The path as shown in findings (lossy UTF-8 for non-UTF-8 names).
    pub display: String,
    pub size: u64,
    /// Index into [`Walked::roots`]: the tree this file was found in, to
    /// which its references to other files are confined.
    pub root: usize,
}

/// A tree the scan covers: a directory target, or the directory of a file
/// target.
#[derive(Debug, Clone)]
pub struct ScanRoot {
    /// The root with links and `..` resolved; `None` when it cannot be
    /// resolved (then no reference from inside it is followed).
    pub canonical: Option<PathBuf>,
    /// How the user named the root (`""` for the current directory), the
    /// prefix of paths shown in findings.
    pub display: String,
}

#[derive(Debug, Default)]
pub struct Walked {
    pub files: Vec<WalkedFile>,
    pub roots: Vec<ScanRoot>,
    /// Paths that could not be walked, links escaping the root...
    pub findings: Vec<Finding>,
}

pub(crate) fn glob_set(globs: &[String]) -> Result<GlobSet, WalkError> {
    let mut builder = GlobSetBuilder::new();
    for g in globs {
        // A bare name (`tests`) or a directory glob should match at any depth
        // and everything below it, as users expect from .gitignore.
        let patterns = if g.contains('/') || g.starts_with("**") {
            vec![g.clone(), format!("{}/**", g.trim_end_matches('/'))]
        } else {
            vec![format!("**/{g}"), format!("**/{g}/**")]
        };
        for p in patterns {
            let glob = Glob::new(&p).map_err(|source| WalkError::Glob {
                glob: g.clone(),
                source,
            })?;
            builder.add(glob);
        }
    }
    builder.build().map_err(|source| WalkError::Glob {
        glob: globs.join(", "),
        source,
    })
}

fn display_path(path: &Path) -> String {
    let s = path.to_string_lossy();
    s.strip_prefix("./").unwrap_or(&s).to_owned()
}

/// Walks every target in parallel and returns the files sorted by path.
pub fn walk(targets: &[PathBuf], opts: &WalkOptions) -> Result<Walked, WalkError> {
    let include = glob_set(&opts.include)?;
    let exclude = glob_set(&opts.exclude)?;
    let out = Mutex::new(Walked::default());

    for target in targets {
        let root_index = out.lock().unwrap().roots.len();
        let meta = match std::fs::symlink_metadata(target) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(WalkError::Missing(display_path(target)));
            }
            Err(e) => {
                out.lock().unwrap().findings.push(Finding::at_path(
                    &generic::UNREADABLE,
                    display_path(target),
                    format!("cannot read: {e}"),
                ));
                continue;
            }
        };
        // A file named on the command line is scanned whatever the filters say,
        // and followed if it is a link: the user asked for exactly it.
        if !meta.is_dir() {
            match std::fs::metadata(target) {
                Ok(m) if m.is_dir() => {}
                Ok(m) => {
                    let dir = target.parent().unwrap_or(Path::new(""));
                    let mut out = out.lock().unwrap();
                    out.roots.push(ScanRoot {
                        canonical: std::fs::canonicalize(if dir.as_os_str().is_empty() {
                            Path::new(".")
                        } else {
                            dir
                        })
                        .ok(),
                        display: display_path(dir),
                    });
                    out.files.push(WalkedFile {
                        path: target.clone(),
                        display: display_path(target),
                        size: m.len(),
                        root: root_index,
                    });
                    continue;
                }
                Err(e) => {
                    out.lock().unwrap().findings.push(Finding::at_path(
                        &generic::UNREADABLE,
                        display_path(target),
                        format!("cannot read: {e}"),
                    ));
                    continue;
                }
            }
        }

        let root = target.clone();
        let resolved_root = std::fs::canonicalize(&root).ok();
        let canonical_root = resolved_root.clone().unwrap_or_else(|| root.clone());
        out.lock().unwrap().roots.push(ScanRoot {
            canonical: resolved_root,
            display: display_path(&root),
        });
        let mut builder = WalkBuilder::new(&root);
        builder
            .hidden(false)
            // `.ignore` files are honoured by ripgrep but not here: anyone who can
            // drop a file in a model directory could hide the rest of it from us.
            // Only git's own ignore rules (inside a git work tree) apply.
            .ignore(false)
            .git_ignore(!opts.no_ignore)
            .git_global(!opts.no_ignore)
            .git_exclude(!opts.no_ignore)
            .parents(!opts.no_ignore)
            .require_git(true)
            .follow_links(opts.follow_symlinks)
            .filter_entry(|e| {
                !(e.depth() > 0
                    && e.file_type().is_some_and(|t| t.is_dir())
                    && e.file_name()
                        .to_str()
                        .is_some_and(|n| VCS_DIRS.contains(&n)))
            });
        if let Some(n) = opts.threads {
            builder.threads(n);
        }

        let mut visitors = VisitorBuilder {
            out: &out,
            include: &include,
            exclude: &exclude,
            root: &root,
            canonical_root: &canonical_root,
            follow_symlinks: opts.follow_symlinks,
            root_index,
        };
        builder.build_parallel().visit(&mut visitors);
    }
    let mut walked = out.into_inner().unwrap();
    walked.files.sort_by(|a, b| a.path.cmp(&b.path));
    walked.files.dedup_by(|a, b| a.path == b.path);
    Ok(walked)
}

fn io_message(e: &ignore::Error) -> String {
    match e.io_error() {
        Some(io) => io.to_string(),
        None => e.to_string(),
    }
}

fn walk_error_finding(err: &ignore::Error) -> Finding {
    let mut inner = err;
    let mut path = None;
    loop {
        match inner {
            ignore::Error::WithPath { path: p, err } => {
                path.get_or_insert_with(|| display_path(p));
                inner = err;
            }
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                inner = err
            }
            ignore::Error::Loop { ancestor, child } => {
                return Finding::at_path(
                    &generic::UNREADABLE,
                    display_path(child),
                    format!(
                        "symbolic link loop: this directory is the ancestor {} again; not descending",
                        display_path(ancestor)
                    ),
                )
                .evidence(display_path(ancestor));
            }
            _ => break,
        }
    }
    Finding::at_path(
        &generic::UNREADABLE,
        path.unwrap_or_else(|| "<walk>".to_owned()),
        format!("cannot read: {}", io_message(inner)),
    )
}

/// A link that is not followed is still looked at: where does it point?
fn check_symlink(link: &Path, canonical_root: &Path) -> Option<Finding> {
    let target = std::fs::read_link(link).ok()?;
    let parent = link.parent().unwrap_or(Path::new("."));
    let joined = parent.join(&target);
    let resolved = std::fs::canonicalize(&joined);
    let message = match &resolved {
        Ok(r) if r.starts_with(canonical_root) => return None,
        Ok(_) => "symbolic link points outside the scanned directory".to_owned(),
        Err(_) if target.is_absolute() || escapes_lexically(parent, &target, canonical_root) => {
            "symbolic link points outside the scanned directory (target missing)".to_owned()
        }
        Err(_) => return None,
    };
    Some(
        Finding::at_path(&generic::SYMLINK_ESCAPE, display_path(link), message)
            .evidence(format!("-> {}", target.to_string_lossy())),
    )
}

/// For dangling links: does the target climb above the root by its `..`s?
fn escapes_lexically(parent: &Path, target: &Path, canonical_root: &Path) -> bool {
    let Ok(parent) = std::fs::canonicalize(parent) else {
        return false;
    };
    let mut depth = parent
        .strip_prefix(canonical_root)
        .map(|p| p.components().count() as i64)
        .unwrap_or(0);
    for c in target.components() {
        match c {
            std::path::Component::ParentDir => depth -= 1,
            std::path::Component::Normal(_) => depth += 1,
            _ => {}
        }
        if depth < 0 {
            return true;
        }
    }
    false
}

struct VisitorBuilder<'a> {
    out: &'a Mutex<Walked>,
    include: &'a GlobSet,
    exclude: &'a GlobSet,
    root: &'a Path,
    canonical_root: &'a Path,
    follow_symlinks: bool,
    root_index: usize,
}

impl<'s> ignore::ParallelVisitorBuilder<'s> for VisitorBuilder<'s> {
    fn build(&mut self) -> Box<dyn ignore::ParallelVisitor + 's> {
        Box::new(Visitor {
            shared: VisitorBuilder { ..*self },
            local: Walked::default(),
        })
    }
}

/// One per walker thread: collects locally, hands its batch over when full
/// and when the walk ends (on drop), so threads rarely touch the lock.
struct Visitor<'a> {
    shared: VisitorBuilder<'a>,
    local: Walked,
}

/// Files per batch handed from a walker thread to the shared list.
const BATCH: usize = 1024;

impl Visitor<'_> {
    fn flush(&mut self) {
        let mut guard = self.shared.out.lock().unwrap_or_else(|p| p.into_inner());
        guard.files.append(&mut self.local.files);
        guard.findings.append(&mut self.local.findings);
    }
}

impl Drop for Visitor<'_> {
    fn drop(&mut self) {
        self.flush();
    }
}

impl ignore::ParallelVisitor for Visitor<'_> {
    fn visit(&mut self, entry: Result<ignore::DirEntry, ignore::Error>) -> WalkState {
        let s = &self.shared;
        let state = match entry {
            Ok(entry) => {
                let path = entry.path();
                let relative = path.strip_prefix(s.root).unwrap_or(path);
                let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
                if entry.depth() > 0 && s.exclude.is_match(relative) {
                    return if is_dir {
                        WalkState::Skip
                    } else {
                        WalkState::Continue
                    };
                }
                if is_dir {
                    return WalkState::Continue;
                }
                if !s.include.is_empty() && !s.include.is_match(relative) {
                    return WalkState::Continue;
                }
                if entry.path_is_symlink() && !s.follow_symlinks {
                    if let Some(f) = check_symlink(path, s.canonical_root) {
                        self.local.findings.push(f);
                    }
                    return WalkState::Continue;
                }
                match entry.metadata() {
                    Ok(m) if m.is_file() => self.local.files.push(WalkedFile {
                        path: path.to_path_buf(),
                        display: display_path(path),
                        size: m.len(),
                        root: s.root_index,
                    }),
                    // Sockets, FIFOs, devices: reading them could block forever
                    // or have side effects, and they have no content to scan.
                    Ok(_) => {}
                    Err(e) => self.local.findings.push(Finding::at_path(
                        &generic::UNREADABLE,
                        display_path(path),
                        format!("cannot read metadata: {}", io_message(&e)),
                    )),
                }
                WalkState::Continue
            }
            Err(err) => {
                self.local.findings.push(walk_error_finding(&err));
                WalkState::Continue
            }
        };
        if self.local.files.len() >= BATCH {
            self.flush();
        }
        state
    }
}
