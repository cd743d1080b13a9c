//! The [`Scanner`] that ties parsers, database and rules together.

use aisec_core::{
    FileInput, FileKind, Finding, Reference, ScanContext, Scanner, Severity, excerpt, generic,
};

use crate::db::VulnDb;
use crate::ecosystem::{self, osv_url};
use crate::matcher::{self, Vulnerability};
use crate::parse::requirements::Includes;
use crate::parse::{Dependency, IndexKind, Manifest, ManifestKind, ParseError, Pin};
use crate::rules;

/// Finds vulnerable, malicious and loosely pinned Python dependencies in
/// manifests, lockfiles and installed metadata. Without a database it still
/// reports the hygiene rules; say so to the user with [`crate::db_status_line`].
///
/// File access beyond `file.bytes`: `-r`/`-c` includes of requirements files
/// and conda `pip:` sections are read through [`ScanContext::read_sibling`]
/// only (the engine confines them to the scanned tree; depth bounded, loops
/// detected). An include that leaves the tree is not read and is reported
/// as `AISEC-GEN-007` at its line. Nothing is opened here, nothing is
/// executed.
pub struct DepsScanner {
    db: Option<VulnDb>,
}

/// The dependency scanner, matching against `db` when there is one.
pub fn scanner(db: Option<VulnDb>) -> DepsScanner {
    DepsScanner { db }
}

impl DepsScanner {
    pub fn db(&self) -> Option<&VulnDb> {
        self.db.as_ref()
    }
}

/// Parses one manifest of a known kind without following its includes:
/// `-r`/`-c` lines are reported as not followed. Parsers never open files
/// (a `-r /proc/self/environ` in a scanned tree must not be read); callers
/// that can read referenced files safely, through the engine, use
/// [`parse_manifest_with`].
pub fn parse_manifest(kind: ManifestKind, text: &str) -> Result<Manifest, ParseError> {
    parse_manifest_with(kind, text, None)
}

/// Parses one manifest of a known kind; `-r`/`-c` includes (of requirements
/// files and conda `pip:` sections) are read through `includes` only.
pub fn parse_manifest_with(
    kind: ManifestKind,
    text: &str,
    includes: Option<&Includes<'_>>,
) -> Result<Manifest, ParseError> {
    use crate::parse::{conda, lockfiles, metadata, pyproject, requirements};
    match kind {
        ManifestKind::Requirements => Ok(requirements::parse(text, includes)),
        ManifestKind::PyProject => pyproject::parse(text),
        ManifestKind::PoetryLock
        | ManifestKind::UvLock
        | ManifestKind::PdmLock
        | ManifestKind::PyLock => lockfiles::parse_toml_lock(text),
        ManifestKind::PipfileLock => lockfiles::parse_pipfile_lock(text),
        ManifestKind::CondaEnv => conda::parse(text, includes),
        ManifestKind::InstalledMetadata => metadata::parse(text),
    }
}

fn kind_of(file: &FileInput<'_>) -> Option<ManifestKind> {
    let inner = match file.member {
        Some(m) => m.rsplit(aisec_core::MEMBER_SEPARATOR).next().unwrap_or(m),
        None => file.path,
    };
    ManifestKind::from_path(inner)
}

/// Content sanity on the sniffed head, so a binary or an unrelated file that
/// happens to carry a manifest's name is left alone.
fn content_fits(kind: ManifestKind, head: &str) -> bool {
    match kind {
        ManifestKind::Requirements => true,
        ManifestKind::PyProject => head.contains('['),
        ManifestKind::PoetryLock | ManifestKind::UvLock | ManifestKind::PdmLock => {
            head.contains("[[package]]") || head.contains("version")
        }
        ManifestKind::PyLock => head.contains("lock-version") || head.contains("[[packages]]"),
        ManifestKind::PipfileLock => head.trim_start().starts_with('{'),
        ManifestKind::CondaEnv => head.contains("dependencies"),
        ManifestKind::InstalledMetadata => head
            .get(..16)
            .is_some_and(|h| h.eq_ignore_ascii_case("metadata-version")),
    }
}

