//! The OSV schema as far as aisec reads it, and the compact form one advisory
//! takes in the local database.
//!
//! Only what matching and reporting need is kept: the `details` prose, credits
//! and most references stay in the export, which is why the stored database is
//! a fraction of its size.

use std::str::FromStr;

use aisec_core::Severity;
use serde::{Deserialize, Serialize};

/// One OSV record as published (`<ID>.json` in an export).
#[derive(Debug, Deserialize)]
pub(crate) struct OsvRecord {
    pub id: String,
    #[serde(default)]
    pub modified: String,
    #[serde(default)]
    pub published: Option<String>,
    #[serde(default)]
    pub withdrawn: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub details: Option<String>,
    #[serde(default)]
    pub severity: Vec<OsvSeverity>,
    #[serde(default)]
    pub affected: Vec<OsvAffected>,
    #[serde(default)]
    pub database_specific: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct OsvSeverity {
    #[serde(rename = "type")]
    pub kind: String,
    pub score: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct OsvAffected {
    #[serde(default)]
    pub package: Option<OsvPackage>,
    #[serde(default)]
    pub severity: Vec<OsvSeverity>,
    #[serde(default)]
    pub ranges: Vec<OsvRange>,
    #[serde(default)]
    pub versions: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct OsvPackage {
    pub name: String,
    pub ecosystem: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct OsvRange {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub events: Vec<Event>,
}

/// A range event. OSV puts exactly one of these keys in each event object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

impl Event {
    pub fn version(&self) -> &str {
        match self {
            Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v) => v,
        }
    }
}

/// Which scheme orders a range's events. `GIT` ranges name commits, which only
/// a clone of the repository can order; they are dropped at import and the
/// record's `versions` list (which OSV derives from them) covers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RangeKind {
    #[serde(rename = "E")]
    Ecosystem,
    #[serde(rename = "S")]
    SemVer,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRange {
    #[serde(rename = "k")]
    pub kind: RangeKind,
    #[serde(rename = "e")]
    pub events: Vec<Event>,
}

/// One advisory as it concerns one package, as stored in the database.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredAdvisory {
    pub id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// The `summary`, or the first sentence of `details` when there is none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub modified: String,
    /// The CVSS vector the score was computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cvss: Option<String>,
    /// CVSS base score, computed at import from [`Self::cvss`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// A severity word from `database_specific` (GitHub's `MODERATE`...),
    /// used only when there is no vector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity_label: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<StoredRange>,
    /// Affected versions listed explicitly, in the ecosystem scheme's
    /// canonical form, sorted (see [`crate::ecosystem::canonical_versions`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
}

impl StoredAdvisory {
    /// OSV's `MAL-` prefix marks records of the malicious-packages database:
    /// the package itself is the attack, every version of it.
    pub fn is_malicious(&self) -> bool {
        self.id.starts_with("MAL-") || self.aliases.iter().any(|a| a.starts_with("MAL-"))
    }

    /// Severity from the CVSS score, else from the label; `None` when the
    /// advisory rates itself nowhere.
    pub fn severity(&self) -> Option<Severity> {
        if let Some(score) = self.score {
            return Some(severity_of_score(score));
        }
        self.severity_label
            .as_deref()
            .and_then(|l| Severity::from_str(l).ok())
    }
}

/// The CVSS v3/v4 qualitative scale (identical in both versions).
pub fn severity_of_score(score: f64) -> Severity {
    if score >= 9.0 {
        Severity::Critical
    } else if score >= 7.0 {
        Severity::High
    } else if score >= 4.0 {
        Severity::Medium
    } else if score > 0.0 {
        Severity::Low
    } else {
        Severity::Info
    }
}

/// The base score of the best vector among `severity` entries: the newest CVSS
/// version wins, because that is what the advisory's authors rated last.
pub(crate) fn cvss_score(entries: &[OsvSeverity]) -> Option<(String, f64)> {
    let rank = |kind: &str| match kind {
        "CVSS_V4" => 3,
        "CVSS_V3" => 2,
        "CVSS_V2" => 1,
        _ => 0,
    };
    let mut best: Option<(i32, String, f64)> = None;
    for e in entries {
        let r = rank(&e.kind);
        if r == 0 || best.as_ref().is_some_and(|(b, _, _)| *b >= r) {
            continue;
        }
        // A v2 vector has no `CVSS:` prefix; the crate tells the versions
        // apart by that prefix, so v2 is parsed by its own type.
        let score = if e.kind == "CVSS_V2" {
            cvss::v2::Vector::from_str(&e.score)
                .ok()
                .map(|v| v.score().value())
        } else {
            cvss::Cvss::from_str(&e.score).ok().map(|v| v.score())
        };
        if let Some(score) = score {
            best = Some((r, e.score.clone(), score));
        }
    }
    best.map(|(_, v, s)| (v, s))
}

/// The first sentence (or line) of a long text, for one-line messages.
pub(crate) fn first_sentence(text: &str) -> String {
    const MAX: usize = 160;
    let line = text.trim().lines().next().unwrap_or("").trim();
    let end = line.find(". ").map(|i| i + 1).unwrap_or(line.len());
    let s = &line[..end];
    if s.chars().count() > MAX {
        let cut: String = s.chars().take(MAX).collect();
        format!("{}...", cut.trim_end())
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sev(kind: &str, score: &str) -> OsvSeverity {
        OsvSeverity {
            kind: kind.into(),
            score: score.into(),
        }
    }

    #[test]
    fn cvss_base_scores() {
        let (v, s) = cvss_score(&[sev(
            "CVSS_V3",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        )])
        .unwrap();
        assert!(v.starts_with("CVSS:3.1"));
        assert_eq!(s, 9.8);
        let (_, s) = cvss_score(&[
            sev("CVSS_V2", "AV:N/AC:L/Au:N/C:P/I:P/A:P"),
            sev("CVSS_V3", "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N"),
        ])
        .unwrap();
        assert_eq!(s, 3.1);
        let (_, s) = cvss_score(&[sev("CVSS_V2", "AV:N/AC:L/Au:N/C:P/I:P/A:P")]).unwrap();
        assert_eq!(s, 7.5);
        assert!(cvss_score(&[sev("CVSS_V3", "garbage")]).is_none());
        assert_eq!(severity_of_score(9.8), Severity::Critical);
        assert_eq!(severity_of_score(5.3), Severity::Medium);
    }

    #[test]
    fn events_round_trip_as_osv_spells_them() {
        let e: Vec<Event> =
            serde_json::from_str(r#"[{"introduced":"0"},{"last_affected":"1.2"},{"limit":"3"}]"#)
                .unwrap();
        assert_eq!(e[1], Event::LastAffected("1.2".into()));
        assert_eq!(e[2].version(), "3");
    }

    #[test]
    fn summaries_are_one_sentence() {
        assert_eq!(
            first_sentence("Path traversal in x. More text."),
            "Path traversal in x."
        );
        assert_eq!(first_sentence("\n  one line\nsecond"), "one line");
        assert!(first_sentence(&"a".repeat(500)).ends_with("..."));
    }
}
