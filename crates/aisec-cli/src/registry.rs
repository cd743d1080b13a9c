//! The one list of scanners. A new scanner family is one line here.

use aisec_core::{RuleRegistry, Scanner};

/// Every scanner, in the order they run on a file. `deps_db` is the advisory
/// database for the dependency scanner (`None`: hygiene rules only).
pub fn scanners(deps_db: Option<aisec_deps::VulnDb>) -> Vec<Box<dyn Scanner>> {
    vec![
        Box::new(aisec_hygiene::ArchiveScanner),
        Box::new(aisec_hygiene::ExtensionMismatchScanner),
        Box::new(aisec_pickle::PickleScanner),
        Box::new(aisec_formats::FormatsScanner),
        Box::new(aisec_code::CodeScanner),
        Box::new(aisec_secrets::SecretsScanner),
        Box::new(aisec_data::DataScanner),
        Box::new(aisec_iac::IacScanner),
        Box::new(aisec_deps::scanner(deps_db)),
    ]
}

pub fn rules(scanners: &[Box<dyn Scanner>]) -> RuleRegistry {
    // The signature gate is not a scanner but reports findings of its own.
    let tables = [aisec_core::generic::RULES, aisec_sign::RULES]
        .into_iter()
        .chain(scanners.iter().map(|s| s.rules()));
    RuleRegistry::new(tables).expect("rule ids are unique (checked by a test)")
}

#[cfg(test)]
mod tests {
    #[test]
    fn rule_ids_are_unique_and_well_formed() {
        let scanners = super::scanners(None);
        let registry = super::rules(&scanners);
        for rule in registry.iter() {
            let parts: Vec<&str> = rule.id.split('-').collect();
            assert_eq!(parts.len(), 3, "{}", rule.id);
            assert_eq!(parts[0], "AISEC");
            assert!(parts[2].len() == 3 && parts[2].bytes().all(|b| b.is_ascii_digit()));
            assert!(
                // Rules about aisec's own configuration (expired and unused
                // waivers) have no outside weakness to point at.
                !rule.references.is_empty()
                    || [
                        aisec_core::generic::WAIVER_EXPIRED.id,
                        aisec_core::generic::WAIVER_UNUSED.id
                    ]
                    .contains(&rule.id),
                "{} has no reference",
                rule.id
            );
        }
    }

    /// The table's `help:` line comes from each rule's `## Remediation`
    /// section: every rule must have one that yields a sentence.
    #[test]
    fn every_rule_yields_a_help_sentence() {
        let scanners = super::scanners(None);
        let registry = super::rules(&scanners);
        let missing: Vec<&str> = registry
            .iter()
            .filter(|r| r.help().is_none_or(|h| h.len() < 10))
            .map(|r| r.id)
            .collect();
        assert!(missing.is_empty(), "no remediation sentence: {missing:?}");
        if std::env::var_os("AISEC_PRINT_HELP").is_some() {
            for r in registry.iter() {
                eprintln!("{} {}", r.id, r.help().unwrap_or_default());
            }
        }
    }
}
