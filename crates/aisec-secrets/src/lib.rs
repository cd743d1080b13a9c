//! Secret detection for aisec: AI-provider and cloud keys, tokens, private
//! keys, database URLs with passwords, high-entropy values assigned to
//! secret-like names. (Personal data in saved notebook outputs is aisec-data's,
//! AISEC-DATA-012.)
//!
//! # What it finds
//! The `AISEC-SEC-*` rules (see [`RULES`]): OpenAI, Anthropic, Hugging
//! Face, Cohere, Replicate, Mistral, Groq, Google/Gemini, Azure OpenAI, AWS,
//! GCP service-account keys, GitHub, Slack, Stripe, LangSmith, Perplexity,
//! xAI, Pinecone, W&B, PEM/OpenSSH private keys, JWTs, database URLs, a generic
//! entropy rule. Every text file is scanned;
//! notebooks (`.ipynb`) are scanned as the raw file (so lines are the file's)
//! and each finding names the cell and whether it sits in the source or in a
//! saved output.
//!
//! # How
//! A single Aho-Corasick pass ([`find_secrets`]) looks for the literal each
//! detector needs (a prefix such as `ghp_`, or a keyword such as `cohere`);
//! a detector's regex runs only on a bounded window after its literal. Text
//! with no literal costs one SIMD scan, which is what makes the scanner run
//! at memory speed on ordinary source trees.
//!
//! # Noise
//! Structural placeholders (`sk-...xxxx`, `<your key>`, `${VAR}`, runs of one
//! character, `EXAMPLE` keys) are dropped; the generic rule additionally wants
//! entropy and mixed character classes. Lock files get no generic or JWT
//! findings (integrity hashes); files under test/fixture/example paths are
//! reported at low severity and confidence; a line with
//! `pragma: allowlist secret` or `aisec:ignore` is skipped.
//!
//! # What it never does
//! It never prints a secret: evidence and messages carry only a short public
//! prefix, the length and a SHA-256 prefix ([`redact`]). It never verifies a
//! key against its provider (no network), never executes anything, and never
//! panics on hostile input (bounded windows, bounded repetitions, fuzzed).

mod engine;
mod notebook;
pub mod rules;

use aisec_core::{Confidence, FileInput, FileKind, Finding, ScanContext, Scanner, Severity};

pub use aisec_core::redact;
pub use engine::{SecretMatch, find_secrets, find_secrets_in_bytes, literal_hits, shannon_entropy};
pub use notebook::{CellText, cells as notebook_cells};
pub use rules::RULES;

/// The secrets scanner. Stateless; construct with `SecretsScanner`.
#[derive(Debug, Default, Clone, Copy)]
pub struct SecretsScanner;

/// Generated dependency lock files: full of integrity hashes, never of
/// hand-written credentials (a token in a registry URL is still found).
const LOCK_FILES: &[&str] = &[
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "poetry.lock",
    "Pipfile.lock",
    "uv.lock",
    "pdm.lock",
    "Cargo.lock",
    "composer.lock",
    "Gemfile.lock",
    "go.sum",
    "conda-lock.yml",
    "pixi.lock",
    "bun.lock",
];

/// Path components of test data and examples, where fake keys live.
const TEST_DIRS: &[&str] = &[
    "test",
    "tests",
    "testing",
    "testdata",
    "test_data",
    "fixtures",
    "fixture",
    "__tests__",
    "spec",
    "specs",
    "mocks",
    "examples",
    "example",
    "samples",
];

/// Comments that mark a line as deliberately holding a (fake) secret;
/// detect-secrets' and gitleaks' markers are honoured too.
const ALLOW_MARKERS: &[&[u8]] = &[
    b"pragma: allowlist secret",
    b"aisec:ignore",
    b"gitleaks:allow",
];

/// The text of `file` the secrets scanner reads: [`ScanContext::full_read`]
/// (up to the first NUL and the full-read limit, with a finding for the rest).
pub fn text_read<'f>(
    ctx: &ScanContext<'_>,
    file: &FileInput<'f>,
    scanner: &str,
) -> (&'f [u8], Option<Finding>) {
    ctx.full_read(file, scanner)
}

/// The text of `bytes` for a sampling reader: up to the first NUL byte
/// (see [`text_read`]), without a finding.
pub fn text_prefix(bytes: &[u8]) -> &[u8] {
    memchr::memchr(0, bytes).map_or(bytes, |at| &bytes[..at])
}

pub fn is_lock_file(name: &str) -> bool {
    LOCK_FILES.contains(&name)
}

/// True when a path (or archive member path) runs through a test or example directory.
pub fn is_test_path(path: &str) -> bool {
    let mut parts: Vec<&str> = path.split(['/', '\\', '!']).collect();
    let file = parts.pop().unwrap_or("");
    parts
        .iter()
        .any(|p| TEST_DIRS.contains(&p.to_ascii_lowercase().as_str()))
        || file.starts_with("test_")
        || file.ends_with("_test.py")
        || file.ends_with(".example")
        || file.ends_with(".sample")
}

