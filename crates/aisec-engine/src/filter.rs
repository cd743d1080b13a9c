//! What happens between the scanners and the report: config (disabled rules,
//! severity overrides), waivers and the baseline. Each step only removes or
//! re-grades findings and counts what it removed, so a report always says how
//! much it is not showing.

use std::collections::HashSet;
use std::path::Path;

use aisec_core::{Finding, Report, RuleSelector, generic};
use globset::GlobMatcher;
use serde::Deserialize;

use crate::config::{Config, Waiver};

/// Applies disabled rules and severity overrides. Runs before fingerprints are
/// assigned, so disabling a rule never shifts another finding's fingerprint.
pub fn apply_rule_config(findings: &mut Vec<Finding>, config: &Config) -> u64 {
    let before = findings.len();
    findings.retain(|f| !config.is_disabled(&f.rule_id));
    for f in findings.iter_mut() {
        if let Some(s) = config.severity_override(&f.rule_id) {
            f.severity = s;
        }
    }
    (before - findings.len()) as u64
}

struct CompiledWaiver<'a> {
    waiver: &'a Waiver,
    line: u32,
    rule: Option<RuleSelector>,
    path: Option<GlobMatcher>,
    expired: bool,
}

impl CompiledWaiver<'_> {
    fn matches(&self, f: &Finding) -> bool {
        let w = self.waiver;
        self.rule.as_ref().is_none_or(|r| r.matches(&f.rule_id))
            && w.fingerprint
                .as_deref()
                .is_none_or(|fp| fp == f.fingerprint)
            && self
                .path
                .as_ref()
                .is_none_or(|g| g.is_match(&f.location.path) || g.is_match(f.location.full_path()))
    }
}

/// Drops waived findings (after fingerprints are assigned) and reports each
/// expired waiver as a finding of its own, at the config file, with its own
/// fingerprint. Returns the number of findings waived.
pub fn apply_waivers(report: &mut Report, config: &Config, today: jiff::civil::Date) -> u64 {
    let compiled: Vec<CompiledWaiver<'_>> = config
        .waivers
        .iter()
        .map(|spanned| {
            let w = spanned.get_ref();
            CompiledWaiver {
                waiver: w,
                line: config.line_of(spanned.span().start),
                rule: w.rule.as_ref().map(|r| RuleSelector::new(r.get_ref())),
                // Validated when the config was loaded.
                path: w
                    .path
                    .as_deref()
                    .and_then(|p| globset::Glob::new(p).ok())
                    .map(|g| g.compile_matcher()),
                expired: w.expires.is_some_and(|d| d < today),
            }
        })
        .collect();
    let before = report.findings.len();
    let mut used = vec![false; compiled.len()];
    report.findings.retain(
        |f| match compiled.iter().position(|w| !w.expired && w.matches(f)) {
            Some(i) => {
                used[i] = true;
                false
            }
            None => true,
        },
    );
    let waived = (before - report.findings.len()) as u64;

    let config_path = config
        .source
        .as_deref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| crate::config::CONFIG_FILE_NAME.to_owned());
    let mut expired = Vec::new();
    for (w, used) in compiled.iter().zip(&used) {
        if !w.expired && *used {
            continue;
        }
        let what = [
            w.waiver
                .rule
                .as_ref()
                .map(|r| format!("rule {}", r.get_ref())),
            w.waiver.path.as_deref().map(|p| format!("path {p}")),
            w.waiver
                .fingerprint
                .as_deref()
                .map(|f| format!("fingerprint {f}")),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
        let finding = if w.expired {
            let expires = w.waiver.expires.map(|d| d.to_string()).unwrap_or_default();
            Finding::at_path(
                &generic::WAIVER_EXPIRED,
                config_path.clone(),
                format!("waiver for {what} expired on {expires}; its findings are reported again"),
            )
        } else {
            Finding::at_path(
                &generic::WAIVER_UNUSED,
                config_path.clone(),
                format!("waiver for {what} matched no finding of this scan"),
            )
        };
        expired.push(
            finding
                .line(w.line, None)
                .evidence(format!("reason was: {}", w.waiver.reason)),
        );
    }
    aisec_core::assign_fingerprints(&mut expired);
    report.findings.append(&mut expired);
    waived
}

