//! Plain text (one column, `text`, one value per line) and Jupyter notebook
//! outputs (one column, `outputs`, one value per output line, the row being
//! the cell). Both are free text: a single match counts.

use crate::error::DataError;
use crate::profile::{DatasetProfile, Profiler};
use crate::sample::SampleOptions;

pub const TEXT_COLUMN: &str = "text";
pub const OUTPUTS_COLUMN: &str = "outputs";

pub fn read_lines(
    head: &[u8],
    truncated: bool,
    opts: &SampleOptions,
    profiler: &mut Profiler,
    meta: &mut DatasetProfile,
) {
    let Some(col) = profiler.declare(TEXT_COLUMN, true) else {
        return;
    };
    let mut rows = 0u64;
    let mut lines = head.split(|b| *b == b'\n').peekable();
    while let Some(line) = lines.next() {
        if truncated && lines.peek().is_none() {
            break;
        }
        if rows >= opts.max_rows {
            meta.truncated = true;
            break;
        }
        rows += 1;
        let cut = &line[..line.len().min(opts.max_cell_bytes)];
        profiler.observe_at(col, &String::from_utf8_lossy(cut), rows, Some(rows));
    }
    meta.rows_sampled = rows;
}

pub fn read_notebook(
    path: &str,
    raw: &[u8],
    opts: &SampleOptions,
    profiler: &mut Profiler,
    meta: &mut DatasetProfile,
) -> Result<(), DataError> {
    let cells = aisec_secrets::notebook_cells(raw).ok_or_else(|| DataError::Unsupported {
        path: path.to_owned(),
        why: "not a Jupyter notebook: no `cells` array in a JSON object".to_owned(),
    })?;
    let Some(col) = profiler.declare(OUTPUTS_COLUMN, true) else {
        return Ok(());
    };
    let mut rows = 0u64;
    for cell in cells {
        if rows >= opts.max_rows {
            meta.truncated = true;
            break;
        }
        rows += 1;
        for line in cell.outputs.lines() {
            profiler.observe_at(col, line, cell.index as u64, None);
        }
    }
    meta.rows_sampled = rows;
    Ok(())
}
