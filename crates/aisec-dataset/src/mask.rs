//! Masking: a policy applied to every row of a CSV or TSV file, streamed in
//! bounded batches and transformed in parallel, written in input order.

use std::io::{BufWriter, Read, Write};
use std::path::Path;
use std::sync::mpsc::sync_channel;

use base64::Engine as _;
use csv::ByteRecord;
use hmac::{KeyInit, Mac};
use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::policy::{
    Action, Generalise, HashEncoding, MaskKey, Policy, TokenFormat, UnknownColumns,
};
use crate::table::{Dialect, Header, Rejects, field_count_error, read_header};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Domain-separation prefixes: a hash and a token of the same value never
/// share PRF input, so one cannot be computed from the other.
const HASH_DOMAIN: &[u8] = b"aisec-mask-hash-v1\0";
const TOKEN_DOMAIN: &[u8] = b"aisec-mask-token-v1\0";

/// How a run treats bad rows.
#[derive(Debug, Clone, Copy)]
pub struct MaskOptions {
    pub dialect: Dialect,
    /// Stop at the first bad row (and write no output) instead of skipping it.
    pub strict: bool,
}

impl Default for MaskOptions {
    fn default() -> Self {
        MaskOptions {
            dialect: Dialect::CSV,
            strict: false,
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MaskSummary {
    /// Data rows read (header excluded).
    pub rows_read: u64,
    pub rows_written: u64,
    pub rejected: Rejects,
    pub columns_in: usize,
    pub columns_out: usize,
}

/// The policy compiled against one header.
pub struct Masker {
    /// Per input column: its action, `None` when dropped.
    plan: Vec<Option<Action>>,
    names: Vec<String>,
    mac: Option<HmacSha256>,
    out_header: Vec<String>,
}

impl Masker {
    /// Compiles `policy` for `header`. Fails when a rule names a column the
    /// header lacks, when `unknown_columns = "fail"` and the header has a
    /// column the policy does not name, or when the key is needed and absent.
    pub fn new(policy: &Policy, header: &Header, key: Option<&MaskKey>) -> Result<Masker> {
        for (i, rule) in policy.columns.iter().enumerate() {
            if header.index_of(&rule.name).is_none() {
                return Err(Error::Policy {
                    file: policy.source.clone(),
                    key: format!("column[{i}].name"),
                    message: format!(
                        "column `{}` is not in the input header (columns: {})",
                        rule.name,
                        header.names.join(", ")
                    ),
                });
            }
        }
        let mut plan = Vec::with_capacity(header.names.len());
        let mut unnamed = Vec::new();
        for name in &header.names {
            let action = match policy.rule(name) {
                Some(a) => a.clone(),
                None => {
                    unnamed.push(name.as_str());
                    policy.default.clone()
                }
            };
            plan.push((action != Action::Drop).then_some(action));
        }
        if policy.unknown_columns == UnknownColumns::Fail && !unnamed.is_empty() {
            return Err(Error::Policy {
                file: policy.source.clone(),
                key: "unknown_columns".into(),
                message: format!(
                    "is \"fail\" and the input has columns the policy does not name: {}",
                    unnamed.join(", ")
                ),
            });
        }
        let needs_key = plan.iter().flatten().any(Action::needs_key);
        let mac = Self::mac(policy, needs_key, key)?;
        let out_header = header
            .names
            .iter()
            .zip(&plan)
            .filter(|(_, a)| a.is_some())
            .map(|(n, _)| n.clone())
            .collect();
        Ok(Masker {
            plan,
            names: header.names.clone(),
            mac,
            out_header,
        })
    }

    /// A masker for values addressed by name rather than by column (JSON
    /// Lines): only its keyed primitives are used.
    pub(crate) fn for_named_values(policy: &Policy, key: Option<&MaskKey>) -> Result<Masker> {
        let needs_key =
            policy.default.needs_key() || policy.columns.iter().any(|c| c.action.needs_key());
        Ok(Masker {
            plan: Vec::new(),
            names: Vec::new(),
            mac: Self::mac(policy, needs_key, key)?,
            out_header: Vec::new(),
        })
    }

    fn mac(policy: &Policy, needs_key: bool, key: Option<&MaskKey>) -> Result<Option<HmacSha256>> {
        Ok(match (needs_key, key) {
            (false, _) => None,
            (true, Some(k)) => {
                Some(HmacSha256::new_from_slice(k.bytes()).map_err(|_| {
                    Error::Key("the masking key cannot be used as an HMAC key".into())
                })?)
            }
            (true, None) => {
                return Err(Error::Key(format!(
                    "{}: the policy hashes or tokenises columns, so it needs a key: set [key] env/file in the policy or pass --key-env / --key-file",
                    policy.source.display()
                )));
            }
        })
    }

    /// Names of the output columns, in order.
    pub fn output_header(&self) -> &[String] {
        &self.out_header
    }

    /// Masks one data record into `out`; on a bad row returns why.
    pub fn mask_record(&self, record: &ByteRecord, out: &mut ByteRecord) -> Result<(), String> {
        self.mask_into(record, out, &mut String::new())
    }

    fn mask_into(
        &self,
        record: &ByteRecord,
        out: &mut ByteRecord,
        scratch: &mut String,
    ) -> Result<(), String> {
        out.clear();
        if record.len() != self.plan.len() {
            return Err(format!(
                "expected {} fields (as in the header), found {}",
                self.plan.len(),
                record.len()
            ));
        }
        for (i, (field, action)) in record.iter().zip(&self.plan).enumerate() {
            let Some(action) = action else { continue };
            match action {
                Action::Keep => out.push_field(field),
                Action::Drop => {}
                Action::Redact { replacement } => {
                    if field.is_empty() {
                        out.push_field(b"");
                    } else {
                        out.push_field(replacement.as_bytes());
                    }
                }
                Action::Hash { encoding, length } => {
                    if field.is_empty() {
                        out.push_field(b"");
                    } else {
                        scratch.clear();
                        self.hash_into(field, *encoding, *length, scratch);
                        out.push_field(scratch.as_bytes());
                    }
                }
                Action::Tokenise { format, keep_last } => {
                    let text = self.text(i, field)?;
                    scratch.clear();
                    self.tokenise(text, *format, *keep_last, scratch);
                    out.push_field(scratch.as_bytes());
                }
                Action::Generalise(g) => {
                    let text = self.text(i, field)?;
                    scratch.clear();
                    generalise(text, g, scratch)
                        .map_err(|m| format!("column `{}`: {m}", self.names[i]))?;
                    out.push_field(scratch.as_bytes());
                }
            }
        }
        Ok(())
    }

    fn text<'a>(&self, column: usize, field: &'a [u8]) -> Result<&'a str, String> {
        std::str::from_utf8(field).map_err(|e| {
            format!(
                "column `{}` is not valid UTF-8 (byte {} of the field), and its action reads text",
                self.names[column],
                e.valid_up_to() + 1
            )
        })
    }

    /// HMAC-SHA256(key, domain || counter || value).
    fn prf(&self, domain: &[u8], counter: u32, value: &[u8]) -> [u8; 32] {
        // `new` guarantees the MAC exists whenever an action needs it.
        let Some(base) = &self.mac else {
            return [0; 32];
        };
        let mut mac = base.clone();
        mac.update(domain);
        mac.update(&counter.to_be_bytes());
        mac.update(value);
        mac.finalize().into_bytes().into()
    }

    /// The keyed digest of `field`, encoded and truncated as the policy says.
    pub(crate) fn hash_into(
        &self,
        field: &[u8],
        encoding: HashEncoding,
        length: Option<usize>,
        out: &mut String,
    ) {
        let start = out.len();
        let digest = self.prf(HASH_DOMAIN, 0, field);
        match encoding {
            HashEncoding::Hex => hex_into(&digest, out),
            HashEncoding::Base64Url => {
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_string(digest, out)
            }
        }
        if let Some(n) = length {
            out.truncate(start + n.min(out.len() - start));
        }
    }

    /// Format-preserving pseudonym of `value` (see [`TokenFormat`]).
    pub(crate) fn tokenise(
        &self,
        value: &str,
        format: TokenFormat,
        keep_last: usize,
        out: &mut String,
    ) {
        let (body, suffix) = match format {
            TokenFormat::Email => match value.rfind('@') {
                Some(at) if at > 0 => value.split_at(at),
                _ => (value, ""),
            },
            TokenFormat::Auto | TokenFormat::Card => (value, ""),
        };
        // Keep the last `keep_last` alphanumeric characters as they are.
        let replaceable = body.chars().filter(|c| c.is_alphanumeric()).count();
        let replace_upto = replaceable.saturating_sub(keep_last);
        let mut stream = PrfStream::new(self, value.as_bytes());
        let mut seen = 0usize;
        for c in body.chars() {
            if !c.is_alphanumeric() {
                out.push(c);
                continue;
            }
            seen += 1;
            if seen > replace_upto {
                out.push(c);
            } else if c.is_numeric() {
                out.push((b'0' + stream.below(10)) as char);
            } else if c.is_uppercase() {
                out.push((b'A' + stream.below(26)) as char);
            } else {
                out.push((b'a' + stream.below(26)) as char);
            }
        }
        out.push_str(suffix);
    }
}

/// Pseudo-random bytes from HMAC blocks keyed by the masking key and bound to
/// one value: the token is deterministic for (key, value) and unpredictable
/// without the key.
struct PrfStream<'a> {
    masker: &'a Masker,
    value: &'a [u8],
    counter: u32,
    block: [u8; 32],
    pos: usize,
}

