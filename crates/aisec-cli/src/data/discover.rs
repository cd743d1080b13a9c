//! `aisec data scan`: per-column sensitive-data report over `aisec-data`.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::{Subcommand, ValueEnum};

use aisec_data::{DatasetProfile, SampleOptions};

/// Exit codes, as for `aisec scan`.
const EXIT_CLEAN: u8 = 0;
const EXIT_FOUND: u8 = 1;
const EXIT_ERROR: u8 = 2;
/// Files a directory argument contributes, with these extensions (a file
/// named on the command line is read whatever its name).
const DATASET_EXTENSIONS: &[&str] = &[
    "csv", "tsv", "tab", "psv", "jsonl", "ndjson", "json", "parquet", "pq", "txt", "log", "ipynb",
];

#[derive(Subcommand)]
pub enum DiscoverCommand {
    /// Find personal data and credentials in datasets, column by column.
    #[command(
        long_about = "\
Find personal data and credentials in datasets, column by column.

Reads a sample of each file (by default the first 10 000 rows or 16 MiB;
for Parquet only the footer and the first row groups) and reports, per
column, which detectors matched, how many values, the share of the sampled
values, and up to three masked examples. Raw values are never printed.

Formats (decided by content, then name): CSV/TSV (delimiter and header
sniffed), JSON Lines (each key path is a column, e.g. user.email), JSON
arrays of records, Parquet, plain text (one column, `text`) and Jupyter
notebook outputs.

Detectors: e-mail, phone (international, E.164, national), payment card
(IIN + Luhn), IBAN (mod 97), US SSN, UK NI number, IPv4/IPv6, date of birth
(in dob/birth columns or after \"born\"), person names (in name columns),
API keys (aisec-secrets). Column names such as email, ssn, passport,
address or gender flag a column even when its values are masked.

Exit code: 0 no sensitive column, 1 sensitive data found, 2 error.",
        after_help = "\
Examples:
  aisec data scan customers.csv
  aisec data scan data/ --format json > pii.json
  aisec data scan events.jsonl --sample-rows 100000
  aisec data scan big.parquet --sample-bytes 67108864"
    )]
    Scan {
        /// Files or directories (directories are searched for dataset files).
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Rows read per file [default: 10000].
        #[arg(long, value_name = "N")]
        sample_rows: Option<u64>,
        /// Bytes read per file (for Parquet: of sampled row groups) [default: 16777216].
        #[arg(long, value_name = "N")]
        sample_bytes: Option<u64>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

pub fn run(command: DiscoverCommand) -> Result<u8> {
    match command {
        DiscoverCommand::Scan {
            paths,
            format,
            sample_rows,
            sample_bytes,
        } => {
            let defaults = SampleOptions::default();
            let opts = SampleOptions {
                max_rows: sample_rows.unwrap_or(defaults.max_rows).max(1),
                max_bytes: sample_bytes.unwrap_or(defaults.max_bytes).max(1),
                ..defaults
            };
            scan(&paths, format, &opts)
        }
    }
}

fn scan(paths: &[PathBuf], format: Format, opts: &SampleOptions) -> Result<u8> {
    let (files, mut errors) = dataset_files(paths)?;
    let mut profiles: Vec<DatasetProfile> = Vec::new();
    for f in &files {
        match aisec_data::profile_path(f, opts) {
            Ok(p) => profiles.push(p),
            Err(e) => errors.push(e.to_string()),
        }
    }
    match format {
        Format::Json => {
            let doc = serde_json::json!({
                "sample": { "max_rows": opts.max_rows, "max_bytes": opts.max_bytes },
                "files": profiles,
                "errors": errors,
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        Format::Table => {
            for p in &profiles {
                print_table(p);
            }
            for e in &errors {
                eprintln!("error: {e}");
            }
        }
    }
    Ok(if !errors.is_empty() {
        EXIT_ERROR
    } else if profiles.iter().any(DatasetProfile::is_sensitive) {
        EXIT_FOUND
    } else {
        EXIT_CLEAN
    })
}

/// The files to profile: those named on the command line, and the dataset
/// files below directory arguments, found by the same walker as `aisec scan`
/// (hidden files included, since attackers hide where tools do not look;
/// links judged, not followed), except that `.gitignore` does not apply:
/// datasets are the files repositories ignore, and the user named them.
/// What the walker could not read comes back as errors, never as a silent
/// skip.
fn dataset_files(paths: &[PathBuf]) -> Result<(Vec<PathBuf>, Vec<String>)> {
    let options = aisec_engine::WalkOptions {
        no_ignore: true,
        ..aisec_engine::WalkOptions::default()
    };
    let walked = aisec_engine::walk::walk(paths, &options)
        .map_err(|e| anyhow::anyhow!(aisec_core::escape_control(&e.to_string())))?;
    let named: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    let files = walked
        .files
        .into_iter()
        .map(|f| f.path)
        .filter(|p| {
            named.contains(&p.as_path())
                || p.extension().is_some_and(|ext| {
                    DATASET_EXTENSIONS
                        .contains(&ext.to_string_lossy().to_ascii_lowercase().as_str())
                })
        })
        .collect();
    let errors = walked
        .findings
        .iter()
        .map(|f| {
            let evidence = f
                .evidence
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default();
            aisec_core::escape_control(&format!(
                "{}: {}{evidence}",
                f.location.full_path(),
                f.message
            ))
        })
        .collect();
    Ok((files, errors))
}

fn print_table(p: &DatasetProfile) {
    let total = p.rows_total.map(|t| format!(" of {t}")).unwrap_or_default();
    let cut = if p.truncated { ", sample" } else { "" };
    println!(
        "{} ({}, {} rows{total} read{cut})",
        p.path,
        p.format.as_str(),
        p.rows_sampled
    );
    let mut rows: Vec<[String; 5]> = Vec::new();
    for c in &p.columns {
        let hint = c.hint.map(|h| h.describe().to_owned()).unwrap_or_default();
        for d in c.flagged() {
            rows.push([
                c.name.clone(),
                d.detector.as_str().to_owned(),
                format!("{}/{}", d.hits, c.values_sampled),
                format!("{:.0}%", d.hit_ratio * 100.0),
                d.examples.join(", "),
            ]);
        }
        if c.hint_only {
            rows.push([
                c.name.clone(),
                format!("name: {hint}"),
                format!("-/{}", c.values_sampled),
                "-".to_owned(),
                "(values not confirmed)".to_owned(),
            ]);
        }
    }
    if rows.is_empty() {
        println!("  no sensitive column");
    } else {
        let header =
            ["COLUMN", "DETECTOR", "HITS", "RATIO", "EXAMPLES (masked)"].map(str::to_owned);
        let widths: Vec<usize> = (0..4)
            .map(|i| {
                rows.iter()
                    .chain(std::iter::once(&header))
                    .map(|r| r[i].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for r in std::iter::once(&header).chain(rows.iter()) {
            println!(
                "  {:<w0$}  {:<w1$}  {:>w2$}  {:>w3$}  {}",
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2],
                w3 = widths[3]
            );
        }
    }
    for n in &p.notes {
        println!("  note: {n}");
    }
    println!();
}
