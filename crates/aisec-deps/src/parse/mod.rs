//! Manifest and lockfile parsers. Each turns one file into a [`Manifest`]:
//! the dependencies it names, where, how tightly pinned, and the package
//! indexes it installs from. Parsers never touch the network, the file
//! system or run code: the requirements parser (and the conda parser's pip
//! section) reads `-r`/`-c` includes only through the reader its caller
//! passes ([`requirements::Includes`]), which for a scan is the engine's
//! confined one. Messages quote scanned text only as
//! [`aisec_core::excerpt`]s, so a secret on a broken line is not reprinted.

pub mod conda;
pub mod lockfiles;
pub mod metadata;
pub mod pyproject;
pub mod requirements;

use aisec_core::{Confidence, escape_control, excerpt};

/// How a dependency's version is fixed by the file that names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pin {
    /// Exactly one version (`==1.2.3`, `===1.2.3`, a lockfile entry, an
    /// installed distribution): the version vulnerability matching uses.
    Exact(String),
    /// A range or wildcard (`>=1.2`, `~=1.2`, `==1.*`, `^1.2`): any version in
    /// it may be installed, so it is not matched against advisories.
    Range(String),
    /// No version constraint at all.
    Any,
    /// A URL, path or VCS reference. `immutable` when it names a fixed
    /// artifact (a commit hash, a wheel or sdist file, a URL with a hash).
    Url { url: String, immutable: bool },
}

/// One dependency named by a manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Dependency {
    /// The name as written (shown to users; normalised for lookups).
    pub name: String,
    /// The OSV ecosystem the name and version belong to.
    pub ecosystem: &'static str,
    pub pin: Pin,
    /// The requirement as written, for evidence.
    pub spec: String,
    /// 1-based line of the requirement, when the format has lines we track.
    pub line: Option<u32>,
    /// `--hash` options on the requirement (requirements files only).
    pub hashes: usize,
    /// How sure the parser is that name and version are the PyPI ones (conda
    /// packages usually, but not always, mirror PyPI releases).
    pub confidence: Confidence,
    /// The included file this came from, when not the scanned file itself.
    pub via: Option<String>,
}

impl Dependency {
    pub fn new(name: impl Into<String>, pin: Pin, spec: impl Into<String>) -> Self {
        Dependency {
            name: name.into(),
            ecosystem: crate::ecosystem::PYPI.name,
            pin,
            spec: spec.into(),
            line: None,
            hashes: 0,
            confidence: Confidence::High,
            via: None,
        }
    }

    pub fn at_line(mut self, line: Option<u32>) -> Self {
        self.line = line;
        self
    }

    /// The exactly pinned version, if any.
    pub fn version(&self) -> Option<&str> {
        match &self.pin {
            Pin::Exact(v) => Some(v),
            _ => None,
        }
    }
}

/// A package index or link source a file installs from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexSource {
    pub url: String,
    pub line: Option<u32>,
    pub kind: IndexKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexKind {
    /// Replaces the default index (`--index-url`, a lockfile's registry).
    Primary,
    /// Consulted beside the default index with no priority between them: the
    /// dependency-confusion setup (`--extra-index-url`, uv's
    /// `unsafe-best-match`).
    Extra,
    /// `--find-links`: a page or directory of archives.
    FindLinks,
    /// TLS verification off for a host or index (`--trusted-host`,
    /// Pipfile `verify_ssl = false`).
    TrustedHost,
}

/// A part of a file that could not be parsed; the rest still was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: Option<u32>,
    pub message: String,
}

/// A reference to a file outside the scanned tree (`-r /proc/self/environ`,
/// `-c ../../private.txt`): nothing of it was read. The scanner reports it
/// as `AISEC-GEN-007`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escape {
    /// The reference as written.
    pub reference: String,
    /// The line of the scanned file that (directly or through its includes)
    /// makes it.
    pub line: Option<u32>,
}

/// Which format a file is, decided by name (content is checked by the parser).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestKind {
    Requirements,
    PyProject,
    PoetryLock,
    UvLock,
    PipfileLock,
    PdmLock,
    PyLock,
    CondaEnv,
    /// `*.dist-info/METADATA` or `*.egg-info/PKG-INFO` of an installed package.
    InstalledMetadata,
}

impl ManifestKind {
    /// Whether loosely pinned requirements in this file are a finding: files
    /// that say what gets deployed. `pyproject.toml` declares a package's
    /// compatible ranges (a lockfile pins them), `*.in` files are pip-compile
    /// inputs, and lockfiles and installed metadata are pinned by nature.
    pub fn is_deployable(self) -> bool {
        matches!(self, ManifestKind::Requirements | ManifestKind::CondaEnv)
    }

