//! `DataScanner`: the `aisec scan` face of the profiler. Datasets are chosen
//! by content and name (Parquet by its `PAR1` magic whatever the name; CSV,
//! TSV and JSON Lines by name, confirmed by content); one finding per file,
//! column and kind of data.
//!
//! Notebooks (`.ipynb`) are read for personal data in their saved outputs
//! (`AISEC-DATA-012`, see [`crate::notebook`]); the secrets scanner reports
//! only the credentials in them. Not scanned here, to report nothing twice:
//! credentials in text datasets and notebooks (the secrets scanner reads
//! every text file). Plain text
//! is profiled by `aisec data scan` only: prose, code and logs would drown
//! `aisec scan` in e-mail addresses of authors and maintainers.

use aisec_core::{FileInput, FileKind, Finding, ScanContext, Scanner, Severity, generic};

use crate::hints::ColumnHint;
use crate::notebook;
use crate::profile::{ColumnProfile, DatasetFormat, DatasetProfile};
use crate::readers::{self, PARQUET_MAGIC};
use crate::rules::{self, RULES};
use crate::sample::SampleOptions;

/// The data scanner. Stateless.
#[derive(Debug, Default, Clone, Copy)]
pub struct DataScanner;

const TEXT_DATASET_EXTENSIONS: &[&str] = &["csv", "tsv", "tab", "psv", "jsonl", "ndjson"];

fn is_parquet(bytes: &[u8]) -> bool {
    bytes.len() >= 12 && bytes.starts_with(PARQUET_MAGIC) && bytes.ends_with(PARQUET_MAGIC)
}

impl Scanner for DataScanner {
    fn name(&self) -> &'static str {
        "data"
    }

    fn rules(&self) -> &'static [&'static aisec_core::Rule] {
        RULES
    }

    fn detect(&self, file: &FileInput<'_>) -> bool {
        if is_parquet(file.bytes) {
            return true;
        }
        if file.kind != FileKind::Text {
            return false;
        }
        if file.has_extension_in(TEXT_DATASET_EXTENSIONS) || file.has_extension("ipynb") {
            return true;
        }
        // `.json` only when it is JSON Lines in disguise: config files are not datasets.
        if file.has_extension("json") {
            let head = &file.bytes[..file.bytes.len().min(64 * 1024)];
            return readers::json::first_line_is_record(head)
                && head.iter().filter(|b| **b == b'\n').count() >= 2;
        }
        false
    }

    fn scan(&self, file: &FileInput<'_>, ctx: &ScanContext<'_>) -> Vec<Finding> {
        let parquet = is_parquet(file.bytes);
        let defaults = SampleOptions::default();
        if !parquet && file.has_extension("ipynb") {
            return notebook::findings(file, file.bytes, defaults.max_cell_bytes);
        }
        let opts = SampleOptions {
            // Sampling reads less than the full-read limit unless that limit was lowered.
            max_bytes: defaults.max_bytes.min(ctx.limits.max_full_read),
            // Credentials in text are the secrets scanner's, which reads every text file.
            secrets: parquet,
            ..defaults
        };
        let name = file.name();
        let display = file.display();
        // Text datasets end at the first NUL byte (a sparse file's zeros are
        // not rows); the secrets scanner, which reads every text file,
        // reports what lies beyond. Parquet is binary and read as it is.
        let bytes = if parquet {
            file.bytes
        } else {
            aisec_secrets::text_prefix(file.bytes)
        };
        match readers::profile_source(&display, name, &bytes, &opts) {
            Ok(profile) => findings(file, &profile),
            Err(e) => vec![Finding::new(
                &generic::MALFORMED,
                file,
                format!("the dataset could not be profiled: {e}"),
            )],
        }
    }
}

/// One finding per flagged (column, kind), and one per column flagged by its
/// name alone.
pub fn findings(file: &FileInput<'_>, profile: &DatasetProfile) -> Vec<Finding> {
    let mut out = Vec::new();
    let sampled = sample_note(profile);
    for col in &profile.columns {
        for d in col.flagged() {
            let rule = rules::rule_for(d.detector);
            let agrees = if col.hint.and_then(ColumnHint::confirms) == Some(d.detector) {
                " (the column name agrees)"
            } else {
                ""
            };
            let at = match d.first_line {
                Some(_) => String::new(),
                None => format!(", first in row {}", d.first_row),
            };
            let message = format!(
                "column `{}`: {} of {} sampled values ({:.1}%) hold {}{agrees}{at}, e.g. {}{sampled}",
                col.name,
                d.hits,
                col.values_sampled,
                d.hit_ratio * 100.0,
                d.detector.describe(),
                d.examples.first().map_or("", String::as_str),
            );
            let mut f = Finding::new(rule, file, message)
                .evidence(format!("{}: {}", col.name, d.examples.join(", ")))
                .confidence(d.confidence);
            if let Some(line) = d.first_line {
                f = f.line(u32::try_from(line).unwrap_or(u32::MAX), None);
            }
            out.push(f);
        }
        if col.hint_only {
            out.push(hint_finding(file, col, &sampled));
        }
    }
    out
}

fn hint_finding(file: &FileInput<'_>, col: &ColumnProfile, sampled: &str) -> Finding {
    let hint = col.hint.unwrap_or(ColumnHint::Address);
    let rule = if hint == ColumnHint::SpecialCategory {
        &rules::SPECIAL_CATEGORY_COLUMN
    } else {
        &rules::SENSITIVE_COLUMN_NAME
    };
    let message = format!(
        "column `{}` is named for {} data; no detector confirmed its {} sampled values (masked, hashed, or a kind no detector reads){sampled}",
        col.name,
        hint.describe(),
        col.values_sampled
    );
    Finding::new(rule, file, message)
        .evidence(format!("column name: {}", col.name))
        .confidence(aisec_core::Confidence::Low)
        .severity(if hint == ColumnHint::SpecialCategory {
            Severity::Medium
        } else {
            Severity::Low
        })
}

fn sample_note(p: &DatasetProfile) -> String {
    if !p.truncated {
        return String::new();
    }
    match (p.format, p.rows_total) {
        (DatasetFormat::Parquet, Some(total)) => {
            format!(" (sampled {} of {total} rows)", p.rows_sampled)
        }
        _ => format!(" (sampled the first {} rows)", p.rows_sampled),
    }
}
