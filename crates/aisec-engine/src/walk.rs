//! Finding the files to scan: a parallel directory walk (the `ignore` crate,
//! as in ripgrep) that keeps hidden files, skips VCS internals, and turns every
//! path it cannot read into a finding instead of a log line.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use aisec_core::{Finding, escape_control, generic};
use globset::{Glob, GlobSet, GlobSetBuilder};
use ignore::{WalkBuilder, WalkState};

use crate::gitindex;

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
    #[error("{}: no such file or directory", escape_control(.0))]
    Missing(String),
    #[error("{}: not a regular file ({kind}); refusing to read it", escape_control(.path))]
    NotRegular { path: String, kind: &'static str },
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
///
/// In a git work tree `.gitignore` only skips untracked files: every file
/// the index lists is scanned (see [`crate::gitindex`]).
pub fn walk(targets: &[PathBuf], opts: &WalkOptions) -> Result<Walked, WalkError> {
    let include = glob_set(&opts.include)?;
    let exclude = glob_set(&opts.exclude)?;
    let mut walked = Walked::default();

    for target in targets {
        let root_index = walked.roots.len();
        let meta = match std::fs::symlink_metadata(target) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(WalkError::Missing(display_path(target)));
            }
            Err(e) => {
                walked.findings.push(Finding::at_path(
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
                Ok(m) if m.is_file() => {
                    let dir = target.parent().unwrap_or(Path::new(""));
                    walked.roots.push(ScanRoot {
                        canonical: std::fs::canonicalize(if dir.as_os_str().is_empty() {
                            Path::new(".")
                        } else {
                            dir
                        })
                        .ok(),
                        display: display_path(dir),
                    });
                    walked.files.push(WalkedFile {
                        path: target.clone(),
                        display: display_path(target),
                        size: m.len(),
                        root: root_index,
                    });
                    continue;
                }
                // `/dev/zero`, a FIFO, a socket: reading one never ends or
                // blocks, and there is no file to scan. A usage error, not a
                // finding: the user named it.
                Ok(m) => {
                    return Err(WalkError::NotRegular {
                        path: display_path(target),
                        kind: special_kind(&m.file_type()),
                    });
                }
                Err(e) => {
                    walked.findings.push(Finding::at_path(
                        &generic::UNREADABLE,
                        display_path(target),
                        format!("cannot read: {e}"),
                    ));
                    continue;
                }
            }
        }

        let resolved_root = std::fs::canonicalize(target).ok();
        walked.roots.push(ScanRoot {
            canonical: resolved_root.clone(),
            display: display_path(target),
        });
        let ctx = RootCtx {
            root: target,
            canonical_root: resolved_root.unwrap_or_else(|| target.clone()),
            include: &include,
            exclude: &exclude,
            follow_symlinks: opts.follow_symlinks,
            root_index,
        };
        let collected = walk_root(&ctx, opts);
        walked.files.extend(collected.files);
        walked.findings.extend(collected.findings);
    }
    walked.files.sort_by(|a, b| a.path.cmp(&b.path));
    walked.files.dedup_by(|a, b| a.path == b.path);
    // A fallback walk (malformed index) sees some paths twice.
    walked.findings.sort_by(|a, b| {
        (&a.location.path, &a.rule_id, &a.message).cmp(&(&b.location.path, &b.rule_id, &b.message))
    });
    walked.findings.dedup_by(|a, b| {
        a.location.path == b.location.path && a.rule_id == b.rule_id && a.message == b.message
    });
    Ok(walked)
}

/// What one directory target needs while it is walked.
struct RootCtx<'a> {
    /// The root as the user named it: the prefix of every walked path.
    root: &'a Path,
    canonical_root: PathBuf,
    include: &'a GlobSet,
    exclude: &'a GlobSet,
    follow_symlinks: bool,
    root_index: usize,
}

