//! Streaming decompression under the limits and the top-level file's budget.
//!
//! Output is pulled a chunk at a time and each chunk is charged to the
//! budget before the next one is produced, so a bomb stops at the bound, not
//! after a whole member was inflated. The ratio is judged on the compressed
//! bytes the decoder has actually consumed so far: a member that turns 1 KiB
//! into gigabytes is stopped after [`BOMB_MIN_SIZE`] times a little, not at
//! its declared (and attacker-chosen) compressed size times the ratio.

use std::cell::Cell;
use std::io::{BufRead, Read};

use aisec_core::{FileInput, ScanContext};

/// Decompressed bytes below which no ratio is suspicious: tiny members of
/// repeated bytes compress by huge ratios innocently.
pub(crate) const BOMB_MIN_SIZE: u64 = 1024 * 1024;

/// Output pulled (and charged) per step: small enough that a bomb overshoots
/// a bound by little, large enough that charging costs nothing measurable.
const CHUNK: usize = 64 * 1024;

/// Output decoded (and thrown away) past a cut to learn whether the cut hid
/// anything: real artifacts that trip the ratio are zero-filled tensors, and
/// a stream that is zeros to its end hid nothing; a payload behind a long
/// zero run (a sparse file, then `model.pkl`, in one `.tar.gz`) shows up as
/// non-zero bytes here. Bounded, and charged to the file's budget.
const ZERO_TAIL_ALLOWANCE: u64 = 16 * 1024 * 1024;

/// Compressed input a decoder is handed per `fill_buf`: keeps the consumed
/// count (and so the running ratio) within this many bytes of the truth.
const INPUT_WINDOW: usize = 4 * 1024;

/// Why decompression stopped before the end of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stop {
    /// A per-stream limit (absolute size or ratio); the text says which.
    Limit(String),
    /// The top-level file's budget is spent; the context recorded the one
    /// finding that says so, and nothing more should be reported or opened.
    Budget,
}

/// What came out of one stream.
pub(crate) struct Inflated {
    pub data: Vec<u8>,
    pub stop: Option<Stop>,
    pub error: Option<String>,
    /// After a limit cut: whether what followed may hold content (non-zero
    /// bytes, more than [`ZERO_TAIL_ALLOWANCE`] of output, an error or the
    /// budget before the stream's end). `false` when the rest was zeros to
    /// the end.
    pub hidden_tail: bool,
}

impl Inflated {
    /// Whether the limit text for a bomb finding (not the budget) applies.
    pub fn limit(&self) -> Option<&str> {
        match &self.stop {
            Some(Stop::Limit(why)) => Some(why),
            _ => None,
        }
    }

    pub fn budget_spent(&self) -> bool {
        self.stop == Some(Stop::Budget)
    }

    /// How a limit cut is graded and what the message adds: what lies past
    /// the cut and may hold content was not scanned, which fails the default
    /// gate (high); a rest that is zeros to the end hid nothing (the rule's
    /// medium).
    pub fn cut_grade(&self) -> (aisec_core::Severity, &'static str) {
        if self.hidden_tail {
            (
                aisec_core::Severity::High,
                "; what follows the cut may hold content and was not scanned",
            )
        } else {
            (
                aisec_core::Severity::Medium,
                "; the rest of the stream is zeros",
            )
        }
    }
}

/// Collects output under the limits: the absolute cap, the running ratio
/// and the budget of the top-level file.
pub(crate) struct Collector<'c, 'f> {
    ctx: &'c ScanContext<'c>,
    file: &'c FileInput<'f>,
    out: Vec<u8>,
    stop: Option<Stop>,
    /// Past a limit cut: output seen since, until it is known whether the
    /// rest is zeros ([`ZERO_TAIL_ALLOWANCE`]).
    tail: Option<Tail>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Tail {
    seen: u64,
    /// Decided: the rest may hold content.
    hidden: bool,
}

impl<'c, 'f> Collector<'c, 'f> {
    pub fn new(ctx: &'c ScanContext<'c>, file: &'c FileInput<'f>) -> Self {
        Collector {
            ctx,
            file,
            out: Vec::new(),
            stop: None,
            tail: None,
        }
    }

    /// Decoding past a cut: nothing is kept; `false` once it is known that
    /// the rest may hide content.
    fn accept_tail(&mut self, chunk: &[u8]) -> bool {
        let Some(tail) = self.tail.as_mut() else {
            return false;
        };
        if tail.hidden {
            return false;
        }
        if self
            .ctx
            .charge_decompressed(self.file, chunk.len() as u64)
            .is_err()
            || chunk.iter().any(|&b| b != 0)
        {
            tail.hidden = true;
            return false;
        }
        tail.seen += chunk.len() as u64;
        if tail.seen > ZERO_TAIL_ALLOWANCE {
            tail.hidden = true;
            return false;
        }
        true
    }

