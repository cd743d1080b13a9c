//! `aisec data mask|encrypt|decrypt|keygen|anonymity|quality` (owned by the
//! protection half): thin glue over `aisec-dataset`.

use std::io::Write;
use std::path::{Path, PathBuf};

use aisec_dataset::anonymity::{AnonymityOptions, AnonymityReport, anonymity_file};
use aisec_dataset::crypt::{self, DecryptWith, EncryptTo};
use aisec_dataset::quality::{QualityOptions, QualityReport, quality_file};
use aisec_dataset::{Dialect, MaskKey, MaskOptions, Policy, mask_file, mask_json_lines_file};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};

/// Exit codes of these commands (as elsewhere in the CLI: 2 is an error).
const EXIT_OK: u8 = 0;
/// `mask`: rows were rejected (the output holds the others, or nothing under
/// `--strict`); `anonymity`: k is below `--fail-below-k`.
const EXIT_REJECTED: u8 = 1;

/// Passphrase variable read when no other key is given.
const PASSPHRASE_ENV: &str = "AISEC_DATA_PASSPHRASE";

const MASK_HELP: &str = "\
Policy (TOML):

  default = \"keep\"              # columns not named below: keep | redact | drop | hash
  unknown_columns = \"default\"   # or \"fail\": refuse columns the policy does not name

  [key]                         # HMAC key for hash/tokenise, BY REFERENCE ONLY:
  env = \"AISEC_MASK_KEY\"        # an environment variable, or
  # file = \"mask.key\"           # a key file (relative to the policy)

  [[column]]
  name = \"email\"
  action = \"tokenise\"           # keep | redact | hash | tokenise | generalise | drop
  format = \"email\"              # auto | email | card   (keep_last = N)

  [[column]]
  name = \"ssn\"
  action = \"hash\"
  encoding = \"hex\"              # or base64url;  length = 16 truncates

  [[column]]
  name = \"dob\"
  action = \"generalise\"
  to = \"year\"                   # or year-month

  [[column]]
  name = \"age\"
  action = \"generalise\"
  width = 10                    # 37 -> 30-39;  top = 90 makes 90+

JSON Lines (.jsonl/.ndjson names, or --json-lines): each line an object; a column
name is a key, dotted for nested objects and for every element of an array:
`user.email`, `messages.content` (every chat turn's text), `messages.role`.

A key in the policy itself is refused. Tokens are keyed pseudonyms (HMAC-SHA256),
not format-preserving encryption: they cannot be reversed, even with the key.

Exit codes: 0 every row written, 1 rows rejected (listed on stderr; with --strict
nothing is written), 2 error (bad policy, missing key, unreadable input).

Examples:
  aisec data keygen --mask mask.key
  aisec data mask users.csv users.masked.csv --policy policy.toml --key-file mask.key
  AISEC_MASK_KEY=... aisec data mask events.tsv out.tsv --policy policy.toml --strict
  aisec data mask chats.jsonl chats.masked.jsonl --policy chat.toml --key-file mask.key

See docs/data.md.";

const ENCRYPT_HELP: &str = "\
age format (X25519 recipients or an scrypt passphrase; ChaCha20-Poly1305 STREAM):
files can be decrypted by the age and rage tools too. Output is written to a
temporary file and renamed only on success.

Keys never go on the command line: recipients (public keys) may; passphrases
come from an environment variable (AISEC_DATA_PASSPHRASE unless --passphrase-env
names another), identities from a file.

Examples:
  aisec data keygen key.age                      # prints the public key
  aisec data encrypt train.csv train.csv.age --recipient age1...
  aisec data decrypt train.csv.age train.csv --identity key.age
  AISEC_DATA_PASSPHRASE=... aisec data encrypt train.csv train.csv.age";

const ANONYMITY_HELP: &str = "\
k is the size of the smallest equivalence class (rows sharing all quasi-identifier
values); l is the smallest number of distinct sensitive values in a class.
Memory grows with the number of classes (capped by --max-classes).