impl Scanner for SecretsScanner {
    fn name(&self) -> &'static str {
        "secrets"
    }

    fn rules(&self) -> &'static [&'static aisec_core::Rule] {
        RULES
    }

    fn detect(&self, file: &FileInput<'_>) -> bool {
        file.kind == FileKind::Text
    }

    fn scan(&self, file: &FileInput<'_>, ctx: &ScanContext<'_>) -> Vec<Finding> {
        let (bytes, capped) = text_read(ctx, file, self.name());
        let mut out: Vec<Finding> = capped.into_iter().collect();
        let name = file.name();
        let lock = is_lock_file(name);
        let test = is_test_path(&file.display());
        let notebook = file.has_extension("ipynb");
        let cells = if notebook {
            notebook::cells(bytes)
        } else {
            None
        };

        let lines = LineIndex::new(bytes);
        for m in find_secrets_in_bytes(bytes) {
            if lock && (m.rule.id == rules::GENERIC.id || m.rule.id == rules::JWT.id) {
                continue;
            }
            let (line, col, line_text) = lines.locate(m.start);
            if ALLOW_MARKERS
                .iter()
                .any(|k| line_text.windows(k.len()).any(|w| w == *k))
            {
                continue;
            }
            let mut place = String::new();
            if let Some(cells) = &cells {
                let secret = String::from_utf8_lossy(&bytes[m.start..m.end]);
                if let Some(c) = cells.iter().find(|c| c.outputs.contains(secret.as_ref())) {
                    place = format!(" in the saved output of cell {}", c.index);
                } else if let Some(c) = cells.iter().find(|c| c.source.contains(secret.as_ref())) {
                    place = format!(" in cell {}", c.index);
                }
            }
            let (mut severity, mut confidence) = (m.severity, m.confidence);
            let mut note = "";
            if test {
                severity = severity.min(Severity::Low);
                confidence = confidence.min(Confidence::Low);
                note = " (test or example path: probably a fixture)";
            }
            out.push(
                Finding::new(m.rule, file, format!("{}{place}{note}", m.what))
                    .evidence(m.redacted)
                    .line(line, Some(col))
                    .severity(severity)
                    .confidence(confidence),
            );
        }

        out
    }
}

/// Newlines between two marks of a [`LineIndex`]: a hit's line is found by
/// bisecting the marks, then counting at most this many newlines.
const LINES_PER_MARK: usize = 64;

/// Offsets to 1-based line and column, in any order. Detector hits come
/// rule by rule, not in file order, so a forward-only cursor rescanned the
/// file from the start for most hits. The marks (every
/// [`LINES_PER_MARK`]th newline, so a file of empty lines costs an eighth
/// of its size, not eight times it) are built once, on the first hit: most
/// files have none.
struct LineIndex<'a> {
    bytes: &'a [u8],
    marks: std::cell::OnceCell<Vec<usize>>,
}

impl<'a> LineIndex<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        LineIndex {
            bytes,
            marks: std::cell::OnceCell::new(),
        }
    }

    /// Line, column and the text of the line holding `offset`
    /// (`offset <= bytes.len()`).
    fn locate(&self, offset: usize) -> (u32, u32, &'a [u8]) {
        let marks = self.marks.get_or_init(|| {
            memchr::memchr_iter(b'\n', self.bytes)
                .skip(LINES_PER_MARK - 1)
                .step_by(LINES_PER_MARK)
                .collect()
        });
        // Start after the last mark before `offset`; a newline at `offset`
        // itself ends this line, so it is not counted.
        let passed = marks.partition_point(|&nl| nl < offset);
        let (mut newlines, mut line_start) = match passed.checked_sub(1) {
            Some(i) => (passed * LINES_PER_MARK, marks[i] + 1),
            None => (0, 0),
        };
        let from = line_start;
        for nl in memchr::memchr_iter(b'\n', &self.bytes[from..offset]) {
            newlines += 1;
            line_start = from + nl + 1;
        }
        let end =
            memchr::memchr(b'\n', &self.bytes[offset..]).map_or(self.bytes.len(), |p| offset + p);
        let line = u32::try_from(newlines).map_or(u32::MAX, |n| n.saturating_add(1));
        let col = u32::try_from(offset - line_start + 1).unwrap_or(u32::MAX);
        (line, col, &self.bytes[line_start..end])
    }
}

#[cfg(test)]
mod line_index_tests {
    use super::*;

    /// The line, column and line text of `offset`, by counting from the start.
    fn naive(bytes: &[u8], offset: usize) -> (u32, u32, &[u8]) {
        let before = &bytes[..offset];
        let line = before.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
        let start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        let end = bytes[offset..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |p| offset + p);
        (line, (offset - start + 1) as u32, &bytes[start..end])
    }

    #[test]
    fn locates_any_offset_in_any_order_across_marks() {
        let mut text = String::new();
        for i in 0..500 {
            text.push_str(&"x".repeat(i % 7));
            text.push('\n');
            if i % 50 == 0 {
                text.push('\n');
            }
        }
        text.push_str("tail");
        let bytes = text.as_bytes();
        let index = LineIndex::new(bytes);
        // Backwards, then forwards: hits arrive rule by rule, not in file order.
        for offset in (0..=bytes.len()).rev().chain(0..=bytes.len()) {
            assert_eq!(
                index.locate(offset),
                naive(bytes, offset),
                "offset {offset}"
            );
        }
        assert_eq!(LineIndex::new(b"").locate(0), (1, 1, &b""[..]));
    }
}