impl Scanner for DepsScanner {
    fn name(&self) -> &'static str {
        "deps"
    }

    fn rules(&self) -> &'static [&'static aisec_core::Rule] {
        rules::RULES
    }

    fn detect(&self, file: &FileInput<'_>) -> bool {
        let Some(kind) = kind_of(file) else {
            return false;
        };
        if file.kind == FileKind::Binary && utf16(file.bytes).is_some() {
            let head = &file.bytes[..file.bytes.len().min(aisec_core::SNIFF_LEN) & !1];
            return utf16(head).is_some_and(|h| content_fits(kind, &h));
        }
        if file.kind != FileKind::Text {
            return false;
        }
        let head = &file.bytes[..file.bytes.len().min(aisec_core::SNIFF_LEN)];
        let head = match std::str::from_utf8(head) {
            Ok(h) => h,
            Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or(""),
        };
        content_fits(kind, head)
    }

    fn scan(&self, file: &FileInput<'_>, ctx: &ScanContext<'_>) -> Vec<Finding> {
        let Some(kind) = kind_of(file) else {
            return Vec::new();
        };
        if file.bytes.len() as u64 > ctx.limits.max_full_read {
            return vec![Finding::new(
                &generic::LIMIT_EXCEEDED,
                file,
                format!(
                    "{} bytes is more than the full-read limit ({}); dependencies were not checked",
                    file.bytes.len(),
                    ctx.limits.max_full_read
                ),
            )];
        }
        let decoded = utf16(file.bytes);
        let Ok(text) = decoded
            .as_deref()
            .map_or_else(|| std::str::from_utf8(file.bytes), Ok)
        else {
            return vec![Finding::new(
                &generic::MALFORMED,
                file,
                format!(
                    "{}: not UTF-8 text; dependencies were not checked",
                    file.display()
                ),
            )];
        };
        // Editors on Windows start files with a byte-order mark.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let read = |reference: &str| ctx.read_sibling(file, reference);
        let includes = Includes {
            from: file.path,
            read: &read,
        };
        let manifest = match parse_manifest_with(kind, text, Some(&includes)) {
            Ok(m) => m,
            Err(e) => {
                let mut f = Finding::new(
                    &generic::MALFORMED,
                    file,
                    format!(
                        "{}: {}; dependencies were not checked",
                        file.display(),
                        e.message
                    ),
                );
                if let Some(line) = e.line {
                    f = f.line(line, None);
                }
                return vec![f];
            }
        };
        self.findings(file, kind, &manifest)
    }
}