Exit codes: 0 report written, 1 k below --fail-below-k, 2 error.

Example:
  aisec data anonymity patients.csv --quasi zip,birth_year,sex --sensitive diagnosis --top 5";

const QUALITY_HELP: &str = "\
Reports, does not judge: exact duplicates (normalised rows), near-duplicates
(MinHash + LSH over word 3-shingles of --text), label distribution and its shift
against an older version (--against: TVD, PSI, chi-square), and trigger-like
tokens (rare tokens whose rows nearly all share one label).

Exit codes: 0 report written, 2 error.

Examples:
  aisec data quality train.csv --label label --text text
  aisec data quality v2.csv --label label --against v1.csv --format json";

#[derive(Subcommand)]
pub enum ProtectCommand {
    /// Mask a CSV/TSV file column by column (keep, redact, hash, tokenise, generalise, drop).
    #[command(after_help = MASK_HELP)]
    Mask(MaskArgs),
    /// Encrypt a file at rest (age: X25519 recipients or passphrase).
    #[command(after_help = ENCRYPT_HELP)]
    Encrypt(EncryptArgs),
    /// Decrypt an age file; nothing is written unless it authenticates to the last byte.
    #[command(after_help = ENCRYPT_HELP)]
    Decrypt(DecryptArgs),
    /// Create an age identity (default) or a masking key file.
    Keygen(KeygenArgs),
    /// k-anonymity and l-diversity over quasi-identifier columns.
    #[command(after_help = ANONYMITY_HELP)]
    Anonymity(AnonymityArgs),
    /// Duplicate, near-duplicate, label-shift and trigger-token signals.
    #[command(after_help = QUALITY_HELP)]
    Quality(QualityArgs),
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TableDialect {
    Csv,
    Tsv,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
}

#[derive(Args)]
pub struct DialectArg {
    /// Input dialect [default: tsv for .tsv/.tab names, else csv].
    #[arg(long, value_enum)]
    dialect: Option<TableDialect>,
}

impl DialectArg {
    fn for_path(&self, path: &Path) -> Dialect {
        match self.dialect {
            Some(TableDialect::Csv) => Dialect::CSV,
            Some(TableDialect::Tsv) => Dialect::TSV,
            None => Dialect::from_path(path),
        }
    }
}

#[derive(Args)]
pub struct MaskArgs {
    /// Input CSV or TSV (first row: header), or JSON Lines.
    input: PathBuf,
    /// Output file (same dialect), written only on success.
    output: PathBuf,
    /// Masking policy (TOML).
    #[arg(long)]
    policy: PathBuf,
    /// Environment variable holding the HMAC key (overrides the policy's [key]).
    #[arg(long, conflicts_with = "key_file")]
    key_env: Option<String>,
    /// File holding the HMAC key (overrides the policy's [key]).
    #[arg(long)]
    key_file: Option<PathBuf>,
    /// Stop at the first bad row and write nothing.
    #[arg(long)]
    strict: bool,
    /// Read JSON Lines [default: for .jsonl/.ndjson names].
    #[arg(long, conflicts_with = "dialect")]
    json_lines: bool,
    #[command(flatten)]
    dialect: DialectArg,
}

#[derive(Args)]
pub struct EncryptArgs {
    input: PathBuf,
    output: PathBuf,
    /// age X25519 recipient (public key, age1...); repeatable.
    #[arg(long, short = 'r')]
    recipient: Vec<String>,
    /// File of recipients, one per line.
    #[arg(long, short = 'R')]
    recipients_file: Vec<PathBuf>,
    /// Environment variable holding the passphrase (used when no recipient is given).
    #[arg(long, default_value = PASSPHRASE_ENV)]
    passphrase_env: String,
    /// scrypt work factor (log2 N) for passphrases [default: calibrated to about 1 s].
    #[arg(long, value_parser = clap::value_parser!(u8).range(10..=30))]
    work_factor: Option<u8>,
}

#[derive(Args)]
pub struct DecryptArgs {
    input: PathBuf,
    output: PathBuf,
    /// age identity file (AGE-SECRET-KEY-1...); without it the passphrase is read.
    #[arg(long, short = 'i')]
    identity: Option<PathBuf>,
    /// Environment variable holding the passphrase.
    #[arg(long, default_value = PASSPHRASE_ENV)]
    passphrase_env: String,
}

#[derive(Args)]
pub struct KeygenArgs {
    /// Where to write the key (created, never overwritten; mode 0600).
    output: PathBuf,
    /// Write a masking (HMAC) key instead of an age identity.
    #[arg(long)]
    mask: bool,
}

#[derive(Args)]
pub struct AnonymityArgs {
    file: PathBuf,
    /// Quasi-identifier columns, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    quasi: Vec<String>,
    /// Sensitive column for l-diversity.
    #[arg(long)]
    sensitive: Option<String>,
    /// Smallest classes listed.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Classes smaller than this are counted as at risk.
    #[arg(long, default_value_t = 5)]
    min_k: u64,
    /// Exit 1 when k is below this.
    #[arg(long)]
    fail_below_k: Option<u64>,
    /// Cap on distinct equivalence classes held in memory.
    #[arg(long, default_value_t = aisec_dataset::anonymity::DEFAULT_MAX_CLASSES)]
    max_classes: usize,
    #[arg(long, short, value_enum, default_value_t = ReportFormat::Table)]
    format: ReportFormat,
    #[command(flatten)]
    dialect: DialectArg,
}

#[derive(Args)]
pub struct QualityArgs {
    file: PathBuf,
    /// Label column (label distribution, shift, triggers).
    #[arg(long)]
    label: Option<String>,
    /// Older version of the file to compare label distributions against.
    #[arg(long)]
    against: Option<PathBuf>,
    /// Text column(s), comma-separated (near-duplicates, triggers).
    #[arg(long, value_delimiter = ',')]
    text: Vec<String>,
    /// Groups, clusters and tokens listed.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Estimated Jaccard similarity for near-duplicates.
    #[arg(long, default_value_t = 0.8)]
    threshold: f64,
    /// Rows a token must appear in to be reported as trigger-like.
    #[arg(long, default_value_t = 20)]
    trigger_min_rows: u64,
    /// Share of a token's rows that must have one label.
    #[arg(long, default_value_t = 0.95)]
    trigger_min_purity: f64,
    #[arg(long, short, value_enum, default_value_t = ReportFormat::Table)]
    format: ReportFormat,
    #[command(flatten)]
    dialect: DialectArg,
}

pub fn run(command: ProtectCommand) -> Result<u8> {
    if matches!(
        command,
        ProtectCommand::Mask(_) | ProtectCommand::Encrypt(_) | ProtectCommand::Decrypt(_)
    ) {
        // Their temporary output (plaintext for decrypt) must not survive
        // Ctrl-C, a closed terminal or `kill`: see docs/data.md.
        aisec_dataset::remove_temporaries_on_signals()
            .context("cannot install the handler that removes temporary files on SIGINT")?;
    }
    match command {
        ProtectCommand::Mask(a) => mask(a),
        ProtectCommand::Encrypt(a) => encrypt(a),
        ProtectCommand::Decrypt(a) => decrypt(a),
        ProtectCommand::Keygen(a) => keygen(a),
        ProtectCommand::Anonymity(a) => anonymity(a),
        ProtectCommand::Quality(a) => quality(a),
    }
}

fn mask(a: MaskArgs) -> Result<u8> {
    let policy = Policy::from_file(&a.policy)?;
    let key = if let Some(var) = &a.key_env {
        Some(MaskKey::from_env(var)?)
    } else if let Some(path) = &a.key_file {
        Some(MaskKey::from_file(path)?)
    } else if policy.needs_key() {
        match &policy.key {
            Some(r) => Some(MaskKey::from_ref(r)?),
            None => None, // Masker::new explains what is missing.
        }
    } else {
        None
    };
    let json_lines = a.json_lines
        || (a.dialect.dialect.is_none()
            && a.input
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| {
                    e.eq_ignore_ascii_case("jsonl") || e.eq_ignore_ascii_case("ndjson")
                }));
    let options = MaskOptions {
        dialect: a.dialect.for_path(&a.input),
        strict: a.strict,
    };
    let started = std::time::Instant::now();
    let outcome = if json_lines {
        mask_json_lines_file(&a.input, &a.output, &policy, key.as_ref(), a.strict)
    } else {
        mask_file(&a.input, &a.output, &policy, key.as_ref(), options)
    };
    let summary = match outcome {
        Ok(s) => s,
        Err(e @ aisec_dataset::Error::Rejected { .. }) => {
            eprintln!("error: {e}");
            return Ok(EXIT_REJECTED);
        }
        Err(e) => return Err(e.into()),
    };
    let mut err = std::io::stderr().lock();
    let columns = if json_lines {
        String::new()
    } else {
        format!(
            " ({} of {} columns kept)",
            summary.columns_out, summary.columns_in
        )
    };
    writeln!(
        err,
        "{}: {} rows written to {}{columns}, {} rejected, {:.1}s",
        a.input.display(),
        summary.rows_written,
        a.output.display(),
        summary.rejected.count,
        started.elapsed().as_secs_f64()
    )?;
    for r in &summary.rejected.first {
        writeln!(
            err,
            "  {}:{}: rejected: {}",
            a.input.display(),
            r.line,
            r.message
        )?;
    }
    if summary.rejected.count > summary.rejected.first.len() as u64 {
        writeln!(
            err,
            "  ... and {} more rejected rows",
            summary.rejected.count - summary.rejected.first.len() as u64
        )?;
    }
    Ok(if summary.rejected.count > 0 {
        EXIT_REJECTED
    } else {
        EXIT_OK
    })
}

