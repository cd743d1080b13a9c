//! JSON Lines (one record per line) and JSON documents (an array of records,
//! or one record). Each leaf's key path is a column (`user.email`,
//! `tags[]`); strings and integers are profiled (phone and card numbers are
//! often stored as integers), floats and booleans are not. Nesting is
//! flattened to `max_depth`; serde_json's own recursion limit keeps hostile
//! nesting from overflowing the stack.

use serde_json::Value;

use crate::error::DataError;
use crate::profile::{DatasetProfile, Profiler};
use crate::sample::SampleOptions;

/// A line longer than this is not parsed (a record that size is a blob).
const MAX_LINE_BYTES: usize = 1024 * 1024;
/// Leaves flattened from one record; the rest are skipped.
const MAX_LEAVES_PER_RECORD: usize = 4096;

/// True when the first non-blank line is a complete JSON object.
pub fn first_line_is_record(head: &[u8]) -> bool {
    head.split(|b| *b == b'\n')
        .find(|l| !l.iter().all(u8::is_ascii_whitespace))
        .is_some_and(|l| {
            l.len() <= MAX_LINE_BYTES
                && matches!(serde_json::from_slice::<Value>(l), Ok(Value::Object(_)))
        })
}

pub fn read_lines(
    head: &[u8],
    truncated: bool,
    opts: &SampleOptions,
    profiler: &mut Profiler,
    meta: &mut DatasetProfile,
) {
    let mut rows = 0u64;
    let mut bad = 0u64;
    let mut lines = head.split(|b| *b == b'\n').enumerate().peekable();
    while let Some((i, line)) = lines.next() {
        // The last line of a cut head is partial.
        if truncated && lines.peek().is_none() {
            break;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if rows >= opts.max_rows {
            meta.truncated = true;
            break;
        }
        if line.len() > MAX_LINE_BYTES {
            bad += 1;
            continue;
        }
        let Ok(value) = serde_json::from_slice::<Value>(line) else {
            bad += 1;
            continue;
        };
        rows += 1;
        let mut leaves = 0;
        flatten(
            &value,
            &mut String::new(),
            0,
            opts,
            &mut leaves,
            &mut |path, v| {
                profiler.observe(path, v, rows, Some(i as u64 + 1));
            },
        );
    }
    if bad > 0 {
        meta.notes.push(format!(
            "{bad} lines that are not JSON (or over {MAX_LINE_BYTES} bytes) skipped"
        ));
    }
    meta.rows_sampled = rows;
}

pub fn read_document(
    path: &str,
    head: &[u8],
    opts: &SampleOptions,
    profiler: &mut Profiler,
    meta: &mut DatasetProfile,
) -> Result<(), DataError> {
    let doc: Value = serde_json::from_slice(head).map_err(|e| DataError::Unsupported {
        path: path.to_owned(),
        why: format!("not JSON Lines and not a JSON document: {e}"),
    })?;
    let records: Vec<&Value> = match &doc {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let mut rows = 0u64;
    for record in records {
        if rows >= opts.max_rows {
            meta.truncated = true;
            break;
        }
        rows += 1;
        let mut leaves = 0;
        flatten(
            record,
            &mut String::new(),
            0,
            opts,
            &mut leaves,
            &mut |p, v| {
                profiler.observe(p, v, rows, None);
            },
        );
    }
    meta.rows_sampled = rows;
    Ok(())
}

/// Calls `emit(path, text)` for every string or integer leaf.
fn flatten(
    v: &Value,
    path: &mut String,
    depth: usize,
    opts: &SampleOptions,
    leaves: &mut usize,
    emit: &mut dyn FnMut(&str, &str),
) {
    if depth > opts.max_depth || *leaves >= MAX_LEAVES_PER_RECORD {
        return;
    }
    let column = |p: &str| {
        if p.is_empty() {
            "value".to_owned()
        } else {
            p.to_owned()
        }
    };
    match v {
        Value::String(s) => {
            *leaves += 1;
            emit(&column(path), s);
        }
        Value::Number(n) if n.is_i64() || n.is_u64() => {
            *leaves += 1;
            emit(&column(path), &n.to_string());
        }
        Value::Object(map) => {
            for (k, child) in map {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(crate::mask::truncate(k, 128));
                flatten(child, path, depth + 1, opts, leaves, emit);
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            let len = path.len();
            path.push_str("[]");
            for child in items {
                flatten(child, path, depth + 1, opts, leaves, emit);
                if *leaves >= MAX_LEAVES_PER_RECORD {
                    break;
                }
            }
            path.truncate(len);
        }
        _ => {}
    }
}
