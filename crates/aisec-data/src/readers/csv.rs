//! CSV and TSV through the `csv` crate: delimiter sniffed from the first
//! lines, header detected, records read until the row or byte budget ends.
//! Ragged rows are read as they are (`flexible`); bytes that are not UTF-8
//! are read lossily.

use crate::detect::{Features, digits_of};
use crate::profile::{DatasetFormat, DatasetProfile, Profiler};
use crate::sample::SampleOptions;

const CANDIDATES: &[u8] = b",\t;|";
/// Lines looked at to sniff the delimiter.
const SNIFF_LINES: usize = 20;
/// A header cell longer than this is data.
const MAX_HEADER_CELL: usize = 64;

/// The delimiter of a delimited text, and whether it is consistent (the same
/// non-zero count, outside quotes, on at least 90% of the sniffed lines, and
/// on at least two lines).
pub fn sniff_delimiter(head: &[u8]) -> Option<(u8, bool)> {
    let lines: Vec<&[u8]> = head
        .split(|b| *b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .take(SNIFF_LINES + 1)
        .collect();
    // The last line of a cut head may be partial.
    let lines = if lines.len() > SNIFF_LINES {
        &lines[..SNIFF_LINES]
    } else {
        &lines[..]
    };
    let mut best: Option<(u8, usize, bool)> = None;
    for &d in CANDIDATES {
        let counts: Vec<usize> = lines.iter().map(|l| count_unquoted(l, d)).collect();
        let Some(&first) = counts.first() else {
            continue;
        };
        if first == 0 {
            continue;
        }
        let same = counts.iter().filter(|&&c| c == first).count();
        let consistent = lines.len() >= 2 && same * 10 >= lines.len() * 9;
        let better = match best {
            None => true,
            Some((_, n, c)) => (consistent, first) > (c, n),
        };
        if better {
            best = Some((d, first, consistent));
        }
    }
    best.map(|(d, _, c)| (d, c))
}

fn count_unquoted(line: &[u8], d: u8) -> usize {
    let mut quoted = false;
    line.iter()
        .filter(|&&b| {
            if b == b'"' {
                quoted = !quoted;
            }
            !quoted && b == d
        })
        .count()
}

/// A first row is a header when its cells are distinct, short, and none is a
/// number or looks like personal data itself.
fn looks_like_header(cells: &[String]) -> bool {
    let mut seen = std::collections::HashSet::new();
    cells.iter().all(|c| {
        let c = c.trim();
        let f = Features::of(c);
        !c.is_empty()
            && c.len() <= MAX_HEADER_CELL
            && c.parse::<f64>().is_err()
            && f.at_signs == 0
            && digits_of(c).len() < 6
            && seen.insert(c.to_owned())
    })
}

pub fn read(
    head: &[u8],
    format: DatasetFormat,
    truncated: bool,
    opts: &SampleOptions,
    profiler: &mut Profiler,
    meta: &mut DatasetProfile,
) {
    // A cut head ends in a partial record: drop it.
    let body = if truncated {
        match memchr::memrchr(b'\n', head) {
            Some(nl) => &head[..=nl],
            None => head,
        }
    } else {
        head
    };
    let body = body.strip_prefix(b"\xef\xbb\xbf").unwrap_or(body);
    let delimiter = match sniff_delimiter(body) {
        Some((d, _)) => d,
        None if format == DatasetFormat::Tsv => b'\t',
        None => b',',
    };
    meta.format = if delimiter == b'\t' {
        DatasetFormat::Tsv
    } else {
        DatasetFormat::Csv
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    let mut columns: Vec<usize> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut record = csv::ByteRecord::new();
    let mut rows = 0u64;
    let mut bad = 0u64;
    let mut first = true;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                bad += 1;
                if bad == 1 {
                    meta.notes.push(format!("malformed record skipped: {e}"));
                }
                // The csv reader resynchronises at the next record.
                if bad > opts.max_rows {
                    break;
                }
                continue;
            }
        }
        let line = record.position().map(|p| p.line());
        let cells: Vec<String> = record
            .iter()
            .map(|c| String::from_utf8_lossy(&c[..c.len().min(opts.max_cell_bytes)]).into_owned())
            .collect();
        if first {
            first = false;
            if looks_like_header(&cells) {
                names = cells;
                for n in &names {
                    columns.push(profiler.declare(n, false).unwrap_or(usize::MAX));
                }
                continue;
            }
        }
        if rows >= opts.max_rows {
            meta.truncated = true;
            break;
        }
        rows += 1;
        for (i, cell) in cells.iter().enumerate() {
            while columns.len() <= i {
                let n = format!("column_{}", columns.len() + 1);
                columns.push(profiler.declare(&n, false).unwrap_or(usize::MAX));
                names.push(n);
            }
            if columns[i] != usize::MAX {
                profiler.observe_at(columns[i], cell, rows, line);
            }
        }
    }
    if bad > 0 {
        meta.notes.push(format!("{bad} malformed records skipped"));
    }
    meta.rows_sampled = rows;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_delimiters() {
        assert_eq!(sniff_delimiter(b"a,b,c\n1,2,3\n"), Some((b',', true)));
        assert_eq!(sniff_delimiter(b"a\tb\n1\t2\n"), Some((b'\t', true)));
        assert_eq!(sniff_delimiter(b"a;b;c\n\"x;y\";2;3\n"), Some((b';', true)));
        assert_eq!(
            sniff_delimiter(b"Hello, world.\nNo commas here\nor, here, maybe\n").map(|(_, c)| c),
            Some(false)
        );
    }

    #[test]
    fn headers() {
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        assert!(looks_like_header(&s(&["id", "email", "phone"])));
        assert!(!looks_like_header(&s(&["1", "jane@x.io", "+4420"])));
        assert!(!looks_like_header(&s(&["a", "a"])));
        assert!(!looks_like_header(&s(&["name", ""])));
    }
}
