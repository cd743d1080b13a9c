//! ML-aware static analysis of Python code and Jupyter notebooks for aisec.
//!
//! # What it finds
//! The ways ML code gets owned that generic SAST tools miss (rules
//! `AISEC-CODE-*`, see [`RULES`]): loading untrusted checkpoints
//! (`torch.load` without `weights_only=True`, pickle/dill/joblib/cloudpickle,
//! `numpy.load(allow_pickle=True)`, unsafe YAML, Keras `safe_mode=False`),
//! trusting remote model code (`trust_remote_code=True`, `torch.hub.load`,
//! unpinned hub revisions), LangChain/LlamaIndex options that deserialize or
//! execute, model output flowing into `eval`/shell/SQL and request input into
//! prompts (intra-procedural taint), TLS verification off, plain-HTTP artifact
//! downloads, unfiltered tar extraction and exposed debug/model servers.
//!
//! Input: Python source (`.py`, `.pyw`, or any text file whose shebang names
//! Python, such as a `.py` shipped inside a model repository under another
//! name) and `.ipynb` notebooks, whose code cells are analysed with findings
//! mapped to the notebook's own line and named by cell.
//!
//! # Parser
//! Python is parsed with tree-sitter and tree-sitter-python, never with
//! regular expressions over the source: a regex cannot tell `torch.load` in a
//! call from the same text in a comment or string, cannot see that
//! `weights_only=True` belongs to *this* call and not the next one, and cannot
//! follow `import torch as t`. tree-sitter over ruff's parser crates because it
//! is published on crates.io with a stable API (ruff's parser is not published
//! and pins to ruff's git revisions), is error-tolerant (a file with a syntax
//! error, Python 2 code or a notebook cell with IPython syntax still yields a
//! tree for everything around the error), and fast enough: about 8 MB/s per
//! core for parsing and 4 MB/s with every rule on real ML repositories, five
//! times faster than bandit on the same files.
//!
//! # What it never does
//! It never imports, executes or evaluates what it scans, never reads other
//! files, and never panics on hostile input: tree walks are iterative and
//! expression recursion is depth-bounded. Secrets and PII in notebooks (cells
//! and outputs) are the secrets scanner's job (`aisec-secrets` reads `.ipynb`
//! itself), so nothing is reported twice.

mod checks;
mod notebook;
mod python;
pub mod rules;
mod taint;

use aisec_core::{FileInput, FileKind, Finding, ScanContext, Scanner, generic};

pub use checks::Hit;
pub use rules::RULES;

/// The Python and notebook scanner. Stateless; construct with `CodeScanner`.
#[derive(Debug, Default, Clone, Copy)]
pub struct CodeScanner;

/// What kind of source a file is, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Python,
    Notebook,
}

/// How much of the head a shebang or notebook marker must appear in.
const HEAD: usize = 256;

/// Tells Python and notebooks apart from other text, by name and by content.
pub fn source_kind(file: &FileInput<'_>) -> Option<SourceKind> {
    if file.kind != FileKind::Text {
        return None;
    }
    if file.has_extension_in(&["py", "pyw", "py3"]) {
        return Some(SourceKind::Python);
    }
    if file.has_extension("ipynb") {
        return Some(SourceKind::Notebook);
    }
    let head = &file.bytes[..file.bytes.len().min(HEAD)];
    if head.starts_with(b"#!") {
        let first = head.split(|&b| b == b'\n').next().unwrap_or(head);
        if first.windows(6).any(|w| w == b"python") {
            return Some(SourceKind::Python);
        }
    }
    let trimmed = head.trim_ascii_start();
    if trimmed.starts_with(b"{") && head.windows(7).any(|w| w == b"\"cells\"") {
        return Some(SourceKind::Notebook);
    }
    None
}

/// Analyses Python source; hits carry 0-based rows of `src`.
pub fn analyse_python(src: &[u8]) -> Vec<Hit> {
    match python::Module::new(src) {
        Some(m) => taint::analyse(&m),
        None => Vec::new(),
    }
}

impl Scanner for CodeScanner {
    fn name(&self) -> &'static str {
        "code"
    }

    fn rules(&self) -> &'static [&'static aisec_core::Rule] {
        RULES
    }

    fn detect(&self, file: &FileInput<'_>) -> bool {
        source_kind(file).is_some()
    }

    fn scan(&self, file: &FileInput<'_>, ctx: &ScanContext<'_>) -> Vec<Finding> {
        let Some(kind) = source_kind(file) else {
            return Vec::new();
        };
        // Ends at the first NUL byte (CPython refuses source with one) and at
        // the full-read limit, with a finding for the rest.
        let (bytes, capped) = ctx.full_read(file, "code");
        let mut out: Vec<Finding> = capped.into_iter().collect();
        match kind {
            SourceKind::Python => {
                for hit in analyse_python(bytes) {
                    out.push(to_finding(file, hit, None, |row| {
                        u32::try_from(row + 1).ok()
                    }));
                }
            }
            SourceKind::Notebook => {
                // A truncated notebook is not valid JSON; only a whole one is read.
                if bytes.len() < file.bytes.len() {
                    return out;
                }
                match notebook::code_cells(bytes) {
                    Err(e) => out.push(
                        Finding::new(
                            &generic::MALFORMED,
                            file,
                            format!(
                                "{} is not a readable Jupyter notebook: {}",
                                file.display(),
                                e.0
                            ),
                        )
                        .evidence(e.0),
                    ),
                    Ok(cells) => {
                        for cell in cells {
                            for hit in analyse_python(cell.source.as_bytes()) {
                                let cell_line = hit.row + 1;
                                let mapped = cell.file_lines.get(hit.row).copied().flatten();
                                out.push(to_finding(
                                    file,
                                    hit,
                                    Some((cell.index, cell_line)),
                                    |_| mapped,
                                ));
                            }
                        }
                    }
                }
            }
        }
        out
    }
}

fn to_finding(
    file: &FileInput<'_>,
    hit: Hit,
    cell: Option<(usize, usize)>,
    line_of: impl Fn(usize) -> Option<u32>,
) -> Finding {
    let message = match cell {
        Some((idx, line)) => format!("cell {idx}, line {line}: {}", hit.message),
        None => hit.message,
    };
    let mut f = Finding::new(hit.rule, file, message)
        .evidence(hit.evidence)
        .severity(hit.severity)
        .confidence(hit.confidence);
    if let Some(line) = line_of(hit.row) {
        let column = if cell.is_none() {
            u32::try_from(hit.column + 1).ok()
        } else {
            None
        };
        f = f.line(line, column);
        if cell.is_none()
            && hit.end_row > hit.row
            && let Some(end) = line_of(hit.end_row)
        {
            f = f.end_line(end);
        }
    }
    f
}

/// Parses without analysing (for the benchmark: separates tree-sitter's cost
/// from the rules').
#[doc(hidden)]
pub fn parse_only(src: &[u8]) -> usize {
    python::parse(src).map_or(0, |t| t.root_node().descendant_count())
}
