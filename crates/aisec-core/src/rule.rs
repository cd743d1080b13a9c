use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::Severity;

/// A pointer to outside knowledge about a weakness: a CWE entry, a MITRE ATLAS
/// technique, an OWASP Top 10 item, an advisory.
///
/// `Cow` so that rule tables are `const` (`Reference::new`) while scanners can
/// still attach references they only learn at scan time (an advisory URL).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Reference {
    /// Short id a human searches for: `CWE-502`, `AML.T0010`, `ML06:2023`.
    pub id: Cow<'static, str>,
    pub url: Cow<'static, str>,
}

impl Reference {
    pub const fn new(id: &'static str, url: &'static str) -> Self {
        Reference {
            id: Cow::Borrowed(id),
            url: Cow::Borrowed(url),
        }
    }

    pub fn owned(id: impl Into<String>, url: impl Into<String>) -> Self {
        Reference {
            id: Cow::Owned(id.into()),
            url: Cow::Owned(url.into()),
        }
    }
}

/// `cwe!(502)` is the [`Reference`] to CWE-502, usable in `const` rule tables.
#[macro_export]
macro_rules! cwe {
    ($n:literal) => {
        $crate::Reference::new(
            concat!("CWE-", $n),
            concat!("https://cwe.mitre.org/data/definitions/", $n, ".html"),
        )
    };
}

/// `atlas!("AML.T0010")` is the [`Reference`] to a MITRE ATLAS technique.
#[macro_export]
macro_rules! atlas {
    ($id:literal) => {
        $crate::Reference::new($id, concat!("https://atlas.mitre.org/techniques/", $id))
    };
}

