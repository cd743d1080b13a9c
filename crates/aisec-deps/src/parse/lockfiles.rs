//! Lockfiles: `poetry.lock`, `uv.lock`, `pdm.lock`, `pylock.toml` (PEP 751)
//! and `Pipfile.lock`. Every entry is an exact version; entries that are the
//! project itself (uv's `editable`/`virtual` sources) are skipped.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::{Dependency, IndexKind, IndexSource, Manifest, ParseError, Pin};

#[derive(Deserialize)]
struct TomlLock {
    #[serde(default)]
    package: Vec<TomlPackage>,
    /// PEP 751 spells the array `packages`.
    #[serde(default)]
    packages: Vec<TomlPackage>,
}

#[derive(Deserialize)]
struct TomlPackage {
    name: Spanned<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    source: Option<toml::Value>,
    /// PEP 751: the index a package came from.
    #[serde(default)]
    index: Option<String>,
    /// PEP 751: `[packages.vcs]`, `[packages.directory]`...
    #[serde(default)]
    vcs: Option<toml::Value>,
    #[serde(default)]
    directory: Option<toml::Value>,
}

/// `poetry.lock`, `uv.lock`, `pdm.lock` and `pylock.toml` share one shape:
/// an array of package tables with `name` and `version`.
pub fn parse_toml_lock(text: &str) -> Result<Manifest, ParseError> {
    let lock: TomlLock = toml::from_str(text).map_err(|e| super::pyproject::toml_error(text, e))?;
    let mut out = Manifest::default();
    for pkg in lock.package.into_iter().chain(lock.packages) {
        let line = super::line_of_offset(text, pkg.name.span().start);
        let name = pkg.name.into_inner();
        let source = pkg.source.as_ref().and_then(|s| s.as_table());
        if source.is_some_and(|s| s.contains_key("editable") || s.contains_key("virtual"))
            || pkg.directory.is_some()
        {
            continue;
        }
        // Registry URL: uv `source.registry`, Poetry `source.url` of a
        // `legacy` source, PEP 751 `index`.
        let registry = source
            .and_then(|s| {
                s.get("registry").or_else(|| {
                    (s.get("type").and_then(|t| t.as_str()) == Some("legacy"))
                        .then(|| s.get("url"))
                        .flatten()
                })
            })
            .and_then(|u| u.as_str())
            .map(str::to_owned)
            .or(pkg.index);
        if let Some(url) = registry
            && !out.indexes.iter().any(|i| i.url == url)
        {
            out.indexes.push(IndexSource {
                url,
                line: Some(line),
                kind: IndexKind::Primary,
            });
        }
        let pin = match pkg.version {
            Some(v) => Pin::Exact(v),
            None => Pin::Url {
                url: pkg
                    .vcs
                    .as_ref()
                    .and_then(|v| v.get("url"))
                    .and_then(|u| u.as_str())
                    .unwrap_or("")
                    .to_owned(),
                immutable: true,
            },
        };
        let spec = match &pin {
            Pin::Exact(v) => format!("{name}=={v}"),
            _ => name.clone(),
        };
        out.dependencies
            .push(Dependency::new(name, pin, spec).at_line(Some(line)));
    }
    Ok(out)
}

#[derive(Deserialize)]
struct Pipfile {
    #[serde(default, rename = "_meta")]
    meta: Option<PipfileMeta>,
    #[serde(default)]
    default: BTreeMap<String, PipfileEntry>,
    #[serde(default)]
    develop: BTreeMap<String, PipfileEntry>,
}

#[derive(Deserialize)]
struct PipfileMeta {
    #[serde(default)]
    sources: Vec<PipfileSource>,
}

