//! Zero-copy opcode parser. Payloads (strings, bytes, the bulk data of a
//! tensor) are returned as slices of the input and skipped by their length, so
//! a gigabyte of tensor data costs a handful of bounds checks.

use std::fmt;

use crate::opcode::{ArgShape, Opcode};

/// An opcode's inline argument, borrowed from the input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Arg<'a> {
    None,
    /// U1/U2/U4/I4/U8 forms, widened.
    Int(i64),
    /// FRAME length and BINUNICODE8-sized values that do not fit `i64`.
    UInt(u64),
    Float(f64),
    /// A protocol-0 text line, without its `\n`.
    Line(&'a [u8]),
    /// GLOBAL and INST: module line and name line.
    TwoLines(&'a [u8], &'a [u8]),
    /// A length-prefixed payload.
    Bytes(&'a [u8]),
}

/// One decoded opcode: `[offset, end)` is its extent in the input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Op<'a> {
    pub offset: usize,
    pub end: usize,
    pub opcode: Opcode,
    pub arg: Arg<'a>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// A byte that is no opcode of any protocol.
    UnknownOpcode(u8),
    /// The input ends inside an opcode's argument or payload.
    Truncated,
    /// The input ends without a STOP opcode.
    MissingStop,
    /// A text argument runs to the end of the input without `\n`.
    UnterminatedLine,
    /// BINSTRING or LONG4 with a negative length.
    NegativeLength,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
    pub kind: ParseErrorKind,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ParseErrorKind::UnknownOpcode(b) => {
                write!(f, "invalid opcode 0x{b:02x} at offset {}", self.offset)
            }
            ParseErrorKind::Truncated => {
                write!(
                    f,
                    "truncated: the opcode at offset {} runs past the end",
                    self.offset
                )
            }
            ParseErrorKind::MissingStop => {
                write!(
                    f,
                    "no STOP opcode: the pickle ends at offset {}",
                    self.offset
                )
            }
            ParseErrorKind::UnterminatedLine => {
                write!(
                    f,
                    "unterminated text argument of the opcode at offset {}",
                    self.offset
                )
            }
            ParseErrorKind::NegativeLength => {
                write!(f, "negative length in the opcode at offset {}", self.offset)
            }
        }
    }
}

impl std::error::Error for ParseError {}

/// How the loader reads the bytes inside protocol 4 frames.
///
/// CPython's C unpickler treats `FRAME n` as a read-ahead hint. On bytes in
/// memory (`pickle.loads`), and on files whose `peek` covers the frame, the
/// hint changes nothing: each opcode reads on through the frame's end.
/// Reading a file in chunks (`io.BytesIO`, a raw file, any frame larger than
/// the file's buffer), the frame's bytes are one chunk read with
/// `read(n)`: a read that needs more than the chunk has left discards the
/// rest of the chunk and reads afresh from the file, which is positioned
/// after the frame. Pickles that picklers write never cross a frame's end,
/// so both readings agree on them; a crafted stream can make them disagree
/// (the bytes a pickletools-style parser takes for a string argument are
/// opcodes to the file reader).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FrameReading {
    /// Frames are hints; arguments run on across their ends.
    #[default]
    ReadThrough,
    /// Frames are chunks; a read crossing the end skips to it first.
    Chunked,
}

/// A frame whose end an opcode crosses, or a frame opened before the
/// current one ends: the two ways a stream can read differently in memory
/// and from a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameViolation {
    /// The FRAME opcode of the frame concerned.
    pub frame_offset: usize,
    /// Where that frame ends by its declared length.
    pub frame_end: usize,
    /// The opcode that crosses the end, or the FRAME opened inside it.
    pub at: usize,
    pub nested: bool,
}

