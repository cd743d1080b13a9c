//! The per-column profile: readers feed values in, detectors count hits, and
//! [`Profiler::finish`] decides which columns are sensitive.

use std::collections::HashMap;

use aisec_core::Confidence;
use serde::Serialize;

use crate::detect::{self, DataClass, Hit, ValueContext};
use crate::hints::{ColumnHint, hint_for};
use crate::mask;
use crate::sample::SampleOptions;

/// Redacted examples kept per column and detector.
const MAX_EXAMPLES: usize = 3;
/// Share of a column's values a weak detector must match, without a column
/// name that agrees, before the column counts as holding that data. Below it,
/// matches are the look-alikes every numeric column has (one random number in
/// ten passes Luhn).
pub const WEAK_MIN_RATIO: f64 = 0.3;
/// A bare `name` column counts when at least this share of its values are
/// name-like and another column of the dataset holds personal data.
const AMBIGUOUS_NAME_MIN_RATIO: f64 = 0.5;
/// A column whose values average this many bytes and mostly hold blanks is
/// free text (comments, messages), where any single match counts.
const FREE_TEXT_MEAN_LEN: u64 = 40;

/// The file formats readers understand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DatasetFormat {
    Csv,
    Tsv,
    JsonLines,
    Json,
    Parquet,
    Text,
    Notebook,
}

impl DatasetFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            DatasetFormat::Csv => "csv",
            DatasetFormat::Tsv => "tsv",
            DatasetFormat::JsonLines => "json_lines",
            DatasetFormat::Json => "json",
            DatasetFormat::Parquet => "parquet",
            DatasetFormat::Text => "text",
            DatasetFormat::Notebook => "notebook",
        }
    }
}

/// What one file holds, column by column.
#[derive(Debug, Clone, Serialize)]
pub struct DatasetProfile {
    pub path: String,
    pub format: DatasetFormat,
    /// Rows (records, lines, notebook cells) that were read.
    pub rows_sampled: u64,
    /// Rows in the whole file, where the format says (Parquet's footer).
    pub rows_total: Option<u64>,
    /// Bytes of input read.
    pub bytes_read: u64,
    /// True when sampling stopped before the end of the file.
    pub truncated: bool,
    pub columns: Vec<ColumnProfile>,
    /// What was skipped and why (malformed records, columns over the cap).
    pub notes: Vec<String>,
}