fn passphrase_from(var: &str) -> Option<crypt::SecretString> {
    std::env::var(var)
        .ok()
        .filter(|p| !p.is_empty())
        .map(crypt::SecretString::from)
}

fn encrypt(a: EncryptArgs) -> Result<u8> {
    let mut recipients = Vec::new();
    for r in &a.recipient {
        recipients.push(crypt::parse_recipient(r)?);
    }
    for f in &a.recipients_file {
        recipients.extend(crypt::read_recipients_file(f)?);
    }
    let to = if !recipients.is_empty() {
        if a.work_factor.is_some() {
            bail!("--work-factor applies to passphrases, and recipients were given");
        }
        EncryptTo::Recipients(recipients)
    } else {
        let Some(passphrase) = passphrase_from(&a.passphrase_env) else {
            bail!(
                "nothing to encrypt to: give --recipient age1... / --recipients-file FILE, or set {} to a passphrase",
                a.passphrase_env
            );
        };
        EncryptTo::Passphrase {
            passphrase,
            work_factor: a.work_factor,
        }
    };
    let n = crypt::encrypt_file(&a.input, &a.output, &to)?;
    eprintln!(
        "{}: {n} bytes encrypted to {}",
        a.input.display(),
        a.output.display()
    );
    Ok(EXIT_OK)
}

