//! Jupyter notebooks: the code cells, as Python, with a map from each cell
//! line back to the line of the `.ipynb` file, so that findings point into the
//! file a code host shows (SARIF) and also name the cell a human sees.
//!
//! IPython syntax (`%magic`, `!shell`, `x?`) is blanked, not deleted, so line
//! numbers stay right; cells in another language (`%%bash`) are skipped.
//! Outputs are left to the secrets scanner, which reads notebooks itself.

use serde_json::Value;

/// One code cell.
pub struct CodeCell {
    /// 1-based, as Jupyter shows execution order is not stable but position is.
    pub index: usize,
    pub source: String,
    /// For each line of `source` (0-based), the 1-based line in the file.
    pub file_lines: Vec<Option<u32>>,
}

/// Why a notebook could not be read.
#[derive(Debug)]
pub struct NotebookError(pub String);

/// Cell magics whose body is not Python.
const FOREIGN_CELL_MAGICS: &[&str] = &[
    "bash",
    "sh",
    "script",
    "html",
    "javascript",
    "js",
    "latex",
    "markdown",
    "perl",
    "ruby",
    "sql",
    "R",
    "svg",
    "writefile",
    "file",
    "sx",
    "system",
];

pub fn code_cells(raw: &[u8]) -> Result<Vec<CodeCell>, NotebookError> {
    let doc: Value =
        serde_json::from_slice(raw).map_err(|e| NotebookError(format!("not valid JSON: {e}")))?;
    let Some(cells) = doc.get("cells").and_then(Value::as_array) else {
        // nbformat 3 kept cells under worksheets; nothing else is a notebook.
        if let Some(ws) = doc.get("worksheets").and_then(Value::as_array) {
            let cells: Vec<Value> = ws
                .iter()
                .filter_map(|w| w.get("cells").and_then(Value::as_array))
                .flatten()
                .cloned()
                .collect();
            return Ok(extract(raw, &doc, &cells, "input"));
        }
        return Err(NotebookError(
            "no `cells` array (not a Jupyter notebook?)".into(),
        ));
    };
    Ok(extract(raw, &doc, cells, "source"))
}

fn extract(raw: &[u8], doc: &Value, cells: &[Value], source_key: &str) -> Vec<CodeCell> {
    let language = doc
        .pointer("/metadata/kernelspec/language")
        .or_else(|| doc.pointer("/metadata/language_info/name"))
        .and_then(Value::as_str)
        .unwrap_or("python");
    if !language.eq_ignore_ascii_case("python") {
        return Vec::new();
    }
    let raw_text = String::from_utf8_lossy(raw);
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(raw_text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let line_of = |offset: usize| -> u32 {
        let idx = line_starts.partition_point(|&s| s <= offset);
        u32::try_from(idx).unwrap_or(u32::MAX)
    };
    let mut cursor = 0usize;
    let mut out = Vec::new();
    for (i, cell) in cells.iter().enumerate() {
        if cell.get("cell_type").and_then(Value::as_str) != Some("code") {
            continue;
        }
        let pieces: Vec<&str> = match cell.get(source_key) {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => continue,
        };
        let source: String = pieces.concat();
        // Map lines: find each JSON-encoded piece in the raw file, in order.
        // Standard nbformat writes one source line per JSON string and line.
        let mut file_lines = Vec::new();
        for piece in &pieces {
            let encoded = serde_json::to_string(piece).unwrap_or_default();
            let found = raw_text
                .get(cursor..)
                .and_then(|rest| rest.find(&encoded))
                .map(|p| cursor + p);
            let base = found.map(|p| {
                cursor = p + encoded.len();
                line_of(p)
            });
            let n_lines = piece.matches('\n').count()
                + usize::from(!piece.ends_with('\n') || piece.is_empty());
            for _ in 0..n_lines.max(1) {
                file_lines.push(base);
            }
        }
        let Some(source) = python_view(&source) else {
            continue;
        };
        out.push(CodeCell {
            index: i + 1,
            source,
            file_lines,
        });
    }
    out
}

/// The cell as Python: IPython-only lines blanked, or `None` when a cell magic
/// says the cell is another language.
fn python_view(source: &str) -> Option<String> {
    let first = source.lines().next().unwrap_or("").trim_start();
    if let Some(magic) = first.strip_prefix("%%") {
        let name = magic.split_whitespace().next().unwrap_or("");
        if FOREIGN_CELL_MAGICS.contains(&name) {
            return None;
        }
    }
    let mut out = String::with_capacity(source.len());
    for line in source.split_inclusive('\n') {
        let t = line.trim_start();
        let ipython = t.starts_with('%')
            || t.starts_with('!')
            || (t.ends_with('?') || t.trim_end().ends_with('?')) && !t.starts_with('#');
        if ipython {
            if line.ends_with('\n') {
                out.push('\n');
            }
        } else {
            out.push_str(line);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_cell_lines_to_file_lines() {
        let nb = r##"{
 "cells": [
  {"cell_type": "markdown", "source": ["# title"]},
  {
   "cell_type": "code",
   "source": [
    "import torch\n",
    "%matplotlib inline\n",
    "torch.load(p)"
   ]
  }
 ],
 "metadata": {"kernelspec": {"language": "python"}},
 "nbformat": 4
}"##;
        let cells = code_cells(nb.as_bytes()).unwrap();
        assert_eq!(cells.len(), 1);
        assert_eq!(cells[0].index, 2);
        assert_eq!(cells[0].source, "import torch\n\ntorch.load(p)");
        assert_eq!(cells[0].file_lines, [Some(7), Some(8), Some(9)]);
    }

    #[test]
    fn foreign_cells_and_kernels_are_skipped() {
        let nb = r#"{"cells":[{"cell_type":"code","source":"%%bash\nrm -rf /"}],"metadata":{}}"#;
        assert!(code_cells(nb.as_bytes()).unwrap().is_empty());
        let r = r#"{"cells":[{"cell_type":"code","source":"x"}],"metadata":{"kernelspec":{"language":"R"}}}"#;
        assert!(code_cells(r.as_bytes()).unwrap().is_empty());
    }

    #[test]
    fn invalid_json_is_an_error() {
        assert!(code_cells(b"{\"cells\": [").is_err());
        assert!(code_cells(b"[]").is_err());
    }
}