    /// The kind of a file by its name (and directory, for installed metadata).
    pub fn from_path(path: &str) -> Option<ManifestKind> {
        let path = path.replace('\\', "/");
        let mut parts = path.rsplit('/');
        let name = parts.next().unwrap_or("");
        let parent = parts.next().unwrap_or("");
        let lower = name.to_ascii_lowercase();
        Some(match lower.as_str() {
            "pyproject.toml" => ManifestKind::PyProject,
            "poetry.lock" => ManifestKind::PoetryLock,
            "uv.lock" => ManifestKind::UvLock,
            "pipfile.lock" => ManifestKind::PipfileLock,
            "pdm.lock" => ManifestKind::PdmLock,
            "pylock.toml" => ManifestKind::PyLock,
            "metadata" if parent.ends_with(".dist-info") => ManifestKind::InstalledMetadata,
            "pkg-info" if parent.ends_with(".egg-info") => ManifestKind::InstalledMetadata,
            n if n.starts_with("pylock.") && n.ends_with(".toml") => ManifestKind::PyLock,
            n if is_requirements_name(n, parent) => ManifestKind::Requirements,
            n if (n.ends_with(".yml") || n.ends_with(".yaml"))
                && (n.contains("environment") || n.starts_with("conda")) =>
            {
                ManifestKind::CondaEnv
            }
            _ => return None,
        })
    }
}

/// `requirements.txt`, `requirements-dev.txt`, `dev-requirements.in`,
/// `constraints.txt`, and any `.txt`/`.in` in a `requirements/` directory.
fn is_requirements_name(lower: &str, parent: &str) -> bool {
    let stem = lower
        .strip_suffix(".txt")
        .or_else(|| lower.strip_suffix(".in"))
        .or_else(|| lower.strip_suffix(".pip"));
    let Some(stem) = stem else { return false };
    stem.contains("requirements")
        || stem.contains("constraints")
        || parent.eq_ignore_ascii_case("requirements")
}

/// What a parser made of one file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Manifest {
    pub dependencies: Vec<Dependency>,
    pub indexes: Vec<IndexSource>,
    pub problems: Vec<Problem>,
    /// References that tried to leave the scanned tree; not followed.
    pub escapes: Vec<Escape>,
    /// Whether the file asks for hash checking (`--require-hashes`).
    pub require_hashes: bool,
}

/// A whole file could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    pub line: Option<u32>,
    pub message: String,
}

impl ParseError {
    pub fn new(line: Option<u32>, message: impl Into<String>) -> Self {
        ParseError {
            line,
            message: message.into(),
        }
    }
}

/// The 1-based line of byte `offset` in `text`.
pub(crate) fn line_of_offset(text: &str, offset: usize) -> u32 {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u32
        + 1
}

/// The first line containing `needle`, for formats whose parser keeps no
/// positions (YAML, JSON): only to point the user at the entry, never to
/// decide what the entry is.
pub(crate) fn line_containing(text: &str, needle: &str) -> Option<u32> {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i as u32 + 1)
}

/// Parses a PEP 508 requirement, with a one-line error.
///
/// `pep508_rs` 0.9.2 panics (an `expect` in its name parser) when a package
/// name ends in `.`, `-` or `_` and something other than the end of input
/// follows (`foo. ==1.0`), and likewise for extras (`foo[bar. ]`); found by
/// the `manifests` fuzz target. Such names are invalid anyway, so they are
/// rejected here before the crate sees them.
pub(crate) fn pep508(spec: &str) -> Result<pep508_rs::Requirement<pep508_rs::VerbatimUrl>, String> {
    let trimmed = spec.trim_start();
    let name_len = trimmed
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
        .unwrap_or(trimmed.len());
    let bad_end = |s: &str| s.ends_with(['.', '-', '_']);
    // The line is the scanned file's content: quoted only as an excerpt.
    let shown = excerpt(spec);
    if bad_end(&trimmed[..name_len]) {
        return Err(format!(
            "invalid requirement `{shown}`: package name `{}` must end with a letter or digit",
            excerpt(&trimmed[..name_len])
        ));
    }
    // Same bug for extras (`pkg[tor. ]`): check each extra the same way.
    if let Some(extras) = trimmed[name_len..].trim_start().strip_prefix('[') {
        let extras = extras.split(']').next().unwrap_or(extras);
        for extra in extras.split(',') {
            let word = extra.split_whitespace().next().unwrap_or("");
            if bad_end(word) {
                return Err(format!(
                    "invalid requirement `{shown}`: extra `{}` must end with a letter or digit",
                    excerpt(word)
                ));
            }
        }
    }
    spec.parse::<pep508_rs::Requirement<pep508_rs::VerbatimUrl>>()
        .map_err(|e| {
            format!(
                "invalid requirement `{shown}`: {}",
                library_error(&e.to_string())
            )
        })
}

/// Characters of a parser library's error message shown at most.
const LIBRARY_ERROR_CHARS: usize = 160;