fn decrypt(a: DecryptArgs) -> Result<u8> {
    let with = match &a.identity {
        Some(path) => DecryptWith::Identities(crypt::read_identity_file(path)?),
        None => match passphrase_from(&a.passphrase_env) {
            Some(p) => DecryptWith::Passphrase(p),
            None => bail!(
                "no key: give --identity FILE, or set {} to the passphrase",
                a.passphrase_env
            ),
        },
    };
    let n = crypt::decrypt_file(&a.input, &a.output, &with)
        .with_context(|| format!("no output written to {}", a.output.display()))?;
    eprintln!(
        "{}: {n} bytes decrypted to {}",
        a.input.display(),
        a.output.display()
    );
    Ok(EXIT_OK)
}

fn keygen(a: KeygenArgs) -> Result<u8> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&a.output).with_context(|| {
        format!(
            "{}: cannot create the key file (it is never overwritten)",
            a.output.display()
        )
    })?;
    if a.mask {
        let key = aisec_dataset::policy::generate_mask_key()?;
        writeln!(file, "{key}").with_context(|| a.output.display().to_string())?;
        eprintln!(
            "{}: masking key written (name it in a policy with [key] file = \"...\")",
            a.output.display()
        );
    } else {
        use crypt::ExposeSecret;
        let (text, public) = crypt::generate_identity();
        file.write_all(text.expose_secret().as_bytes())
            .with_context(|| a.output.display().to_string())?;
        eprintln!("{}: age identity written", a.output.display());
        println!("{public}");
    }
    Ok(EXIT_OK)
}

