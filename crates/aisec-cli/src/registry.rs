//! The one list of scanners. A new scanner family is one line here.

use aisec_core::{RuleRegistry, Scanner};

pub fn scanners() -> Vec<Box<dyn Scanner>> {
    vec![
        Box::new(aisec_hygiene::ArchiveScanner),
        Box::new(aisec_hygiene::ExtensionMismatchScanner),
    ]
}

pub fn rules(scanners: &[Box<dyn Scanner>]) -> RuleRegistry {
    let tables =
        std::iter::once(aisec_core::generic::RULES).chain(scanners.iter().map(|s| s.rules()));
    RuleRegistry::new(tables).expect("rule ids are unique (checked by a test)")
}