/// Declares a family's rules: each `static` as written, then the family's
/// list of them, in declaration order, for [`RuleRegistry::new`] and
/// `Scanner::rules`. Every family declares its rules with this one macro, so
/// a rule is one place: its static, and nothing else to keep in step.
///
/// ```
/// use aisec_core::{Rule, Severity, refs};
///
/// aisec_core::rules! {
///     /// Every rule of the family.
///     pub static RULES;
///
///     pub static FIRST = Rule {
///         id: "AISEC-TST-001",
///         name: "first-rule",
///         summary: "The first rule",
///         default_severity: Severity::Low,
///         explanation: "## What it finds\nA thing.",
///         references: &[refs::CWE_20],
///     };
///     pub static SECOND = Rule {
///         id: "AISEC-TST-002",
///         name: "second-rule",
///         summary: "The second rule",
///         default_severity: Severity::High,
///         explanation: "## What it finds\nAnother thing.",
///         references: &[],
///     };
/// }
///
/// assert_eq!(RULES.len(), 2);
/// assert_eq!(RULES[1].id, SECOND.id);
/// ```
///
/// The ids are checked when the crate is compiled: each must read
/// `AISEC-<FAMILY>-<NNN>` (upper-case letters, three digits), all must be of
/// one family, and each must come after the one before it, so an id cannot
/// be repeated and the list is in the order `aisec rules` shows. Declaring
/// `AISEC-TST-002` before `AISEC-TST-001`, twice, or with a typo fails the
/// build with a message naming the ids:
///
/// ```compile_fail
/// use aisec_core::{Rule, Severity};
///
/// aisec_core::rules! {
///     pub static RULES;
///     pub static A = Rule { id: "AISEC-TST-002", name: "a", summary: "a",
///         default_severity: Severity::Low, explanation: "a", references: &[] };
///     pub static B = Rule { id: "AISEC-TST-001", name: "b", summary: "b",
///         default_severity: Severity::Low, explanation: "b", references: &[] };
/// }
/// ```
///
/// Gaps are allowed (a retired id is never reused), and the fields are those
/// of [`Rule`], each written out: text shared by several rules of a family
/// is a `const` or a small local macro that expands to the field's value.
#[macro_export]
macro_rules! rules {
    (
        $(#[$list_meta:meta])*
        $list_vis:vis static $list:ident;
        $(
            $(#[$meta:meta])*
            $vis:vis static $name:ident = Rule {
                id: $id:literal,
                $($field:ident : $value:expr),* $(,)?
            };
        )+
    ) => {
        $(
            $(#[$meta])*
            $vis static $name: $crate::Rule = $crate::Rule {
                id: $id,
                $($field: $value),*
            };
        )+

        $(#[$list_meta])*
        $list_vis static $list: &[&$crate::Rule] = &[$(&$name),+];

        $crate::__check_rule_ids!($($id),+);
    };
}

/// The compile-time id checks of [`rules!`], one `const` assertion per id and
/// per neighbouring pair so that the error names the ids at fault.
#[doc(hidden)]
#[macro_export]
macro_rules! __check_rule_ids {
    ($first:literal $(, $rest:literal)*) => {
        const _: () = assert!(
            $crate::rule_id_is_well_formed($first),
            concat!("rule id ", $first, " is not AISEC-<FAMILY>-<NNN>"),
        );
        $crate::__check_rule_ids!(@pairs $first $(, $rest)*);
    };
    (@pairs $a:literal, $b:literal $(, $rest:literal)*) => {
        const _: () = assert!(
            $crate::rule_id_is_well_formed($b),
            concat!("rule id ", $b, " is not AISEC-<FAMILY>-<NNN>"),
        );
        const _: () = assert!(
            $crate::rule_id_follows($a, $b),
            concat!(
                "rule ", $b, " is declared after ", $a,
                ": a family's ids are of one family, strictly increasing, never repeated"
            ),
        );
        $crate::__check_rule_ids!(@pairs $b $(, $rest)*);
    };
    (@pairs $last:literal) => {};
}

/// Whether `id` reads `AISEC-<FAMILY>-<NNN>`: an upper-case family and three
/// digits. Used by [`rules!`] at compile time.
#[doc(hidden)]
pub const fn rule_id_is_well_formed(id: &str) -> bool {
    let b = id.as_bytes();
    let prefix = b"AISEC-";
    if b.len() < prefix.len() + 1 + 4 {
        return false;
    }
    let mut i = 0;
    while i < prefix.len() {
        if b[i] != prefix[i] {
            return false;
        }
        i += 1;
    }
    let family_end = b.len() - 4;
    if b[family_end] != b'-' {
        return false;
    }
    while i < family_end {
        if !b[i].is_ascii_uppercase() {
            return false;
        }
        i += 1;
    }
    i = family_end + 1;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            return false;
        }
        i += 1;
    }
    true
}

/// Whether `next` may be declared right after `prev`: both well formed, of
/// the same family, and `next` the greater (ids have three digits, so byte
/// order is number order, and the order of [`RuleRegistry::iter`]).
#[doc(hidden)]
pub const fn rule_id_follows(prev: &str, next: &str) -> bool {
    let (a, b) = (prev.as_bytes(), next.as_bytes());
    if !rule_id_is_well_formed(prev) || !rule_id_is_well_formed(next) || a.len() != b.len() {
        return false;
    }
    let family_end = a.len() - 4;
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return i > family_end && a[i] < b[i];
        }
        i += 1;
    }
    false
}

/// References shared by many rules, so that every crate spells them the same.
pub mod refs {
    use super::Reference;