impl<'a> PrfStream<'a> {
    fn new(masker: &'a Masker, value: &'a [u8]) -> Self {
        PrfStream {
            masker,
            value,
            counter: 0,
            block: [0; 32],
            pos: 32,
        }
    }

    fn byte(&mut self) -> u8 {
        if self.pos == self.block.len() {
            self.block = self.masker.prf(TOKEN_DOMAIN, self.counter, self.value);
            self.counter = self.counter.wrapping_add(1);
            self.pos = 0;
        }
        let b = self.block[self.pos];
        self.pos += 1;
        b
    }

    /// Uniform in `0..n` by rejection sampling (no modulo bias).
    fn below(&mut self, n: u8) -> u8 {
        let limit = 256 - (256 % n as u16);
        loop {
            let b = self.byte();
            if (b as u16) < limit {
                return b % n;
            }
        }
    }
}

/// Lower-case hex. Written here because it is four lines; a crate for it
/// would be a dependency for nothing.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    hex_into(bytes, &mut s);
    s
}

fn hex_into(bytes: &[u8], out: &mut String) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
}

/// Coarsens one value; empty stays empty.
pub(crate) fn generalise(value: &str, g: &Generalise, out: &mut String) -> Result<(), String> {
    use std::fmt::Write as _;
    let v = value.trim();
    if v.is_empty() {
        return Ok(());
    }
    match g {
        Generalise::Year | Generalise::YearMonth => {
            let (year, month) = parse_date_prefix(v).ok_or_else(|| {
                format!("`{}` is not a date (expected YYYY, YYYY-MM, YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD, optionally followed by a time)", truncate(v))
            })?;
            match (g, month) {
                (Generalise::Year, _) => {
                    let _ = write!(out, "{year:04}");
                }
                (_, Some(m)) => {
                    let _ = write!(out, "{year:04}-{m:02}");
                }
                (_, None) => return Err(format!("`{}` has no month", truncate(v))),
            }
        }
        Generalise::Range { width, top } => {
            let x: f64 = v
                .parse()
                .ok()
                .filter(|x: &f64| x.is_finite() && x.abs() < 9.0e15)
                .ok_or_else(|| format!("`{}` is not a number", truncate(v)))?;
            if let Some(top) = top {
                if x >= *top as f64 {
                    let _ = write!(out, "{top}+");
                    return Ok(());
                }
            }
            let w = *width as f64;
            let lo = (x / w).floor() * w;
            let lo = lo as i64;
            let hi = lo.saturating_add(*width as i64 - 1);
            if *width == 1 {
                let _ = write!(out, "{lo}");
            } else {
                let _ = write!(out, "{lo}-{hi}");
            }
        }
    }
    Ok(())
}