impl DatasetProfile {
    /// True when any column holds sensitive data.
    pub fn is_sensitive(&self) -> bool {
        self.columns.iter().any(|c| c.sensitive)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ColumnProfile {
    pub name: String,
    /// What the column's name says it holds.
    pub hint: Option<ColumnHint>,
    /// Non-empty values sampled.
    pub values_sampled: u64,
    /// Free text (long values with blanks), where one match counts.
    pub free_text: bool,
    /// Detectors that matched at least one value.
    pub detections: Vec<Detection>,
    /// The name alone flags the column: no detector confirmed it (masked,
    /// hashed, or a kind no detector reads such as passports or addresses).
    pub hint_only: bool,
    pub sensitive: bool,
}

impl ColumnProfile {
    /// The detections that make the column sensitive.
    pub fn flagged(&self) -> impl Iterator<Item = &Detection> {
        self.detections.iter().filter(|d| d.flagged)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Detection {
    pub detector: DataClass,
    /// Values with at least one match.
    pub hits: u64,
    /// `hits` over the column's non-empty sampled values.
    pub hit_ratio: f64,
    /// Up to three redacted examples; never a raw value.
    pub examples: Vec<String>,
    /// 1-based row (record, line, notebook cell) of the first match.
    pub first_row: u64,
    /// 1-based line in the file of the first match, where lines exist.
    pub first_line: Option<u64>,
    /// Enough evidence for the column to count as holding this data.
    pub flagged: bool,
    pub confidence: Confidence,
}

#[derive(Debug, Default)]
struct ClassTally {
    hits: u64,
    examples: Vec<String>,
    first_row: u64,
    first_line: Option<u64>,
}

#[derive(Debug)]
struct ColumnState {
    name: String,
    hint: Option<ColumnHint>,
    /// Readers of free-text formats (plain text, notebook outputs) say so.
    free_text: bool,
    values: u64,
    total_len: u64,
    spaced: u64,
    tallies: HashMap<DataClass, ClassTally>,
}

/// Collects values column by column and runs the detectors on each.
pub struct Profiler {
    opts: SampleOptions,
    columns: Vec<ColumnState>,
    index: HashMap<String, usize>,
    dropped_columns: u64,
    hits: Vec<Hit>,
    pub(crate) notes: Vec<String>,
}

impl Profiler {
    pub fn new(opts: &SampleOptions) -> Self {
        Profiler {
            opts: opts.clone(),
            columns: Vec::new(),
            index: HashMap::new(),
            dropped_columns: 0,
            hits: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Makes `name` a column even before (or without) values: a Parquet
    /// schema or a CSV header names columns whose hints count on their own.
    pub fn declare(&mut self, name: &str, free_text: bool) -> Option<usize> {
        if let Some(&i) = self.index.get(name) {
            return Some(i);
        }
        if self.columns.len() >= self.opts.max_columns {
            self.dropped_columns += 1;
            return None;
        }
        let name = mask::truncate(name, 256).to_owned();
        self.columns.push(ColumnState {
            hint: hint_for(&name),
            name: name.clone(),
            free_text,
            values: 0,
            total_len: 0,
            spaced: 0,
            tallies: HashMap::new(),
        });
        self.index.insert(name, self.columns.len() - 1);
        Some(self.columns.len() - 1)
    }

    /// One value of `column` at `row` (1-based) and, where the format has
    /// lines, `line`.
    pub fn observe(&mut self, column: &str, value: &str, row: u64, line: Option<u64>) {
        let Some(i) = self
            .index
            .get(column)
            .copied()
            .or_else(|| self.declare(column, false))
        else {
            return;
        };
        self.observe_at(i, value, row, line);
    }

    /// [`Self::observe`] by column index (as [`Self::declare`] returned it).
    pub fn observe_at(&mut self, i: usize, value: &str, row: u64, line: Option<u64>) {
        let value = mask::truncate(value.trim(), self.opts.max_cell_bytes);
        if value.is_empty() {
            return;
        }
        let Some(col) = self.columns.get_mut(i) else {
            return;
        };
        col.values += 1;
        col.total_len += value.len() as u64;
        if value.contains(' ') {
            col.spaced += 1;
        }
        self.hits.clear();
        detect::detect(
            value,
            ValueContext {
                hint: col.hint,
                secrets: self.opts.secrets,
            },
            &mut self.hits,
        );
        // A value may hold the same class twice (two addresses in one
        // message); hits count values, so each class once per value.
        let mut seen = [false; DataClass::ALL.len()];
        for h in &self.hits {
            let k = h.class as usize;
            if std::mem::replace(&mut seen[k], true) {
                continue;
            }
            let tally = col.tallies.entry(h.class).or_default();
            tally.hits += 1;
            if tally.first_row == 0 {
                tally.first_row = row;
                tally.first_line = line;
            }
            if tally.examples.len() < MAX_EXAMPLES && !tally.examples.contains(&h.redacted) {
                tally.examples.push(h.redacted.clone());
            }
        }
    }

    /// Decides, column by column, what counts; `meta` describes the read.
    pub fn finish(self, mut meta: DatasetProfile) -> DatasetProfile {
        let mut columns: Vec<ColumnProfile> =
            self.columns.into_iter().map(column_profile).collect();
        // A bare `name` column is a person's name only next to other personal data.
        let other_pii = |columns: &[ColumnProfile], skip: usize| {
            columns
                .iter()
                .enumerate()
                .any(|(i, c)| i != skip && c.sensitive && c.hint != Some(ColumnHint::AmbiguousName))
        };
        for i in 0..columns.len() {
            if columns[i].hint != Some(ColumnHint::AmbiguousName) {
                continue;
            }
            let next_to_pii = other_pii(&columns, i);
            let c = &mut columns[i];
            for d in &mut c.detections {
                if d.detector == DataClass::PersonName {
                    d.flagged = next_to_pii && d.hit_ratio >= AMBIGUOUS_NAME_MIN_RATIO;
                }
            }
            c.sensitive = c.detections.iter().any(|d| d.flagged);
        }
        if self.dropped_columns > 0 {
            meta.notes.push(format!(
                "{} columns beyond the first {} were not profiled",
                self.dropped_columns, self.opts.max_columns
            ));
        }
        meta.notes.extend(self.notes);
        meta.columns = columns;
        meta
    }
}

/// Shortest mean value length of a column that could hide `hint`'s data
/// masked, hashed or tokenised (`***-**-1234`, `j***@x.org`, a hex digest,
/// `12 Elm St`). Counts and codes (`0`, `153`, `Pave` in the Ames housing
/// data's `3SsnPorch` and `Street` columns) cannot.
const MIN_HIDDEN_VALUE_LEN: u64 = 5;

fn could_hold(hint: ColumnHint, mean_len: u64) -> bool {
    match hint {
        // Short values are the norm here: `F`, `1990`, `A+`.
        ColumnHint::SpecialCategory | ColumnHint::BirthDate | ColumnHint::PersonName => true,
        _ => mean_len >= MIN_HIDDEN_VALUE_LEN,
    }
}

fn column_profile(col: ColumnState) -> ColumnProfile {
    let free_text = col.free_text
        || (col.values > 0
            && col.total_len / col.values >= FREE_TEXT_MEAN_LEN
            && col.spaced * 2 >= col.values);
    let mut detections: Vec<Detection> = col
        .tallies
        .into_iter()
        .map(|(class, t)| {
            let ratio = if col.values == 0 {
                0.0
            } else {
                t.hits as f64 / col.values as f64
            };
            let confirmed = col.hint.and_then(ColumnHint::confirms) == Some(class);
            let flagged = match class {
                // Names only count where the column name asks for them.
                DataClass::PersonName => {
                    col.hint == Some(ColumnHint::PersonName) && ratio >= WEAK_MIN_RATIO
                        || col.hint == Some(ColumnHint::AmbiguousName)
                }
                _ => free_text || class.is_strong() || confirmed || ratio >= WEAK_MIN_RATIO,
            };
            let confidence = if confirmed || (class.is_strong() && ratio >= 0.5) {
                Confidence::High
            } else if ratio >= WEAK_MIN_RATIO || class.is_strong() || free_text {
                Confidence::Medium
            } else {
                Confidence::Low
            };
            Detection {
                detector: class,
                hits: t.hits,
                hit_ratio: (ratio * 10_000.0).round() / 10_000.0,
                examples: t.examples,
                first_row: t.first_row,
                first_line: t.first_line,
                flagged,
                confidence,
            }
        })
        .collect();
    detections.sort_by_key(|d| d.detector);
    let detected = detections.iter().any(|d| d.flagged);
    let mean_len = col.total_len.checked_div(col.values).unwrap_or(0);
    let hint_only = !detected
        && col.values > 0
        && col
            .hint
            .is_some_and(|h| h.sensitive_by_itself() && could_hold(h, mean_len));
    ColumnProfile {
        name: col.name,
        hint: col.hint,
        values_sampled: col.values,
        free_text,
        sensitive: detected || hint_only,
        detections,
        hint_only,
    }
}
