use std::collections::BTreeMap;

use serde::Serialize;

use crate::{Finding, Severity};

/// Version of the JSON report schema (`docs/json-schema.md`). Bumped on any
/// change that could break a consumer; additions of optional fields do not.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// The result of one scan: what was scanned, what was found, what was
/// filtered out. Findings are sorted by path, member, position, rule.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: ToolInfo,
    /// The paths the user asked to scan.
    pub targets: Vec<String>,
    pub stats: ScanStats,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ScanStats {
    pub files_scanned: u64,
    pub bytes_scanned: u64,
    /// Findings dropped by config (disabled rules), waivers or the baseline.
    pub suppressed: Suppressed,
    /// Count of reported findings per severity, every severity present.
    pub by_severity: BTreeMap<Severity, u64>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Suppressed {
    pub by_config: u64,
    pub by_waiver: u64,
    pub by_baseline: u64,
}

impl Report {
    pub fn new(tool: ToolInfo, targets: Vec<String>) -> Self {
        Report {
            schema_version: REPORT_SCHEMA_VERSION,
            tool,
            targets,
            stats: ScanStats::default(),
            findings: Vec::new(),
        }
    }

    /// Sorts findings into report order, gives them their fingerprints and
    /// counts them: the first step after scanning.
    pub fn finalize(&mut self) {
        self.sort();
        crate::assign_fingerprints(&mut self.findings);
        self.recount();
    }

    /// Report order: path, member, line, byte offset, rule, message.
    pub fn sort(&mut self) {
        fn key(f: &Finding) -> (&str, Option<&str>, Option<u32>, Option<u64>, &str, &str) {
            (
                &f.location.path,
                f.location.member.as_deref(),
                f.location.line,
                f.location.byte_range.map(|r| r.start),
                &f.rule_id,
                &f.message,
            )
        }
        self.findings.sort_by(|a, b| key(a).cmp(&key(b)));
    }

    /// Recounts the per-severity totals, every severity present.
    pub fn recount(&mut self) {
        let mut counts: BTreeMap<Severity, u64> = Severity::ALL.iter().map(|s| (*s, 0)).collect();
        for f in &self.findings {
            *counts.entry(f.severity).or_default() += 1;
        }
        self.stats.by_severity = counts;
    }

    /// The worst severity among the findings, if any.
    pub fn max_severity(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }

    /// True when some finding is at or above `threshold`: the CI gate.
    pub fn fails(&self, threshold: Severity) -> bool {
        self.max_severity().is_some_and(|s| s >= threshold)
    }
}
