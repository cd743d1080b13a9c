//! Personal data in saved notebook outputs (`AISEC-DATA-012`), for
//! `aisec scan`: every output line of every cell goes through the dataset
//! detectors ([`detect::detect`]), so a notebook gets the same classes as a
//! CSV. One finding per cell and class. Credentials are not looked for here:
//! the secrets scanner reads the raw `.ipynb` and names the cell itself.

use aisec_core::{Confidence, FileInput, Finding};

use crate::detect::{self, DataClass, ValueContext};
use crate::mask;
use crate::rules;

/// A handful of addresses (or numbers) is an author or a maintainer; a table
/// of them is data. Applies to the classes printed by tooling too.
const MIN_VALUES: usize = 3;
/// Classes that need [`MIN_VALUES`] distinct values in one cell.
const COUNTED: &[DataClass] = &[DataClass::Email, DataClass::Phone, DataClass::IpAddress];
/// Up to this many masked examples in the evidence.
const MAX_EXAMPLES: usize = 3;

/// Domains of documentation and test addresses, never a person's.
const DOC_DOMAINS: &[&str] = &[
    "example.com",
    "example.org",
    "example.net",
    "test.com",
    "localhost",
    "noreply.github.com",
    "email.com",
    "domain.com",
];

fn doc_address(email: &str) -> bool {
    let domain = email.rsplit('@').next().unwrap_or("").to_ascii_lowercase();
    DOC_DOMAINS
        .iter()
        .any(|d| domain == *d || domain.strip_suffix(d).is_some_and(|p| p.ends_with('.')))
}

#[derive(Default)]
struct Tally<'a> {
    /// Distinct raw values, to count and to locate the first; never reported.
    values: Vec<&'a str>,
    examples: Vec<String>,
}

/// The findings for a notebook's outputs, or nothing when `bytes` is not a
/// notebook (the secrets and hygiene scanners report malformed JSON).
pub fn findings(file: &FileInput<'_>, bytes: &[u8], max_cell_bytes: usize) -> Vec<Finding> {
    let Some(cells) = aisec_secrets::notebook_cells(bytes) else {
        return Vec::new();
    };
    let ctx = ValueContext {
        hint: None,
        secrets: false,
    };
    let mut out = Vec::new();
    let mut hits = Vec::new();
    for cell in &cells {
        let mut tallies: Vec<(DataClass, Tally<'_>)> = Vec::new();
        for line in cell.outputs.lines() {
            let value = mask::truncate(line.trim(), max_cell_bytes);
            if value.is_empty() {
                continue;
            }
            hits.clear();
            detect::detect(value, ctx, &mut hits);
            for h in &hits {
                let raw = &value[h.start..h.end];
                if h.class == DataClass::Email && doc_address(raw) {
                    continue;
                }
                let i = match tallies.iter().position(|(c, _)| *c == h.class) {
                    Some(i) => i,
                    None => {
                        tallies.push((h.class, Tally::default()));
                        tallies.len() - 1
                    }
                };
                let t = &mut tallies[i].1;
                if !t.values.contains(&raw) {
                    t.values.push(raw);
                }
                if t.examples.len() < MAX_EXAMPLES && !t.examples.contains(&h.redacted) {
                    t.examples.push(h.redacted.clone());
                }
            }
        }
        tallies.sort_by_key(|(c, _)| *c);
        for (class, t) in tallies {
            if COUNTED.contains(&class) && t.values.len() < MIN_VALUES {
                continue;
            }
            let mut f = Finding::new(
                &rules::NOTEBOOK_OUTPUT,
                file,
                format!(
                    "the saved output of cell {} shows {} {}, e.g. {}",
                    cell.index,
                    t.values.len(),
                    class.describe(),
                    t.examples[0]
                ),
            )
            .evidence(format!("{}: {}", class.describe(), t.examples.join(", ")))
            .severity(rules::rule_for(class).default_severity)
            .confidence(if class.is_strong() {
                Confidence::High
            } else {
                Confidence::Medium
            });
            if let Some(pos) = memchr::memmem::find(bytes, t.values[0].as_bytes()) {
                let (line, col) = line_col(bytes, pos);
                f = f.line(line, Some(col));
            }
            out.push(f);
        }
    }
    out
}

/// 1-based line and column of `offset` (one finding per cell and class: a
/// linear count is cheap enough).
fn line_col(bytes: &[u8], offset: usize) -> (u32, u32) {
    let before = &bytes[..offset];
    let line = memchr::memchr_iter(b'\n', before).count() + 1;
    let start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(offset - start + 1).unwrap_or(u32::MAX),
    )
}