fn anonymity(a: AnonymityArgs) -> Result<u8> {
    let mut options = AnonymityOptions::new(a.quasi.clone());
    options.sensitive = a.sensitive.clone();
    options.top = a.top;
    options.min_k = a.min_k;
    options.max_classes = a.max_classes;
    options.dialect = a.dialect.for_path(&a.file);
    let report = anonymity_file(&a.file, &options)?;
    let mut out = std::io::stdout().lock();
    match a.format {
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        ReportFormat::Table => write_anonymity_table(&mut out, &report)?,
    }
    Ok(match a.fail_below_k {
        Some(min) if report.k < min => EXIT_REJECTED,
        _ => EXIT_OK,
    })
}

fn write_anonymity_table(out: &mut dyn Write, r: &AnonymityReport) -> Result<()> {
    writeln!(
        out,
        "{}: {} rows, quasi-identifiers: {}",
        r.file,
        r.rows,
        r.quasi_identifiers.join(", ")
    )?;
    writeln!(out, "  equivalence classes  {}", r.classes)?;
    writeln!(out, "  k-anonymity          {}", r.k)?;
    if let (Some(l), Some(s)) = (r.l, &r.sensitive) {
        writeln!(out, "  l-diversity          {l} (distinct values of {s})")?;
    }
    writeln!(out, "  unique rows          {}", r.unique_rows)?;
    writeln!(
        out,
        "  below k={}           {} classes, {} rows",
        r.min_k, r.classes_below_min_k, r.rows_below_min_k
    )?;
    if r.rejected.count > 0 {
        writeln!(
            out,
            "  rejected rows        {} (first at line {})",
            r.rejected.count, r.rejected.first[0].line
        )?;
    }
    if !r.smallest.is_empty() {
        writeln!(out, "\n  smallest classes:")?;
        writeln!(
            out,
            "  {:>7} {:>9} {:>6}  values ({})",
            "count",
            "distinct",
            "line",
            r.quasi_identifiers.join(", ")
        )?;
        for c in &r.smallest {
            let d = c
                .distinct_sensitive
                .map_or("-".to_string(), |d| d.to_string());
            writeln!(
                out,
                "  {:>7} {:>9} {:>6}  {}",
                c.count,
                d,
                c.first_line,
                c.values.join(" | ")
            )?;
        }
    }
    Ok(())
}

fn quality(a: QualityArgs) -> Result<u8> {
    if !(0.0..=1.0).contains(&a.threshold) || !(0.0..=1.0).contains(&a.trigger_min_purity) {
        bail!("--threshold and --trigger-min-purity are shares between 0 and 1");
    }
    let options = QualityOptions {
        label: a.label.clone(),
        text: a.text.clone(),
        dialect: a.dialect.for_path(&a.file),
        top: a.top,
        near_threshold: a.threshold,
        trigger_min_rows: a.trigger_min_rows,
        trigger_min_purity: a.trigger_min_purity,
        ..QualityOptions::default()
    };
    let report = quality_file(&a.file, a.against.as_deref(), &options)?;
    let mut out = std::io::stdout().lock();
    match a.format {
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        ReportFormat::Table => write_quality_table(&mut out, &report)?,
    }
    Ok(EXIT_OK)
}