    /// CWE-502: Deserialization of Untrusted Data.
    pub const CWE_502: Reference = cwe!(502);
    /// CWE-20: Improper Input Validation.
    pub const CWE_20: Reference = cwe!(20);
    /// CWE-22: Path Traversal.
    pub const CWE_22: Reference = cwe!(22);
    /// CWE-59: Improper Link Resolution Before File Access.
    pub const CWE_59: Reference = cwe!(59);
    /// CWE-409: Improper Handling of Highly Compressed Data (decompression bomb).
    pub const CWE_409: Reference = cwe!(409);
    /// CWE-646: Reliance on File Name or Extension of Externally-Supplied File.
    pub const CWE_646: Reference = cwe!(646);
    /// MITRE ATLAS AML.T0010: ML Supply Chain Compromise.
    pub const ATLAS_SUPPLY_CHAIN: Reference = atlas!("AML.T0010");
    /// MITRE ATLAS AML.T0011.000: User Execution: Unsafe ML Artifacts.
    pub const ATLAS_UNSAFE_ARTIFACT: Reference = atlas!("AML.T0011.000");
    /// OWASP Machine Learning Security Top 10 (2023), ML06: AI Supply Chain Attacks.
    pub const OWASP_ML06: Reference = Reference::new(
        "OWASP-ML06:2023",
        "https://owasp.org/www-project-machine-learning-security-top-10/docs/ML06_2023-AI_Supply_Chain_Attacks",
    );
    /// OWASP Machine Learning Security Top 10 (2023), ML02: Data Poisoning Attack.
    pub const OWASP_ML02: Reference = Reference::new(
        "OWASP-ML02:2023",
        "https://owasp.org/www-project-machine-learning-security-top-10/docs/ML02_2023-Data_Poisoning_Attack",
    );
    /// OWASP Machine Learning Security Top 10 (2023), ML05: Model Theft.
    pub const OWASP_ML05: Reference = Reference::new(
        "OWASP-ML05:2023",
        "https://owasp.org/www-project-machine-learning-security-top-10/docs/ML05_2023-Model_Theft",
    );
    /// OWASP Top 10 for LLM Applications (2025), LLM01: Prompt Injection.
    pub const OWASP_LLM01: Reference = Reference::new(
        "OWASP-LLM01:2025",
        "https://genai.owasp.org/llmrisk/llm01-prompt-injection/",
    );
    /// OWASP Top 10 for LLM Applications (2025), LLM02: Sensitive Information
    /// Disclosure (LLM06 in the 2023 list): secrets and personal data a model,
    /// a dataset or a log can repeat.
    pub const OWASP_LLM02: Reference = Reference::new(
        "OWASP-LLM02:2025",
        "https://genai.owasp.org/llmrisk/llm022025-sensitive-information-disclosure/",
    );
    /// OWASP Top 10 for LLM Applications (2025), LLM03: Supply Chain.
    pub const OWASP_LLM03: Reference = Reference::new(
        "OWASP-LLM03:2025",
        "https://genai.owasp.org/llmrisk/llm032025-supply-chain/",
    );
    /// OWASP Top 10 for LLM Applications (2025), LLM05: Improper Output Handling.
    pub const OWASP_LLM05: Reference = Reference::new(
        "OWASP-LLM05:2025",
        "https://genai.owasp.org/llmrisk/llm052025-improper-output-handling/",
    );
    /// OWASP Top 10 for LLM Applications (2025), LLM06: Excessive Agency.
    pub const OWASP_LLM06: Reference = Reference::new(
        "OWASP-LLM06:2025",
        "https://genai.owasp.org/llmrisk/llm062025-excessive-agency/",
    );
    /// OWASP Top 10 for LLM Applications (2025), LLM10: Unbounded Consumption.
    pub const OWASP_LLM10: Reference = Reference::new(
        "OWASP-LLM10:2025",
        "https://genai.owasp.org/llmrisk/llm102025-unbounded-consumption/",
    );
    /// CWE-312: Cleartext Storage of Sensitive Information.
    pub const CWE_312: Reference = cwe!(312);
    /// CWE-359: Exposure of Private Personal Information to an Unauthorized Actor.
    pub const CWE_359: Reference = cwe!(359);
    /// CWE-798: Use of Hard-coded Credentials.
    pub const CWE_798: Reference = cwe!(798);
}

/// A rule: what one detector looks for, documented once, shown by `aisec rules`
/// and `aisec explain ID`, and carried into SARIF `tool.driver.rules`.
#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    /// Stable id, `AISEC-<FAMILY>-<NNN>`. Never reused for another meaning.
    pub id: &'static str,
    /// Short kebab-case name, e.g. `pickle-dangerous-callable`.
    pub name: &'static str,
    /// One line, used as the SARIF `shortDescription`.
    pub summary: &'static str,
    pub default_severity: Severity,
    /// Markdown: what it finds, why it matters, how to fix it.
    pub explanation: &'static str,
    pub references: &'static [Reference],
}

impl Rule {
    /// Where the rule is documented for humans on the web (SARIF `helpUri`).
    pub fn help_uri(&self) -> String {
        format!(
            "https://github.com/aisec-dev/aisec/blob/main/docs/rules.md#{}",
            self.id.to_ascii_lowercase()
        )
    }

