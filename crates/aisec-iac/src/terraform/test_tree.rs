//! Test support: the sibling and module tests scan through core's in-memory
//! tree ([`MemorySiblings`]), confined lexically as the engine's is.

use aisec_core::{FileInput, Finding, Limits, MemorySiblings, ScanContext, Scanner};

use super::check;

pub(super) fn check_in(tree: &MemorySiblings, path: &str) -> Vec<Finding> {
    let text = String::from_utf8(tree.get(path).unwrap().to_vec()).unwrap();
    let limits = Limits::default();
    let scanners: Vec<Box<dyn Scanner>> = Vec::new();
    let ctx = ScanContext::with_siblings(&limits, &scanners, tree);
    let file = FileInput::on_disk(path, std::path::Path::new(path), text.as_bytes());
    check(&file, &text, path.ends_with(".json"), &ctx)
}

pub(super) fn has(findings: &[Finding], rule: &aisec_core::Rule) -> bool {
    findings.iter().any(|f| f.rule_id == rule.id)
}
