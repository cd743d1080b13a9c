//! Poisoning and quality signals. These *report*, they do not judge: a
//! duplicate may be legitimate, a trigger-like token may be a product name.
//!
//! - **Exact duplicates**: rows equal after normalisation (each field trimmed,
//!   runs of whitespace collapsed, lower-cased), found by a 128-bit hash of
//!   the normalised row.
//! - **Near-duplicates**: MinHash signatures ([`MINHASH_HASHES`] hashes) over
//!   word 3-shingles of the text column(s), LSH banding ([`LSH_BANDS`] bands
//!   of [`LSH_ROWS`]) to find candidates, estimated Jaccard similarity at or
//!   above a threshold to keep them, union-find to group them.
//! - **Label shift** between two versions of a dataset: per-class counts and
//!   shares, total variation distance, population stability index and the
//!   chi-square statistic of homogeneity, classes that appear or disappear.
//! - **Trigger-like tokens**: tokens found in at least `min_rows` rows of
//!   which at least `min_purity` share one label, that are rare overall
//!   (`max_doc_share` of rows at most) and clearly above that label's base
//!   rate.
//!
//! Memory: each signal has a cap ([`QualityOptions`]); past it the signal
//! stops growing and the report says it is partial, with the line at which
//! tracking stopped.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::io::Read;
use std::path::Path;

use csv::ByteRecord;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::table::{Dialect, Rejects, next_row, read_header};

/// MinHash signature length.
pub const MINHASH_HASHES: usize = 64;
/// LSH bands × rows per band = [`MINHASH_HASHES`]. With 16 bands of 4 the
/// chance that a pair is a candidate is 1-(1-s⁴)¹⁶: 0.99 at s = 0.8, 0.64 at
/// s = 0.5, 0.22 at s = 0.3 — candidates are then checked against the
/// threshold, so the banding only decides what is compared.
pub const LSH_BANDS: usize = 16;
pub const LSH_ROWS: usize = 4;
/// Words per shingle.
const SHINGLE_WORDS: usize = 3;
/// Lines listed per duplicate group or near-duplicate cluster.
const MAX_LINES_LISTED: usize = 10;
/// Example lines kept per token.
const TOKEN_EXAMPLES: usize = 3;

#[derive(Debug, Clone)]
pub struct QualityOptions {
    pub label: Option<String>,
    pub text: Vec<String>,
    pub dialect: Dialect,
    /// Groups and clusters listed (largest first), tokens listed.
    pub top: usize,
    /// Estimated Jaccard similarity at or above which two texts are near-duplicates.
    pub near_threshold: f64,
    pub trigger_min_rows: u64,
    pub trigger_min_purity: f64,
    pub trigger_max_doc_share: f64,
    /// Distinct rows tracked for exact duplicates (about 50 bytes each with the table's overhead).
    pub max_distinct_rows: usize,
    /// Rows indexed for near-duplicates (about 300 bytes each: the signature,
    /// the line, and one band table at a time).
    pub max_near_rows: usize,
    /// Distinct tokens tracked for triggers (about 150 bytes each).
    pub max_tokens: usize,
    /// Distinct labels tracked.
    pub max_labels: usize,
}