fn truncate(v: &str) -> &str {
    match v.char_indices().nth(40) {
        Some((i, _)) => &v[..i],
        None => v,
    }
}

/// Year and month of an ISO-like date at the start of `v`.
fn parse_date_prefix(v: &str) -> Option<(u32, Option<u32>)> {
    let b = v.as_bytes();
    let digits = |s: &[u8]| -> Option<u32> {
        if s.iter().all(u8::is_ascii_digit) {
            Some(s.iter().fold(0u32, |a, d| a * 10 + u32::from(d - b'0')))
        } else {
            None
        }
    };
    if b.len() < 4 {
        return None;
    }
    let year = digits(&b[..4])?;
    let month_ok = |m: u32| (1..=12).contains(&m);
    let day_ok = |d: u32| (1..=31).contains(&d);
    let rest = &b[4..];
    // YYYYMMDD
    if rest.len() == 4 {
        let m = digits(&rest[..2])?;
        let d = digits(&rest[2..])?;
        return (month_ok(m) && day_ok(d)).then_some((year, Some(m)));
    }
    if rest.is_empty() {
        return Some((year, None));
    }
    let sep = rest[0];
    if !matches!(sep, b'-' | b'/' | b'.') || rest.len() < 3 {
        return None;
    }
    let m = digits(&rest[1..3])?;
    if !month_ok(m) {
        return None;
    }
    let rest = &rest[3..];
    if rest.is_empty() {
        return Some((year, Some(m)));
    }
    if rest[0] != sep || rest.len() < 3 {
        return None;
    }
    let d = digits(&rest[1..3])?;
    if !day_ok(d) {
        return None;
    }
    let tail = &rest[3..];
    if tail.is_empty() || matches!(tail[0], b'T' | b't' | b' ') {
        Some((year, Some(m)))
    } else {
        None
    }
}

/// Cuts a delimited byte stream into chunks that end on record boundaries,
/// so that workers can parse chunks independently and in parallel.
///
/// A boundary is a `\n` outside quotes. Quotes are tracked as the CSV parser
/// reads them: a `"` opens a quoted field only at the start of a field (after
/// a delimiter, a line break, or at the start of a chunk); inside one, `""`
/// is an escaped quote and a lone `"` closes it. A record longer than
/// [`MAX_RECORD_BYTES`] (an unclosed quote, a file without line feeds) ends
/// the run with an error instead of growing memory.
pub(crate) struct Splitter<R> {
    input: R,
    dialect: Dialect,
    buf: Vec<u8>,
    /// Bytes of `buf` already scanned.
    scanned: usize,
    /// End of the last record boundary found in `buf`.
    boundary: usize,
    quoted: bool,
    eof: bool,
    /// Line feeds before `buf[0]`.
    lines_before: u64,
    chunk_bytes: usize,
    max_record: usize,
}

/// Longest record the masker accepts.
pub const MAX_RECORD_BYTES: usize = 64 * 1024 * 1024;
/// Bytes read per system call.
const READ_BYTES: usize = 1024 * 1024;

