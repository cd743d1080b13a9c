//! Notebooks: which cell (source or saved output) a secret sits in, and
//! personal data in saved outputs (AISEC-SEC-019).
//!
//! Secrets are matched on the raw `.ipynb` bytes (so line numbers are the
//! file's, as a code host shows them); the parsed notebook only names the cell.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

/// Text of one cell: its source and its saved outputs, decoded from JSON.
pub struct CellText {
    pub index: usize,
    pub source: String,
    pub outputs: String,
}

/// The cells of a notebook with their source and saved-output text, or
/// `None` when `raw` is not a notebook (also used by aisec-data to profile outputs).
pub fn cells(raw: &[u8]) -> Option<Vec<CellText>> {
    let doc: Value = serde_json::from_slice(raw).ok()?;
    let cells = doc.get("cells")?.as_array()?;
    Some(
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| CellText {
                index: i + 1,
                source: joined(c.get("source")),
                outputs: c
                    .get("outputs")
                    .and_then(Value::as_array)
                    .map(|outs| outs.iter().map(output_text).collect::<Vec<_>>().join("\n"))
                    .unwrap_or_default(),
            })
            .collect(),
    )
}

fn joined(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    }
}

/// The text a reader of the notebook sees in one output: stream text,
/// `text/plain` and `text/html` renderings, error tracebacks. Images are
/// skipped (base64 PNGs are noise to every text rule).
fn output_text(o: &Value) -> String {
    let mut parts = vec![joined(o.get("text"))];
    if let Some(data) = o.get("data").and_then(Value::as_object) {
        for (mime, v) in data {
            if mime.starts_with("text/") || mime.ends_with("json") {
                parts.push(joined(Some(v)));
            }
        }
    }
    if let Some(tb) = o.get("traceback") {
        parts.push(joined(Some(tb)));
    }
    parts.join("\n")
}

/// Kinds of personal data looked for in outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PiiKind {
    Email,
    CardNumber,
    UsSsn,
}

impl PiiKind {
    pub fn describe(self) -> &'static str {
        match self {
            PiiKind::Email => "e-mail addresses",
            PiiKind::CardNumber => "payment card numbers",
            PiiKind::UsSsn => "US social security numbers",
        }
    }
}

/// One kind of personal data in one output, with a masked sample.
pub struct PiiHit {
    pub kind: PiiKind,
    pub count: usize,
    pub masked_sample: String,
    /// The first raw occurrence, to locate it in the file.
    pub first: String,
}

/// A handful of addresses is an author or a maintainer; a table of them is data.
const MIN_EMAILS: usize = 3;

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u)\b[A-Za-z0-9._%+\-]{1,64}@([A-Za-z0-9\-]{1,63}\.)+[A-Za-z]{2,24}\b")
        .expect("valid")
});
static CARD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u)\b[3-6][0-9]{3}(?:[ \-]?[0-9]{4}){2}[ \-]?[0-9]{1,7}\b").expect("valid")
});
static SSN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?-u)\b([0-8][0-9]{2})-([0-9]{2})-([0-9]{4})\b").expect("valid"));

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

pub fn find_pii(text: &str) -> Vec<PiiHit> {
    let mut out = Vec::new();
    let emails: Vec<&str> = EMAIL
        .find_iter(text)
        .map(|m| m.as_str())
        .filter(|e| {
            let domain = e.rsplit('@').next().unwrap_or("").to_ascii_lowercase();
            !DOC_DOMAINS
                .iter()
                .any(|d| domain == *d || domain.ends_with(&format!(".{d}")))
        })
        .collect();
    let mut distinct = emails.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() >= MIN_EMAILS {
        out.push(PiiHit {
            kind: PiiKind::Email,
            count: distinct.len(),
            masked_sample: mask_email(distinct[0]),
            first: emails[0].to_owned(),
        });
    }
    let bytes = text.as_bytes();
    let cards: Vec<&str> = CARD
        .find_iter(text)
        // Not a fragment of a decimal number (`1.662518608570099` passes Luhn
        // one time in ten).
        .filter(|m| {
            let before = m.start().checked_sub(1).map(|i| bytes[i]);
            let after = bytes.get(m.end()).copied();
            !before.is_some_and(|b| b == b'.' || b == b',' || b == b'-' || b.is_ascii_digit())
                && !after.is_some_and(|b| b == b'.' || b == b',' || b.is_ascii_digit())
        })
        .map(|m| m.as_str())
        .filter(|c| luhn(c))
        .collect();
    if let Some(first) = cards.first() {
        let digits: String = first.chars().filter(char::is_ascii_digit).collect();
        out.push(PiiHit {
            kind: PiiKind::CardNumber,
            count: cards.len(),
            masked_sample: format!("****{}", &digits[digits.len().saturating_sub(4)..]),
            first: (*first).to_owned(),
        });
    }
    let ssns: Vec<&str> = SSN
        .captures_iter(text)
        .filter(|c| {
            let area = &c[1];
            area != "000" && area != "666" && &c[2] != "00" && &c[3] != "0000"
        })
        .filter_map(|c| c.get(0).map(|m| m.as_str()))
        .collect();
    if let Some(first) = ssns.first() {
        out.push(PiiHit {
            kind: PiiKind::UsSsn,
            count: ssns.len(),
            masked_sample: format!("***-**-{}", &first[first.len() - 4..]),
            first: (*first).to_owned(),
        });
    }
    out
}

fn mask_email(e: &str) -> String {
    let (user, domain) = e.split_once('@').unwrap_or((e, ""));
    let first = user.chars().next().map(String::from).unwrap_or_default();
    format!("{first}***@{domain}")
}

/// The Luhn checksum of the digits in `s` (13 to 19 of them).
fn luhn(s: &str) -> bool {
    let digits: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) || digits.iter().all(|&d| d == digits[0]) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pii_kinds() {
        let t = "name,email\nann,ann@acme.io\nbob,bob@acme.io\ncy,cy@corp.co\ndoc,doc@example.com";
        let hits = find_pii(t);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].count, 3);
        assert_eq!(hits[0].masked_sample, "a***@acme.io");
        assert!(find_pii("two a@b.io c@d.io").is_empty());
        // 4111 1111 1111 1111 is the Visa test number: Luhn-valid.
        let c = find_pii("card 4111 1111 1111 1111 and 4111 1111 1111 1112");
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].count, 1);
        assert_eq!(c[0].masked_sample, "****1111");
        // Digits of a float are not a card, even when they pass Luhn.
        assert!(find_pii("loss 1.4111111111111111 and 4111111111111111.5").is_empty());
        let s = find_pii("ssn 123-45-6789, not 000-12-3456");
        assert_eq!(s[0].count, 1);
    }
}
