//! Parquet through the `parquet` crate's record API, reading only the footer
//! and the sampled row groups: the footer (metadata and schema) is decoded
//! first, row groups are chosen within the byte budget, and only their column
//! chunks are read into a sparse in-memory copy that the reader serves from.
//! A 10 GB file costs its footer plus `max_bytes`.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use bytes::Bytes;
use parquet::file::metadata::{ParquetMetaDataReader, RowGroupMetaData};
use parquet::file::reader::{ChunkReader, FileReader, Length, SerializedFileReader};
use parquet::record::Field;

use super::PARQUET_MAGIC;
use crate::error::DataError;
use crate::profile::{DatasetProfile, Profiler};
use crate::sample::{ReadAt, SampleOptions};

/// The footer (Thrift metadata) of a real file is kilobytes to a few
/// megabytes; one claiming more is hostile or broken.
const MAX_FOOTER_BYTES: u64 = 64 * 1024 * 1024;
/// A row group that alone is larger than the byte budget is still read when
/// it is the first and no larger than this many budgets: otherwise files
/// written with one huge row group could never be sampled at all.
const OVERSIZED_ROW_GROUP_FACTOR: u64 = 4;
/// Decompressed size of the sampled row groups, as a multiple of the
/// compressed budget, before they are refused (decompression bombs).
const MAX_EXPANSION: u64 = 64;

/// The parts of a file that were read, served to the parquet reader as if
/// they were the whole file. A read outside them is an error, never a panic.
struct SparseFile {
    len: u64,
    chunks: Vec<(u64, Bytes)>,
}

impl SparseFile {
    fn slice(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        for (at, data) in &self.chunks {
            let end = at + data.len() as u64;
            if start >= *at && start.saturating_add(length as u64) <= end {
                let from = (start - at) as usize;
                return Ok(data.slice(from..from + length));
            }
        }
        Err(parquet::errors::ParquetError::General(format!(
            "bytes {start}..{} were not sampled",
            start.saturating_add(length as u64)
        )))
    }
}

impl Length for SparseFile {
    fn len(&self) -> u64 {
        self.len
    }
}

impl ChunkReader for SparseFile {
    type T = Cursor<Bytes>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        for (at, data) in &self.chunks {
            let end = at + data.len() as u64;
            if start >= *at && start < end {
                return Ok(Cursor::new(data.slice((start - at) as usize..)));
            }
        }
        Err(parquet::errors::ParquetError::General(format!(
            "byte {start} was not sampled"
        )))
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        self.slice(start, length)
    }
}

/// Byte range of a row group's column chunks in the file.
fn row_group_range(rg: &RowGroupMetaData) -> Option<(u64, u64)> {
    let mut start = u64::MAX;
    let mut end = 0u64;
    for col in rg.columns() {
        let (s, len) = col.byte_range();
        start = start.min(s);
        end = end.max(s.checked_add(len)?);
    }
    (start < end).then_some((start, end))
}