/// One chunk of whole records.
pub(crate) struct Chunk {
    pub bytes: Vec<u8>,
    /// Line feeds before the chunk: its first line is `lines_before + 1`.
    pub lines_before: u64,
}

impl<R: Read> Splitter<R> {
    pub(crate) fn new(input: R, dialect: Dialect, chunk_bytes: usize) -> Self {
        Splitter {
            input,
            dialect,
            buf: Vec::new(),
            scanned: 0,
            boundary: 0,
            quoted: false,
            eof: false,
            lines_before: 0,
            chunk_bytes: chunk_bytes.max(1),
            max_record: MAX_RECORD_BYTES,
        }
    }

    fn scan(&mut self) {
        let b = &self.buf[..];
        let end = b.len();
        let delim = self.dialect.delimiter;
        let mut i = self.scanned;
        if !self.dialect.quoting {
            if let Some(p) = memchr::memrchr(b'\n', &b[i..end]) {
                self.boundary = i + p + 1;
            }
            self.scanned = end;
            return;
        }
        while i < end {
            if self.quoted {
                match memchr::memchr(b'"', &b[i..end]) {
                    None => i = end,
                    Some(p) => {
                        let q = i + p;
                        if q + 1 >= end && !self.eof {
                            // Whether this quote is doubled depends on the next byte.
                            break;
                        }
                        if q + 1 < end && b[q + 1] == b'"' {
                            i = q + 2;
                        } else {
                            self.quoted = false;
                            i = q + 1;
                        }
                    }
                }
            } else {
                match memchr::memchr2(b'\n', b'"', &b[i..end]) {
                    None => i = end,
                    Some(p) => {
                        let q = i + p;
                        if b[q] == b'\n' {
                            self.boundary = q + 1;
                        } else if q == 0 || matches!(b[q - 1], b'\n' | b'\r') || b[q - 1] == delim {
                            self.quoted = true;
                        }
                        i = q + 1;
                    }
                }
            }
        }
        self.scanned = i;
    }

    fn cut(&mut self, at: usize) -> Chunk {
        let rest = self.buf.split_off(at);
        let bytes = std::mem::replace(&mut self.buf, rest);
        self.scanned -= at;
        self.boundary = 0;
        let lines_before = self.lines_before;
        self.lines_before += memchr::memchr_iter(b'\n', &bytes).count() as u64;
        Chunk {
            bytes,
            lines_before,
        }
    }

    /// The next chunk, `None` at the end of the input.
    pub(crate) fn next_chunk(&mut self, path: &Path) -> Result<Option<Chunk>> {
        loop {
            self.scan();
            if self.boundary >= self.chunk_bytes {
                let at = self.boundary;
                return Ok(Some(self.cut(at)));
            }
            if self.eof {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                let at = self.buf.len();
                self.scanned = at;
                return Ok(Some(self.cut(at)));
            }
            // Bytes after the last boundary belong to one unfinished record.
            if self.buf.len() - self.boundary > self.max_record {
                let before = memchr::memchr_iter(b'\n', &self.buf[..self.boundary]).count() as u64;
                return Err(Error::Input {
                    path: path.to_path_buf(),
                    line: self.lines_before + before + 1,
                    message: format!(
                        "a record longer than {} MiB starts here (an unclosed quote, or no line feeds?)",
                        self.max_record >> 20
                    ),
                });
            }
            // Reads grow from 64 KiB to READ_BYTES, so small inputs do not pay
            // for a large zeroed buffer.
            let len = self.buf.len();
            let want = len.clamp(64 * 1024, READ_BYTES);
            self.buf.resize(len + want, 0);
            let n = loop {
                match self.input.read(&mut self.buf[len..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        self.buf.truncate(len);
                        return Err(Error::io(path, e));
                    }
                }
            };
            self.buf.truncate(len + n);
            if n == 0 {
                self.eof = true;
            }
        }
    }
}

pub(crate) struct ChunkOut {
    pub bytes: Vec<u8>,
    pub read: u64,
    pub written: u64,
    pub rejected: Rejects,
}

/// Chunk size handed to one worker: large enough to amortise the task and
/// the parser set-up, small enough to balance two to a few dozen threads.
pub(crate) const CHUNK_BYTES: usize = 1024 * 1024;

/// Masks `input` (named `input_name` in errors) into `output`: header first,
/// then the masked rows in input order.
pub fn mask_stream<R, W>(
    input_name: &Path,
    input: R,
    output: &mut W,
    policy: &Policy,
    key: Option<&MaskKey>,
    options: MaskOptions,
) -> Result<MaskSummary>
where
    R: Read + Send,
    W: Write,
{
    mask_stream_chunked(input_name, input, output, policy, key, options, CHUNK_BYTES)
}