    /// A limit cut the stream here: keep decoding to see what follows.
    fn cut(&mut self, why: String, rest: &[u8]) -> bool {
        self.stop = Some(Stop::Limit(why));
        self.tail = Some(Tail::default());
        self.accept_tail(rest)
    }

    /// Takes `chunk`, produced from `consumed` compressed bytes in all.
    /// `false`: stop decoding (the reason is recorded).
    pub fn accept(&mut self, chunk: &[u8], consumed: u64) -> bool {
        if self.tail.is_some() {
            return self.accept_tail(chunk);
        }
        if self.stop.is_some() {
            return false;
        }
        if self
            .ctx
            .charge_decompressed(self.file, chunk.len() as u64)
            .is_err()
        {
            self.stop = Some(Stop::Budget);
            return false;
        }
        let limits = self.ctx.limits;
        let cap = usize::try_from(limits.max_decompressed).unwrap_or(usize::MAX);
        let room = cap.saturating_sub(self.out.len());
        if chunk.len() > room {
            self.out.extend_from_slice(&chunk[..room]);
            return self.cut(format!("expands past the {cap} byte limit"), &chunk[room..]);
        }
        self.out.extend_from_slice(chunk);
        let produced = self.out.len() as u64;
        let consumed = consumed.max(1);
        if produced > BOMB_MIN_SIZE
            && produced > consumed.saturating_mul(limits.max_compression_ratio)
        {
            return self.cut(
                format!(
                    "expands more than {}x ({consumed} compressed bytes gave over {produced} bytes)",
                    limits.max_compression_ratio
                ),
                &[],
            );
        }
        true
    }

    /// Whether decoding should stop: a bound was reached and, after a cut,
    /// what follows is already judged.
    pub fn stopped(&self) -> bool {
        match self.tail {
            Some(tail) => tail.hidden,
            None => self.stop.is_some(),
        }
    }

    pub fn finish(self, error: Option<String>) -> Inflated {
        // A decoding error past the cut leaves the rest unknown.
        let hidden_tail = self.tail.is_some_and(|t| t.hidden || error.is_some());
        Inflated {
            data: self.out,
            stop: self.stop,
            error,
            hidden_tail,
        }
    }
}

/// Compressed input that counts what the decoder consumed. As a `BufRead`
/// it hands out [`INPUT_WINDOW`] bytes at a time, so decoders that buffer
/// cannot run far ahead of the count.
pub(crate) struct Counted<'a, 'n> {
    rest: &'a [u8],
    consumed: &'n Cell<u64>,
}

impl<'a, 'n> Counted<'a, 'n> {
    pub fn new(bytes: &'a [u8], consumed: &'n Cell<u64>) -> Self {
        Counted {
            rest: bytes,
            consumed,
        }
    }
}

impl Read for Counted<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.rest.len()).min(INPUT_WINDOW);
        buf[..n].copy_from_slice(&self.rest[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Counted<'_, '_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        Ok(&self.rest[..self.rest.len().min(INPUT_WINDOW)])
    }
    fn consume(&mut self, amt: usize) {
        let amt = amt.min(self.rest.len());
        self.rest = &self.rest[amt..];
        self.consumed.set(self.consumed.get() + amt as u64);
    }
}

/// Pulls a reader-style decoder to its end or to the first bound.
pub(crate) fn pull(
    decoder: impl Read,
    consumed: &Cell<u64>,
    ctx: &ScanContext<'_>,
    file: &FileInput<'_>,
) -> Inflated {
    let mut sink = Collector::new(ctx, file);
    let error = pull_into(decoder, consumed, &mut sink);
    sink.finish(error)
}

