//! k-anonymity and distinct l-diversity of a table over chosen
//! quasi-identifiers.
//!
//! An *equivalence class* is the set of rows that share the same values in
//! every quasi-identifier column. k is the size of the smallest class: every
//! row is indistinguishable from at least k-1 others on those columns.
//! Distinct l-diversity is the smallest number of distinct values of the
//! sensitive column within one class.
//!
//! Memory grows with the number of distinct classes (their values, a count,
//! and the set of sensitive values seen in each), never with the row count:
//! [`AnonymityOptions::max_classes`] and
//! [`AnonymityOptions::max_sensitive_values`] cap it and end the run with
//! [`Error::Limit`] when exceeded. Values are compared byte for byte (no
//! trimming or case folding: generalise first with `aisec data mask`).

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};
use std::io::Read;
use std::path::Path;

use csv::ByteRecord;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::table::{Dialect, Rejects, next_row, read_header};

/// Default cap on distinct equivalence classes (about 100 bytes each plus
/// their values).
pub const DEFAULT_MAX_CLASSES: usize = 2_000_000;
/// Default cap on (class, sensitive value) pairs tracked.
pub const DEFAULT_MAX_SENSITIVE_VALUES: usize = 8_000_000;

#[derive(Debug, Clone)]
pub struct AnonymityOptions {
    pub quasi: Vec<String>,
    pub sensitive: Option<String>,
    /// How many of the smallest classes to list.
    pub top: usize,
    /// Rows in classes smaller than this are counted as at risk.
    pub min_k: u64,
    pub max_classes: usize,
    pub max_sensitive_values: usize,
    pub dialect: Dialect,
}

impl AnonymityOptions {
    pub fn new(quasi: Vec<String>) -> Self {
        AnonymityOptions {
            quasi,
            sensitive: None,
            top: 10,
            min_k: 5,
            max_classes: DEFAULT_MAX_CLASSES,
            max_sensitive_values: DEFAULT_MAX_SENSITIVE_VALUES,
            dialect: Dialect::CSV,
        }
    }
}

/// One equivalence class, as listed in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassSummary {
    /// Quasi-identifier values, in the order of `quasi_identifiers`.
    pub values: Vec<String>,
    pub count: u64,
    /// Distinct sensitive values in the class (when a sensitive column is given).
    pub distinct_sensitive: Option<u64>,
    /// Line of the first row of the class.
    pub first_line: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnonymityReport {
    pub file: String,
    pub quasi_identifiers: Vec<String>,
    pub sensitive: Option<String>,
    /// Rows counted (rejected rows excluded).
    pub rows: u64,
    pub rejected: Rejects,
    pub classes: u64,
    /// Size of the smallest class (0 for a table without rows).
    pub k: u64,
    /// Smallest number of distinct sensitive values in a class.
    pub l: Option<u64>,
    /// Rows alone in their class.
    pub unique_rows: u64,
    pub min_k: u64,
    /// Classes with fewer than `min_k` rows, and the rows in them.
    pub classes_below_min_k: u64,
    pub rows_below_min_k: u64,
    /// The smallest classes, smallest first.
    pub smallest: Vec<ClassSummary>,
}

struct Class {
    count: u64,
    first_line: u64,
    sensitive: HashSet<u64, FixedState>,
}

/// Hashes sensitive values to 64 bits: a class then holds 8 bytes per
/// distinct value whatever the value's length. Two different values collide
/// with probability about n²/2⁶⁵, negligible at the caps above.
#[derive(Clone, Copy, Default)]
struct FixedState;
impl BuildHasher for FixedState {
    type Hasher = std::collections::hash_map::DefaultHasher;
    fn build_hasher(&self) -> Self::Hasher {
        std::collections::hash_map::DefaultHasher::new()
    }
}

fn hash64(bytes: &[u8]) -> u64 {
    let mut h = FixedState.build_hasher();
    h.write(bytes);
    h.finish()
}

/// Appends a length-prefixed value, so that ("a,b", "c") and ("a", "b,c")
/// make different keys.
fn push_key(key: &mut Vec<u8>, value: &[u8]) {
    key.extend_from_slice(&(value.len() as u32).to_le_bytes());
    key.extend_from_slice(value);
}

fn split_key(key: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = key;
    while rest.len() >= 4 {
        let n = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let end = (4 + n).min(rest.len());
        out.push(String::from_utf8_lossy(&rest[4..end]).into_owned());
        rest = &rest[end..];
    }
    out
}