/// Iterates over the opcodes of one pickle stream starting at `start`, up to
/// and including its STOP. After an error or STOP it yields nothing more;
/// [`Parser::position`] then says where the next stream would begin.
#[derive(Debug, Clone)]
pub struct Parser<'a> {
    data: &'a [u8],
    pos: usize,
    finished: bool,
    reading: FrameReading,
    /// The current frame: its FRAME opcode's offset and its end.
    frame: Option<(usize, usize)>,
    violation: Option<FrameViolation>,
}

impl<'a> Parser<'a> {
    pub fn new(data: &'a [u8], start: usize) -> Self {
        Self::with_frames(data, start, FrameReading::ReadThrough)
    }

    pub fn with_frames(data: &'a [u8], start: usize, reading: FrameReading) -> Self {
        Parser {
            data,
            pos: start.min(data.len()),
            finished: false,
            reading,
            frame: None,
            violation: None,
        }
    }

    /// The first frame inconsistency seen so far.
    pub fn frame_violation(&self) -> Option<FrameViolation> {
        self.violation
    }

    /// Chunked reading: a read of `n` bytes that the current frame cannot
    /// satisfy drops what is left of the frame and starts at its end.
    fn enter_chunk(&mut self, n: u64) {
        if self.reading != FrameReading::Chunked {
            return;
        }
        if let Some((_, end)) = self.frame {
            if self.pos >= end {
                self.frame = None;
            } else if ((end - self.pos) as u64) < n {
                // A frame may claim more than the stream holds.
                self.pos = end.min(self.data.len());
                self.frame = None;
            }
        }
    }

    /// Offset of the next unread byte.
    pub fn position(&self) -> usize {
        self.pos
    }

