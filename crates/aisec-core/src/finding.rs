use std::fmt;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{Confidence, FileInput, Reference, Rule, Severity};

/// Separates an on-disk path from the path of a member inside it, and nested
/// members from each other: `model.zip!inner.pt!archive/data.pkl`.
pub const MEMBER_SEPARATOR: char = '!';

/// Where a finding is. Binary formats give byte offsets, text formats lines;
/// either may be absent when a finding is about a whole file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Location {
    /// The file on disk, as the walker reached it (relative to where the user
    /// pointed aisec, when it pointed at a directory).
    pub path: String,
    /// The path inside an archive or container, nested members joined by `!`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    /// Half-open byte range `[start, end)` within the innermost member.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub byte_range: Option<ByteRange>,
    /// 1-based line and column within the innermost member.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_line: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

impl Location {
    pub fn file(path: impl Into<String>) -> Self {
        Location {
            path: path.into(),
            ..Location::default()
        }
    }

    /// `path!member`, or just `path`.
    pub fn full_path(&self) -> String {
        match &self.member {
            Some(m) => format!("{}{MEMBER_SEPARATOR}{m}", self.path),
            None => self.path.clone(),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full_path())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        } else if let Some(r) = self.byte_range {
            write!(f, "@{}", r.start)?;
        }
        Ok(())
    }
}

/// One thing a scanner found. Built with [`Finding::new`] and the builder
/// methods; the rule supplies the default severity and references.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule_id: String,
    pub severity: Severity,
    pub confidence: Confidence,
    pub location: Location,
    /// One line, says what is wrong here (not what the rule is in general).
    pub message: String,
    /// The thing itself: the imported callable, the entry name, the matched
    /// (redacted) secret. What a reviewer needs to judge the finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    pub references: Vec<Reference>,
    /// Stable identity for baselines and waivers; independent of line numbers
    /// so that unrelated edits above a finding do not make it "new".
    /// Filled by [`assign_fingerprints`].
    pub fingerprint: String,
}

impl Finding {
    /// A finding of `rule` in `file`, with the rule's default severity and
    /// references and high confidence.
    pub fn new(rule: &Rule, file: &FileInput<'_>, message: impl Into<String>) -> Self {
        let mut f = Finding::at_path(rule, file.path, message);
        f.location.member = file.member.map(str::to_owned);
        f
    }

    /// A finding about a path that no scanner could open (the walker's own).
    pub fn at_path(rule: &Rule, path: impl Into<String>, message: impl Into<String>) -> Self {
        Finding {
            rule_id: rule.id.to_owned(),
            severity: rule.default_severity,
            confidence: Confidence::High,
            location: Location::file(path),
            message: message.into(),
            evidence: None,
            references: rule.references.to_vec(),
            fingerprint: String::new(),
        }
    }

    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    pub fn confidence(mut self, confidence: Confidence) -> Self {
        self.confidence = confidence;
        self
    }

    pub fn evidence(mut self, evidence: impl Into<String>) -> Self {
        self.evidence = Some(evidence.into());
        self
    }

    pub fn bytes(mut self, start: u64, end: u64) -> Self {
        self.location.byte_range = Some(ByteRange {
            start,
            end: end.max(start),
        });
        self
    }

    pub fn line(mut self, line: u32, column: Option<u32>) -> Self {
        self.location.line = Some(line);
        self.location.column = column;
        self
    }

    pub fn end_line(mut self, end_line: u32) -> Self {
        self.location.end_line = Some(end_line);
        self
    }

    /// Overrides the member path (for scanners that report on several members
    /// of one archive from a single pass).
    pub fn member(mut self, member: impl Into<String>) -> Self {
        self.location.member = Some(member.into());
        self
    }

    pub fn reference(mut self, reference: Reference) -> Self {
        if !self.references.contains(&reference) {
            self.references.push(reference);
        }
        self
    }

    /// The part of the identity that does not move when lines shift.
    fn identity(&self) -> String {
        format!(
            "{}\u{0}{}\u{0}{}\u{0}{}",
            self.rule_id,
            self.location.path.replace('\\', "/"),
            self.location.member.as_deref().unwrap_or(""),
            self.evidence.as_deref().unwrap_or(&self.message),
        )
    }
}

/// Gives every finding a fingerprint: a hash of rule, path, member and
/// evidence (message when there is no evidence), plus the occurrence number
/// among findings with the same identity, in location order. Line numbers are
/// left out, so a finding keeps its fingerprint when code moves; two identical
/// findings in one file stay distinct.
///
/// `findings` must be in their final report order.
pub fn assign_fingerprints(findings: &mut [Finding]) {
    let mut seen: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    for f in findings.iter_mut() {
        let identity = f.identity();
        let n = seen.entry(identity.clone()).or_insert(0);
        let mut h = Sha256::new();
        h.update(identity.as_bytes());
        h.update(n.to_le_bytes());
        *n += 1;
        let digest = h.finalize();
        f.fingerprint = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::refs;

    static R: Rule = Rule {
        id: "AISEC-TST-001",
        name: "t",
        summary: "t",
        default_severity: Severity::High,
        explanation: "",
        references: &[refs::CWE_502],
    };

    #[test]
    fn fingerprints_ignore_lines_but_separate_repeats() {
        let a = Finding::at_path(&R, "a.py", "m")
            .evidence("torch.load")
            .line(3, None);
        let b = Finding::at_path(&R, "a.py", "m")
            .evidence("torch.load")
            .line(9, None);
        let mut one = vec![a.clone()];
        let mut shifted = vec![a.clone().line(40, Some(2))];
        assign_fingerprints(&mut one);
        assign_fingerprints(&mut shifted);
        assert_eq!(one[0].fingerprint, shifted[0].fingerprint);
        assert_eq!(one[0].fingerprint.len(), 32);

        let mut two = vec![a, b];
        assign_fingerprints(&mut two);
        assert_ne!(two[0].fingerprint, two[1].fingerprint);
        assert_eq!(two[0].fingerprint, one[0].fingerprint);
    }

    #[test]
    fn location_display_prefers_line_then_offset() {
        let mut l = Location::file("m.pt");
        l.member = Some("archive/data.pkl".into());
        l.byte_range = Some(ByteRange { start: 7, end: 9 });
        assert_eq!(l.to_string(), "m.pt!archive/data.pkl@7");
        l.line = Some(4);
        assert_eq!(l.to_string(), "m.pt!archive/data.pkl:4");
    }

    #[test]
    fn new_takes_rule_defaults() {
        let f = Finding::at_path(&R, "x", "msg");
        assert_eq!(f.severity, Severity::High);
        assert_eq!(f.references, vec![refs::CWE_502]);
        let f = f.reference(refs::CWE_502);
        assert_eq!(f.references.len(), 1);
    }
}
