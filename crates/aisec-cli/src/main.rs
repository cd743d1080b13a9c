//! `aisec`: the command line. Thin glue: arguments → engine → writers → exit
//! code. Everything that decides anything lives in the library crates.

mod data;
mod progress;
mod registry;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use aisec_core::{Limits, RuleRegistry, Severity, escape_control};
use aisec_engine::{Baseline, Config, ScanRequest, WalkOptions};
use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};

/// Exit codes, documented in README.md and `aisec scan --help`.
const EXIT_CLEAN: u8 = 0;
const EXIT_FINDINGS: u8 = 1;
const EXIT_ERROR: u8 = 2;

#[derive(Parser)]
#[command(
    name = "aisec",
    version,
    about = "Secure the AI/ML pipeline: scan models, code, dependencies and data for what runs, leaks or lies.",
    long_about = "aisec scans a repository, a model directory or a single file for security problems \
specific to machine learning: model files that run code when loaded (pickle and every format that \
wraps it), archives that escape their directory, files whose name lies about their content, and more.\n\n\
It never loads or executes what it scans.",
    after_help = "Examples:\n  aisec scan .                          scan the current directory\n  \
aisec scan model.pt --fail-on critical fail only on critical findings\n  \
aisec scan . --format sarif -o aisec.sarif   for GitHub code scanning\n  \
aisec rules                           list every rule\n  \
aisec explain AISEC-ARC-001           what a rule finds and how to fix it"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan files and directories; exit 1 when findings reach --fail-on.
    #[command(after_help = "Exit codes:\n  0  no finding at or above --fail-on\n  \
1  at least one finding at or above --fail-on\n  \
2  usage error or fatal error (bad config, missing path, unwritable output)\n\n\
Configuration is read from aisec.toml in the first path or its nearest parent \
(or --config FILE); see README.md for its keys, waivers and baselines.")]
    Scan(ScanArgs),
    /// List every rule: id, default severity, name and summary.
    Rules {
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Explain one rule: what it finds, why it matters, how to fix it.
    Explain {
        /// Rule id, e.g. AISEC-ARC-001 (any case).
        id: String,
    },
    /// Write a CycloneDX 1.6 AI bill of materials for a model or project directory.
    #[command(after_help = "Examples:\n  aisec bom models/llama -o bom.json\n  \
aisec bom . --with-findings --timestamp 2024-01-01T00:00:00Z   reproducible, with scan findings")]
    Bom(BomArgs),
    /// Sign a model directory or file (OpenSSF model-signing v1.0, ECDSA key).
    #[command(
        after_help = "Writes a Sigstore bundle that `model_signing verify key` (PyPI \
model-signing 1.x) and `aisec verify` accept.\n\nExample:\n  aisec sign models/llama --key signing-key.pem"
    )]
    Sign(SignArgs),
    /// Verify a model against its signature and a public key; names every changed file.
    #[command(
        after_help = "Exit codes: 0 verified, 1 not verified (changed, added, removed \
or renamed files, wrong key), 2 usage error.\n\nExample:\n  aisec verify models/llama --key pub.pem"
    )]
    Verify(VerifyArgs),
    /// Look inside a pickle without loading it: opcodes or pseudo-Python.
    Pickle {
        #[command(subcommand)]
        command: PickleCommand,
    },
    /// Manage the offline vulnerability database used by dependency scanning.
    #[command(after_help = "The database lives in the user's cache directory \
(e.g. ~/.cache/aisec/db), or in $AISEC_DB_DIR when set.\n\n\
Example:\n  aisec db import osv-PyPI-all.zip   import an OSV export (one JSON per advisory)")]
    Db {
        #[command(subcommand)]
        command: DbCommand,
        /// Database directory [default: $AISEC_DB_DIR, else the user cache dir].
        #[arg(long, value_name = "DIR", global = true)]
        db_dir: Option<PathBuf>,
    },
    /// Datasets: find personal data per column, mask, encrypt, measure anonymity and quality.
    Data {
        #[command(subcommand)]
        command: data::DataCommand,
    },
}

