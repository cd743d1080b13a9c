//! Which files of a model are signed.
//!
//! Matches model_signing 1.1.1 (`_serialization/file.py`): every regular file
//! under the model, dotfiles included; a symlink is refused unless allowed,
//! then a link to a file is hashed by content under the link's own name and a
//! link to a directory is skipped; fifos, sockets and broken links are errors.
//! Ignored paths are tested as component prefixes of the model-relative path.
//! Unlike 1.1.1 (and like its successor), ignores are applied before the
//! symlink check, so a link inside an ignored `.git/` does not abort.

use std::fs;
use std::path::{Component, Path};

use crate::Error;
use crate::hashing::FileEntry;

/// The paths ignored by default, at the top level of the model only.
pub const DEFAULT_IGNORED: [&str; 4] = [".git", ".gitattributes", ".github", ".gitignore"];

/// A model-relative ignore path, split into components.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ignore(Vec<String>);

impl Ignore {
    /// Parses a model-relative POSIX path. Paths that leave the model (`..`,
    /// absolute) can never match a file of it and are refused; `.` segments
    /// are dropped.
    pub(crate) fn parse(p: &str) -> Result<Self, Error> {
        let mut parts = Vec::new();
        for seg in p.split('/') {
            match seg {
                "" | "." => {}
                ".." => {
                    return Err(Error::InvalidOption(format!(
                        "ignore path '{p}' leaves the model directory"
                    )));
                }
                s => parts.push(s.to_owned()),
            }
        }
        if p.starts_with('/') {
            return Err(Error::InvalidOption(format!(
                "ignore path '{p}' must be relative to the model"
            )));
        }
        Ok(Ignore(parts))
    }

    fn covers(&self, rel: &[String]) -> bool {
        rel.len() >= self.0.len() && rel[..self.0.len()] == self.0[..]
    }
}

/// Lists the files to hash, sorted in the format's canonical order.
pub(crate) fn collect(
    model: &Path,
    allow_symlinks: bool,
    ignores: &[Ignore],
) -> Result<Vec<FileEntry>, Error> {
    let meta = fs::symlink_metadata(model).map_err(|source| Error::Io {
        path: model.to_path_buf(),
        source,
    })?;
    let mut out = Vec::new();
    if meta.file_type().is_symlink() && !allow_symlinks {
        return Err(Error::Symlink(model.display().to_string()));
    }
    let target = fs::metadata(model).map_err(|source| Error::Io {
        path: model.to_path_buf(),
        source,
    })?;
    if target.is_file() {
        out.push(FileEntry {
            name: ".".into(),
            path: model.to_path_buf(),
        });
        return Ok(out);
    }
    if !target.is_dir() {
        return Err(Error::NotRegular(model.display().to_string()));
    }
    walk_dir(model, &mut Vec::new(), allow_symlinks, ignores, &mut out)?;
    out.sort_by(|a, b| crate::manifest::compare_names(&a.name, &b.name));
    Ok(out)
}

fn walk_dir(
    dir: &Path,
    rel: &mut Vec<String>,
    allow_symlinks: bool,
    ignores: &[Ignore],
    out: &mut Vec<FileEntry>,
) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: dir.to_path_buf(),
        source,
    };
    for entry in fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        let name = entry
            .file_name()
            .into_string()
            .map_err(|raw| Error::NonUtf8Name(dir.join(raw).to_string_lossy().into_owned()))?;
        rel.push(name);
        let result = visit(&path, rel, allow_symlinks, ignores, out);
        rel.pop();
        result?;
    }
    Ok(())
}

fn visit(
    path: &Path,
    rel: &mut Vec<String>,
    allow_symlinks: bool,
    ignores: &[Ignore],
    out: &mut Vec<FileEntry>,
) -> Result<(), Error> {
    if ignores.iter().any(|i| i.covers(rel)) {
        return Ok(());
    }
    let rel_name = rel.join("/");
    let ft = fs::symlink_metadata(path)
        .map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?
        .file_type();
    if ft.is_symlink() {
        if !allow_symlinks {
            return Err(Error::Symlink(rel_name));
        }
        return match fs::metadata(path) {
            Ok(m) if m.is_file() => {
                out.push(FileEntry {
                    name: rel_name,
                    path: path.to_path_buf(),
                });
                Ok(())
            }
            // A link to a directory is neither followed nor listed.
            Ok(m) if m.is_dir() => Ok(()),
            _ => Err(Error::NotRegular(rel_name)),
        };
    }
    if ft.is_dir() {
        return walk_dir(path, rel, allow_symlinks, ignores, out);
    }
    if ft.is_file() {
        out.push(FileEntry {
            name: rel_name,
            path: path.to_path_buf(),
        });
        return Ok(());
    }
    Err(Error::NotRegular(rel_name))
}

/// The model-relative POSIX form of `path` when it lies inside `model`
/// (used to ignore a signature file written into the model, and to turn
/// `--ignore-paths` given from the working directory into model paths).
pub fn relative_to_model(model: &Path, path: &Path) -> Option<String> {
    let model = fs::canonicalize(model).ok()?;
    let path = absolute_lexical(path)?;
    // The signature may not exist yet: canonicalize its parent only.
    let (parent, file) = (path.parent()?, path.file_name()?);
    let parent = fs::canonicalize(parent).ok()?;
    let full = parent.join(file);
    let rel = full.strip_prefix(&model).ok()?;
    let parts: Vec<&str> = rel
        .components()
        .map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect::<Option<_>>()?;
    if parts.is_empty() {
        return None;
    }
    Some(parts.join("/"))
}

fn absolute_lexical(path: &Path) -> Option<std::path::PathBuf> {
    if path.is_absolute() {
        Some(path.to_path_buf())
    } else {
        Some(std::env::current_dir().ok()?.join(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_is_a_component_prefix() {
        let i = Ignore::parse(".git").unwrap();
        assert!(i.covers(&[".git".into(), "HEAD".into()]));
        assert!(!i.covers(&[".github".into()]));
        assert!(!i.covers(&["sub".into(), ".git".into()]));
        assert!(Ignore::parse("../x").is_err());
        assert!(Ignore::parse("/etc").is_err());
        assert_eq!(
            Ignore::parse("./a//b").unwrap(),
            Ignore(vec!["a".into(), "b".into()])
        );
    }

    #[test]
    fn signature_inside_model_is_relative() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("m")).unwrap();
        assert_eq!(
            relative_to_model(&dir.path().join("m"), &dir.path().join("m/model.sig")).as_deref(),
            Some("model.sig")
        );
        assert_eq!(
            relative_to_model(&dir.path().join("m"), &dir.path().join("model.sig")),
            None
        );
    }
}