pub(crate) fn mask_stream_chunked<R, W>(
    input_name: &Path,
    input: R,
    output: &mut W,
    policy: &Policy,
    key: Option<&MaskKey>,
    options: MaskOptions,
    chunk_bytes: usize,
) -> Result<MaskSummary>
where
    R: Read + Send,
    W: Write,
{
    let mut splitter = Splitter::new(input, options.dialect, chunk_bytes);
    // The header: the first record of the first chunk that has one.
    let (header, first) = loop {
        let Some(chunk) = splitter.next_chunk(input_name)? else {
            return Err(Error::Input {
                path: input_name.to_path_buf(),
                line: 1,
                message: "the file is empty: a header row naming the columns is required".into(),
            });
        };
        let mut reader = options.dialect.reader(&chunk.bytes[..]);
        match read_header(&mut reader, input_name) {
            Ok(h) => {
                let consumed = reader.position().byte() as usize;
                let lines = memchr::memchr_iter(b'\n', &chunk.bytes[..consumed]).count() as u64;
                let rest = Chunk {
                    bytes: chunk.bytes[consumed..].to_vec(),
                    lines_before: chunk.lines_before + lines,
                };
                break (h, rest);
            }
            Err(Error::Input {
                line: 1, message, ..
            }) if message.starts_with("the file is empty") => {
                continue;
            }
            Err(Error::Input {
                path,
                line,
                message,
            }) => {
                return Err(Error::Input {
                    path,
                    line: line + chunk.lines_before,
                    message,
                });
            }
            Err(e) => return Err(e),
        }
    };
    let masker = Masker::new(policy, &header, key)?;
    let out_err = |e: std::io::Error| Error::io(crate::io::OUTPUT_PLACEHOLDER, e);
    {
        let mut w = options.dialect.writer(&mut *output);
        w.write_record(masker.output_header())
            .map_err(|e| out_err(e.into()))?;
        w.flush().map_err(out_err)?;
    }
    let mut summary = MaskSummary {
        columns_in: header.names.len(),
        columns_out: masker.output_header().len(),
        ..MaskSummary::default()
    };
    let (read, written, rejected) = run_chunks(
        input_name,
        splitter,
        Some(first),
        output,
        options.strict,
        |c| mask_chunk(&masker, &header, options.dialect, c),
    )?;
    summary.rows_read = read;
    summary.rows_written = written;
    summary.rejected = rejected;
    Ok(summary)
}

/// Runs `process` over the chunks of `splitter` (after `first`, when
/// given) on the rayon pool and writes their output in input order. Memory
/// in flight is about 3 × threads × the chunk size (plus their output).
/// Returns rows read, rows written and the rejected rows.
pub(crate) fn run_chunks<R, W, F>(
    input_name: &Path,
    mut splitter: Splitter<R>,
    first: Option<Chunk>,
    output: &mut W,
    strict: bool,
    process: F,
) -> Result<(u64, u64, Rejects)>
where
    R: Read + Send,
    W: Write,
    F: Fn(&Chunk) -> ChunkOut + Sync,
{
    let out_err = |e: std::io::Error| Error::io(crate::io::OUTPUT_PLACEHOLDER, e);
    let (mut read, mut written, mut rejected) = (0u64, 0u64, Rejects::default());
    let threads = rayon::current_num_threads().max(1);
    let per_round = threads * 2;
    std::thread::scope(|scope| -> Result<()> {
        let (tx, rx) = sync_channel::<Result<Chunk>>(per_round);
        scope.spawn(move || {
            if let Some(first) = first
                && tx.send(Ok(first)).is_err()
            {
                return;
            }
            loop {
                match splitter.next_chunk(input_name) {
                    Ok(Some(c)) => {
                        if tx.send(Ok(c)).is_err() {
                            return;
                        }
                    }
                    Ok(None) => return,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
            }
        });
        // `rx` is dropped when this closure returns, early or not: the reader
        // thread then stops at its next send.
        let mut round: Vec<Chunk> = Vec::with_capacity(per_round);
        let mut done = false;
        while !done {
            round.clear();
            match rx.recv() {
                Ok(c) => round.push(c?),
                Err(_) => break,
            }
            while round.len() < per_round {
                match rx.try_recv() {
                    Ok(c) => round.push(c?),
                    Err(std::sync::mpsc::TryRecvError::Empty) => {
                        if round.len() >= threads {
                            break;
                        }
                        match rx.recv() {
                            Ok(c) => round.push(c?),
                            Err(_) => {
                                done = true;
                                break;
                            }
                        }
                    }
                    Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                        done = true;
                        break;
                    }
                }
            }
            let outs: Vec<ChunkOut> = round.par_iter().map(&process).collect();
            for out in outs {
                if strict && let Some(first) = out.rejected.first.first() {
                    return Err(Error::Rejected {
                        path: input_name.to_path_buf(),
                        line: first.line,
                        message: first.message.clone(),
                    });
                }
                output.write_all(&out.bytes).map_err(out_err)?;
                read += out.read;
                written += out.written;
                rejected.merge(out.rejected);
            }
        }
        Ok(())
    })?;
    output.flush().map_err(out_err)?;
    Ok((read, written, rejected))
}

/// Line on which `record` starts within `bytes`. The CSV parser reports the
/// position where it started reading, which is before any blank lines it
/// skipped; those are stepped over here, so the line is that of the record's
/// first byte, wherever the chunk boundaries fall.
fn record_line(record: &ByteRecord, bytes: &[u8]) -> u64 {
    let Some(pos) = record.position() else {
        return 0;
    };
    let mut line = pos.line();
    let mut at = pos.byte() as usize;
    while let Some(&b) = bytes.get(at) {
        match b {
            b'\n' => line += 1,
            b'\r' => {}
            _ => break,
        }
        at += 1;
    }
    line
}