    fn take(&mut self, op_offset: usize, n: u64) -> Result<&'a [u8], ParseError> {
        self.enter_chunk(n);
        let remaining = (self.data.len() - self.pos) as u64;
        if n > remaining {
            return Err(ParseError {
                offset: op_offset,
                kind: ParseErrorKind::Truncated,
            });
        }
        let n = n as usize;
        let slice = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }

    fn take_array<const N: usize>(&mut self, op_offset: usize) -> Result<[u8; N], ParseError> {
        let s = self.take(op_offset, N as u64)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn line(&mut self, op_offset: usize) -> Result<&'a [u8], ParseError> {
        if self.reading == FrameReading::Chunked {
            if let Some((_, end)) = self.frame {
                let in_frame = &self.data[self.pos.min(end)..end.min(self.data.len())];
                if self.pos >= end || !in_frame.contains(&b'\n') {
                    // readline() from the file, after the frame.
                    self.pos = self.pos.max(end).min(self.data.len());
                    self.frame = None;
                }
            }
        }
        let rest = &self.data[self.pos..];
        match memchr::memchr(b'\n', rest) {
            Some(i) => {
                self.pos += i + 1;
                Ok(&rest[..i])
            }
            None => Err(ParseError {
                offset: op_offset,
                kind: ParseErrorKind::UnterminatedLine,
            }),
        }
    }

    fn next_op(&mut self) -> Result<Op<'a>, ParseError> {
        if self.frame.is_some_and(|(_, end)| self.pos >= end) {
            self.frame = None;
        }
        let op = self.next_op_unframed()?;
        if let Some((frame_offset, frame_end)) = self.frame {
            // In chunked reading the reads already skipped to the end; what
            // is recorded is where the two readings part.
            let crosses = op.offset < frame_end && op.end > frame_end;
            let nested = op.opcode == Opcode::FRAME && op.offset < frame_end;
            if (crosses || nested) && self.violation.is_none() {
                self.violation = Some(FrameViolation {
                    frame_offset,
                    frame_end,
                    at: op.offset,
                    nested,
                });
            }
        }
        if let (Opcode::FRAME, Arg::UInt(len)) = (op.opcode, op.arg) {
            self.open_frame(op.offset, len);
        }
        Ok(op)
    }

    /// `FRAME len` read its length; the frame covers the next `len` bytes.
    /// Chunked reading: the C loader reads `len` bytes unless the current
    /// chunk still holds them (then the FRAME changes nothing); a new chunk
    /// starts after the current one, whatever the current one had left.
    fn open_frame(&mut self, offset: usize, len: u64) {
        let left = self
            .frame
            .map(|(_, end)| end.saturating_sub(self.pos) as u64)
            .unwrap_or(0);
        if self.reading == FrameReading::Chunked && len <= left {
            return;
        }
        if self.reading == FrameReading::Chunked {
            if let Some((_, end)) = self.frame {
                self.pos = self.pos.max(end).min(self.data.len());
            }
        }
        // The declared end is kept even when it lies past the data: a FRAME
        // opened inside a frame that claims more than the stream holds is
        // still a frame inside a frame (fickling's straddle variant 7), and
        // reads clamp to the data.
        let end = (self.pos as u64).saturating_add(len);
        self.frame = Some((offset, usize::try_from(end).unwrap_or(usize::MAX)));
    }

    fn next_op_unframed(&mut self) -> Result<Op<'a>, ParseError> {
        let offset = self.pos;
        let Some(&byte) = self.data.get(offset) else {
            return Err(ParseError {
                offset,
                kind: ParseErrorKind::MissingStop,
            });
        };
        let opcode = Opcode::from_byte(byte).ok_or(ParseError {
            offset,
            kind: ParseErrorKind::UnknownOpcode(byte),
        })?;
        self.pos += 1;
        let arg = match opcode.arg_shape() {
            ArgShape::None => Arg::None,
            ArgShape::U1 => Arg::Int(self.take_array::<1>(offset)?[0] as i64),
            ArgShape::U2 => Arg::Int(u16::from_le_bytes(self.take_array(offset)?) as i64),
            ArgShape::U4 => Arg::Int(u32::from_le_bytes(self.take_array(offset)?) as i64),
            ArgShape::I4 => Arg::Int(i32::from_le_bytes(self.take_array(offset)?) as i64),
            ArgShape::U8 => Arg::UInt(u64::from_le_bytes(self.take_array(offset)?)),
            ArgShape::F8Be => Arg::Float(f64::from_be_bytes(self.take_array(offset)?)),
            ArgShape::Line => Arg::Line(self.line(offset)?),
            ArgShape::TwoLines => {
                let module = self.line(offset)?;
                let name = self.line(offset)?;
                Arg::TwoLines(module, name)
            }
            ArgShape::Len1 => {
                let n = self.take_array::<1>(offset)?[0] as u64;
                Arg::Bytes(self.take(offset, n)?)
            }
            ArgShape::Len4 => {
                let n = u32::from_le_bytes(self.take_array(offset)?) as u64;
                Arg::Bytes(self.take(offset, n)?)
            }
            ArgShape::Len4Signed => {
                let n = i32::from_le_bytes(self.take_array(offset)?);
                if n < 0 {
                    return Err(ParseError {
                        offset,
                        kind: ParseErrorKind::NegativeLength,
                    });
                }
                Arg::Bytes(self.take(offset, n as u64)?)
            }
            ArgShape::Len8 => {
                let n = u64::from_le_bytes(self.take_array(offset)?);
                Arg::Bytes(self.take(offset, n)?)
            }
        };
        Ok(Op {
            offset,
            end: self.pos,
            opcode,
            arg,
        })
    }
}

impl<'a> Iterator for Parser<'a> {
    type Item = Result<Op<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        let result = self.next_op();
        match &result {
            Ok(op) if op.opcode == Opcode::STOP => self.finished = true,
            Ok(_) => {}
            Err(_) => self.finished = true,
        }
        Some(result)
    }
}

