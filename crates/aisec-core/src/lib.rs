//! The shared model of aisec: [`Finding`], [`Severity`], [`Rule`], [`Report`],
//! the [`Scanner`] trait every detector family implements, and content-based
//! file-type sniffing.
//!
//! Invariants: this crate does no I/O (it never opens a file or the network:
//! references between files go through [`SiblingSource`], which the engine
//! implements),
//! depends on no scanner, and never panics on input bytes.

mod excerpt;
mod finding;
pub mod generic;
mod kind;
mod redact;
mod report;
mod rule;
mod scanner;
mod severity;
pub mod sibling;

pub use excerpt::{EXCERPT_CHARS, escape_control, excerpt};
pub use finding::{ByteRange, Finding, Location, MEMBER_SEPARATOR, assign_fingerprints};
pub use kind::{FileKind, SNIFF_LEN, detect_kind, kind_from_name, sniff_content, zip_end_record};
pub use redact::redact;
pub use report::{REPORT_SCHEMA_VERSION, Report, ScanStats, Suppressed, ToolInfo};
pub use rule::{
    DuplicateRuleId, Reference, Rule, RuleRegistry, RuleSelector, refs, rule_id_follows,
    rule_id_is_well_formed,
};
pub use scanner::{BudgetExhausted, FileInput, Limits, ScanContext, Scanner};
pub use severity::{Confidence, Severity, UnknownSeverity};
pub use sibling::{MemorySiblings, NoSiblings, Sibling, SiblingError, SiblingMeta, SiblingSource};
