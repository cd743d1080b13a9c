//! Dataset readers. Each reads at most [`SampleOptions`]'s rows and bytes and
//! feeds values to the profiler; none panics on hostile input, and each
//! turns what it cannot read into a note (a malformed record) or a
//! [`DataError`] naming the file (a file it cannot read at all).

pub mod csv;
pub mod json;
pub mod parquet;
pub mod text;

use crate::error::DataError;
use crate::profile::{DatasetFormat, DatasetProfile, Profiler};
use crate::sample::{ReadAt, SampleOptions};

/// Parquet files start and end with this magic.
pub const PARQUET_MAGIC: &[u8; 4] = b"PAR1";
/// Bytes of the head looked at to decide a text format.
const SNIFF_BYTES: usize = 64 * 1024;

/// The format of a dataset: content first (Parquet magic, a notebook's
/// `nbformat`, a JSON record per line, a consistent delimiter), then the name.
pub fn detect_format(name: &str, head: &[u8], len: u64) -> Option<DatasetFormat> {
    if head.starts_with(PARQUET_MAGIC) && len >= 12 {
        return Some(DatasetFormat::Parquet);
    }
    let sniff = &head[..head.len().min(SNIFF_BYTES)];
    if memchr::memchr(0, sniff).is_some() {
        return None;
    }
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let first = sniff.iter().find(|b| !b.is_ascii_whitespace()).copied();
    match ext.as_str() {
        "ipynb" => return Some(DatasetFormat::Notebook),
        "jsonl" | "ndjson" => return Some(DatasetFormat::JsonLines),
        "csv" => return Some(DatasetFormat::Csv),
        "tsv" | "tab" => return Some(DatasetFormat::Tsv),
        "txt" | "log" | "md" | "text" => return Some(DatasetFormat::Text),
        _ => {}
    }
    if matches!(first, Some(b'{' | b'[')) {
        if memchr::memmem::find(sniff, b"\"nbformat\"").is_some()
            && memchr::memmem::find(sniff, b"\"cells\"").is_some()
        {
            return Some(DatasetFormat::Notebook);
        }
        if json::first_line_is_record(sniff) {
            return Some(DatasetFormat::JsonLines);
        }
        return Some(DatasetFormat::Json);
    }
    if ext == "json" {
        return Some(DatasetFormat::Json);
    }
    match csv::sniff_delimiter(sniff) {
        Some((b'\t', true)) => Some(DatasetFormat::Tsv),
        Some((_, true)) => Some(DatasetFormat::Csv),
        _ => Some(DatasetFormat::Text),
    }
}

/// Profiles `source` (shown to users as `path`, named `name` for format hints).
pub fn profile_source(
    path: &str,
    name: &str,
    source: &dyn ReadAt,
    opts: &SampleOptions,
) -> Result<DatasetProfile, DataError> {
    let len = source.len();
    let head_len = usize::try_from(len.min(opts.max_bytes)).unwrap_or(usize::MAX);
    let sniff_len = head_len.min(SNIFF_BYTES);
    let io = |source| DataError::Io {
        path: path.to_owned(),
        source,
    };
    let sniff = source.read_at(0, sniff_len).map_err(io)?;
    let format = detect_format(name, &sniff, len).ok_or_else(|| DataError::Unsupported {
        path: path.to_owned(),
        why: "binary content that is not Parquet; readable datasets are CSV/TSV, JSON Lines, JSON, Parquet, plain text and notebooks".to_owned(),
    })?;
    let mut profiler = Profiler::new(opts);
    let mut meta = DatasetProfile {
        path: path.to_owned(),
        format,
        rows_sampled: 0,
        rows_total: None,
        bytes_read: 0,
        truncated: false,
        columns: Vec::new(),
        notes: Vec::new(),
    };
    if format == DatasetFormat::Parquet {
        parquet::read(path, source, opts, &mut profiler, &mut meta)?;
        return Ok(profiler.finish(meta));
    }
    let head = if head_len == sniff.len() {
        sniff
    } else {
        source.read_at(0, head_len).map_err(io)?
    };
    let truncated_by_bytes = (head.len() as u64) < len;
    meta.bytes_read = head.len() as u64;
    meta.truncated = truncated_by_bytes;
    match format {
        DatasetFormat::Csv | DatasetFormat::Tsv => {
            csv::read(
                &head,
                format,
                truncated_by_bytes,
                opts,
                &mut profiler,
                &mut meta,
            );
        }
        DatasetFormat::JsonLines => {
            json::read_lines(&head, truncated_by_bytes, opts, &mut profiler, &mut meta);
        }
        DatasetFormat::Json => {
            if truncated_by_bytes {
                return Err(DataError::Unsupported {
                    path: path.to_owned(),
                    why: format!(
                        "a JSON document larger than the {}-byte sample cannot be sampled (only JSON Lines can); raise --sample-bytes or convert it to JSON Lines",
                        opts.max_bytes
                    ),
                });
            }
            json::read_document(path, &head, opts, &mut profiler, &mut meta)?;
        }
        DatasetFormat::Text => {
            text::read_lines(&head, truncated_by_bytes, opts, &mut profiler, &mut meta)
        }
        DatasetFormat::Notebook => {
            if truncated_by_bytes {
                return Err(DataError::Unsupported {
                    path: path.to_owned(),
                    why: format!(
                        "a notebook larger than the {}-byte sample cannot be parsed; raise --sample-bytes",
                        opts.max_bytes
                    ),
                });
            }
            text::read_notebook(path, &head, opts, &mut profiler, &mut meta)?;
        }
        // Read above, from its footer.
        DatasetFormat::Parquet => {}
    }
    Ok(profiler.finish(meta))
}