/// The fingerprints of a previous JSON report.
#[derive(Debug, Default)]
pub struct Baseline {
    fingerprints: HashSet<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("{path}: cannot read baseline: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path}: not an aisec JSON report ({message}); make one with `aisec scan --format json --output {path}`"
    )]
    Invalid { path: String, message: String },
}

#[derive(Deserialize)]
struct BaselineReport {
    schema_version: u32,
    findings: Vec<BaselineFinding>,
}

#[derive(Deserialize)]
struct BaselineFinding {
    fingerprint: String,
}

impl Baseline {
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Read {
            path: shown.clone(),
            source,
        })?;
        let parsed: BaselineReport =
            serde_json::from_str(&text).map_err(|e| BaselineError::Invalid {
                path: shown.clone(),
                message: e.to_string(),
            })?;
        if parsed.schema_version != aisec_core::REPORT_SCHEMA_VERSION {
            return Err(BaselineError::Invalid {
                path: shown,
                message: format!(
                    "schema_version {} is not the supported {}",
                    parsed.schema_version,
                    aisec_core::REPORT_SCHEMA_VERSION
                ),
            });
        }
        Ok(Baseline {
            fingerprints: parsed.findings.into_iter().map(|f| f.fingerprint).collect(),
        })
    }

    /// Drops findings already in the baseline; returns how many.
    pub fn apply(&self, report: &mut Report) -> u64 {
        let before = report.findings.len();
        report
            .findings
            .retain(|f| !self.fingerprints.contains(&f.fingerprint));
        (before - report.findings.len()) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aisec_core::{Report, ToolInfo};

    fn report(findings: Vec<Finding>) -> Report {
        let mut r = Report::new(
            ToolInfo {
                name: "aisec".into(),
                version: "0".into(),
            },
            vec![],
        );
        r.findings = findings;
        r
    }

    #[test]
    fn a_finding_left_by_the_baseline_keeps_its_own_fingerprint() {
        // Two identical findings: fingerprints tell them apart by occurrence.
        let twin = || Finding::at_path(&generic::MALFORMED, "a.zip", "m").evidence("x");
        let mut r = report(vec![twin(), twin()]);
        crate::filter(
            &mut r,
            &Config::default(),
            None,
            jiff::civil::date(2026, 1, 1),
        );
        let (first, second) = (
            r.findings[0].fingerprint.clone(),
            r.findings[1].fingerprint.clone(),
        );
        assert_ne!(first, second);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.json");
        std::fs::write(
            &path,
            format!(r#"{{"schema_version": 1, "findings": [{{"fingerprint": "{first}"}}]}}"#),
        )
        .unwrap();
        let baseline = Baseline::load(&path).unwrap();
        let mut r = report(vec![twin(), twin()]);
        crate::filter(
            &mut r,
            &Config::default(),
            Some(&baseline),
            jiff::civil::date(2026, 1, 1),
        );
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.findings[0].fingerprint, second);
        assert_eq!(r.stats.suppressed.by_baseline, 1);
    }

    #[test]
    fn family_waivers_apply_and_unused_or_expired_ones_are_reported_at_their_line() {
        let config = Config::from_toml(
            "# waivers\n\
             [[waiver]]\nrule = \"AISEC-GEN\"\npath = \"a.zip\"\nreason = \"fixture\"\n\
             [[waiver]]\nrule = \"AISEC-GEN-006\"\nreason = \"nothing to match\"\n\
             [[waiver]]\nrule = \"AISEC-GEN-002\"\nreason = \"old\"\nexpires = 2020-01-01\n",
            Path::new("aisec.toml"),
        )
        .unwrap();
        let mut r = report(vec![Finding::at_path(&generic::MALFORMED, "a.zip", "m")]);
        crate::filter(&mut r, &config, None, jiff::civil::date(2026, 1, 1));
        assert_eq!(r.stats.suppressed.by_waiver, 1, "{:?}", r.findings);
        let at = |id: &str| {
            r.findings
                .iter()
                .find(|f| f.rule_id == id)
                .map(|f| (f.location.path.clone(), f.location.line))
        };
        assert_eq!(
            at(generic::WAIVER_UNUSED.id),
            Some(("aisec.toml".to_owned(), Some(6)))
        );
        assert_eq!(
            at(generic::WAIVER_EXPIRED.id),
            Some(("aisec.toml".to_owned(), Some(9)))
        );
        assert_eq!(r.findings.len(), 2);
    }
}
