//! SARIF 2.1.0, shaped for GitHub code scanning: rules in
//! `tool.driver.rules` with `helpUri` and a `security-severity` property,
//! results with `partialFingerprints`, relative artifact URIs.

use std::collections::HashMap;

use aisec_core::{Finding, Report, RuleRegistry};
use serde_json::{Value, json};

const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const INFORMATION_URI: &str = "https://github.com/aisec-dev/aisec";

/// Percent-encodes a path into a URI reference: separators become `/`,
/// anything outside RFC 3986's unreserved set and `/` is escaped, so names
/// with spaces, `#`, `%` or non-UTF-8 bytes stay valid URIs.
fn path_to_uri(path: &str) -> String {
    let unified = path.replace('\\', "/");
    let mut out = String::with_capacity(unified.len());
    let absolute = unified.starts_with('/');
    if absolute {
        out.push_str("file://");
    }
    for b in unified.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn rule_descriptor(rule: &aisec_core::Rule) -> Value {
    let mut tags = vec!["security".to_owned(), rule.family().to_ascii_lowercase()];
    tags.extend(rule.references.iter().map(|r| r.id.to_string()));
    let references: Vec<String> = rule
        .references
        .iter()
        .map(|r| format!("- [{}]({})", r.id, r.url))
        .collect();
    let markdown = if references.is_empty() {
        rule.explanation.to_owned()
    } else {
        format!(
            "{}\n\n## References\n{}",
            rule.explanation,
            references.join("\n")
        )
    };
    json!({
        "id": rule.id,
        "name": rule.name,
        "shortDescription": { "text": rule.summary },
        "fullDescription": { "text": rule.summary },
        "help": { "text": markdown, "markdown": markdown },
        "helpUri": rule.help_uri(),
        "defaultConfiguration": { "level": rule.default_severity.sarif_level() },
        "properties": {
            "tags": tags,
            "security-severity": rule.default_severity.security_severity(),
            "precision": "high",
        }
    })
}

fn result(f: &Finding, rule_index: Option<usize>) -> Value {
    let mut region = serde_json::Map::new();
    // GitHub requires a start line; binary findings point at line 1 and carry
    // their byte range.
    region.insert("startLine".into(), json!(f.location.line.unwrap_or(1)));
    if let Some(c) = f.location.column {
        region.insert("startColumn".into(), json!(c));
    }
    if let Some(e) = f.location.end_line {
        region.insert("endLine".into(), json!(e));
    }
    if let Some(r) = f.location.byte_range {
        region.insert("byteOffset".into(), json!(r.start));
        region.insert("byteLength".into(), json!(r.end - r.start));
    }
    let mut location = json!({
        "physicalLocation": {
            "artifactLocation": { "uri": path_to_uri(&f.location.path) },
            "region": region,
        }
    });
    if let Some(member) = &f.location.member {
        location["logicalLocations"] = json!([{
            "name": member.rsplit('!').next().unwrap_or(member),
            "fullyQualifiedName": f.location.full_path(),
            "kind": "member",
        }]);
    }
    let text = match (&f.location.member, &f.evidence) {
        (Some(m), Some(e)) => format!("{} (in {m}; evidence: {e})", f.message),
        (Some(m), None) => format!("{} (in {m})", f.message),
        (None, Some(e)) => format!("{} (evidence: {e})", f.message),
        (None, None) => f.message.clone(),
    };
    let mut value = json!({
        "ruleId": f.rule_id,
        "level": f.severity.sarif_level(),
        "message": { "text": text },
        "locations": [location],
        "partialFingerprints": { "aisecFingerprint/v1": f.fingerprint },
        "properties": {
            "severity": f.severity.as_str(),
            "security-severity": f.severity.security_severity(),
            "confidence": f.confidence.as_str(),
        }
    });
    if let Some(i) = rule_index {
        value["ruleIndex"] = json!(i);
    }
    if let Some(e) = &f.evidence {
        value["properties"]["evidence"] = json!(e);
    }
    value
}

/// The whole SARIF log as a JSON value.
pub fn sarif_value(report: &Report, registry: &RuleRegistry) -> Value {
    let rules: Vec<&aisec_core::Rule> = registry.iter().collect();
    let index: HashMap<&str, usize> = rules.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| result(f, index.get(f.rule_id.as_str()).copied()))
        .collect();
    json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": report.tool.name,
                    "version": report.tool.version,
                    "semanticVersion": report.tool.version,
                    "informationUri": INFORMATION_URI,
                    "rules": rules.iter().map(|r| rule_descriptor(r)).collect::<Vec<_>>(),
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_escaped_and_relative() {
        assert_eq!(path_to_uri("models/a b#1.pt"), "models/a%20b%231.pt");
        assert_eq!(path_to_uri("dir\\x.py"), "dir/x.py");
        assert_eq!(path_to_uri("/abs/x"), "file:///abs/x");
        assert_eq!(path_to_uri("é"), "%C3%A9");
    }
}