    /// The first sentence of the explanation's `## Remediation` section, on
    /// one line: the `help:` a table finding shows (the rest is one `aisec
    /// explain ID` away). `None` when the explanation has no such section.
    ///
    /// Derived here, once, from the text `aisec explain` prints, so the hint
    /// and the documentation cannot drift apart.
    pub fn help(&self) -> Option<String> {
        // A leading newline makes a section at the very start look like any other.
        let explanation = format!("\n{}", self.explanation);
        let section = explanation
            .split("\n## ")
            .find_map(|s| s.strip_prefix("Remediation\n"))?;
        // The first paragraph, lines joined; a list's first item counts as one.
        let item = |l: &str| l.starts_with("- ") || l.starts_with("* ");
        let mut lines = section.trim_start().lines().map(str::trim);
        let first = lines.next().unwrap_or("");
        let mut text = first
            .strip_prefix("- ")
            .or(first.strip_prefix("* "))
            .unwrap_or(first)
            .to_owned();
        for l in lines.take_while(|l| !l.is_empty() && !item(l)) {
            text.push(' ');
            text.push_str(l);
        }
        let sentence = first_sentence(&text).trim();
        (!sentence.is_empty()).then(|| sentence.to_owned())
    }

    /// The family prefix of the id (`PKL` in `AISEC-PKL-001`).
    pub fn family(&self) -> &'static str {
        self.id.split('-').nth(1).unwrap_or("")
    }
}

/// Words whose full stop does not end a sentence.
const ABBREVIATIONS: &[&str] = &["art", "cf", "etc", "no", "vs"];

/// `text` up to the end of its first sentence: a `.`, `!` or `?` outside a
/// code span, followed by nothing or by a space and anything but a digit,
/// unless the word before is an abbreviation (`e.g.`, `i.e.`, `Art.`). So
/// `e.g. the`, `Art. 9`, `3.8.17+` and `` `aisec.toml` `` do not end one, and
/// `remove it. aisec does...` does (aisec writes its own name in lower case).
fn first_sentence(text: &str) -> &str {
    let mut in_code = false;
    for (i, c) in text.char_indices() {
        match c {
            '`' => in_code = !in_code,
            '.' | '!' | '?' if !in_code => {
                let rest = &text[i + 1..];
                let word = text[..i].rsplit(' ').next().unwrap_or("");
                let word = word.trim_start_matches('(');
                // `e.g`, `i.e`: single letters between dots.
                let dotted = word.contains('.')
                    && word
                        .split('.')
                        .all(|p| p.len() == 1 && p.bytes().all(|b| b.is_ascii_alphabetic()));
                let abbreviation = c == '.'
                    && (dotted || ABBREVIATIONS.iter().any(|a| word.eq_ignore_ascii_case(a)));
                let ends = rest.is_empty()
                    || rest
                        .strip_prefix(' ')
                        .is_some_and(|r| !r.starts_with(|n: char| n.is_ascii_digit()));
                if ends && !abbreviation {
                    return &text[..=i];
                }
            }
            _ => {}
        }
    }
    text
}

/// Two rule tables claimed the same id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateRuleId(pub &'static str);

impl fmt::Display for DuplicateRuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rule id {} is defined twice", self.0)
    }
}

impl std::error::Error for DuplicateRuleId {}

/// Every rule aisec knows, by id. Built once from the rule tables that each
/// scanner crate exports.
#[derive(Debug, Default, Clone)]
pub struct RuleRegistry {
    rules: BTreeMap<&'static str, &'static Rule>,
}

impl RuleRegistry {
    pub fn new<'a>(
        tables: impl IntoIterator<Item = &'a [&'static Rule]>,
    ) -> Result<Self, DuplicateRuleId> {
        let mut rules = BTreeMap::new();
        for table in tables {
            for rule in table {
                if rules.insert(rule.id, *rule).is_some() {
                    return Err(DuplicateRuleId(rule.id));
                }
            }
        }
        Ok(RuleRegistry { rules })
    }

    /// Looks a rule up by id, ignoring ASCII case (`aisec explain aisec-gen-001`).
    pub fn get(&self, id: &str) -> Option<&'static Rule> {
        self.rules.get(id).copied().or_else(|| {
            let upper = id.to_ascii_uppercase();
            self.rules.get(upper.as_str()).copied()
        })
    }

    /// All rules, ordered by id.
    pub fn iter(&self) -> impl Iterator<Item = &'static Rule> + '_ {
        self.rules.values().copied()
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// Which rules a configuration entry means: `disable`, `severity` keys and
/// waiver `rule`s all use this one type with one matching rule, so a key that
/// works in one place works in every place.
///
/// A selector is an exact rule id (`AISEC-PKL-001`) or a family prefix that
/// ends at a `-` boundary (`AISEC-PKL` or `AISEC-PKL-`, which mean the same).
/// `AISEC-P` is not a prefix of `AISEC-PKL-001` in this sense: it selects
/// nothing, and [`RuleRegistry::check_selector`] says so instead of letting
/// it pass as a silent no-op.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleSelector {
    /// Upper-cased, without a trailing `-`.
    text: String,
}