/// What a walk of one tree found.
#[derive(Default)]
struct Collected {
    files: Vec<WalkedFile>,
    findings: Vec<Finding>,
    /// Every non-directory path the walk judged (scanned, reported or
    /// excluded): a tracked file among them needs no second look.
    seen: HashSet<PathBuf>,
    /// Directories holding a `.git` (directory or pointer file).
    repositories: Vec<PathBuf>,
}

impl Collected {
    fn merge(&mut self, other: Collected) {
        self.files.extend(other.files);
        self.findings.extend(other.findings);
        self.seen.extend(other.seen);
        self.repositories.extend(other.repositories);
    }
}

/// Walks one directory target: with git's ignore rules, then adds what the
/// rules hid but git tracks; a repository whose index cannot be read is
/// reported and walked again without ignore rules.
fn walk_root(ctx: &RootCtx<'_>, opts: &WalkOptions) -> Collected {
    let use_ignore = !opts.no_ignore;
    let mut collected = walk_tree(ctx, ctx.root, use_ignore, opts.threads);
    if !use_ignore {
        return collected;
    }

    // (work tree to read, walker path of the work tree, tracked paths must
    // start with this prefix to lie under the root)
    let mut repositories: Vec<(PathBuf, PathBuf, Vec<u8>)> = Vec::new();
    if let Some((work_tree, below)) = enclosing_repository(&ctx.canonical_root) {
        let mut prefix = below.as_os_str().as_encoded_bytes().to_vec();
        if !prefix.is_empty() {
            prefix.push(b'/');
        }
        let shown = if prefix.is_empty() {
            ctx.root.to_path_buf()
        } else {
            work_tree.clone()
        };
        repositories.push((shown, ctx.root.to_path_buf(), prefix));
    }
    let mut nested = std::mem::take(&mut collected.repositories);
    nested.sort();
    nested.dedup();
    for dir in nested {
        if dir.as_path() != ctx.root {
            repositories.push((dir.clone(), dir, Vec::new()));
        }
    }

    for (work_tree, walked_as, prefix) in repositories {
        match gitindex::tracked_paths(&work_tree) {
            Ok(tracked) => {
                for path in tracked {
                    let Some(below) = path.strip_prefix(prefix.as_slice()) else {
                        continue;
                    };
                    let path = walked_as.join(gitindex::bytes_to_path(below));
                    if !collected.seen.contains(&path) {
                        add_tracked(ctx, path, &mut collected);
                    }
                }
            }
            Err(problem) => {
                collected.findings.push(Finding::at_path(
                    &generic::MALFORMED,
                    display_path(&problem.path),
                    format!(
                        "git index cannot be read ({}); .gitignore is not applied below {}",
                        problem.message,
                        display_path(&walked_as)
                    ),
                ));
                // The safe direction: everything below the repository (or
                // the root, when the repository encloses it) is scanned.
                let again = if prefix.is_empty() {
                    walked_as
                } else {
                    ctx.root.to_path_buf()
                };
                let fallback = walk_tree(ctx, &again, false, opts.threads);
                collected.merge(fallback);
            }
        }
    }
    collected
}

/// The innermost directory at or above `canonical_root` holding `.git`, and
/// the root's path below it.
fn enclosing_repository(canonical_root: &Path) -> Option<(PathBuf, PathBuf)> {
    canonical_root.ancestors().find_map(|dir| {
        std::fs::symlink_metadata(dir.join(".git")).ok()?;
        let below = canonical_root.strip_prefix(dir).ok()?.to_path_buf();
        Some((dir.to_path_buf(), below))
    })
}