fn mask_chunk(masker: &Masker, header: &Header, dialect: Dialect, chunk: &Chunk) -> ChunkOut {
    let mut reader = dialect.reader(&chunk.bytes[..]);
    let mut writer = dialect.writer(Vec::with_capacity(
        chunk.bytes.len() + chunk.bytes.len() / 4,
    ));
    let mut record = ByteRecord::new();
    let mut out = ByteRecord::new();
    let mut scratch = String::new();
    let (mut read, mut written) = (0, 0);
    let mut rejected = Rejects::default();
    // Reading from a slice cannot fail with I/O, and the flexible parser
    // reports no other error for byte records.
    while let Ok(true) = reader.read_byte_record(&mut record) {
        read += 1;
        let line = chunk.lines_before + record_line(&record, &chunk.bytes);
        let result = match field_count_error(&record, header) {
            Some(e) => Err(e),
            None => masker.mask_into(&record, &mut out, &mut scratch),
        };
        match result {
            Ok(()) => {
                // Writing to a Vec cannot fail.
                let _ = writer.write_byte_record(&out);
                written += 1;
            }
            Err(message) => rejected.push(line, message),
        }
    }
    let bytes = writer.into_inner().unwrap_or_default();
    ChunkOut {
        bytes,
        read,
        written,
        rejected,
    }
}

/// Masks the file `input` into `output`. The output is written to a
/// temporary file beside it and renamed into place only when the run
/// succeeds, so a failed or `strict`-aborted run leaves no partial output.
pub fn mask_file(
    input: &Path,
    output: &Path,
    policy: &Policy,
    key: Option<&MaskKey>,
    options: MaskOptions,
) -> Result<MaskSummary> {
    mask_via_temp(input, output, |file, mut w| {
        mask_stream(input, file, &mut w, policy, key, options)
    })
}

