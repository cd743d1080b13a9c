//! Notebooks: which cell (source or saved output) a secret sits in. Personal
//! data in saved outputs is aisec-data's (AISEC-DATA-012), read through
//! [`cells`].
//!
//! Secrets are matched on the raw `.ipynb` bytes (so line numbers are the
//! file's, as a code host shows them); the parsed notebook only names the cell.

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