/// A tracked file the walk did not reach (ignored, or below an ignored
/// directory): judged like any walked file, after checking that no link
/// between the root and it leads elsewhere.
fn add_tracked(ctx: &RootCtx<'_>, path: PathBuf, out: &mut Collected) {
    let Ok(relative) = path.strip_prefix(ctx.root) else {
        return;
    };
    if ctx.exclude.is_match(relative)
        || (!ctx.include.is_empty() && !ctx.include.is_match(relative))
    {
        return;
    }
    let parent = path.parent().unwrap_or(ctx.root);
    let Ok(real_parent) = std::fs::canonicalize(parent) else {
        return;
    };
    let expected = ctx
        .canonical_root
        .join(relative.parent().unwrap_or(Path::new("")));
    // Git never records a path through a link (it tracks the link); a
    // listed one is the walker's business, which judged the link itself.
    let direct = real_parent == expected;
    let followed_inside = ctx.follow_symlinks && real_parent.starts_with(&ctx.canonical_root);
    if !(direct || followed_inside) {
        return;
    }
    let meta = match std::fs::symlink_metadata(&path) {
        Ok(m) => m,
        // Deleted in the work tree, or not checked out (sparse checkout).
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
        Err(e) => {
            out.findings.push(Finding::at_path(
                &generic::UNREADABLE,
                display_path(&path),
                format!("cannot read metadata: {e}"),
            ));
            return;
        }
    };
    if meta.is_dir() {
        return;
    }
    let is_symlink = meta.file_type().is_symlink();
    if is_symlink {
        if let Some(f) = check_symlink(&path, &ctx.canonical_root) {
            out.findings.push(f);
            return;
        }
        if !ctx.follow_symlinks {
            return;
        }
    }
    let meta = if is_symlink {
        std::fs::metadata(&path).map_err(|e| e.to_string())
    } else {
        Ok(meta)
    };
    if meta.as_ref().is_ok_and(|m| m.is_dir()) {
        return;
    }
    judge_file(ctx, &path, meta, out);
}

/// Adds a non-directory entry: a regular file to scan, or a finding saying
/// why it is not read.
fn judge_file(
    ctx: &RootCtx<'_>,
    path: &Path,
    meta: Result<std::fs::Metadata, String>,
    out: &mut Collected,
) {
    match meta {
        Ok(m) if m.is_file() => out.files.push(WalkedFile {
            path: path.to_path_buf(),
            display: display_path(path),
            size: m.len(),
            root: ctx.root_index,
        }),
        // Sockets, FIFOs, devices: reading them could block forever or have
        // side effects, so they are not read, and say so: what is not read
        // is not a pass.
        Ok(m) => out.findings.push(Finding::at_path(
            &generic::UNREADABLE,
            display_path(path),
            format!(
                "not a regular file ({}); not read",
                special_kind(&m.file_type())
            ),
        )),
        Err(e) => out.findings.push(Finding::at_path(
            &generic::UNREADABLE,
            display_path(path),
            format!("cannot read metadata: {e}"),
        )),
    }
}

/// What a non-regular, non-directory file is, in words.
fn special_kind(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_fifo() {
        "FIFO"
    } else if t.is_socket() {
        "socket"
    } else if t.is_block_device() || t.is_char_device() {
        "device"
    } else if t.is_symlink() {
        "symbolic link"
    } else {
        "special file"
    }
}