impl RuleSelector {
    pub fn new(text: &str) -> Self {
        RuleSelector {
            text: text.trim().trim_end_matches('-').to_ascii_uppercase(),
        }
    }

    /// Whether the selector names `rule_id` exactly or the family it is in.
    pub fn matches(&self, rule_id: &str) -> bool {
        let id = rule_id.as_bytes();
        let sel = self.text.as_bytes();
        id.len() >= sel.len()
            && id[..sel.len()].eq_ignore_ascii_case(sel)
            && (id.len() == sel.len() || id[sel.len()] == b'-')
    }

    /// Whether it names one rule rather than a family. More specific
    /// selectors win where several match (a `severity` for `AISEC-PKL-001`
    /// beats one for `AISEC-PKL`).
    pub fn specificity(&self) -> usize {
        self.text.len()
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for RuleSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl RuleRegistry {
    /// `Ok` when `selector` selects at least one known rule; otherwise a
    /// message that says what would work.
    pub fn check_selector(&self, selector: &RuleSelector) -> Result<usize, String> {
        let n = self.iter().filter(|r| selector.matches(r.id)).count();
        if n > 0 {
            return Ok(n);
        }
        let families: Vec<String> = {
            let mut f: Vec<String> = self
                .iter()
                .map(|r| format!("AISEC-{}", r.family()))
                .filter(|f| f.starts_with(selector.as_str()))
                .collect();
            f.dedup();
            f
        };
        Err(if families.is_empty() {
            format!("`{selector}` selects no rule (see `aisec rules`)")
        } else {
            format!(
                "`{selector}` selects no rule: a family prefix ends at `-`; did you mean {}?",
                families.join(" or ")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_match_ids_and_whole_families_only() {
        let family = RuleSelector::new("aisec-pkl");
        assert!(family.matches("AISEC-PKL-001"));
        assert!(RuleSelector::new("AISEC-PKL-").matches("AISEC-PKL-001"));
        assert!(!family.matches("AISEC-PKLX-001"));
        assert!(!RuleSelector::new("AISEC-P").matches("AISEC-PKL-001"));
        let exact = RuleSelector::new("AISEC-PKL-001");
        assert!(exact.matches("aisec-pkl-001"));
        assert!(!exact.matches("AISEC-PKL-0011"));
        assert!(exact.specificity() > family.specificity());

        let table: &[&'static Rule] = &[&A];
        let reg = RuleRegistry::new([table]).unwrap();
        assert_eq!(reg.check_selector(&RuleSelector::new("AISEC-TST")), Ok(1));
        let e = reg
            .check_selector(&RuleSelector::new("AISEC-T"))
            .unwrap_err();
        assert!(e.contains("did you mean AISEC-TST"), "{e}");
        assert!(
            reg.check_selector(&RuleSelector::new("AISEC-TST-002"))
                .is_err()
        );
    }

    static A: Rule = Rule {
        id: "AISEC-TST-001",
        name: "test-a",
        summary: "a",
        default_severity: Severity::Low,
        explanation: "a",
        references: &[refs::CWE_20],
    };

    fn with_explanation(explanation: &'static str) -> Rule {
        Rule {
            explanation,
            ..A.clone()
        }
    }

    #[test]
    fn help_is_the_first_sentence_of_the_remediation() {
        let r = with_explanation(
            "## What it finds\nA thing. More.\n\n## Remediation\nPass `filter=\"data\"` (Python\n3.12+, e.g. the `tar.py` way). Or else. Ignored.\n\nAnother paragraph.",
        );
        assert_eq!(
            r.help().as_deref(),
            Some("Pass `filter=\"data\"` (Python 3.12+, e.g. the `tar.py` way).")
        );
        let r = with_explanation("## Remediation\nPin it (`FROM x@sha256:...`). Tags move.");
        assert_eq!(r.help().as_deref(), Some("Pin it (`FROM x@sha256:...`)."));
        let r = with_explanation(
            "## Remediation\nPass `filter=\"data\"` (Python\n3.12+, e.g. the `tar.py` way). Or else.",
        );
        assert_eq!(
            r.help().as_deref(),
            Some("Pass `filter=\"data\"` (Python 3.12+, e.g. the `tar.py` way).")
        );
        // A one-sentence section without a full stop, and a first list item.
        let r = with_explanation("## Remediation\nKeep a documented Art. 9 exception");
        assert_eq!(
            r.help().as_deref(),
            Some("Keep a documented Art. 9 exception")
        );
        let r = with_explanation("## Remediation\nRemove it. aisec does not follow links.");
        assert_eq!(r.help().as_deref(), Some("Remove it."));
        let r = with_explanation("## Why\nx\n\n## Remediation\n\n- Pin it.\n- Or not.");
        assert_eq!(r.help().as_deref(), Some("Pin it."));
        // No section, or an empty one: no help rather than a wrong one.
        assert_eq!(
            with_explanation("## Why it matters\nRemediation\nx").help(),
            None
        );
        assert_eq!(
            with_explanation("## Remediation\n\n## Next\nx").help(),
            None
        );
    }

    #[test]
    fn rule_ids_are_checked_for_form_family_and_order() {
        assert!(rule_id_is_well_formed("AISEC-PKL-001"));
        for bad in [
            "AISEC-PKL-01",
            "AISEC-PKL-0011",
            "AISEC-pkl-001",
            "AISEC--001",
            "AISEC-PKL_001",
            "aisec-PKL-001",
            "AISEC-PKL-00a",
        ] {
            assert!(!rule_id_is_well_formed(bad), "{bad}");
        }
        assert!(rule_id_follows("AISEC-PKL-001", "AISEC-PKL-002"));
        assert!(rule_id_follows("AISEC-PKL-009", "AISEC-PKL-010"));
        assert!(rule_id_follows("AISEC-PKL-001", "AISEC-PKL-031"));
        assert!(!rule_id_follows("AISEC-PKL-002", "AISEC-PKL-001"));
        assert!(!rule_id_follows("AISEC-PKL-001", "AISEC-PKL-001"));
        assert!(!rule_id_follows("AISEC-PKL-001", "AISEC-PKM-002"));
        assert!(!rule_id_follows("AISEC-PKL-001", "AISEC-PK-002"));
    }

    crate::rules! {
        static DECLARED;
        static FIRST = Rule {
            id: "AISEC-TST-001",
            name: "first",
            summary: "first",
            default_severity: Severity::Low,
            explanation: "first",
            references: &[],
        };
        static THIRD = Rule {
            id: "AISEC-TST-003",
            name: "third",
            summary: "third",
            default_severity: Severity::High,
            explanation: "third",
            references: &[refs::CWE_20],
        };
    }

    #[test]
    fn rules_macro_declares_statics_and_their_list_in_order() {
        let ids: Vec<&str> = DECLARED.iter().map(|r| r.id).collect();
        assert_eq!(ids, ["AISEC-TST-001", "AISEC-TST-003"]);
        assert!(std::ptr::eq(DECLARED[1], &THIRD));
        assert_eq!(FIRST.default_severity, Severity::Low);
    }

    #[test]
    fn cwe_macro_builds_id_and_url() {
        assert_eq!(refs::CWE_502.id, "CWE-502");
        assert_eq!(
            refs::CWE_502.url,
            "https://cwe.mitre.org/data/definitions/502.html"
        );
    }

    #[test]
    fn registry_rejects_duplicates_and_looks_up_any_case() {
        let table: &[&'static Rule] = &[&A];
        let reg = RuleRegistry::new([table]).unwrap();
        assert_eq!(reg.get("aisec-tst-001").unwrap().name, "test-a");
        assert!(reg.get("AISEC-TST-002").is_none());
        assert_eq!(
            RuleRegistry::new([table, table]).unwrap_err(),
            DuplicateRuleId("AISEC-TST-001")
        );
        assert_eq!(A.family(), "TST");
    }
}