#[derive(Deserialize)]
struct PipfileSource {
    url: String,
    #[serde(default = "yes")]
    verify_ssl: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
struct PipfileEntry {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    hashes: Vec<String>,
    #[serde(default)]
    git: Option<String>,
    #[serde(default, rename = "ref")]
    git_ref: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    file: Option<String>,
}

pub fn parse_pipfile_lock(text: &str) -> Result<Manifest, ParseError> {
    let lock: Pipfile = serde_json::from_str(text).map_err(|e| {
        ParseError::new(
            Some(e.line() as u32).filter(|&l| l > 0),
            format!("invalid JSON: {}", super::library_error(&e.to_string())),
        )
    })?;
    let mut out = Manifest::default();
    for s in lock.meta.map(|m| m.sources).unwrap_or_default() {
        let line = super::line_containing(text, &s.url);
        if !s.verify_ssl {
            out.indexes.push(IndexSource {
                url: s.url.clone(),
                line,
                kind: IndexKind::TrustedHost,
            });
        }
        // pipenv resolves each package from one index (it restricts packages
        // to their `index`), so several sources are not a confusion setup.
        out.indexes.push(IndexSource {
            line,
            url: s.url,
            kind: IndexKind::Primary,
        });
    }
    for (name, e) in lock.default.into_iter().chain(lock.develop) {
        if e.path.is_some() {
            continue;
        }
        let (pin, spec) = match (e.version, e.git, e.file) {
            (Some(v), _, _) => {
                let bare = v
                    .trim_start_matches("==")
                    .trim_start_matches('=')
                    .to_owned();
                (Pin::Exact(bare), format!("{name}{v}"))
            }
            (None, Some(git), _) => {
                let immutable = e
                    .git_ref
                    .as_deref()
                    .is_some_and(|r| r.len() >= 40 && r.chars().all(|c| c.is_ascii_hexdigit()));
                (
                    Pin::Url {
                        url: git.clone(),
                        immutable,
                    },
                    format!("{name} @ {git}"),
                )
            }
            (None, None, Some(f)) => (
                Pin::Url {
                    url: f.clone(),
                    immutable: !e.hashes.is_empty(),
                },
                format!("{name} @ {f}"),
            ),
            _ => (Pin::Any, name.clone()),
        };
        let line = super::line_containing(text, &format!("\"{name}\": {{"));
        let mut dep = Dependency::new(name, pin, spec).at_line(line);
        dep.hashes = e.hashes.len();
        out.dependencies.push(dep);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uv_lock() {
        let text = r#"
version = 1
[[package]]
name = "app"
version = "0.1.0"
source = { editable = "." }

[[package]]
name = "gradio"
version = "4.19.0"
source = { registry = "https://pypi.org/simple" }
"#;
        let m = parse_toml_lock(text).unwrap();
        assert_eq!(m.dependencies.len(), 1);
        assert_eq!(m.dependencies[0].version(), Some("4.19.0"));
        assert_eq!(m.dependencies[0].line, Some(9));
        assert_eq!(m.indexes[0].url, "https://pypi.org/simple");
    }

    #[test]
    fn poetry_pdm_and_pylock() {
        let poetry = "[[package]]\nname = \"Torch\"\nversion = \"1.13.0\"\n[package.source]\ntype = \"legacy\"\nurl = \"http://mirror.local/simple\"\nreference = \"m\"\n";
        let m = parse_toml_lock(poetry).unwrap();
        assert_eq!(
            (m.dependencies[0].name.as_str(), m.dependencies[0].version()),
            ("Torch", Some("1.13.0"))
        );
        assert_eq!(m.indexes[0].url, "http://mirror.local/simple");
        let pylock = "lock-version = \"1.0\"\ncreated-by = \"x\"\n[[packages]]\nname = \"mlflow\"\nversion = \"2.9.2\"\nindex = \"https://pypi.org/simple\"\n[[packages]]\nname = \"lib\"\n[packages.vcs]\ntype = \"git\"\nurl = \"https://github.com/o/lib\"\ncommit-id = \"abc\"\n";
        let m = parse_toml_lock(pylock).unwrap();
        assert_eq!(m.dependencies.len(), 2);
        assert_eq!(m.dependencies[0].version(), Some("2.9.2"));
        assert!(matches!(m.dependencies[1].pin, Pin::Url { .. }));
    }

    #[test]
    fn pipfile_lock() {
        let text = r#"{
    "_meta": {"sources": [{"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": true},
                          {"name": "in", "url": "https://in.example/simple", "verify_ssl": false}]},
    "default": {
        "jupyter-server": {"hashes": ["sha256:aa"], "version": "==1.0.0"},
        "lib": {"git": "https://github.com/o/lib.git", "ref": "0123456789abcdef0123456789abcdef01234567"}
    },
    "develop": {}
}"#;
        let m = parse_pipfile_lock(text).unwrap();
        assert_eq!(m.dependencies[0].version(), Some("1.0.0"));
        assert_eq!(m.dependencies[0].hashes, 1);
        assert_eq!(m.dependencies[0].line, Some(5));
        let kinds: Vec<_> = m.indexes.iter().map(|i| (i.kind, i.line)).collect();
        assert_eq!(
            kinds,
            vec![
                (IndexKind::Primary, Some(2)),
                (IndexKind::TrustedHost, Some(3)),
                (IndexKind::Primary, Some(3))
            ]
        );
        assert!(matches!(
            m.dependencies[1].pin,
            Pin::Url {
                immutable: true,
                ..
            }
        ));
        let e = parse_pipfile_lock("{\n \"default\": [").unwrap_err();
        assert!(e.message.starts_with("invalid JSON"));
    }

    #[test]
    fn malformed_lock() {
        let e = parse_toml_lock("[[package]]\nname = 3\n").unwrap_err();
        assert!(e.message.contains("invalid TOML"), "{}", e.message);
        assert_eq!(e.line, Some(2));
    }
}