/// [`pull`] into a collector shared by several streams (zstd frames), so
/// the limits apply to their sum. Returns the decoder's error, if any.
pub(crate) fn pull_into(
    mut decoder: impl Read,
    consumed: &Cell<u64>,
    sink: &mut Collector<'_, '_>,
) -> Option<String> {
    let mut chunk = vec![0u8; CHUNK];
    loop {
        match decoder.read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => {
                if !sink.accept(&chunk[..n], consumed.get()) {
                    return None;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Some(e.to_string()),
        }
    }
}

/// Raw deflate (zip members) or zlib, through flate2's low-level state so
/// output produced before an error (a bad checksum at the very end) is kept
/// and scanned, and the ratio uses the exact input consumed.
pub(crate) fn inflate(
    data: &[u8],
    zlib: bool,
    ctx: &ScanContext<'_>,
    file: &FileInput<'_>,
) -> Inflated {
    use flate2::{Decompress, FlushDecompress, Status};
    let mut state = Decompress::new(zlib);
    let mut sink = Collector::new(ctx, file);
    let mut chunk = vec![0u8; CHUNK];
    let error = loop {
        let (in_before, out_before) = (state.total_in(), state.total_out());
        let input = data.get(in_before as usize..).unwrap_or(&[]);
        let result = state.decompress(input, &mut chunk, FlushDecompress::None);
        let produced = (state.total_out() - out_before) as usize;
        if produced > 0 && !sink.accept(&chunk[..produced], state.total_in()) {
            break None;
        }
        match result {
            Ok(Status::StreamEnd) => break None,
            Ok(_) if produced == 0 && state.total_in() == in_before => {
                break Some("the stream ends before its end marker (truncated)".to_owned());
            }
            Ok(_) => {}
            Err(e) => break Some(e.to_string()),
        }
    };
    sink.finish(error)
}

/// LZ4 frames as the reference decoder accepts them: lz4_flex reads a stream
/// cut at a block boundary as complete, while `lz4 -d` and `lz4.frame`
/// reject it. Walks the frame structure (headers, block sizes, end marks,
/// skippable frames) without decoding; `Err` says where it is incomplete.
pub(crate) fn lz4_frames_complete(bytes: &[u8]) -> Result<(), String> {
    const MAGIC: u32 = 0x184D_2204;
    /// Skippable frames use magics 0x184D2A50..=0x184D2A5F.
    const SKIPPABLE_MASK: u32 = 0xFFFF_FFF0;
    const SKIPPABLE: u32 = 0x184D_2A50;
    const LEGACY: u32 = 0x184C_2102;
    let u32_at = |at: usize| -> Option<u32> {
        Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
    };
    let truncated = |what: &str| Err(format!("the lz4 stream is cut short in {what}"));
    let mut at = 0usize;
    while at < bytes.len() {
        let Some(magic) = u32_at(at) else {
            return truncated("a frame magic number");
        };
        if magic & SKIPPABLE_MASK == SKIPPABLE {
            let Some(len) = u32_at(at + 4) else {
                return truncated("a skippable frame");
            };
            match at
                .checked_add(8 + len as usize)
                .filter(|&end| end <= bytes.len())
            {
                Some(end) => at = end,
                None => return truncated("a skippable frame"),
            }
            continue;
        }
        if magic == LEGACY {
            // Legacy frames have no end mark: blocks run to the end.
            return Ok(());
        }
        if magic != MAGIC {
            return Err(format!("bytes after the last lz4 frame at offset {at}"));
        }
        let Some(&flg) = bytes.get(at + 4) else {
            return truncated("a frame header");
        };
        let block_checksums = flg & 0x10 != 0;
        let content_size = flg & 0x08 != 0;
        let content_checksum = flg & 0x04 != 0;
        let dict_id = flg & 0x01 != 0;
        // magic, FLG, BD, optional content size and dictionary id, HC.
        at += 4 + 2 + usize::from(content_size) * 8 + usize::from(dict_id) * 4 + 1;
        if at > bytes.len() {
            return truncated("a frame header");
        }
        loop {
            let Some(size) = u32_at(at) else {
                return truncated("a block header (no end mark)");
            };
            at += 4;
            if size == 0 {
                break;
            }
            let len = (size & 0x7FFF_FFFF) as usize + usize::from(block_checksums) * 4;
            at = at.saturating_add(len);
            if at > bytes.len() {
                return truncated("a block");
            }
        }
        if content_checksum {
            at += 4;
            if at > bytes.len() {
                return truncated("the content checksum");
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lz4_walker_accepts_whole_frames_and_names_cuts() {
        // magic, FLG (version 01, content checksum), BD, HC, one stored
        // block of 3 bytes, end mark, content checksum.
        let mut frame = vec![0x04, 0x22, 0x4D, 0x18, 0x64, 0x40, 0xA7];
        frame.extend_from_slice(&(3u32 | 0x8000_0000).to_le_bytes());
        frame.extend_from_slice(b"abc");
        frame.extend_from_slice(&0u32.to_le_bytes());
        frame.extend_from_slice(&[0; 4]);
        assert_eq!(lz4_frames_complete(&frame), Ok(()));
        for cut in 1..frame.len() {
            assert!(lz4_frames_complete(&frame[..cut]).is_err(), "cut at {cut}");
        }
    }
}