impl Default for QualityOptions {
    fn default() -> Self {
        QualityOptions {
            label: None,
            text: Vec::new(),
            dialect: Dialect::CSV,
            top: 10,
            near_threshold: 0.8,
            trigger_min_rows: 20,
            trigger_min_purity: 0.95,
            trigger_max_doc_share: 0.05,
            max_distinct_rows: 4_000_000,
            max_near_rows: 1_000_000,
            max_tokens: 500_000,
            max_labels: 10_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DuplicateGroup {
    pub count: u64,
    /// The first lines of the group (at most 10).
    pub lines: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExactDuplicates {
    /// Groups of two or more equal rows.
    pub groups: u64,
    /// Rows beyond the first of each group.
    pub duplicate_rows: u64,
    pub largest: Vec<DuplicateGroup>,
    /// Line after which new distinct rows were no longer tracked (cap reached).
    pub partial_after_line: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NearCluster {
    pub size: u64,
    pub lines: Vec<u64>,
    /// Smallest estimated similarity of a member to the row it joined through.
    pub min_similarity: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NearDuplicates {
    pub text_columns: Vec<String>,
    pub threshold: f64,
    pub rows_indexed: u64,
    pub clusters: u64,
    /// Rows in clusters beyond the first of each.
    pub rows_in_clusters: u64,
    pub largest: Vec<NearCluster>,
    pub partial_after_line: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelCount {
    pub label: String,
    pub count: u64,
    pub share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassShift {
    pub label: String,
    pub old_count: u64,
    pub new_count: u64,
    pub old_share: f64,
    pub new_share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelShift {
    pub against: String,
    pub old_rows: u64,
    pub new_rows: u64,
    pub classes: Vec<ClassShift>,
    pub appeared: Vec<String>,
    pub disappeared: Vec<String>,
    /// ½ Σ |p_new - p_old|, in [0, 1].
    pub total_variation: f64,
    /// Σ (p_new - p_old) ln(p_new / p_old), shares floored at 1e-4 so that a
    /// class present on one side only counts without dividing by zero.
    pub psi: f64,
    /// Pearson's chi-square statistic of homogeneity over the 2 × classes
    /// table of counts, and its degrees of freedom (classes - 1).
    pub chi_square: f64,
    pub degrees_of_freedom: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TriggerToken {
    pub token: String,
    pub label: String,
    /// Rows containing the token.
    pub rows: u64,
    /// Of those, rows with `label`.
    pub rows_with_label: u64,
    pub purity: f64,
    /// Share of `label` among all rows.
    pub label_base_share: f64,
    pub example_lines: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Triggers {
    pub min_rows: u64,
    pub min_purity: f64,
    pub max_doc_share: f64,
    pub tokens: Vec<TriggerToken>,
    pub partial_after_line: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QualityReport {
    pub file: String,
    pub rows: u64,
    pub rejected: Rejects,
    pub exact_duplicates: ExactDuplicates,
    pub near_duplicates: Option<NearDuplicates>,
    pub label_column: Option<String>,
    pub labels: Vec<LabelCount>,
    pub label_shift: Option<LabelShift>,
    pub triggers: Option<Triggers>,
}

/// Deterministic hasher for in-memory tables (SipHash with fixed keys): the
/// report is the same from run to run.
#[derive(Clone, Copy, Default)]
struct FixedState;
impl BuildHasher for FixedState {
    type Hasher = std::collections::hash_map::DefaultHasher;
    fn build_hasher(&self) -> Self::Hasher {
        std::collections::hash_map::DefaultHasher::new()
    }
}

fn hash_with(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = FixedState.build_hasher();
    h.write_u64(seed);
    h.write(bytes);
    h.finish()
}

/// splitmix64's finaliser: a cheap bijective mixer that turns one shingle
/// hash into [`MINHASH_HASHES`] independent-looking ones.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Normalises one field: trimmed, whitespace runs collapsed to one space,
/// lower-cased (ASCII only for invalid UTF-8).
fn normalise_into(field: &[u8], out: &mut Vec<u8>) {
    match std::str::from_utf8(field) {
        Ok(s) => {
            let mut first = true;
            for word in s.split_whitespace() {
                if !first {
                    out.push(b' ');
                }
                first = false;
                for c in word.chars() {
                    for l in c.to_lowercase() {
                        let mut b = [0u8; 4];
                        out.extend_from_slice(l.encode_utf8(&mut b).as_bytes());
                    }
                }
            }
        }
        Err(_) => out.extend(field.trim_ascii().iter().map(u8::to_ascii_lowercase)),
    }
}

/// Lower-cased words of `text`, with surrounding punctuation removed (a word
/// made only of punctuation is kept as it is: `!!!` can be a trigger too).
pub fn tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split_whitespace().map(|w| {
        let t = w.trim_matches(|c: char| !c.is_alphanumeric());
        let t = if t.is_empty() { w } else { t };
        t.to_lowercase()
    })
}

/// MinHash signature of the word shingles of `text`; `None` for empty text.
pub fn minhash(text: &str) -> Option<[u32; MINHASH_HASHES]> {
    let words: Vec<String> = tokens(text).collect();
    if words.is_empty() {
        return None;
    }
    let mut sig = [u32::MAX; MINHASH_HASHES];
    let mut shingle = Vec::new();
    let n = words.len().saturating_sub(SHINGLE_WORDS - 1).max(1);
    for i in 0..n {
        shingle.clear();
        for w in &words[i..(i + SHINGLE_WORDS).min(words.len())] {
            shingle.extend_from_slice(w.as_bytes());
            shingle.push(0);
        }
        let h = hash_with(0x0053_4849_4e47_4c45, &shingle);
        for (j, s) in sig.iter_mut().enumerate() {
            let v = (mix(h ^ (j as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)) >> 32) as u32;
            if v < *s {
                *s = v;
            }
        }
    }
    Some(sig)
}

/// Share of equal positions of two signatures: an estimate of the Jaccard
/// similarity of the shingle sets.
pub fn similarity(a: &[u32; MINHASH_HASHES], b: &[u32; MINHASH_HASHES]) -> f64 {
    a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / MINHASH_HASHES as f64
}

struct UnionFind {
    parent: Vec<u32>,
}
impl UnionFind {
    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }
    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            // Keep the earlier row as root, so a cluster is named by its first line.
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[hi as usize] = lo;
        }
    }
}

struct TokenStats {
    rows: u64,
    per_label: Vec<(u32, u64)>,
    examples: Vec<u64>,
    /// Last row counted, so a token repeated in one row counts once.
    last_row: u64,
}

/// Label counts of `input`'s `label` column (rows with a wrong field count skipped).
fn label_counts<R: Read>(
    path: &Path,
    input: R,
    label: &str,
    dialect: Dialect,
    max_labels: usize,
) -> Result<(Vec<(String, u64)>, u64)> {
    let mut reader = dialect.reader(input);
    let header = read_header(&mut reader, path)?;
    let li = header.indices(path, &[label.to_owned()])?[0];
    let mut counts: HashMap<Vec<u8>, u64> = HashMap::new();
    let mut record = ByteRecord::new();
    let mut rows = 0;
    while let Some(line) = next_row(&mut reader, &mut record, &header, path, None)? {
        rows += 1;
        let v = record[li].trim_ascii();
        if let Some(c) = counts.get_mut(v) {
            *c += 1;
        } else {
            if counts.len() >= max_labels {
                return Err(too_many_labels(path, line, max_labels));
            }
            counts.insert(v.to_vec(), 1);
        }
    }
    let mut out: Vec<(String, u64)> = counts
        .into_iter()
        .map(|(k, v)| (String::from_utf8_lossy(&k).into_owned(), v))
        .collect();
    out.sort();
    Ok((out, rows))
}

fn too_many_labels(path: &Path, line: u64, max: usize) -> Error {
    Error::Limit {
        path: path.to_path_buf(),
        message: format!(
            "more than {max} distinct labels by line {line}: is the label column the right one?"
        ),
    }
}

/// Label shift from `old` to `new` counts.
pub fn label_shift(against: &str, old: &[(String, u64)], new: &[(String, u64)]) -> LabelShift {
    const FLOOR: f64 = 1e-4;
    let old_rows: u64 = old.iter().map(|(_, c)| c).sum();
    let new_rows: u64 = new.iter().map(|(_, c)| c).sum();
    let mut names: Vec<&String> = old.iter().chain(new).map(|(l, _)| l).collect();
    names.sort();
    names.dedup();
    let get = |v: &[(String, u64)], l: &str| v.iter().find(|(k, _)| k == l).map_or(0, |(_, c)| *c);
    let share = |c: u64, n: u64| if n == 0 { 0.0 } else { c as f64 / n as f64 };
    let mut classes = Vec::new();
    let (mut tv, mut psi, mut chi) = (0.0, 0.0, 0.0);
    let (mut appeared, mut disappeared) = (Vec::new(), Vec::new());
    let total = (old_rows + new_rows) as f64;
    for l in names {
        let (o, n) = (get(old, l), get(new, l));
        let (po, pn) = (share(o, old_rows), share(n, new_rows));
        tv += (pn - po).abs();
        let (fo, fnw) = (po.max(FLOOR), pn.max(FLOOR));
        psi += (fnw - fo) * (fnw / fo).ln();
        if total > 0.0 {
            let col = (o + n) as f64;
            for (obs, rows) in [(o, old_rows), (n, new_rows)] {
                let expected = col * rows as f64 / total;
                if expected > 0.0 {
                    chi += (obs as f64 - expected).powi(2) / expected;
                }
            }
        }
        if o == 0 && n > 0 {
            appeared.push(l.clone());
        }
        if n == 0 && o > 0 {
            disappeared.push(l.clone());
        }
        classes.push(ClassShift {
            label: l.clone(),
            old_count: o,
            new_count: n,
            old_share: po,
            new_share: pn,
        });
    }
    let degrees_of_freedom = classes.len().saturating_sub(1) as u64;
    LabelShift {
        against: against.to_owned(),
        old_rows,
        new_rows,
        classes,
        appeared,
        disappeared,
        total_variation: tv / 2.0,
        psi,
        chi_square: chi,
        degrees_of_freedom,
    }
}

/// Computes the quality report over `input`; `against` is an older version
/// for the label shift.
pub fn quality<R: Read>(
    path: &Path,
    input: R,
    against: Option<(&Path, Box<dyn Read + '_>)>,
    options: &QualityOptions,
) -> Result<QualityReport> {
    let mut reader = options.dialect.reader(input);
    let header = read_header(&mut reader, path)?;
    let label_idx = match &options.label {
        Some(l) => Some(header.indices(path, std::slice::from_ref(l))?[0]),
        None => None,
    };
    let text_idx = header.indices(path, &options.text)?;
    if against.is_some() && label_idx.is_none() {
        return Err(Error::Usage(
            "--against compares label distributions: name the label column with --label".into(),
        ));
    }

    let mut rows = 0u64;
    let mut rejected = Rejects::default();
    // Exact duplicates: row hash -> (count, first line); lines of the later
    // copies only for rows seen twice, so a distinct row costs 32 bytes.
    let mut exact: HashMap<u128, (u64, u64), FixedState> = HashMap::with_hasher(FixedState);
    let mut dup_lines: HashMap<u128, Vec<u64>, FixedState> = HashMap::with_hasher(FixedState);
    let mut exact_partial = None;
    // Near-duplicates: signatures and the line of each indexed row.
    let mut sigs: Vec<[u32; MINHASH_HASHES]> = Vec::new();
    let mut sig_lines: Vec<u64> = Vec::new();
    let mut near_partial = None;
    // Labels.
    let mut label_names: Vec<Vec<u8>> = Vec::new();
    let mut label_index: HashMap<Vec<u8>, u32> = HashMap::new();
    let mut label_rows: Vec<u64> = Vec::new();
    // Tokens.
    let want_triggers = label_idx.is_some() && !text_idx.is_empty();
    let mut token_stats: HashMap<String, TokenStats> = HashMap::new();
    let mut token_partial = None;

    let mut record = ByteRecord::new();
    let mut norm = Vec::new();
    let mut text = String::new();
    while let Some(line) = next_row(&mut reader, &mut record, &header, path, Some(&mut rejected))? {
        // Text columns are read as UTF-8.
        text.clear();
        let mut bad_text = None;
        for &i in &text_idx {
            match std::str::from_utf8(&record[i]) {
                Ok(s) => {
                    if !text.is_empty() {
                        text.push(' ');
                    }
                    text.push_str(s);
                }
                Err(_) => bad_text = Some(i),
            }
        }
        if let Some(i) = bad_text {
            rejected.push(
                line,
                format!("text column `{}` is not valid UTF-8", header.names[i]),
            );
            continue;
        }
        rows += 1;

        // Exact duplicates.
        norm.clear();
        for f in record.iter() {
            normalise_into(f, &mut norm);
            norm.push(0x1f);
        }
        let h = (u128::from(hash_with(1, &norm)) << 64) | u128::from(hash_with(2, &norm));
        let full = exact.len() >= options.max_distinct_rows;
        match exact.get_mut(&h) {
            Some((count, first)) => {
                *count += 1;
                let lines = dup_lines.entry(h).or_insert_with(|| vec![*first]);
                if lines.len() < MAX_LINES_LISTED {
                    lines.push(line);
                }
            }
            None if !full => {
                exact.insert(h, (1, line));
            }
            None => {
                exact_partial.get_or_insert(line);
            }
        }

        // Labels.
        let label = match label_idx {
            Some(li) => {
                let v = record[li].trim_ascii();
                let id = match label_index.get(v) {
                    Some(&id) => id,
                    None => {
                        if label_names.len() >= options.max_labels {
                            return Err(too_many_labels(path, line, options.max_labels));
                        }
                        let id = label_names.len() as u32;
                        label_names.push(v.to_vec());
                        label_index.insert(v.to_vec(), id);
                        label_rows.push(0);
                        id
                    }
                };
                label_rows[id as usize] += 1;
                Some(id)
            }
            None => None,
        };

        if text_idx.is_empty() {
            continue;
        }
        // Near-duplicates.
        if let Some(sig) = minhash(&text) {
            if sigs.len() < options.max_near_rows {
                sigs.push(sig);
                sig_lines.push(line);
            } else {
                near_partial.get_or_insert(line);
            }
        }
        // Tokens.
        if let (true, Some(label)) = (want_triggers, label) {
            for t in tokens(&text) {
                let stats = match token_stats.get_mut(&t) {
                    Some(s) => s,
                    None => {
                        if token_stats.len() >= options.max_tokens {
                            token_partial.get_or_insert(line);
                            continue;
                        }
                        token_stats.entry(t).or_insert(TokenStats {
                            rows: 0,
                            per_label: Vec::new(),
                            examples: Vec::new(),
                            last_row: 0,
                        })
                    }
                };
                if stats.last_row == rows {
                    continue;
                }
                stats.last_row = rows;
                stats.rows += 1;
                match stats.per_label.iter_mut().find(|(l, _)| *l == label) {
                    Some((_, c)) => *c += 1,
                    None => stats.per_label.push((label, 1)),
                }
                if stats.examples.len() < TOKEN_EXAMPLES {
                    stats.examples.push(line);
                }
            }
        }
    }

    // Exact duplicates, largest groups first.
    let mut groups: Vec<DuplicateGroup> = exact
        .into_iter()
        .filter(|(_, (c, _))| *c > 1)
        .map(|(h, (count, _))| DuplicateGroup {
            count,
            lines: dup_lines.remove(&h).unwrap_or_default(),
        })
        .collect();
    let duplicate_rows = groups.iter().map(|g| g.count - 1).sum();
    let group_count = groups.len() as u64;
    groups.sort_by(|a, b| b.count.cmp(&a.count).then(a.lines.cmp(&b.lines)));
    groups.truncate(options.top);
    let exact_duplicates = ExactDuplicates {
        groups: group_count,
        duplicate_rows,
        largest: groups,
        partial_after_line: exact_partial,
    };

    let near_duplicates = (!text_idx.is_empty()).then(|| {
        near_clusters(
            &sigs,
            &sig_lines,
            options,
            near_partial,
            &text_idx,
            &header.names,
        )
    });

    let label_name = |id: usize| String::from_utf8_lossy(&label_names[id]).into_owned();
    let mut labels: Vec<LabelCount> = (0..label_names.len())
        .map(|i| LabelCount {
            label: label_name(i),
            count: label_rows[i],
            share: if rows == 0 {
                0.0
            } else {
                label_rows[i] as f64 / rows as f64
            },
        })
        .collect();
    labels.sort_by(|a, b| b.count.cmp(&a.count).then(a.label.cmp(&b.label)));

    let label_shift = match (against, &options.label) {
        (Some((old_path, old_input)), Some(l)) => {
            let (old, _) =
                label_counts(old_path, old_input, l, options.dialect, options.max_labels)?;
            let mut new: Vec<(String, u64)> =
                labels.iter().map(|c| (c.label.clone(), c.count)).collect();
            new.sort();
            Some(label_shift(&old_path.display().to_string(), &old, &new))
        }
        _ => None,
    };

    let triggers = want_triggers.then(|| {
        let mut found: Vec<TriggerToken> = Vec::new();
        for (token, s) in &token_stats {
            if s.rows < options.trigger_min_rows
                || (s.rows as f64) > options.trigger_max_doc_share * rows as f64
            {
                continue;
            }
            let Some(&(label, with)) = s
                .per_label
                .iter()
                .max_by_key(|(l, c)| (*c, std::cmp::Reverse(*l)))
            else {
                continue;
            };
            let purity = with as f64 / s.rows as f64;
            let base = label_rows[label as usize] as f64 / rows.max(1) as f64;
            // At least halfway from the base rate to 1: when one label is 97%
            // of the data, 95% purity says nothing.
            if purity < options.trigger_min_purity || purity < base + (1.0 - base) / 2.0 {
                continue;
            }
            found.push(TriggerToken {
                token: token.clone(),
                label: label_name(label as usize),
                rows: s.rows,
                rows_with_label: with,
                purity,
                label_base_share: base,
                example_lines: s.examples.clone(),
            });
        }
        found.sort_by(|a, b| b.rows.cmp(&a.rows).then(a.token.cmp(&b.token)));
        found.truncate(options.top);
        Triggers {
            min_rows: options.trigger_min_rows,
            min_purity: options.trigger_min_purity,
            max_doc_share: options.trigger_max_doc_share,
            tokens: found,
            partial_after_line: token_partial,
        }
    });

    Ok(QualityReport {
        file: path.display().to_string(),
        rows,
        rejected,
        exact_duplicates,
        near_duplicates,
        label_column: options.label.clone(),
        labels,
        label_shift,
        triggers,
    })
}

fn near_clusters(
    sigs: &[[u32; MINHASH_HASHES]],
    lines: &[u64],
    options: &QualityOptions,
    partial: Option<u64>,
    text_idx: &[usize],
    names: &[String],
) -> NearDuplicates {
    let n = sigs.len();
    let mut uf = UnionFind {
        parent: (0..n as u32).collect(),
    };
    let mut min_sim = vec![1.0f64; n];
    for band in 0..LSH_BANDS {
        let mut buckets: HashMap<u64, u32, FixedState> = HashMap::with_hasher(FixedState);
        for (i, sig) in sigs.iter().enumerate() {
            let mut h = FixedState.build_hasher();
            h.write_usize(band);
            for v in &sig[band * LSH_ROWS..(band + 1) * LSH_ROWS] {
                h.write_u32(*v);
            }
            // Each row is compared with the first row of its bucket only: the
            // work stays linear even when thousands of rows share a bucket, and
            // union-find joins what is similar to a common first row.
            match buckets.entry(h.finish()) {
                std::collections::hash_map::Entry::Occupied(e) => {
                    let first = *e.get();
                    let s = similarity(&sigs[first as usize], sig);
                    if s >= options.near_threshold {
                        uf.union(first, i as u32);
                        min_sim[i] = min_sim[i].min(s);
                    }
                }
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(i as u32);
                }
            }
        }
    }
    let mut clusters: HashMap<u32, (Vec<u64>, u64, f64)> = HashMap::new();
    for i in 0..n {
        let root = uf.find(i as u32);
        let c = clusters.entry(root).or_insert((Vec::new(), 0, 1.0));
        c.1 += 1;
        if c.0.len() < MAX_LINES_LISTED {
            c.0.push(lines[i]);
        }
        if root != i as u32 {
            c.2 = c.2.min(min_sim[i]);
        }
    }
    let mut list: Vec<(u32, Vec<u64>, u64, f64)> = clusters
        .into_iter()
        .filter(|(_, c)| c.1 > 1)
        .map(|(r, (l, s, m))| (r, l, s, m))
        .collect();
    let count = list.len() as u64;
    let rows_in_clusters = list.iter().map(|c| c.2 - 1).sum();
    list.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    list.truncate(options.top);
    let largest = list
        .into_iter()
        .map(|(_, lines, size, min_similarity)| NearCluster {
            size,
            lines,
            min_similarity,
        })
        .collect();
    NearDuplicates {
        text_columns: text_idx.iter().map(|&i| names[i].clone()).collect(),
        threshold: options.near_threshold,
        rows_indexed: n as u64,
        clusters: count,
        rows_in_clusters,
        largest,
        partial_after_line: partial,
    }
}

/// [`quality`] over files.
pub fn quality_file(
    path: &Path,
    against: Option<&Path>,
    options: &QualityOptions,
) -> Result<QualityReport> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let old = match against {
        Some(p) => {
            let f = std::fs::File::open(p).map_err(|e| Error::io(p, e))?;
            Some((p, Box::new(f) as Box<dyn Read>))
        }
        None => None,
    };
    quality(path, file, old, options)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(csv: &str, options: &QualityOptions) -> QualityReport {
        quality(Path::new("t.csv"), csv.as_bytes(), None, options).unwrap()
    }

    #[test]
    fn exact_duplicates_after_normalisation() {
        let r = run(
            "text,label\nHello  World,a\n hello world ,a\nother,b\nHELLO WORLD,a\nother,b\nhello world,b\n",
            &QualityOptions::default(),
        );
        assert_eq!(r.rows, 6);
        assert_eq!(r.exact_duplicates.groups, 2);
        assert_eq!(r.exact_duplicates.duplicate_rows, 3);
        assert_eq!(r.exact_duplicates.largest[0].count, 3);
        assert_eq!(r.exact_duplicates.largest[0].lines, vec![2, 3, 5]);
        assert_eq!(r.exact_duplicates.largest[1].lines, vec![4, 6]);
    }

    #[test]
    fn near_duplicates_cluster_and_distinct_texts_do_not() {
        let base = "the quick brown fox jumps over the lazy dog near the river bank today";
        let csv = format!(
            "text\n{base}\n{base} again\nthe slow grey cat sleeps under the warm kitchen table all afternoon\n{base}\n"
        );
        let o = QualityOptions {
            text: vec!["text".into()],
            ..QualityOptions::default()
        };
        let r = run(&csv, &o);
        let n = r.near_duplicates.unwrap();
        assert_eq!(n.rows_indexed, 4);
        assert_eq!(n.clusters, 1);
        assert_eq!(n.largest[0].lines, vec![2, 3, 5]);
        assert!(n.largest[0].min_similarity >= 0.8);
    }

    #[test]
    fn minhash_estimates_jaccard() {
        let a = minhash("a b c d e f g h i j").unwrap();
        let b = minhash("a b c d e f g h i j").unwrap();
        assert_eq!(similarity(&a, &b), 1.0);
        // 8 shingles each; "x y z w v u t s r q" shares none.
        let c = minhash("x y z w v u t s r q").unwrap();
        assert!(similarity(&a, &c) < 0.2);
        assert!(minhash("   ").is_none());
    }

    #[test]
    fn label_shift_by_hand() {
        let old = vec![("a".to_string(), 50), ("b".to_string(), 50)];
        let new = vec![("a".to_string(), 75), ("c".to_string(), 25)];
        let s = label_shift("old.csv", &old, &new);
        // Shares: a .5 -> .75, b .5 -> 0, c 0 -> .25: TV = (.25 + .5 + .25) / 2 = .5.
        assert!((s.total_variation - 0.5).abs() < 1e-12);
        assert_eq!(s.appeared, vec!["c"]);
        assert_eq!(s.disappeared, vec!["b"]);
        // Chi-square: totals 100/100, column sums a 125, b 50, c 25; expected per side
        // a 62.5, b 25, c 12.5: (12.5²/62.5)·2 + (25²/25)·2 + (12.5²/12.5)·2 = 5 + 50 + 25 = 80.
        assert!((s.chi_square - 80.0).abs() < 1e-9, "{}", s.chi_square);
        assert_eq!(s.degrees_of_freedom, 2);
        // PSI with the 1e-4 floor: (.25)ln(1.5) + (1e-4-.5)ln(1e-4/.5) + (.25-1e-4)ln(.25/1e-4).
        let f = 1e-4f64;
        let want = 0.25 * (1.5f64).ln() + (f - 0.5) * (f / 0.5).ln() + (0.25 - f) * (0.25 / f).ln();
        assert!((s.psi - want).abs() < 1e-9);
        let same = label_shift("o", &old, &old);
        assert_eq!(
            (same.total_variation, same.psi, same.chi_square),
            (0.0, 0.0, 0.0)
        );
    }

    #[test]
    fn shift_against_a_file() {
        let o = QualityOptions {
            label: Some("label".into()),
            ..QualityOptions::default()
        };
        let old = "label\na\na\nb\n";
        let r = quality(
            Path::new("new.csv"),
            "label\na\nb\nb\nc\n".as_bytes(),
            Some((Path::new("old.csv"), Box::new(old.as_bytes()))),
            &o,
        )
        .unwrap();
        let s = r.label_shift.unwrap();
        assert_eq!((s.old_rows, s.new_rows), (3, 4));
        assert_eq!(s.appeared, vec!["c"]);
        // a 2/3 -> 1/4, b 1/3 -> 2/4, c 0 -> 1/4: TV = (5/12 + 2/12 + 3/12)/2 = 5/12.
        assert!((s.total_variation - 5.0 / 12.0).abs() < 1e-12);
        assert_eq!(
            r.labels[0],
            LabelCount {
                label: "b".into(),
                count: 2,
                share: 0.5
            }
        );
    }

    #[test]
    fn trigger_tokens_are_reported() {
        let mut csv = String::from("text,label\n");
        for i in 0..200 {
            let label = if i % 2 == 0 { "pos" } else { "neg" };
            csv.push_str(&format!("ordinary review number {i} words,{label}\n"));
        }
        // 25 rows carry "cf" and 24 of them are "pos": purity .96, base .5.
        for i in 0..25 {
            let label = if i == 0 { "neg" } else { "pos" };
            csv.push_str(&format!("cf great stuff {i},{label}\n"));
        }
        let o = QualityOptions {
            label: Some("label".into()),
            text: vec!["text".into()],
            trigger_max_doc_share: 0.2,
            ..QualityOptions::default()
        };
        let r = run(&csv, &o);
        let t = r.triggers.unwrap();
        let cf = t
            .tokens
            .iter()
            .find(|t| t.token == "cf")
            .expect("cf reported");
        assert_eq!(
            (cf.rows, cf.rows_with_label, cf.label.as_str()),
            (25, 24, "pos")
        );
        assert_eq!(cf.example_lines, vec![202, 203, 204]);
        // "great" and "stuff" go with "cf", so they are reported too; "ordinary" is in 200 rows
        // split evenly and is not.
        assert!(t.tokens.iter().all(|t| t.token != "ordinary"));
    }
}
