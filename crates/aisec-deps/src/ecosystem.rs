//! Ecosystems as data: how an OSV ecosystem names packages and which version
//! scheme orders its versions. Adding npm, crates.io or Go is one more entry in
//! [`ECOSYSTEMS`] (and a [`VersionScheme`] if none fits); the database, the
//! matcher and the scanner only ever see ecosystem names and this table.

use std::cmp::Ordering;
use std::str::FromStr;

/// Orders the versions of one scheme. Implementations parse on every call:
/// a dependency meets a handful of range events, so a cache would cost more
/// than it saves, and strings keep the stored database scheme-agnostic.
pub trait VersionScheme: Send + Sync {
    /// A short name for messages (`PEP 440`).
    fn name(&self) -> &'static str;
    /// `None` when either side is not a version of this scheme.
    fn compare(&self, a: &str, b: &str) -> Option<Ordering>;
    /// One spelling per version: two versions are equal exactly when their
    /// canonical forms are, so listed versions can be stored canonical and
    /// sorted, and membership is a binary search instead of hundreds of
    /// parses. `None` when `v` is not a version of this scheme.
    fn canonical(&self, v: &str) -> Option<String>;
}

/// PEP 440, via `pep440_rs` (the implementation uv and ruff use), so `1.0`
/// equals `1.0.0`, `2.0rc1 < 2.0`, `1.0.post1 > 1.0` and epochs count.
pub struct Pep440;

impl VersionScheme for Pep440 {
    fn name(&self) -> &'static str {
        "PEP 440"
    }

    fn compare(&self, a: &str, b: &str) -> Option<Ordering> {
        let a = pep440_rs::Version::from_str(a.trim()).ok()?;
        let b = pep440_rs::Version::from_str(b.trim()).ok()?;
        Some(a.cmp(&b))
    }

    fn canonical(&self, v: &str) -> Option<String> {
        let v = pep440_rs::Version::from_str(v.trim()).ok()?;
        // PEP 440 pads releases with zeros when comparing: 1.0 == 1.0.0.
        let mut release = v.release().to_vec();
        while release.len() > 1 && release.last() == Some(&0) {
            release.pop();
        }
        Some(v.with_release(release).to_string())
    }
}

/// SemVer 2.0, the scheme OSV prescribes for `SEMVER` ranges whatever the
/// ecosystem. A leading `v` is tolerated because advisories copy tags.
pub struct SemVer;

impl VersionScheme for SemVer {
    fn name(&self) -> &'static str {
        "SemVer"
    }

    fn compare(&self, a: &str, b: &str) -> Option<Ordering> {
        let parse = |s: &str| semver::Version::parse(s.trim().trim_start_matches('v')).ok();
        Some(parse(a)?.cmp_precedence(&parse(b)?))
    }

    fn canonical(&self, v: &str) -> Option<String> {
        let mut v = semver::Version::parse(v.trim().trim_start_matches('v')).ok()?;
        // Build metadata does not take part in precedence.
        v.build = semver::BuildMetadata::EMPTY;
        Some(v.to_string())
    }
}

/// Canonical forms of `versions`, sorted and deduplicated (the stored form of
/// OSV `versions` lists); spellings the scheme cannot parse are kept as is.
pub fn canonical_versions(scheme: &dyn VersionScheme, versions: &[String]) -> Vec<String> {
    let mut out: Vec<String> = versions
        .iter()
        .map(|v| scheme.canonical(v).unwrap_or_else(|| v.clone()))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// One OSV ecosystem.
pub struct Ecosystem {
    /// The name OSV uses in `affected[].package.ecosystem`.
    pub name: &'static str,
    /// Makes two spellings of one package the same key in the database.
    pub normalize: fn(&str) -> String,
    /// Orders `ECOSYSTEM` range events and listed versions.
    pub scheme: &'static dyn VersionScheme,
    /// Where a human reads an advisory of this ecosystem.
    pub advisory_url: fn(&str) -> String,
}

/// The PyPI ecosystem.
pub static PYPI: Ecosystem = Ecosystem {
    name: "PyPI",
    normalize: normalize_pypi,
    scheme: &Pep440,
    advisory_url: osv_url,
};

/// Every ecosystem aisec can store and match. Advisories of other ecosystems
/// in an export are counted at import and left out.
pub static ECOSYSTEMS: &[&Ecosystem] = &[&PYPI];

/// The ecosystem of an OSV ecosystem string. OSV qualifies some ecosystems
/// with a release (`Debian:12`); the qualifier is not part of the lookup.
pub fn ecosystem(name: &str) -> Option<&'static Ecosystem> {
    let base = name.split(':').next().unwrap_or(name);
    ECOSYSTEMS.iter().copied().find(|e| e.name == base)
}

/// PEP 503: runs of `-`, `_` and `.` are one `-`, case is ignored, so
/// `Jupyter_Server`, `jupyter.server` and `jupyter-server` are one package.
pub fn normalize_pypi(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// The OSV page of an advisory, whatever database it came from: one place
/// that shows the record aisec matched, with all its aliases.
pub fn osv_url(id: &str) -> String {
    format!("https://osv.dev/vulnerability/{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep503_names() {
        assert_eq!(normalize_pypi("Jupyter_Server"), "jupyter-server");
        assert_eq!(normalize_pypi("zope.interface"), "zope-interface");
        assert_eq!(normalize_pypi("a--_.b"), "a-b");
        assert_eq!(normalize_pypi(" Torch "), "torch");
    }

    #[test]
    fn pep440_orders_like_pip() {
        let c = |a, b| Pep440.compare(a, b);
        assert_eq!(c("1.0", "1.0.0"), Some(Ordering::Equal));
        assert_eq!(c("2.0rc1", "2.0"), Some(Ordering::Less));
        assert_eq!(c("1.0.post1", "1.0"), Some(Ordering::Greater));
        assert_eq!(c("1!0.1", "2.0"), Some(Ordering::Greater));
        assert_eq!(c("1.10", "1.9"), Some(Ordering::Greater));
        assert_eq!(c("not a version", "1.0"), None);
        assert_eq!(Pep440.canonical("1.0.0").as_deref(), Some("1"));
        assert_eq!(Pep440.canonical("1.10.0rc1").as_deref(), Some("1.10rc1"));
        assert_eq!(Pep440.canonical("0.0").as_deref(), Some("0"));
        assert_eq!(Pep440.canonical("v1.2-post3").as_deref(), Some("1.2.post3"));
    }

    #[test]
    fn semver_and_lookup() {
        assert_eq!(SemVer.compare("v1.2.3", "1.2.10"), Some(Ordering::Less));
        assert_eq!(SemVer.compare("1.0.0-alpha", "1.0.0"), Some(Ordering::Less));
        assert_eq!(ecosystem("PyPI").map(|e| e.name), Some("PyPI"));
        assert!(ecosystem("npm").is_none());
    }
}
