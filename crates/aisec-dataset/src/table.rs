//! Reading delimited files: the dialect (CSV or TSV), the header, line
//! numbers and the record of rejected rows shared by every command.

use std::io::Read;
use std::path::Path;

use csv::ByteRecord;
use serde::Serialize;

use crate::error::{Error, Result};

/// How many rejected rows are kept with their line and reason; the rest are
/// only counted, so a file of bad rows cannot grow the summary.
pub const MAX_REJECT_EXAMPLES: usize = 10;

/// Read buffer of the CSV parser: large enough that the parser, not the
/// system call, is what costs.
const READ_BUFFER_BYTES: usize = 256 * 1024;

/// The shape of a delimited file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    /// Field separator.
    pub delimiter: u8,
    /// Whether `"` quotes fields (CSV) or is an ordinary byte (TSV, which
    /// has no quoting: a field never holds a tab or a newline).
    pub quoting: bool,
}

impl Dialect {
    /// RFC 4180 CSV.
    pub const CSV: Dialect = Dialect {
        delimiter: b',',
        quoting: true,
    };
    /// IANA tab-separated values (no quoting).
    pub const TSV: Dialect = Dialect {
        delimiter: b'\t',
        quoting: false,
    };

    /// TSV for `.tsv` and `.tab` names (after a `.gz`-less extension check),
    /// CSV otherwise.
    pub fn from_path(path: &Path) -> Dialect {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
            .as_deref()
        {
            Some("tsv" | "tab") => Dialect::TSV,
            _ => Dialect::CSV,
        }
    }

    pub(crate) fn reader<R: Read>(self, input: R) -> csv::Reader<R> {
        csv::ReaderBuilder::new()
            .has_headers(false)
            // Field counts are checked here, row by row, so that a bad row is
            // reported with its line instead of ending the read.
            .flexible(true)
            .delimiter(self.delimiter)
            .quoting(self.quoting)
            .buffer_capacity(READ_BUFFER_BYTES)
            .from_reader(input)
    }

    pub(crate) fn writer<W: std::io::Write>(self, output: W) -> csv::Writer<W> {
        csv::WriterBuilder::new()
            .delimiter(self.delimiter)
            .quote_style(if self.quoting {
                csv::QuoteStyle::Necessary
            } else {
                csv::QuoteStyle::Never
            })
            .flexible(true)
            .from_writer(output)
    }
}

/// The header row: column names, checked to be UTF-8 and unique.
#[derive(Debug, Clone)]
pub struct Header {
    pub names: Vec<String>,
}

impl Header {
    /// Index of `name` in the header.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// Indices of `names`, or an error naming the first column that is not
    /// in the header of `path` and listing those that are.
    pub fn indices(&self, path: &Path, names: &[String]) -> Result<Vec<usize>> {
        names
            .iter()
            .map(|n| {
                self.index_of(n).ok_or_else(|| {
                    Error::Usage(format!(
                        "{}: column `{n}` is not in the header (columns: {})",
                        path.display(),
                        self.names.join(", ")
                    ))
                })
            })
            .collect()
    }
}

/// 1-based line on which `record` starts (0 when the parser gave none).
pub(crate) fn line_of(record: &ByteRecord) -> u64 {
    record.position().map_or(0, |p| p.line())
}

pub(crate) fn csv_error(path: &Path, err: csv::Error) -> Error {
    let line = err.position().map_or(0, |p| p.line());
    match err.into_kind() {
        csv::ErrorKind::Io(source) => Error::io(path, source),
        other => Error::Input {
            path: path.to_path_buf(),
            line,
            message: format!("{other:?}"),
        },
    }
}

/// Reads the first record as the header: it must exist, be UTF-8 (a leading
/// byte-order mark is dropped) and name each column once.
pub(crate) fn read_header<R: Read>(reader: &mut csv::Reader<R>, path: &Path) -> Result<Header> {
    let mut record = ByteRecord::new();
    let got = reader
        .read_byte_record(&mut record)
        .map_err(|e| csv_error(path, e))?;
    if !got {
        return Err(Error::Input {
            path: path.to_path_buf(),
            line: 1,
            message: "the file is empty: a header row naming the columns is required".into(),
        });
    }
    let line = line_of(&record);
    let mut names = Vec::with_capacity(record.len());
    for (i, field) in record.iter().enumerate() {
        let field = if i == 0 {
            field.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(field)
        } else {
            field
        };
        let name = std::str::from_utf8(field).map_err(|_| Error::Input {
            path: path.to_path_buf(),
            line,
            message: format!("header column {} is not valid UTF-8", i + 1),
        })?;
        if names.iter().any(|n: &String| n == name) {
            return Err(Error::Input {
                path: path.to_path_buf(),
                line,
                message: format!(
                    "column `{name}` appears twice in the header: rules by name would be ambiguous"
                ),
            });
        }
        names.push(name.to_owned());
    }
    Ok(Header { names })
}

/// One rejected row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// 1-based line on which the row starts.
    pub line: u64,
    pub message: String,
}

/// Rejected rows: all counted, the first [`MAX_REJECT_EXAMPLES`] kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Rejects {
    pub count: u64,
    pub first: Vec<RowError>,
}

impl Rejects {
    pub(crate) fn push(&mut self, line: u64, message: impl Into<String>) {
        self.count += 1;
        if self.first.len() < MAX_REJECT_EXAMPLES {
            self.first.push(RowError {
                line,
                message: message.into(),
            });
        }
    }

    pub(crate) fn merge(&mut self, other: Rejects) {
        self.count += other.count;
        for e in other.first {
            if self.first.len() >= MAX_REJECT_EXAMPLES {
                break;
            }
            self.first.push(e);
        }
    }
}

/// Checks the field count of a data row against the header.
/// Reads the next well-formed row into `record` and returns its line; rows
/// whose field count differs from the header's are recorded in `rejected`
/// (when given) and skipped. `Ok(None)` at the end of the input.
pub(crate) fn next_row<R: Read>(
    reader: &mut csv::Reader<R>,
    record: &mut ByteRecord,
    header: &Header,
    path: &Path,
    mut rejected: Option<&mut Rejects>,
) -> Result<Option<u64>> {
    loop {
        if !reader
            .read_byte_record(record)
            .map_err(|e| csv_error(path, e))?
        {
            return Ok(None);
        }
        let line = line_of(record);
        match field_count_error(record, header) {
            Some(e) => {
                if let Some(r) = rejected.as_deref_mut() {
                    r.push(line, e);
                }
            }
            None => return Ok(Some(line)),
        }
    }
}

pub(crate) fn field_count_error(record: &ByteRecord, header: &Header) -> Option<String> {
    (record.len() != header.names.len()).then(|| {
        format!(
            "expected {} fields (as in the header), found {}",
            header.names.len(),
            record.len()
        )
    })
}
