//! `aisec.toml`: which rules run, at what severity, what is excluded, and
//! which findings are waived (with a reason, until a date).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use aisec_core::{RuleRegistry, RuleSelector, Severity};
use serde::Deserialize;
use toml::Spanned;

/// The file name looked for in the scan root and its parents.
pub const CONFIG_FILE_NAME: &str = "aisec.toml";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    #[serde(default)]
    pub scan: ScanSection,
    #[serde(default)]
    pub rules: RulesSection,
    #[serde(default)]
    pub limits: LimitsSection,
    #[serde(default, rename = "waiver")]
    pub waivers: Vec<Spanned<Waiver>>,
    /// Where the config was read from (not a key in the file).
    #[serde(skip)]
    pub source: Option<PathBuf>,
    /// Byte offsets where each line of the file starts, to turn spans into
    /// the line numbers that errors and findings show.
    #[serde(skip)]
    line_starts: Vec<usize>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ScanSection {
    #[serde(default)]
    pub exclude: Vec<String>,
    #[serde(default)]
    pub include: Vec<String>,
    pub fail_on: Option<Severity>,
    pub follow_symlinks: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RulesSection {
    /// Rule selectors (ids, or family prefixes such as `AISEC-DEP`) that do
    /// not report.
    #[serde(default)]
    pub disable: Vec<Spanned<String>>,
    /// Rule selector → severity; the most specific selector wins.
    #[serde(default)]
    pub severity: BTreeMap<Spanned<String>, Severity>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LimitsSection {
    pub max_file_size: Option<u64>,
    pub max_decompressed: Option<u64>,
    pub max_nesting: Option<u32>,
    /// Decompressed bytes of one top-level file across all nesting levels.
    pub max_file_decompressed: Option<u64>,
    /// Archive members of one top-level file across all nesting levels.
    pub max_file_members: Option<u64>,
    /// Seconds one top-level file may take, all scanners included.
    pub max_file_seconds: Option<u64>,
}

/// A promise that a finding is known and accepted, for a reason, maybe until
/// a date. At least one of `rule`, `path`, `fingerprint` must be given.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Waiver {
    /// Rule selector (an id or a family prefix such as `AISEC-PKL`) this
    /// waiver applies to (all rules when absent).
    pub rule: Option<Spanned<String>>,
    /// Glob over the finding's path (`models/legacy/**`); all paths when absent.
    pub path: Option<String>,
    /// One exact finding, by the fingerprint in the JSON report.
    pub fingerprint: Option<String>,
    /// Why this is acceptable. Mandatory: a waiver without a reason is a
    /// finding someone forgot.
    pub reason: String,
    /// Last day the waiver applies (`YYYY-MM-DD`, inclusive), as a TOML date
    /// or a string.
    #[serde(default, deserialize_with = "deserialize_date")]
    pub expires: Option<jiff::civil::Date>,
}

fn deserialize_date<'de, D>(d: D) -> Result<Option<jiff::civil::Date>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum DateForm {
        Toml(toml::value::Datetime),
        Text(String),
    }
    let text = match DateForm::deserialize(d)? {
        DateForm::Toml(dt) => dt.to_string(),
        DateForm::Text(s) => s,
    };
    text.parse::<jiff::civil::Date>()
        .map(Some)
        .map_err(|e| serde::de::Error::custom(format!("`{text}` is not a YYYY-MM-DD date: {e}")))
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read config: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: invalid config: {message}")]
    Invalid { path: String, message: String },
}

impl Config {
    pub fn from_toml(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let mut config: Config = toml::from_str(text).map_err(|e| ConfigError::Invalid {
            path: path.display().to_string(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        config.source = Some(path.to_path_buf());
        config.line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        config.validate()?;
        Ok(config)
    }

    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Config::from_toml(&text, path)
    }

    /// `aisec.toml` in `start` (a directory, or a file's directory) or the
    /// nearest parent that has one.
    pub fn discover(start: &Path) -> Option<PathBuf> {
        let start = std::fs::canonicalize(start).ok()?;
        let mut dir = if start.is_dir() {
            Some(start.as_path())
        } else {
            start.parent()
        };
        while let Some(d) = dir {
            let candidate = d.join(CONFIG_FILE_NAME);
            if candidate.is_file() {
                return Some(candidate);
            }
            dir = d.parent();
        }
        None
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: self
                .source
                .as_deref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            message,
        };
        for (i, spanned) in self.waivers.iter().enumerate() {
            let w = spanned.get_ref();
            let at = format!(
                "waiver #{} (line {})",
                i + 1,
                self.line_of(spanned.span().start)
            );
            if w.reason.trim().is_empty() {
                return Err(invalid(format!(
                    "{at} has an empty `reason`; say why the finding is acceptable"
                )));
            }
            if w.rule.is_none() && w.path.is_none() && w.fingerprint.is_none() {
                return Err(invalid(format!(
                    "{at} matches everything; give a `rule`, a `path` or a `fingerprint`"
                )));
            }
            if let Some(p) = &w.path {
                globset::Glob::new(p).map_err(|e| invalid(format!("{at}: bad path glob: {e}")))?;
            }
        }
        Ok(())
    }

    /// The 1-based line of a byte offset in the config file (1 when the
    /// config did not come from a file).
    pub fn line_of(&self, offset: usize) -> u32 {
        let line = self.line_starts.partition_point(|&start| start <= offset);
        u32::try_from(line.max(1)).unwrap_or(u32::MAX)
    }

    /// Every rule selector the config names, with the line it is on.
    pub fn rule_selectors(&self) -> impl Iterator<Item = (&str, u32)> {
        fn at<'c>(config: &Config, s: &'c Spanned<String>) -> (&'c str, u32) {
            (s.get_ref().as_str(), config.line_of(s.span().start))
        }
        let at = move |s| at(self, s);
        self.rules
            .disable
            .iter()
            .map(at)
            .chain(self.rules.severity.keys().map(at))
            .chain(
                self.waivers
                    .iter()
                    .filter_map(|w| w.get_ref().rule.as_ref())
                    .map(at),
            )
    }