impl DepsScanner {
    /// All findings for one parsed manifest.
    pub fn findings(&self, file: &FileInput<'_>, kind: ManifestKind, m: &Manifest) -> Vec<Finding> {
        let mut out = Vec::new();
        let at = |f: Finding, line: Option<u32>| match line {
            Some(l) => f.line(l, None),
            None => f,
        };
        for e in &m.escapes {
            out.push(at(ScanContext::escape_finding(file, &e.reference), e.line));
        }
        for p in &m.problems {
            out.push(at(
                Finding::new(
                    &generic::MALFORMED,
                    file,
                    format!(
                        "{}: {}; the rest of the file was checked",
                        file.display(),
                        p.message
                    ),
                ),
                p.line,
            ));
        }
        if let Some(db) = &self.db {
            for dep in &m.dependencies {
                self.match_dependency(db, file, dep, &mut out);
            }
        }
        if kind.is_deployable() && !file.name().to_ascii_lowercase().ends_with(".in") {
            for dep in &m.dependencies {
                if let Some(f) = unpinned(file, dep) {
                    out.push(at(f, dep.line));
                }
            }
        }
        if kind == ManifestKind::Requirements || kind == ManifestKind::CondaEnv {
            let hashing = m.require_hashes || m.dependencies.iter().any(|d| d.hashes > 0);
            for dep in m.dependencies.iter().filter(|d| hashing && d.hashes == 0) {
                let local = matches!(&dep.pin, Pin::Url { url, .. } if !url.contains("://"));
                if local || dep.via.is_some() {
                    continue;
                }
                out.push(at(
                    Finding::new(
                        &rules::MISSING_HASHES,
                        file,
                        format!(
                            "{} has no --hash, unlike the other requirements of this file",
                            display_name(dep)
                        ),
                    )
                    .evidence(excerpt(&dep.spec)),
                    dep.line,
                ));
            }
        }
        for index in &m.indexes {
            let plain_http = index.url.to_ascii_lowercase().starts_with("http://");
            // An index URL may carry credentials (`https://user:TOKEN@host`):
            // quoted only as a redacted excerpt.
            let url = excerpt(&index.url);
            let what = match index.kind {
                IndexKind::Primary => "package index",
                IndexKind::Extra => "extra package index",
                IndexKind::FindLinks => "--find-links location",
                IndexKind::TrustedHost => "--trusted-host",
            };
            if plain_http {
                out.push(at(
                    Finding::new(
                        &rules::INSECURE_SOURCE,
                        file,
                        format!(
                            "{what} {} is plain HTTP: packages can be swapped in transit",
                            url
                        ),
                    )
                    .evidence(url.clone()),
                    index.line,
                ));
            } else if index.kind == IndexKind::TrustedHost {
                out.push(at(
                    Finding::new(
                        &rules::INSECURE_SOURCE,
                        file,
                        format!(
                            "TLS verification is turned off for {}: packages can be swapped in transit",
                            url
                        ),
                    )
                    .evidence(url.clone()),
                    index.line,
                ));
            }
            if index.kind == IndexKind::Extra {
                out.push(at(
                    Finding::new(
                        &rules::EXTRA_INDEX,
                        file,
                        format!(
                            "extra index {} is mixed with the default index: a public package with an internal name and a higher version wins",
                            url
                        ),
                    )
                    .evidence(url.clone()),
                    index.line,
                ));
            }
        }
        for dep in &m.dependencies {
            if let Pin::Url { url, .. } = &dep.pin
                && url_is_plain_http(url)
            {
                out.push(at(
                    Finding::new(
                        &rules::INSECURE_SOURCE,
                        file,
                        format!("{} is downloaded over plain HTTP", display_name(dep)),
                    )
                    .evidence(excerpt(&dep.spec)),
                    dep.line,
                ));
            }
        }
        out
    }

    fn match_dependency(
        &self,
        db: &VulnDb,
        file: &FileInput<'_>,
        dep: &Dependency,
        out: &mut Vec<Finding>,
    ) {
        let (Some(version), false) = (dep.version(), dep.name.is_empty()) else {
            return;
        };
        let Some(eco) = ecosystem::ecosystem(dep.ecosystem) else {
            return;
        };
        let advisories = match db.advisories(eco, &dep.name) {
            Ok(a) => a,
            Err(e) => {
                out.push(Finding::new(
                    &generic::MALFORMED,
                    file,
                    format!("{} could not be checked: {e}", dep.name),
                ));
                return;
            }
        };
        for v in matcher::vulnerabilities(eco, version, &advisories) {
            out.push(vulnerability_finding(file, dep, version, &v));
        }
    }
}

fn vulnerability_finding(
    file: &FileInput<'_>,
    dep: &Dependency,
    version: &str,
    v: &Vulnerability,
) -> Finding {
    let aliases = if v.aliases.is_empty() {
        String::new()
    } else {
        format!(" ({})", v.aliases.join(", "))
    };
    let via = dep
        .via
        .as_deref()
        .map(|p| format!(" [via {p}]"))
        .unwrap_or_default();
    let summary = if v.summary.is_empty() {
        String::new()
    } else {
        format!(": {}", v.summary)
    };
    let (rule, severity, advice) = if v.malicious {
        (
            &rules::MALICIOUS,
            Severity::Critical,
            "remove it and treat machines that installed it as compromised".to_owned(),
        )
    } else {
        let advice = match &v.fixed {
            Some(f) => format!("fixed in {f}"),
            None => "no fixed version is published".to_owned(),
        };
        (
            &rules::VULNERABLE,
            v.severity.unwrap_or(rules::VULNERABLE.default_severity),
            advice,
        )
    };
    let what = if v.malicious {
        "is a known malicious package"
    } else {
        "has a known vulnerability"
    };
    let cvss = v
        .cvss
        .as_ref()
        .map(|(vector, score)| format!(" [CVSS {score:.1} {vector}]"))
        .unwrap_or_default();
    let mut f = Finding::new(
        rule,
        file,
        format!(
            "{} {version} {what}, {}{aliases}{summary}; {advice}{cvss}{via}",
            dep.name, v.id
        ),
    )
    .evidence(format!("{} {}", excerpt(&dep.spec), v.id))
    .severity(severity)
    .confidence(dep.confidence);
    for id in v.ids() {
        f = f.reference(Reference::owned(id, osv_url(id)));
    }
    if let Some(l) = dep.line {
        f = f.line(l, None);
    }
    f
}