/// A parser library's error message (TOML, JSON, YAML, PEP 508), safe to
/// show: libraries quote the input they choke on (`invalid type: string
/// "..."`, `found `...``), and the input may be a secret. Keeps the first
/// line only, cuts every quoted fragment to a redacted [`excerpt`], masks
/// long tokens outside quotes the same way, escapes control characters and
/// caps the length.
pub(crate) fn library_error(message: &str) -> String {
    let first = message.lines().next().unwrap_or("");
    let mut out = String::new();
    let mut rest = first;
    while !rest.is_empty() {
        let Some(open) = rest.find(['"', '`']) else {
            push_words(&mut out, rest);
            break;
        };
        push_words(&mut out, &rest[..open]);
        let quote = rest.as_bytes()[open] as char;
        let body = &rest[open + 1..];
        // The closing quote; a backslash escapes one inside `"` (Rust's
        // and serde's Debug quoting).
        let mut close = None;
        let mut escaped = false;
        for (i, c) in body.char_indices() {
            if escaped {
                escaped = false;
            } else if c == '\\' && quote == '"' {
                escaped = true;
            } else if c == quote {
                close = Some(i);
                break;
            }
        }
        let end = close.unwrap_or(body.len());
        out.push(quote);
        out.push_str(&excerpt(&body[..end]));
        out.push(quote);
        rest = close.map_or("", |i| &body[i + 1..]);
    }
    let out = escape_control(&out);
    if out.chars().count() > LIBRARY_ERROR_CHARS {
        let cut: String = out.chars().take(LIBRARY_ERROR_CHARS).collect();
        return format!("{cut}…");
    }
    out
}

/// Library wording, word by word: words long enough to be keys go through
/// [`excerpt`] (which masks them when they look like one).
fn push_words(out: &mut String, text: &str) {
    let mut word_start = None;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        if c.is_whitespace() {
            if let Some(s) = word_start.take() {
                let word = &text[s..i];
                if word.len() >= 16 {
                    out.push_str(&excerpt(word));
                } else {
                    out.push_str(word);
                }
            }
            if i < text.len() {
                out.push(c);
            }
        } else if word_start.is_none() {
            word_start = Some(i);
        }
    }
}

/// Classifies a PEP 440 specifier set.
pub(crate) fn pin_of_specifiers(specs: &pep440_rs::VersionSpecifiers) -> Pin {
    use pep440_rs::Operator;
    if specs.is_empty() {
        return Pin::Any;
    }
    for s in specs.iter() {
        if matches!(s.operator(), Operator::Equal | Operator::ExactEqual) {
            return Pin::Exact(s.version().to_string());
        }
    }
    Pin::Range(specs.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_name() {
        let k = ManifestKind::from_path;
        assert_eq!(k("a/requirements.txt"), Some(ManifestKind::Requirements));
        assert_eq!(k("requirements-dev.txt"), Some(ManifestKind::Requirements));
        assert_eq!(k("dev-requirements.in"), Some(ManifestKind::Requirements));
        assert_eq!(k("requirements/base.txt"), Some(ManifestKind::Requirements));
        assert_eq!(k("notes.txt"), None);
        assert_eq!(k("x/Pipfile.lock"), Some(ManifestKind::PipfileLock));
        assert_eq!(k("pylock.prod.toml"), Some(ManifestKind::PyLock));
        assert_eq!(k("model/conda.yaml"), Some(ManifestKind::CondaEnv));
        assert_eq!(k("environment.yml"), Some(ManifestKind::CondaEnv));
        assert_eq!(k("ci.yml"), None);
        assert_eq!(
            k("venv/lib/site-packages/torch-2.0.0.dist-info/METADATA"),
            Some(ManifestKind::InstalledMetadata)
        );
        assert_eq!(k("docs/METADATA"), None);
    }

    #[test]
    fn pins() {
        let p = |s: &str| pin_of_specifiers(&s.parse().unwrap());
        assert_eq!(p("==1.2.3"), Pin::Exact("1.2.3".into()));
        assert_eq!(p(">=1,==1.4"), Pin::Exact("1.4".into()));
        assert_eq!(p("==1.*"), Pin::Range("==1.*".into()));
        assert_eq!(p(">=1.0"), Pin::Range(">=1.0".into()));
        assert_eq!(p(""), Pin::Any);
        assert_eq!(line_of_offset("a\nb\nc", 2), 2);
        assert_eq!(line_containing("x\n  \"torch\": {", "\"torch\""), Some(2));
    }

    #[test]
    fn names_that_crash_pep508_rs_are_errors() {
        for spec in [
            "foo. ==1.0",
            "descriptio. ",
            "a- ;x",
            "b_ [x]",
            "t[tor. ]",
            "t [a,b- ]==1",
        ] {
            let e = pep508(spec).unwrap_err();
            assert!(e.contains("must end with a letter or digit"), "{e}");
        }
        assert!(pep508("foo.bar==1").is_ok());
        assert!(pep508("foo[a.b, c]==1").is_ok());
        assert!(pep508("foo.").is_err());
    }
}