/// Parses a protocol-0 decimal integer the way CPython does for the opcode at
/// hand. `int()`-style (used by GET/PUT/LONG) accepts surrounding whitespace,
/// a sign and `_` between digits; `strtol` base 0 (used by INT) also accepts
/// `0x`/`0o`-style prefixes and leading-zero octal. Returns `None` where the
/// loader would raise.
pub fn parse_py_int(line: &[u8], c_strtol_base0: bool) -> Option<i128> {
    let s = std::str::from_utf8(line).ok()?;
    let s = s.trim_matches(|c: char| c.is_ascii_whitespace());
    let s = s.strip_suffix(['L', 'l']).unwrap_or(s);
    let (neg, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, body) = if c_strtol_base0 {
        let lower = digits.to_ascii_lowercase();
        if lower.starts_with("0x") {
            (16, &digits[2..])
        } else if lower.starts_with("0o") || lower.starts_with("0b") {
            // strtol knows neither; the loader would reject them.
            return None;
        } else if digits.len() > 1 && digits.starts_with('0') {
            (8, &digits[1..])
        } else {
            (10, digits)
        }
    } else {
        (10, digits)
    };
    if body.is_empty() || body.starts_with('_') || body.ends_with('_') || body.contains("__") {
        return None;
    }
    if c_strtol_base0 && body.contains('_') {
        return None;
    }
    let cleaned: String = body.chars().filter(|&c| c != '_').collect();
    let v = i128::from_str_radix(&cleaned, radix).ok()?;
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(data: &[u8]) -> Vec<Result<Op<'_>, ParseError>> {
        Parser::new(data, 0).collect()
    }

    #[test]
    fn parses_protocol_4_frame_and_skips_payloads_by_length() {
        let mut p = b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00".to_vec();
        p.push(0x8e);
        p.extend_from_slice(&3u64.to_le_bytes());
        p.extend_from_slice(b"abc.");
        let got: Vec<_> = ops(&p).into_iter().map(Result::unwrap).collect();
        assert_eq!(got.len(), 4);
        assert_eq!(got[2].arg, Arg::Bytes(b"abc"));
        assert_eq!(got[3].opcode, Opcode::STOP);
        assert_eq!(got[3].offset, p.len() - 1);
    }

    #[test]
    fn truncated_payload_is_an_error_not_a_panic() {
        let mut p = vec![0x8e];
        p.extend_from_slice(&u64::MAX.to_le_bytes());
        let got = ops(&p);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].as_ref().unwrap_err().kind, ParseErrorKind::Truncated);
    }

    #[test]
    fn text_forms_and_errors() {
        let got = ops(b"cos\nsystem\n(S'x'\ntR.");
        assert_eq!(
            got[0].as_ref().unwrap().arg,
            Arg::TwoLines(b"os", b"system")
        );
        assert_eq!(got.len(), 6);
        let bad = ops(b"N\xff");
        assert_eq!(
            bad[1].as_ref().unwrap_err().kind,
            ParseErrorKind::UnknownOpcode(0xff)
        );
        let no_stop = ops(b"N");
        assert_eq!(
            no_stop[1].as_ref().unwrap_err().kind,
            ParseErrorKind::MissingStop
        );
        let unterminated = ops(b"cos\nsys");
        assert_eq!(
            unterminated[0].as_ref().unwrap_err().kind,
            ParseErrorKind::UnterminatedLine
        );
        let neg = ops(b"T\xff\xff\xff\xff");
        assert_eq!(
            neg[0].as_ref().unwrap_err().kind,
            ParseErrorKind::NegativeLength
        );
    }

    #[test]
    fn py_int_follows_the_loader() {
        assert_eq!(parse_py_int(b"12", false), Some(12));
        assert_eq!(parse_py_int(b" 1_0 ", false), Some(10));
        assert_eq!(parse_py_int(b"1__0", false), None);
        assert_eq!(parse_py_int(b"0x10", true), Some(16));
        assert_eq!(parse_py_int(b"010", true), Some(8));
        assert_eq!(parse_py_int(b"0x10", false), None);
        assert_eq!(parse_py_int(b"-5L", false), Some(-5));
        assert_eq!(parse_py_int(b"", false), None);
    }
}