fn lines(l: &[u64]) -> String {
    l.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
}

fn partial(p: Option<u64>) -> String {
    p.map_or(String::new(), |l| {
        format!(" (partial: cap reached at line {l})")
    })
}

fn write_quality_table(out: &mut dyn Write, r: &QualityReport) -> Result<()> {
    writeln!(out, "{}: {} rows", r.file, r.rows)?;
    if r.rejected.count > 0 {
        writeln!(
            out,
            "  rejected rows: {} (first at line {})",
            r.rejected.count, r.rejected.first[0].line
        )?;
    }
    let e = &r.exact_duplicates;
    writeln!(
        out,
        "\nexact duplicates: {} groups, {} extra rows{}",
        e.groups,
        e.duplicate_rows,
        partial(e.partial_after_line)
    )?;
    for g in &e.largest {
        writeln!(out, "  {:>5} x  lines {}", g.count, lines(&g.lines))?;
    }
    if let Some(n) = &r.near_duplicates {
        writeln!(
            out,
            "\nnear-duplicates ({} >= {}): {} clusters, {} extra rows of {} indexed{}",
            n.text_columns.join(", "),
            n.threshold,
            n.clusters,
            n.rows_in_clusters,
            n.rows_indexed,
            partial(n.partial_after_line)
        )?;
        for c in &n.largest {
            writeln!(
                out,
                "  {:>5} rows (min similarity {:.2})  lines {}",
                c.size,
                c.min_similarity,
                lines(&c.lines)
            )?;
        }
    }
    if let Some(col) = &r.label_column {
        writeln!(out, "\nlabels ({col}):")?;
        for l in &r.labels {
            writeln!(
                out,
                "  {:>9} {:>6.1}%  {}",
                l.count,
                l.share * 100.0,
                l.label
            )?;
        }
    }
    if let Some(s) = &r.label_shift {
        writeln!(
            out,
            "\nlabel shift against {} ({} -> {} rows):",
            s.against, s.old_rows, s.new_rows
        )?;
        writeln!(
            out,
            "  total variation {:.4}   PSI {:.4}   chi-square {:.2} (df {})",
            s.total_variation, s.psi, s.chi_square, s.degrees_of_freedom
        )?;
        for c in &s.classes {
            writeln!(
                out,
                "  {:>9} -> {:<9} {:>6.1}% -> {:>5.1}%  {}",
                c.old_count,
                c.new_count,
                c.old_share * 100.0,
                c.new_share * 100.0,
                c.label
            )?;
        }
        if !s.appeared.is_empty() {
            writeln!(out, "  appeared: {}", s.appeared.join(", "))?;
        }
        if !s.disappeared.is_empty() {
            writeln!(out, "  disappeared: {}", s.disappeared.join(", "))?;
        }
    }
    if let Some(t) = &r.triggers {
        writeln!(
            out,
            "\ntrigger-like tokens (>= {} rows, >= {:.0}% one label, <= {:.0}% of rows){}: {}",
            t.min_rows,
            t.min_purity * 100.0,
            t.max_doc_share * 100.0,
            partial(t.partial_after_line),
            t.tokens.len()
        )?;
        for k in &t.tokens {
            writeln!(
                out,
                "  {:<20} {} of {} rows are `{}` ({:.0}%, base {:.0}%)  e.g. lines {}",
                k.token,
                k.rows_with_label,
                k.rows,
                k.label,
                k.purity * 100.0,
                k.label_base_share * 100.0,
                lines(&k.example_lines)
            )?;
        }
    }
    Ok(())
}