/// Text with a UTF-16 byte-order mark, decoded: `pip freeze > file` in
/// Windows PowerShell writes UTF-16LE. `None` for anything else, or when the
/// UTF-16 is broken.
fn utf16(bytes: &[u8]) -> Option<String> {
    let (le, body) = match bytes {
        [0xFF, 0xFE, rest @ ..] => (true, rest),
        [0xFE, 0xFF, rest @ ..] => (false, rest),
        _ => return None,
    };
    let units = body.chunks_exact(2).map(|c| {
        let pair = [c[0], c[1]];
        if le {
            u16::from_le_bytes(pair)
        } else {
            u16::from_be_bytes(pair)
        }
    });
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .ok()
}

/// The dependency as named in messages: its name, or (for a nameless URL or
/// path) an excerpt of the requirement.
fn display_name(dep: &Dependency) -> String {
    excerpt(if dep.name.is_empty() {
        &dep.spec
    } else {
        &dep.name
    })
}

fn url_is_plain_http(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let bare = lower.split_once('+').map_or(lower.as_str(), |(vcs, rest)| {
        if ["git", "hg", "svn", "bzr"].contains(&vcs) {
            rest
        } else {
            lower.as_str()
        }
    });
    bare.starts_with("http://")
}

fn unpinned(file: &FileInput<'_>, dep: &Dependency) -> Option<Finding> {
    let name = display_name(dep);
    let message = match &dep.pin {
        Pin::Exact(_)
        | Pin::Url {
            immutable: true, ..
        } => return None,
        Pin::Any => format!("{name} has no version pin: every install takes the newest release"),
        Pin::Range(r) => format!(
            "{name} is pinned to a range ({r}), not one version: installs differ over time and cannot be checked for advisories"
        ),
        Pin::Url { .. } => format!(
            "{name} comes from a URL or VCS reference that can change (no commit hash or #sha256=)"
        ),
    };
    Some(
        Finding::new(&rules::UNPINNED, file, message)
            .evidence(excerpt(&dep.spec))
            .confidence(dep.confidence),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_requirements_from_powershell() {
        let mut le = vec![0xFF, 0xFE];
        for u in "mlflow==1.0\r\nnumpy\r\n".encode_utf16() {
            le.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(utf16(&le).as_deref(), Some("mlflow==1.0\r\nnumpy\r\n"));
        let mut be = vec![0xFE, 0xFF];
        for u in "x".encode_utf16() {
            be.extend_from_slice(&u.to_be_bytes());
        }
        assert_eq!(utf16(&be).as_deref(), Some("x"));
        assert_eq!(utf16(b"plain"), None);
        // A lone surrogate is not text.
        assert_eq!(utf16(&[0xFF, 0xFE, 0x00, 0xD8]), None);

        let path = std::path::Path::new("requirements.txt");
        let input = FileInput::on_disk("requirements.txt", path, &le);
        assert_eq!(input.kind, FileKind::Binary);
        let s = scanner(None);
        assert!(s.detect(&input));
        let limits = aisec_core::Limits::default();
        let ctx = ScanContext::new(&limits, &[]);
        let found: Vec<_> = s
            .scan(&input, &ctx)
            .into_iter()
            .map(|f| (f.rule_id, f.location.line))
            .collect();
        assert_eq!(found, vec![("AISEC-DEP-003".to_owned(), Some(2))]);
    }
}