/// Runs `mask` from the file `input` into a temporary file beside `output`
/// and renames it into place only when `mask` succeeds.
pub(crate) fn mask_via_temp(
    input: &Path,
    output: &Path,
    mask: impl FnOnce(std::fs::File, &mut dyn Write) -> Result<MaskSummary>,
) -> Result<MaskSummary> {
    crate::io::refuse_same_file(input, output)?;
    let file = std::fs::File::open(input).map_err(|e| Error::io(input, e))?;
    let mut tmp = crate::io::TempOutput::beside(output)?;
    let summary = {
        let mut w = BufWriter::with_capacity(1 << 20, tmp.file_mut());
        let s = mask(file, &mut w).map_err(|e| crate::io::rename_paths(e, input, output))?;
        w.flush().map_err(|e| Error::io(output, e))?;
        s
    };
    tmp.persist(output)?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    const KEY: &[u8] = b"0123456789abcdef";

    fn key() -> MaskKey {
        MaskKey::new(KEY.to_vec()).unwrap()
    }

    fn policy(text: &str) -> Policy {
        Policy::parse(text, Path::new("p.toml")).unwrap()
    }

    fn run(policy_text: &str, input: &str, strict: bool) -> Result<(String, MaskSummary)> {
        let mut out = Vec::new();
        let s = mask_stream(
            Path::new("in.csv"),
            input.as_bytes(),
            &mut out,
            &policy(policy_text),
            Some(&key()),
            MaskOptions {
                dialect: Dialect::CSV,
                strict,
            },
        )?;
        Ok((String::from_utf8(out).unwrap(), s))
    }

    fn col(action: &str) -> String {
        format!("[[column]]\nname = \"v\"\n{action}\n")
    }

    fn one(action: &str, value: &str) -> String {
        let (out, s) = run(&col(action), &format!("v\n{value}\n"), false).unwrap();
        assert_eq!(s.rejected.count, 0, "{:?}", s.rejected);
        out.lines().nth(1).unwrap_or("").to_owned()
    }

    #[test]
    fn keep_redact_drop() {
        assert_eq!(one("action = \"keep\"", "x y"), "x y");
        assert_eq!(one("action = \"redact\"", "alice"), "[REDACTED]");
        assert_eq!(
            one("action = \"redact\"\nreplacement = \"***\"", "alice"),
            "***"
        );
        let (out, s) = run(&col("action = \"drop\""), "a,v\n1,2\n", false).unwrap();
        assert_eq!(out, "a\n1\n");
        assert_eq!((s.columns_in, s.columns_out), (2, 1));
    }

    #[test]
    fn hash_matches_an_independent_hmac() {
        // Python: hmac.new(b"0123456789abcdef", b"aisec-mask-hash-v1\0" + b"\0\0\0\0" + b"alice", sha256)
        let hex = "0e6b9781a2ab759228b657552cabdcf069327822bc0db146cc1311727fcee3af";
        assert_eq!(one("action = \"hash\"", "alice"), hex);
        assert_eq!(one("action = \"hash\"\nlength = 12", "alice"), &hex[..12]);
        assert_eq!(
            one("action = \"hash\"\nencoding = \"base64url\"", "alice"),
            "DmuXgaKrdZIotldVLKvc8GkyeCK8DbFGzBMRcn_O468"
        );
        // Missing stays missing.
        let (out, _) = run(&col("action = \"hash\""), "a,v\n1,\n", false).unwrap();
        assert_eq!(out, "a,v\n1,\n");
    }

    #[test]
    fn tokenise_keeps_shape() {
        let t = one(
            "action = \"tokenise\"\nformat = \"email\"",
            "alice.smith@example.com",
        );
        assert!(t.ends_with("@example.com"), "{t}");
        assert_eq!(t.len(), "alice.smith@example.com".len());
        assert_eq!(&t[5..6], ".");
        assert_ne!(&t[..5], "alice");
        assert!(t[..5].bytes().all(|b| b.is_ascii_lowercase()));

        let card = "4111-1111-1111-1234";
        let t = one("action = \"tokenise\"\nformat = \"card\"", card);
        assert_eq!(t.len(), card.len());
        assert!(t.ends_with("-1234"), "{t}");
        for (a, b) in t.bytes().zip(card.bytes()) {
            assert_eq!(a.is_ascii_digit(), b.is_ascii_digit());
        }
        assert_ne!(t, card);

        let t = one("action = \"tokenise\"", "AB-12 cd");
        let b = t.as_bytes();
        assert!(b[0].is_ascii_uppercase() && b[1].is_ascii_uppercase());
        assert_eq!(b[2], b'-');
        assert!(b[3].is_ascii_digit() && b[4].is_ascii_digit());
        assert_eq!(b[5], b' ');
        assert!(b[6].is_ascii_lowercase() && b[7].is_ascii_lowercase());
        // Deterministic.
        assert_eq!(t, one("action = \"tokenise\"", "AB-12 cd"));
    }

    #[test]
    fn tokens_depend_on_the_key() {
        let p = policy(&col("action = \"tokenise\""));
        let header = Header {
            names: vec!["v".into()],
        };
        let a = Masker::new(&p, &header, Some(&key())).unwrap();
        let other = MaskKey::new(b"another key of 16+ bytes".to_vec()).unwrap();
        let b = Masker::new(&p, &header, Some(&other)).unwrap();
        let rec = ByteRecord::from(vec!["hello world 12345"]);
        let (mut x, mut y) = (ByteRecord::new(), ByteRecord::new());
        a.mask_record(&rec, &mut x).unwrap();
        b.mask_record(&rec, &mut y).unwrap();
        assert_ne!(x, y);
    }

    #[test]
    fn generalise_dates_and_numbers() {
        let g = |spec: &str, v: &str| one(&format!("action = \"generalise\"\n{spec}"), v);
        assert_eq!(g("to = \"year\"", "1987-03-14"), "1987");
        assert_eq!(g("to = \"year-month\"", "1987-03-14T10:00:00Z"), "1987-03");
        assert_eq!(g("to = \"year-month\"", "1990/12/01"), "1990-12");
        assert_eq!(g("to = \"year-month\"", "20010705"), "2001-07");
        assert_eq!(g("to = \"year\"", "2001"), "2001");
        assert_eq!(g("width = 10", "37"), "30-39");
        assert_eq!(g("width = 10", "30"), "30-39");
        assert_eq!(g("width = 10", "39.9"), "30-39");
        assert_eq!(g("width = 10", "-5"), "-10--1");
        assert_eq!(g("width = 5\ntop = 90", "93"), "90+");
        assert_eq!(g("width = 5\ntop = 90", "89"), "85-89");
        assert_eq!(g("width = 1", "7"), "7");
    }

    #[test]
    fn bad_values_reject_the_row_with_its_line() {
        let (out, s) = run(
            &col("action = \"generalise\"\nto = \"year\""),
            "a,v\n1,2020-01-01\n2,not a date\n3\n4,1999-13-01\n5,2021\n",
            false,
        )
        .unwrap();
        assert_eq!(out, "a,v\n1,2020\n5,2021\n");
        assert_eq!(s.rows_read, 5);
        assert_eq!(s.rows_written, 2);
        assert_eq!(s.rejected.count, 3);
        let lines: Vec<u64> = s.rejected.first.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![3, 4, 5]);
        assert!(s.rejected.first[1].message.contains("expected 2 fields"));
    }

    #[test]
    fn invalid_utf8_is_rejected_only_where_text_is_needed() {
        let mut input = b"k,v\n".to_vec();
        input.extend_from_slice(b"\xff\xfe,abc\nx,\xff\n");
        let p = policy(&col("action = \"tokenise\""));
        let mut out = Vec::new();
        let s = mask_stream(
            Path::new("in.csv"),
            &input[..],
            &mut out,
            &p,
            Some(&key()),
            MaskOptions::default(),
        )
        .unwrap();
        assert_eq!(s.rows_written, 1);
        assert_eq!(s.rejected.first[0].line, 3);
        assert!(s.rejected.first[0].message.contains("not valid UTF-8"));
        assert!(out.starts_with(b"k,v\n\xff\xfe,"));
    }

    #[test]
    fn strict_stops_at_the_first_bad_row() {
        let e = run(&col("action = \"keep\""), "v\n1\n2,3\n", true).unwrap_err();
        match e {
            Error::Rejected { line, .. } => assert_eq!(line, 3),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn order_and_lines_are_kept_across_chunks() {
        let n = 5000;
        let mut input = String::from("id,v\n");
        for i in 0..n {
            if i % 1000 == 7 {
                input.push_str("bad\n");
            }
            input.push_str(&format!("{i},\"secret\n{i}\"\n"));
        }
        for chunk in [1, 7, 100, 4096, CHUNK_BYTES] {
            let mut out = Vec::new();
            let s = mask_stream_chunked(
                Path::new("in.csv"),
                input.as_bytes(),
                &mut out,
                &policy(&col("action = \"redact\"")),
                None,
                MaskOptions::default(),
                chunk,
            )
            .unwrap();
            assert_eq!(s.rows_written, n as u64);
            assert_eq!(s.rows_read, n as u64 + 5);
            let out = String::from_utf8(out).unwrap();
            for (i, line) in out.lines().skip(1).enumerate() {
                assert_eq!(line, format!("{i},[REDACTED]"), "chunk {chunk}");
            }
            // Each data row takes two lines; "bad" rows one.
            let lines: Vec<u64> = s.rejected.first.iter().map(|r| r.line).collect();
            assert_eq!(lines, vec![16, 2017, 4018, 6019, 8020], "chunk {chunk}");
        }
    }

    #[test]
    fn quoted_fields_and_tsv() {
        let (out, _) = run(
            &col("action = \"keep\""),
            "a,v\n\"x,y\",\"q\"\"uote\"\n",
            false,
        )
        .unwrap();
        assert_eq!(out, "a,v\n\"x,y\",\"q\"\"uote\"\n");
        let mut out = Vec::new();
        mask_stream(
            Path::new("in.tsv"),
            &b"a\tv\n\"x\tsecret\n"[..],
            &mut out,
            &policy(&col("action = \"redact\"")),
            None,
            MaskOptions {
                dialect: Dialect::TSV,
                strict: false,
            },
        )
        .unwrap();
        assert_eq!(out, b"a\tv\n\"x\t[REDACTED]\n");
    }

    #[test]
    fn header_problems_are_errors() {
        assert!(matches!(
            run(&col("action = \"keep\""), "", false),
            Err(Error::Input { line: 1, .. })
        ));
        assert!(matches!(
            run(&col("action = \"keep\""), "v,v\n1,2\n", false),
            Err(Error::Input { .. })
        ));
        let e = run(&col("action = \"keep\""), "w\n1\n", false)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("p.toml: column[0].name") && e.contains("not in the input header"),
            "{e}"
        );
        let e = run(
            &format!("unknown_columns = \"fail\"\n{}", col("action = \"keep\"")),
            "v,extra\n1,2\n",
            false,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("extra"), "{e}");
    }

    #[test]
    fn a_key_is_required_for_keyed_actions() {
        let mut out = Vec::new();
        let e = mask_stream(
            Path::new("in.csv"),
            &b"v\n1\n"[..],
            &mut out,
            &policy(&col("action = \"hash\"")),
            None,
            MaskOptions::default(),
        )
        .unwrap_err();
        assert!(matches!(e, Error::Key(_)));
    }

    #[test]
    fn default_action_applies_to_unnamed_columns() {
        let (out, _) = run(
            &format!("default = \"drop\"\n{}", col("action = \"keep\"")),
            "a,v,b\n1,2,3\n",
            false,
        )
        .unwrap();
        assert_eq!(out, "v\n2\n");
    }

    #[test]
    fn an_endless_record_is_an_error_not_unbounded_memory() {
        let mut input = b"a,b\n1,2\n3,\"open quote\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', 3 << 20));
        let mut s = Splitter::new(&input[..], Dialect::CSV, 1 << 30);
        s.max_record = 1 << 20;
        match s.next_chunk(Path::new("f.csv")) {
            Err(Error::Input { line, message, .. }) => {
                assert_eq!(line, 3);
                assert!(message.contains("longer than 1 MiB"), "{message}");
            }
            _ => panic!("expected the record limit"),
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Cutting the input into chunks never changes what the parser sees:
        /// every chunk size gives the output and rejected lines of one chunk.
        #[test]
        fn chunking_is_invisible(
            body in proptest::collection::vec(proptest::sample::select(vec![b'a', b',', b'"', b'\n', b'\r', b' ']), 0..400),
            chunk in 1usize..64,
        ) {
            let mut input = b"a,b\n".to_vec();
            input.extend_from_slice(&body);
            let p = policy("default = \"keep\"");
            let run = |chunk_bytes| {
                let mut out = Vec::new();
                let s = mask_stream_chunked(Path::new("f"), &input[..], &mut out, &p, None, MaskOptions::default(), chunk_bytes).unwrap();
                (out, s)
            };
            let (whole, s1) = run(usize::MAX);
            let (parts, s2) = run(chunk);
            proptest::prop_assert_eq!(whole, parts);
            proptest::prop_assert_eq!(s1, s2);
        }
    }
}