    /// Checks every selector against the rules aisec knows: one that selects
    /// nothing (a typo, `AISEC-P`) is an error at its line, never a silent
    /// no-op.
    pub fn check_rules(&self, registry: &RuleRegistry) -> Result<(), ConfigError> {
        for (text, line) in self.rule_selectors() {
            registry
                .check_selector(&RuleSelector::new(text))
                .map_err(|message| ConfigError::Invalid {
                    path: self
                        .source
                        .as_deref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                    message: format!("line {line}: {message}"),
                })?;
        }
        Ok(())
    }

    /// Is `rule_id` disabled, by id or by a family prefix (`AISEC-PKL`)?
    pub fn is_disabled(&self, rule_id: &str) -> bool {
        self.rules
            .disable
            .iter()
            .any(|d| RuleSelector::new(d.get_ref()).matches(rule_id))
    }

    /// The severity the config gives `rule_id`: the most specific matching
    /// selector's (an id beats its family).
    pub fn severity_override(&self, rule_id: &str) -> Option<Severity> {
        self.rules
            .severity
            .iter()
            .map(|(sel, sev)| (RuleSelector::new(sel.get_ref()), *sev))
            .filter(|(sel, _)| sel.matches(rule_id))
            .max_by_key(|(sel, _)| sel.specificity())
            .map(|(_, s)| s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::from_toml(text, Path::new("aisec.toml"))
    }

    #[test]
    fn full_config_parses() {
        let c = parse(
            r#"
[scan]
exclude = ["tests/fixtures"]
fail-on = "critical"

[rules]
disable = ["AISEC-GEN-003", "AISEC-DEP"]
severity = { "AISEC-ARC-004" = "low" }

[limits]
max-file-size = 1024
max-file-seconds = 5

[[waiver]]
rule = "AISEC-PKL-001"
path = "legacy/**"
reason = "trained in-house, tracked in SEC-12"
expires = "2027-01-31"

[[waiver]]
path = "x"
reason = "native TOML date"
expires = 2026-02-01
"#,
        )
        .unwrap();
        assert_eq!(c.scan.fail_on, Some(Severity::Critical));
        assert!(c.is_disabled("AISEC-GEN-003"));
        assert!(c.is_disabled("aisec-dep-001"));
        assert!(!c.is_disabled("AISEC-DEPX-001"));
        assert_eq!(c.severity_override("AISEC-ARC-004"), Some(Severity::Low));
        assert_eq!(
            c.waivers[0].get_ref().expires.unwrap().to_string(),
            "2027-01-31"
        );
        assert_eq!(c.limits.max_file_size, Some(1024));
        assert_eq!(c.limits.max_file_seconds, Some(5));
        assert_eq!(
            c.waivers[1].get_ref().expires.unwrap().to_string(),
            "2026-02-01"
        );
        assert_eq!(c.line_of(c.waivers[0].span().start), 14);
    }

    fn registry() -> RuleRegistry {
        RuleRegistry::new([aisec_core::generic::RULES]).unwrap()
    }

    #[test]
    fn family_selectors_work_everywhere_and_near_misses_are_errors_at_their_line() {
        let c = parse(
            "[rules]\nseverity = { \"AISEC-GEN\" = \"low\", \"AISEC-GEN-006\" = \"critical\" }\n",
        )
        .unwrap();
        c.check_rules(&registry()).unwrap();
        assert_eq!(c.severity_override("AISEC-GEN-001"), Some(Severity::Low));
        // The id is more specific than its family.
        assert_eq!(
            c.severity_override("AISEC-GEN-006"),
            Some(Severity::Critical)
        );

        for text in [
            "[rules]\ndisable = [\"AISEC-G\"]\n",
            "[rules]\nseverity = { \"AISEC-GE\" = \"high\" }\n",
            "[[waiver]]\nrule = \"AISEC-GEN-999\"\nreason = \"r\"\n",
        ] {
            let c = parse(text).unwrap();
            let e = c.check_rules(&registry()).unwrap_err().to_string();
            assert!(
                e.contains("line 2") && e.contains("selects no rule"),
                "{text}: {e}"
            );
        }
    }

    #[test]
    fn unknown_keys_and_reasonless_waivers_are_errors_naming_the_file() {
        let e = parse("[scan]\nexlude = []\n").unwrap_err().to_string();
        assert!(e.starts_with("aisec.toml: invalid config"), "{e}");
        assert!(e.contains("exlude"), "{e}");

        let e = parse("[[waiver]]\nrule = \"X\"\nreason = \" \"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("empty `reason`"), "{e}");

        let e = parse("[[waiver]]\nrule = \"X\"\n").unwrap_err().to_string();
        assert!(e.contains("reason"), "{e}");

        let e = parse("[[waiver]]\nreason = \"r\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("matches everything"), "{e}");
        assert!(e.contains("line 1"), "{e}");

        let e = parse("[[waiver]]\nrule = \"X\"\nreason = \"r\"\nexpires = \"someday\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("expires") || e.contains("date"), "{e}");
    }
}