/// Computes the report over `input` (named `path` in errors).
pub fn anonymity<R: Read>(
    path: &Path,
    input: R,
    options: &AnonymityOptions,
) -> Result<AnonymityReport> {
    if options.quasi.is_empty() {
        return Err(Error::Usage(
            "name at least one quasi-identifier column (--quasi col1,col2)".into(),
        ));
    }
    let mut reader = options.dialect.reader(input);
    let header = read_header(&mut reader, path)?;
    let quasi = header.indices(path, &options.quasi)?;
    let sensitive = match &options.sensitive {
        Some(s) => Some(header.indices(path, std::slice::from_ref(s))?[0]),
        None => None,
    };
    let mut classes: HashMap<Vec<u8>, Class> = HashMap::new();
    let mut sensitive_pairs = 0usize;
    let mut rows = 0u64;
    let mut rejected = Rejects::default();
    let mut record = ByteRecord::new();
    let mut key = Vec::new();
    while let Some(line) = next_row(&mut reader, &mut record, &header, path, Some(&mut rejected))? {
        rows += 1;
        key.clear();
        for &i in &quasi {
            push_key(&mut key, &record[i]);
        }
        let class = match classes.get_mut(key.as_slice()) {
            Some(c) => c,
            None => {
                if classes.len() >= options.max_classes {
                    return Err(Error::Limit {
                        path: path.to_path_buf(),
                        message: format!(
                            "more than {} distinct equivalence classes by line {line}: with this many, most rows are unique anyway (k is 1); generalise the quasi-identifiers (aisec data mask) or use fewer of them",
                            options.max_classes
                        ),
                    });
                }
                classes.entry(key.clone()).or_insert(Class {
                    count: 0,
                    first_line: line,
                    sensitive: HashSet::with_hasher(FixedState),
                })
            }
        };
        class.count += 1;
        if let Some(s) = sensitive {
            if class.sensitive.insert(hash64(&record[s])) {
                sensitive_pairs += 1;
                if sensitive_pairs > options.max_sensitive_values {
                    return Err(Error::Limit {
                        path: path.to_path_buf(),
                        message: format!(
                            "more than {} distinct (class, sensitive value) pairs by line {line}",
                            options.max_sensitive_values
                        ),
                    });
                }
            }
        }
    }
    let mut all: Vec<(&Vec<u8>, &Class)> = classes.iter().collect();
    let k = all.iter().map(|(_, c)| c.count).min().unwrap_or(0);
    let l = sensitive.and_then(|_| all.iter().map(|(_, c)| c.sensitive.len() as u64).min());
    let unique_rows = all.iter().filter(|(_, c)| c.count == 1).count() as u64;
    let below: Vec<_> = all
        .iter()
        .filter(|(_, c)| c.count < options.min_k)
        .collect();
    let classes_below_min_k = below.len() as u64;
    let rows_below_min_k = below.iter().map(|(_, c)| c.count).sum();
    all.sort_by_key(|(_, c)| (c.count, c.sensitive.len(), c.first_line));
    let smallest = all
        .iter()
        .take(options.top)
        .map(|(key, c)| ClassSummary {
            values: split_key(key),
            count: c.count,
            distinct_sensitive: sensitive.map(|_| c.sensitive.len() as u64),
            first_line: c.first_line,
        })
        .collect();
    Ok(AnonymityReport {
        file: path.display().to_string(),
        quasi_identifiers: options.quasi.clone(),
        sensitive: options.sensitive.clone(),
        rows,
        rejected,
        classes: classes.len() as u64,
        k,
        l,
        unique_rows,
        min_k: options.min_k,
        classes_below_min_k,
        rows_below_min_k,
        smallest,
    })
}

/// [`anonymity`] over a file.
pub fn anonymity_file(path: &Path, options: &AnonymityOptions) -> Result<AnonymityReport> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    anonymity(path, file, options)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(csv: &str, quasi: &[&str], sensitive: Option<&str>) -> AnonymityReport {
        let mut o = AnonymityOptions::new(quasi.iter().map(|s| s.to_string()).collect());
        o.sensitive = sensitive.map(str::to_owned);
        o.min_k = 3;
        anonymity(Path::new("t.csv"), csv.as_bytes(), &o).unwrap()
    }

    const TABLE: &str = "zip,age,sex,diag\n\
        75001,30-39,F,flu\n\
        75001,30-39,F,cold\n\
        75001,30-39,F,flu\n\
        75002,40-49,M,flu\n\
        75002,40-49,M,flu\n\
        69001,20-29,F,asthma\n";

    #[test]
    fn k_and_l_by_hand() {
        // Classes: (75001,30-39,F) x3 {flu,cold}; (75002,40-49,M) x2 {flu}; (69001,20-29,F) x1 {asthma}.
        let r = report(TABLE, &["zip", "age", "sex"], Some("diag"));
        assert_eq!(r.rows, 6);
        assert_eq!(r.classes, 3);
        assert_eq!(r.k, 1);
        assert_eq!(r.l, Some(1));
        assert_eq!(r.unique_rows, 1);
        assert_eq!((r.classes_below_min_k, r.rows_below_min_k), (2, 3));
        assert_eq!(r.smallest[0].values, vec!["69001", "20-29", "F"]);
        assert_eq!(r.smallest[0].first_line, 7);
        assert_eq!(r.smallest[1].count, 2);
        assert_eq!(r.smallest[2].distinct_sensitive, Some(2));
    }

    #[test]
    fn fewer_quasi_identifiers_raise_k() {
        // By sex only: F x4 {flu, cold, asthma}, M x2 {flu}.
        let r = report(TABLE, &["sex"], Some("diag"));
        assert_eq!((r.classes, r.k, r.l), (2, 2, Some(1)));
        assert_eq!(r.smallest[1].distinct_sensitive, Some(3));
    }

    #[test]
    fn values_with_separators_do_not_merge_classes() {
        let r = report("a,b\n\"x,y\",z\nx,\"y,z\"\n", &["a", "b"], None);
        assert_eq!(r.classes, 2);
        assert_eq!(r.l, None);
    }

    #[test]
    fn bad_rows_counted_and_caps_enforced() {
        let r = report("a,b\n1,2\n3\n1,2\n", &["a"], None);
        assert_eq!((r.rows, r.k, r.rejected.count), (2, 2, 1));
        assert_eq!(r.rejected.first[0].line, 3);
        let mut o = AnonymityOptions::new(vec!["a".into()]);
        o.max_classes = 2;
        let e = anonymity(Path::new("t.csv"), "a\n1\n2\n3\n".as_bytes(), &o).unwrap_err();
        assert!(matches!(e, Error::Limit { .. }), "{e}");
        let e = anonymity(
            Path::new("t.csv"),
            "a\n1\n".as_bytes(),
            &AnonymityOptions::new(vec!["zz".into()]),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("`zz` is not in the header"), "{e}");
    }
}