pub fn read(
    path: &str,
    source: &dyn ReadAt,
    opts: &SampleOptions,
    profiler: &mut Profiler,
    meta: &mut DatasetProfile,
) -> Result<(), DataError> {
    let bad = |why: String| DataError::Parquet {
        path: path.to_owned(),
        why,
    };
    let io = |e: std::io::Error| DataError::Io {
        path: path.to_owned(),
        source: e,
    };
    let len = source.len();
    if len < 12 {
        return Err(bad(format!("{len} bytes is too short for a Parquet file")));
    }
    let tail = source.read_at(len - 8, 8).map_err(io)?;
    if &tail[4..8] != PARQUET_MAGIC {
        return Err(bad(
            "no PAR1 magic at the end: the file is cut short or not Parquet".to_owned(),
        ));
    }
    let footer_len = u64::from(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]));
    if footer_len > MAX_FOOTER_BYTES || footer_len + 12 > len {
        return Err(bad(format!(
            "footer of {footer_len} bytes does not fit the {len}-byte file"
        )));
    }
    let footer_start = len - 8 - footer_len;
    let footer = source
        .read_at(footer_start, footer_len as usize)
        .map_err(io)?;
    // The thrift footer decoder panics on some hostile footers (seen in
    // fuzzing: an unwrap in parquet 57's column metadata reader); contain it
    // like the record decoder below.
    let metadata = catch_unwind(AssertUnwindSafe(|| {
        ParquetMetaDataReader::decode_metadata(&footer)
    }))
    .map_err(|_| bad("footer: the metadata decoder failed on this footer".to_owned()))?
    .map_err(|e| bad(format!("footer: {e}")))?;
    let file_meta = metadata.file_metadata();
    meta.rows_total = u64::try_from(file_meta.num_rows()).ok();
    meta.bytes_read = footer_len + 8;
    // Columns by name from the schema, so that hints count even when no row is read.
    for col in file_meta.schema_descr().columns() {
        profiler.declare(&col.path().string(), false);
    }

    // Row groups in file order until the row and byte budgets are spent.
    let mut chosen = Vec::new();
    let (mut bytes, mut rows, mut expanded) = (0u64, 0u64, 0u64);
    for (i, rg) in metadata.row_groups().iter().enumerate() {
        if rows >= opts.max_rows {
            break;
        }
        let Some((start, end)) = row_group_range(rg) else {
            continue;
        };
        if end > footer_start {
            return Err(bad(format!(
                "row group {i} claims bytes {start}..{end}, past the footer"
            )));
        }
        let size = end - start;
        let budget = if chosen.is_empty() {
            opts.max_bytes.saturating_mul(OVERSIZED_ROW_GROUP_FACTOR)
        } else {
            opts.max_bytes
        };
        if bytes + size > budget {
            break;
        }
        let unpacked = u64::try_from(rg.total_byte_size()).unwrap_or(u64::MAX);
        expanded = expanded.saturating_add(unpacked);
        if expanded > opts.max_bytes.saturating_mul(MAX_EXPANSION) {
            return Err(bad(format!(
                "row group {i} decompresses to {unpacked} bytes, over the limit of {} ({MAX_EXPANSION}x the sample)",
                opts.max_bytes.saturating_mul(MAX_EXPANSION)
            )));
        }
        bytes += size;
        rows = rows.saturating_add(u64::try_from(rg.num_rows()).unwrap_or(0));
        chosen.push((i, start, end));
    }
    if chosen.len() < metadata.num_row_groups() {
        meta.truncated = true;
    }
    if chosen.is_empty() {
        if metadata.num_row_groups() > 0 {
            meta.notes.push(format!(
                "the first row group is larger than {} bytes; only the schema was profiled (raise --sample-bytes)",
                opts.max_bytes.saturating_mul(OVERSIZED_ROW_GROUP_FACTOR)
            ));
        }
        return Ok(());
    }

    let mut chunks = vec![(footer_start, Bytes::from([footer, tail].concat()))];
    for &(_, start, end) in &chosen {
        let data = source.read_at(start, (end - start) as usize).map_err(io)?;
        chunks.push((start, Bytes::from(data)));
    }
    meta.bytes_read += bytes;
    let sparse = SparseFile { len, chunks };

    // The record API is a large decoder over untrusted pages; a panic in it
    // is turned into an error about this file rather than a crash.
    let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<u64, String> {
        let reader = SerializedFileReader::new(sparse).map_err(|e| e.to_string())?;
        let mut row_number = 0u64;
        for &(i, ..) in &chosen {
            let group = reader.get_row_group(i).map_err(|e| e.to_string())?;
            let iter = group.get_row_iter(None).map_err(|e| e.to_string())?;
            for row in iter {
                if row_number >= opts.max_rows {
                    return Ok(row_number);
                }
                let row = row.map_err(|e| format!("row group {i}: {e}"))?;
                row_number += 1;
                for (name, field) in row.get_column_iter() {
                    emit_field(name, field, 0, opts, &mut |col, v| {
                        profiler.observe(col, v, row_number, None)
                    });
                }
            }
        }
        Ok(row_number)
    }));
    match outcome {
        Ok(Ok(n)) => {
            meta.rows_sampled = n;
            if meta.rows_total.is_some_and(|t| n < t) {
                meta.truncated = true;
            }
            Ok(())
        }
        Ok(Err(e)) => Err(bad(e)),
        Err(_) => Err(bad(
            "the Parquet decoder failed on malformed pages".to_owned()
        )),
    }
}

/// Feeds the text of a field (strings, UTF-8 bytes, integers, dates and
/// timestamps) to `emit`; groups, lists and maps are walked to `max_depth`.
fn emit_field(
    name: &str,
    field: &Field,
    depth: usize,
    opts: &SampleOptions,
    emit: &mut dyn FnMut(&str, &str),
) {
    if depth > opts.max_depth {
        return;
    }
    match field {
        Field::Str(s) => emit(name, s),
        Field::Bytes(b) => {
            if let Ok(s) = std::str::from_utf8(b.data()) {
                emit(name, s);
            }
        }
        Field::Byte(_)
        | Field::Short(_)
        | Field::Int(_)
        | Field::Long(_)
        | Field::UInt(_)
        | Field::ULong(_) => {
            emit(name, &field.to_string());
        }
        // Formatted here: `Field`'s Display panics on timestamps chrono cannot
        // place (found by fuzzing), and only the calendar date matters.
        Field::Date(days) => emit(name, &civil_date(i64::from(*days))),
        Field::TimestampMillis(ms) => emit(name, &civil_date(ms.div_euclid(86_400_000))),
        Field::TimestampMicros(us) => emit(name, &civil_date(us.div_euclid(86_400_000_000))),
        Field::Group(row) => {
            for (child, f) in row.get_column_iter() {
                emit_field(&format!("{name}.{child}"), f, depth + 1, opts, emit);
            }
        }
        Field::ListInternal(list) => {
            for f in list.elements() {
                emit_field(name, f, depth + 1, opts, emit);
            }
        }
        Field::MapInternal(map) => {
            for (_, v) in map.entries() {
                emit_field(name, v, depth + 1, opts, emit);
            }
        }
        _ => {}
    }
}

/// `YYYY-MM-DD` of a day count since 1970-01-01 (proleptic Gregorian; H.
/// Hinnant's `civil_from_days`), for any `i64` without overflow or panic.
fn civil_date(days: i64) -> String {
    // Beyond +-1e9 days (2.7 million years) no date is a date of birth.
    let z = days.clamp(-1_000_000_000, 1_000_000_000) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::civil_date;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(-1), "1969-12-31");
        assert_eq!(civil_date(5_548), "1985-03-11");
        assert_eq!(civil_date(11_016), "2000-02-29");
        let _ = civil_date(i64::MIN);
        let _ = civil_date(i64::MAX);
    }
}