#[derive(clap::Args)]
struct BomArgs {
    /// Model directory, project directory or single model file.
    path: PathBuf,
    /// Write the BOM to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Scan the path too and embed the findings as CycloneDX vulnerabilities.
    #[arg(long)]
    with_findings: bool,
    /// Fixed `urn:uuid:...` serial number [default: derived from the content].
    #[arg(long, value_name = "URN")]
    serial_number: Option<String>,
    /// Fixed RFC 3339 timestamp, for byte-identical BOMs [default: now].
    #[arg(long, value_name = "TIME")]
    timestamp: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum HashChoice {
    Sha256,
    Blake2b,
    Blake3,
}

#[derive(clap::Args)]
struct SignArgs {
    /// The model directory (or single file) to sign.
    model: PathBuf,
    /// ECDSA P-256 or P-384 private key, PEM (PKCS#8 or SEC1).
    #[arg(long, value_name = "PEM")]
    key: PathBuf,
    /// Where to write the signature [default: MODEL/model.sig for a
    /// directory, MODEL.sig for a file].
    #[arg(long, value_name = "FILE")]
    signature: Option<PathBuf>,
    /// Digest algorithm.
    #[arg(long, value_enum, default_value_t = HashChoice::Sha256)]
    hash: HashChoice,
    /// Hash in shards of this many bytes (`shards` method) instead of whole files.
    #[arg(long, value_name = "BYTES")]
    shard_size: Option<u64>,
    /// Hash symlinked files by content instead of refusing them.
    #[arg(long)]
    allow_symlinks: bool,
    /// Paths to leave out (repeatable), as `model_signing` takes them:
    /// relative to the working directory, inside the model.
    #[arg(long, value_name = "PATH")]
    ignore_paths: Vec<PathBuf>,
}

#[derive(clap::Args)]
struct VerifyArgs {
    /// The signed model directory (or file).
    model: PathBuf,
    /// The signer's public key, PEM.
    #[arg(long, value_name = "PEM")]
    key: PathBuf,
    /// The signature [default: MODEL/model.sig, or MODEL.sig beside a file].
    #[arg(long, value_name = "FILE")]
    signature: Option<PathBuf>,
    /// Only check the files the signature lists; extra files pass.
    #[arg(long)]
    ignore_unsigned_files: bool,
    /// Paths to leave out (repeatable), relative to the working directory,
    /// inside the model.
    #[arg(long, value_name = "PATH")]
    ignore_paths: Vec<PathBuf>,
}

/// `--ignore-paths` as model-relative POSIX paths; a path outside the model
/// is a usage error rather than a silently ignored option.
fn model_relative(model: &std::path::Path, paths: &[PathBuf]) -> Result<Vec<String>> {
    paths
        .iter()
        .map(|p| {
            aisec_sign::relative_to_model(model, p).ok_or_else(|| {
                anyhow::anyhow!(
                    "--ignore-paths {}: not inside the model {}",
                    p.display(),
                    model.display()
                )
            })
        })
        .collect()
}

#[derive(Subcommand)]
enum PickleCommand {
    /// Every opcode with its byte offset and argument (like `pickletools.dis`).
    Disasm {
        /// A pickle file (the stream is never executed).
        file: PathBuf,
    },
    /// Pseudo-Python of what loading the pickle would do: imports and calls.
    Decompile {
        /// A pickle file (the stream is never executed).
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum DbCommand {
    /// Import an OSV export (`all.zip` with one JSON per advisory), replacing the database.
    Import {
        /// The export zip, e.g. the PyPI `all.zip` published by OSV.
        file: PathBuf,
    },
    /// Show where the database is, its source, date and counts.
    Status,
    /// Download the current PyPI export and import it (needs network).
    Update,
}

#[derive(Clone, Copy, ValueEnum)]
enum ListFormat {
    Table,
    Json,
    /// The rule reference, as kept in docs/rules.md.
    Markdown,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OutputFormat {
    /// Findings grouped by file, for humans.
    Table,
    /// The full report; schema in docs/json-report.md.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other code hosts.
    Sarif,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(clap::Args)]
struct ScanArgs {
    /// Files or directories to scan.
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,

    /// Output format.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,

    /// Write the report to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,

    /// Exit 1 when a finding is at least this severe [default: high, or
    /// `fail-on` in aisec.toml].
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    fail_on: Option<Severity>,

    /// Read this config file instead of looking for aisec.toml.
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    config: Option<PathBuf>,

    /// Ignore any aisec.toml.
    #[arg(long)]
    no_config: bool,

    /// Report only findings not in this earlier JSON report.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,

    /// Scan untracked files that .gitignore excludes too (files git tracks
    /// are always scanned).
    #[arg(long)]
    no_ignore: bool,

    /// Follow symbolic links that stay inside the scanned tree (links that
    /// leave it are always reported and never followed or read).
    #[arg(long)]
    follow_symlinks: bool,

    /// Scan only paths matching this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    include: Vec<String>,

    /// Skip paths matching this glob (repeatable), e.g. `tests/fixtures`.
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,

    /// Largest file read in full by scanners that need every byte.
    #[arg(long, value_name = "BYTES")]
    max_file_size: Option<u64>,

    /// Worker threads [default: one per core].
    #[arg(short = 'j', long, value_name = "N")]
    threads: Option<usize>,

    /// No progress bar.
    #[arg(short, long)]
    quiet: bool,

    /// Colour the table output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,

    /// Fail unless every scanned path carries a signature that verifies with
    /// this public key (OpenSSF model-signing; see `aisec verify`).
    #[arg(long, value_name = "PEM")]
    require_signature: Option<PathBuf>,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse::<Severity>().map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Scan(args) => {
            // Opening the database reads its header only: milliseconds.
            let db = aisec_deps::open(&aisec_deps::default_db_dir());
            if !args.quiet {
                eprintln!("{}", aisec_deps::db_status_line(&db));
            }
            let scanners = registry::scanners(db.ok());
            let rules = registry::rules(&scanners);
            run_scan(args, scanners, &rules)
        }
        Command::Rules { format } => {
            list_rules(&registry::rules(&registry::scanners(None)), format).map(|_| EXIT_CLEAN)
        }
        Command::Explain { id } => {
            explain(&registry::rules(&registry::scanners(None)), &id).map(|_| EXIT_CLEAN)
        }
        Command::Pickle { command } => run_pickle(command).map(|_| EXIT_CLEAN),
        Command::Bom(args) => run_bom(args).map(|_| EXIT_CLEAN),
        Command::Sign(args) => run_sign(args).map(|_| EXIT_CLEAN),
        Command::Verify(args) => run_verify(args),
        Command::Db { command, db_dir } => {
            run_db(command, db_dir.unwrap_or_else(aisec_deps::default_db_dir)).map(|_| EXIT_CLEAN)
        }
        Command::Data { command } => data::run(command),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // A closed pipe (`aisec rules | head`) is not an error worth a message.
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::from(EXIT_CLEAN);
            }
            eprintln!("error: {}", terminal_safe(&format!("{e:#}")));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Text for the terminal that may carry scanned names or content (paths in
/// errors, a config file's offending line): control characters escaped so
/// it cannot move the cursor or retitle the window, line breaks kept (error
/// messages use them, e.g. a TOML error's snippet or a hint).
fn terminal_safe(text: &str) -> String {
    text.split('\n')
        .map(aisec_core::escape_control)
        .collect::<Vec<_>>()
        .join("\n")
}

fn load_config(args: &ScanArgs, rules: &RuleRegistry) -> Result<Config> {
    let path = if args.no_config {
        None
    } else if let Some(p) = &args.config {
        Some(p.clone())
    } else {
        args.paths.first().and_then(|p| Config::discover(p))
    };
    let Some(path) = path else {
        return Ok(Config::default());
    };
    let config = Config::load(&path)?;
    // One selector type for `disable`, `severity` and waivers: a selector
    // that selects nothing is an error at its line, never a silent no-op.
    config.check_rules(rules)?;
    Ok(config)
}

fn run_scan(
    args: ScanArgs,
    scanners: Vec<Box<dyn aisec_core::Scanner>>,
    rules: &RuleRegistry,
) -> Result<u8> {
    let config = load_config(&args, rules)?;
    let baseline = args.baseline.as_deref().map(Baseline::load).transpose()?;

    let mut limits = Limits::default();
    if let Some(n) = args.max_file_size.or(config.limits.max_file_size) {
        limits.max_full_read = n;
    }
    if let Some(n) = config.limits.max_decompressed {
        limits.max_decompressed = n;
    }
    if let Some(n) = config.limits.max_nesting {
        limits.max_nesting = n;
    }
    if let Some(n) = config.limits.max_file_decompressed {
        limits.max_total_decompressed = n;
    }
    if let Some(n) = config.limits.max_file_members {
        limits.max_total_members = n;
    }
    if let Some(n) = config.limits.max_file_seconds {
        limits.max_file_time = std::time::Duration::from_secs(n);
    }
    let request = ScanRequest {
        targets: args.paths.clone(),
        walk: WalkOptions {
            no_ignore: args.no_ignore,
            follow_symlinks: args.follow_symlinks || config.scan.follow_symlinks.unwrap_or(false),
            include: args
                .include
                .iter()
                .chain(&config.scan.include)
                .cloned()
                .collect(),
            exclude: args
                .exclude
                .iter()
                .chain(&config.scan.exclude)
                .cloned()
                .collect(),
            threads: args.threads,
        },
        limits,
    };
    if let Some(n) = args.threads {
        // Ignore the error: the pool can only be built once per process.
        let _ = rayon_pool(n);
    }

    let show_progress = !args.quiet && std::io::stderr().is_terminal();
    let mut report = if show_progress {
        aisec_engine::scan(&request, &scanners, &progress::Bar::new())?
    } else {
        aisec_engine::scan(&request, &scanners, &aisec_engine::NoProgress)?
    };
    // Local date: a waiver "expires" on the user's calendar day, as written.
    if let Some(key) = &args.require_signature {
        for target in &args.paths {
            if let Err(failure) = aisec_sign::verify_for_gate(target, key) {
                report.findings.push(failure.to_finding());
            }
        }
    }
    let today = jiff::ZonedDateTime::now().date();
    aisec_engine::filter(&mut report, &config, baseline.as_ref(), today);

    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            args.output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let mut sink: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p)
                .with_context(|| format!("{}: cannot write report", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    match args.format {
        OutputFormat::Table => {
            // Snippets read the findings' lines back from the scanned roots
            // only; the writer itself never opens a file.
            let source = aisec_report::DiskLines::new(&args.paths);
            aisec_report::write_table(&report, rules, &source, &mut sink, color)?
        }
        OutputFormat::Json => aisec_report::write_json(&report, &mut sink)?,
        OutputFormat::Sarif => aisec_report::write_sarif(&report, rules, &mut sink)?,
    }
    sink.flush()?;

    let threshold = args
        .fail_on
        .or(config.scan.fail_on)
        .unwrap_or(Severity::High);
    Ok(if report.fails(threshold) {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    })
}

fn run_bom(args: BomArgs) -> Result<()> {
    let report = if args.with_findings {
        let scanners = registry::scanners(aisec_deps::open(&aisec_deps::default_db_dir()).ok());
        let request = ScanRequest {
            targets: vec![args.path.clone()],
            walk: WalkOptions::default(),
            limits: Limits::default(),
        };
        let mut report = aisec_engine::scan(&request, &scanners, &aisec_engine::NoProgress)?;
        report.finalize();
        Some(report)
    } else {
        None
    };
    let options = aisec_bom::BomOptions {
        serial_number: args.serial_number,
        timestamp: args.timestamp,
        report: report.as_ref(),
        tool_version: Some(env!("CARGO_PKG_VERSION").to_owned()),
    };
    let bom = aisec_bom::build_bom(&args.path, &options)?;
    for warning in &bom.warnings {
        eprintln!("warning: {}", escape_control(warning));
    }
    let text = bom.to_json_string();
    match &args.output {
        Some(p) => std::fs::write(p, text + "\n")
            .with_context(|| format!("{}: cannot write BOM", p.display()))?,
        None => println!("{text}"),
    }
    Ok(())
}

fn hash_algorithm(choice: HashChoice) -> aisec_sign::HashAlgorithm {
    match choice {
        HashChoice::Sha256 => aisec_sign::HashAlgorithm::Sha256,
        HashChoice::Blake2b => aisec_sign::HashAlgorithm::Blake2b,
        HashChoice::Blake3 => aisec_sign::HashAlgorithm::Blake3,
    }
}

/// `MODEL/model.sig` for a directory, `MODEL.sig` beside a file.
fn default_signature_path(model: &std::path::Path) -> PathBuf {
    if model.is_dir() {
        model.join("model.sig")
    } else {
        let mut name = model.file_name().unwrap_or_default().to_os_string();
        name.push(".sig");
        model.with_file_name(name)
    }
}

fn run_sign(args: SignArgs) -> Result<()> {
    let hash = hash_algorithm(args.hash);
    let serialization = match args.shard_size {
        Some(shard_size) => aisec_sign::Serialization::Shards { hash, shard_size },
        None => aisec_sign::Serialization::Files { hash },
    };
    let signature = args
        .signature
        .clone()
        .unwrap_or_else(|| default_signature_path(&args.model));
    let options = aisec_sign::SignOptions {
        serialization,
        allow_symlinks: args.allow_symlinks,
        ignore_paths: model_relative(&args.model, &args.ignore_paths)?,
        ..aisec_sign::SignOptions::default()
    };
    let signed = aisec_sign::sign_to_file(&args.model, &args.key, &signature, &options)?;
    eprintln!(
        "signed {} ({} resources) -> {}",
        escape_control(&args.model.display().to_string()),
        signed.statement.resources.len(),
        escape_control(&signature.display().to_string())
    );
    Ok(())
}

fn run_verify(args: VerifyArgs) -> Result<u8> {
    let signature = match args.signature.clone() {
        Some(s) => s,
        None => aisec_sign::find_signature(&args.model).ok_or_else(|| {
            anyhow::anyhow!(
                "{}: no signature found (looked for model.sig inside and .sig beside it); pass --signature",
                args.model.display()
            )
        })?,
    };
    let options = aisec_sign::VerifyOptions {
        ignore_paths: model_relative(&args.model, &args.ignore_paths)?,
        ignore_unsigned_files: args.ignore_unsigned_files,
        ..aisec_sign::VerifyOptions::default()
    };
    match aisec_sign::verify(&args.model, &signature, &args.key, &options) {
        Ok(verified) => {
            for w in &verified.warnings {
                eprintln!("warning: {}", escape_control(&w.to_string()));
            }
            println!(
                "verified: {} ({} files, {} root digest {}, {})",
                escape_control(&args.model.display().to_string()),
                verified.files,
                verified.serialization.hash().as_str(),
                verified.root_digest,
                verified.curve
            );
            Ok(EXIT_CLEAN)
        }
        Err(e) => {
            // The error names changed files: names from the model directory.
            eprintln!(
                "not verified: {}",
                escape_control(&format!("{}: {e}", args.model.display()))
            );
            Ok(EXIT_FINDINGS)
        }
    }
}

fn run_pickle(command: PickleCommand) -> Result<()> {
    let (file, render): (PathBuf, fn(&[u8]) -> String) = match command {
        PickleCommand::Disasm { file } => (file, aisec_pickle::disasm),
        PickleCommand::Decompile { file } => (file, aisec_pickle::decompile),
    };
    let handle =
        std::fs::File::open(&file).with_context(|| format!("{}: cannot open", file.display()))?;
    let is_empty = handle.metadata().map(|m| m.len() == 0).unwrap_or(true);
    // SAFETY: read-only map, used only while rendering; see aisec-engine.
    let map;
    let bytes: &[u8] = if is_empty {
        &[]
    } else {
        map = unsafe { memmap2::Mmap::map(&handle) }
            .with_context(|| format!("{}: cannot map", file.display()))?;
        &map
    };
    // Module and attribute names are the pickle's own bytes: escaped, so a
    // `GLOBAL` named `os\x1b[2J` cannot drive the terminal.
    std::io::stdout()
        .lock()
        .write_all(terminal_safe(&render(bytes)).as_bytes())?;
    Ok(())
}

fn run_db(command: DbCommand, dir: PathBuf) -> Result<()> {
    match command {
        DbCommand::Import { file } => {
            let summary = aisec_deps::import(&file, &dir)?;
            println!("{summary}");
        }
        DbCommand::Status => {
            let status = aisec_deps::status(&dir).map_err(|e| {
                anyhow::anyhow!(
                    "{e}\nhint: import one with `aisec db import FILE` or `aisec db update`"
                )
            })?;
            println!("{status}");
        }
        DbCommand::Update => {
            let summary = aisec_deps::update(&dir)?;
            println!("{summary}");
        }
    }
    Ok(())
}

fn rayon_pool(threads: usize) -> Result<()> {
    // The engine scans on rayon's global pool; size it before first use.
    aisec_engine::set_threads(threads).map_err(|e| anyhow::anyhow!(e))
}

fn list_rules(rules: &RuleRegistry, format: ListFormat) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        ListFormat::Json => {
            let all: Vec<_> = rules.iter().collect();
            serde_json::to_writer_pretty(&mut out, &all)?;
            writeln!(out)?;
        }
        ListFormat::Markdown => out.write_all(rules_markdown(rules).as_bytes())?,
        ListFormat::Table => {
            for r in rules.iter() {
                writeln!(
                    out,
                    "{:<14} {:<9} {:<30} {}",
                    r.id, r.default_severity, r.name, r.summary
                )?;
            }
            writeln!(
                out,
                "\n{} rules. `aisec explain ID` for details.",
                rules.len()
            )?;
        }
    }
    Ok(())
}

/// One rule as markdown, `heading` levels deep (`#` for explain, `##` in
/// the reference page, whose section headings then shift down one level).
fn rule_markdown(rule: &aisec_core::Rule, heading: usize) -> String {
    let h = "#".repeat(heading);
    let mut s = format!(
        "{h} {}\n\n`{}`: {}\n\nDefault severity: **{}**\n\n",
        rule.id, rule.name, rule.summary, rule.default_severity
    );
    for line in rule.explanation.lines() {
        if let Some(rest) = line.strip_prefix("## ") {
            s.push_str(&format!("{h}# {rest}\n"));
        } else {
            s.push_str(line);
            s.push('\n');
        }
    }
    if !rule.references.is_empty() {
        s.push_str(&format!("\n{h}# References\n"));
        for r in rule.references {
            s.push_str(&format!("- [{}]({})\n", r.id, r.url));
        }
    }
    s
}

fn rules_markdown(rules: &RuleRegistry) -> String {
    let mut s = String::from(
        "# aisec rules\n\nGenerated by `aisec rules --format markdown`; do not edit by hand.\n\n\
         | id | severity | name | summary |\n|---|---|---|---|\n",
    );
    for r in rules.iter() {
        s.push_str(&format!(
            "| [{}](#{}) | {} | `{}` | {} |\n",
            r.id,
            r.id.to_ascii_lowercase(),
            r.default_severity,
            r.name,
            r.summary
        ));
    }
    for r in rules.iter() {
        s.push('\n');
        s.push_str(&rule_markdown(r, 2));
    }
    s
}

fn explain(rules: &RuleRegistry, id: &str) -> Result<()> {
    let Some(rule) = rules.get(id) else {
        // Retired ids are never reused; say where their job went.
        if let Some((old, new)) = aisec_secrets::rules::RETIRED
            .iter()
            .find(|(old, _)| old.eq_ignore_ascii_case(id))
        {
            bail!("{old} is retired: {new} took over its job (`aisec explain {new}`)");
        }
        bail!(
            "unknown rule `{}`; `aisec rules` lists them all",
            aisec_core::escape_control(id)
        );
    };
    std::io::stdout()
        .lock()
        .write_all(rule_markdown(rule, 1).as_bytes())?;
    Ok(())
}