/// One parallel walk of `dir` (the root, or a repository below it).
fn walk_tree(ctx: &RootCtx<'_>, dir: &Path, use_ignore: bool, threads: Option<usize>) -> Collected {
    let out = Mutex::new(Collected::default());
    // Repositories met on the way; `filter_entry` needs a 'static closure.
    let repositories = Arc::new(Mutex::new(Vec::new()));
    let seen_repositories = Arc::clone(&repositories);
    let mut builder = WalkBuilder::new(dir);
    builder
        .hidden(false)
        // `.ignore` files are honoured by ripgrep but not here: anyone who can
        // drop a file in a model directory could hide the rest of it from us.
        // Only git's own ignore rules (inside a git work tree) apply, and only
        // to untracked files (the caller adds tracked ones back).
        .ignore(false)
        .git_ignore(use_ignore)
        .git_global(use_ignore)
        .git_exclude(use_ignore)
        .parents(use_ignore)
        .require_git(true)
        .follow_links(ctx.follow_symlinks)
        .filter_entry(move |e| {
            let vcs = e.depth() > 0
                && e.file_type().is_some_and(|t| t.is_dir())
                && e.file_name()
                    .to_str()
                    .is_some_and(|n| VCS_DIRS.contains(&n));
            if vcs && e.file_name() == ".git" {
                if let Some(parent) = e.path().parent() {
                    seen_repositories
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(parent.to_path_buf());
                }
            }
            !vcs
        });
    if let Some(n) = threads {
        builder.threads(n);
    }
    let mut visitors = VisitorBuilder { out: &out, ctx };
    builder.build_parallel().visit(&mut visitors);
    let mut collected = out.into_inner().unwrap_or_else(|p| p.into_inner());
    collected.repositories.extend(std::mem::take(
        &mut *repositories.lock().unwrap_or_else(|p| p.into_inner()),
    ));
    collected
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
    out: &'a Mutex<Collected>,
    ctx: &'a RootCtx<'a>,
}

impl<'s> ignore::ParallelVisitorBuilder<'s> for VisitorBuilder<'s> {
    fn build(&mut self) -> Box<dyn ignore::ParallelVisitor + 's> {
        Box::new(Visitor {
            out: self.out,
            ctx: self.ctx,
            local: Collected::default(),
        })
    }
}

/// One per walker thread: collects locally, hands its batch over when full
/// and when the walk ends (on drop), so threads rarely touch the lock.
struct Visitor<'a> {
    out: &'a Mutex<Collected>,
    ctx: &'a RootCtx<'a>,
    local: Collected,
}

/// Files per batch handed from a walker thread to the shared list.
const BATCH: usize = 1024;

impl Visitor<'_> {
    fn flush(&mut self) {
        let mut guard = self.out.lock().unwrap_or_else(|p| p.into_inner());
        guard.merge(std::mem::take(&mut self.local));
    }
}

impl Drop for Visitor<'_> {
    fn drop(&mut self) {
        self.flush();
    }
}

impl ignore::ParallelVisitor for Visitor<'_> {
    fn visit(&mut self, entry: Result<ignore::DirEntry, ignore::Error>) -> WalkState {
        let s = self.ctx;
        let state = match entry {
            Ok(entry) => {
                let path = entry.path();
                let relative = path.strip_prefix(s.root).unwrap_or(path);
                let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
                if !is_dir {
                    self.local.seen.insert(path.to_path_buf());
                    if entry.file_name() == ".git" {
                        // A worktree's or submodule's pointer to its git dir.
                        if let Some(parent) = path.parent() {
                            self.local.repositories.push(parent.to_path_buf());
                        }
                    }
                }
                if entry.depth() > 0 && s.exclude.is_match(relative) {
                    return if is_dir {
                        WalkState::Skip
                    } else {
                        WalkState::Continue
                    };
                }
                let wanted = s.include.is_empty() || s.include.is_match(relative);
                if entry.depth() > 0 && entry.path_is_symlink() && (is_dir || wanted) {
                    // Judged whether or not links are followed: a link that
                    // leaves the tree is reported, and never followed (with
                    // --follow-symlinks it would read /etc/shadow).
                    if let Some(f) = check_symlink(path, &s.canonical_root) {
                        self.local.findings.push(f);
                        return if is_dir {
                            WalkState::Skip
                        } else {
                            WalkState::Continue
                        };
                    }
                    if !s.follow_symlinks {
                        return WalkState::Continue;
                    }
                }
                if is_dir {
                    return WalkState::Continue;
                }
                if !wanted {
                    return WalkState::Continue;
                }
                let meta = entry.metadata().map_err(|e| io_message(&e));
                judge_file(s, path, meta, &mut self.local);
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
