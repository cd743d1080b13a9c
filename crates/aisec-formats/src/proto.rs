//! A bounded protobuf wire-format reader: enough to walk ONNX and TensorFlow
//! graphs field by field.
//!
//! Hand-written rather than `prost`-generated: we read a handful of fields
//! from two large schemas (ONNX, TensorFlow), and generated code would pull in
//! protoc at build time and decode whole messages (tensor payloads included)
//! where we only need to skip them. Every read here is a slice of the input:
//! a length-delimited field we do not descend into (tensor `raw_data`) is
//! skipped by its length, its bytes never touched, so a 5 GB initializer
//! costs what its key and length prefix cost.
//!
//! A walk shares one [`Walk`]: the first malformed field anywhere ends it
//! (as protobuf's own parsers stop at the first error), and it counts the
//! bytes actually read (keys, scalars, strings inspected) against a limit and
//! polls a stop signal (the file's time budget).

use std::cell::{Cell, RefCell};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    Varint(u64),
    Fixed64(u64),
    Fixed32(u32),
    Bytes(&'a [u8]),
}

impl<'a> Value<'a> {
    pub fn bytes(self) -> Option<&'a [u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    pub fn str(self) -> Option<&'a str> {
        self.bytes().and_then(|b| std::str::from_utf8(b).ok())
    }

    pub fn varint(self) -> Option<u64> {
        match self {
            Value::Varint(v) => Some(v),
            _ => None,
        }
    }
}

/// Why a walk ended before the end of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// The bytes break the wire format: the file is damaged or crafted.
    Malformed(String),
    /// A bound of ours was reached (bytes read, nodes); the rest is unseen.
    Limit(String),
    /// The stop signal fired (the caller's budget recorded why).
    Interrupted,
}

/// Fields read between two polls of the stop signal: polling costs a clock
/// read, fields cost nanoseconds.
const POLL_EVERY: u64 = 1 << 16;

/// The state one walk over a file shares across every nested message.
pub struct Walk<'s> {
    read: Cell<u64>,
    limit: u64,
    fields: Cell<u64>,
    stop_signal: &'s dyn Fn() -> bool,
    stopped: RefCell<Option<Stop>>,
}

impl<'s> Walk<'s> {
    /// A walk that reads at most `limit` bytes of structure and ends when
    /// `stop_signal` returns true.
    pub fn new(limit: u64, stop_signal: &'s dyn Fn() -> bool) -> Self {
        Walk {
            read: Cell::new(0),
            limit,
            fields: Cell::new(0),
            stop_signal,
            stopped: RefCell::new(None),
        }
    }

    /// The fields of one message of this walk.
    pub fn fields<'a, 'w>(&'w self, buf: &'a [u8]) -> Fields<'a, 'w, 's> {
        Fields {
            buf,
            pos: 0,
            walk: self,
        }
    }

    /// Why the walk ended early, if it did; the first reason wins.
    pub fn stopped(&self) -> Option<Stop> {
        self.stopped.borrow().clone()
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped.borrow().is_some()
    }

    /// Bytes of structure read so far.
    pub fn bytes_read(&self) -> u64 {
        self.read.get()
    }

    /// Ends the walk (the first reason is kept).
    pub fn stop(&self, why: Stop) {
        let mut s = self.stopped.borrow_mut();
        if s.is_none() {
            *s = Some(why);
        }
    }

    /// A string field the walk inspects: its bytes count as read.
    pub fn str<'a>(&self, v: Value<'a>) -> Option<&'a str> {
        let b = v.bytes()?;
        if !self.charge(b.len() as u64) {
            return None;
        }
        std::str::from_utf8(b).ok()
    }

    fn charge(&self, bytes: u64) -> bool {
        let total = self.read.get().saturating_add(bytes);
        self.read.set(total);
        if total > self.limit {
            self.stop(Stop::Limit(format!(
                "over {} bytes of graph structure read",
                self.limit
            )));
            return false;
        }
        let n = self.fields.get() + 1;
        self.fields.set(n);
        if n % POLL_EVERY == 0 && (self.stop_signal)() {
            self.stop(Stop::Interrupted);
            return false;
        }
        true
    }
}

/// Iterates the fields of one message. Stops at the first malformed field,
/// which ends the whole walk ([`Walk::stopped`] says why).
pub struct Fields<'a, 'w, 's> {
    buf: &'a [u8],
    pos: usize,
    walk: &'w Walk<'s>,
}

fn no_stop() -> bool {
    false
}

/// An unbounded walk, for tests and small inputs.
pub fn unbounded() -> Walk<'static> {
    Walk::new(u64::MAX, &no_stop)
}

impl Fields<'_, '_, '_> {
    fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self.buf.get(self.pos)?;
            self.pos += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    fn fail(&mut self, why: String) {
        self.walk.stop(Stop::Malformed(why));
        self.pos = self.buf.len();
    }
}

impl<'a> Iterator for Fields<'a, '_, '_> {
    type Item = (u32, Value<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.buf.len() || self.walk.is_stopped() {
            return None;
        }
        let start = self.pos;
        let Some(key) = self.varint() else {
            self.fail(format!("truncated field key at byte {start}"));
            return None;
        };
        let Ok(field) = u32::try_from(key >> 3) else {
            self.fail(format!(
                "field number {} at byte {start} is out of range",
                key >> 3
            ));
            return None;
        };
        // Field number 0 is reserved and every protobuf parser rejects it;
        // accepting it would also read a run of zero bytes (a sparse file)
        // as billions of empty fields.
        if field == 0 {
            self.fail(format!("invalid field number 0 at byte {start}"));
            return None;
        }
        let mut skipped = 0usize;
        let value = match key & 7 {
            0 => match self.varint() {
                Some(v) => Value::Varint(v),
                None => {
                    self.fail(format!("truncated varint at byte {start}"));
                    return None;
                }
            },
            1 => match self.buf.get(self.pos..self.pos + 8) {
                Some(b) => {
                    self.pos += 8;
                    Value::Fixed64(u64::from_le_bytes(b.try_into().expect("8")))
                }
                None => {
                    self.fail(format!("truncated fixed64 at byte {start}"));
                    return None;
                }
            },
            5 => match self.buf.get(self.pos..self.pos + 4) {
                Some(b) => {
                    self.pos += 4;
                    Value::Fixed32(u32::from_le_bytes(b.try_into().expect("4")))
                }
                None => {
                    self.fail(format!("truncated fixed32 at byte {start}"));
                    return None;
                }
            },
            2 => {
                let Some(len) = self.varint() else {
                    self.fail(format!("truncated length at byte {start}"));
                    return None;
                };
                let end = usize::try_from(len)
                    .ok()
                    .and_then(|l| self.pos.checked_add(l));
                match end.and_then(|e| self.buf.get(self.pos..e).map(|b| (b, e))) {
                    Some((b, e)) => {
                        // Skipped by length: counted only if a caller reads it.
                        skipped = b.len();
                        self.pos = e;
                        Value::Bytes(b)
                    }
                    None => {
                        self.fail(format!(
                            "field {field} at byte {start} claims {len} bytes past the end"
                        ));
                        return None;
                    }
                }
            }
            other => {
                self.fail(format!("unsupported wire type {other} at byte {start}"));
                return None;
            }
        };
        if !self.walk.charge((self.pos - start - skipped) as u64) {
            self.pos = self.buf.len();
            return None;
        }
        Some((field, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_fails_cleanly() {
        // field 1 varint 150, field 2 bytes "hi"
        let msg = [0x08, 0x96, 0x01, 0x12, 0x02, b'h', b'i'];
        let w = unbounded();
        let got: Vec<_> = w.fields(&msg).collect();
        assert_eq!(got, vec![(1, Value::Varint(150)), (2, Value::Bytes(b"hi"))]);
        assert_eq!(w.stopped(), None);
        // Only the key and the prefix were read, not the skipped payload.
        assert_eq!(w.bytes_read(), 5);
        let w = unbounded();
        assert!(w.fields(&[0x12, 0x09, b'x']).next().is_none());
        assert!(matches!(w.stopped(), Some(Stop::Malformed(e)) if e.contains("past the end")));
    }

    #[test]
    fn field_zero_is_malformed_not_a_billion_fields() {
        let w = unbounded();
        let zeros = vec![0u8; 1 << 20];
        assert_eq!(w.fields(&zeros).count(), 0);
        assert!(matches!(w.stopped(), Some(Stop::Malformed(e)) if e.contains("field number 0")));
        assert!(w.bytes_read() < 16);
    }

    #[test]
    fn the_read_limit_and_stop_signal_end_a_walk() {
        let many: Vec<u8> = std::iter::repeat_n([0x08u8, 0x01], 1000)
            .flatten()
            .collect();
        let w = Walk::new(100, &no_stop);
        assert_eq!(w.fields(&many).count(), 50);
        assert!(matches!(w.stopped(), Some(Stop::Limit(_))));
        let huge: Vec<u8> = std::iter::repeat_n([0x08u8, 0x01], POLL_EVERY as usize + 1)
            .flatten()
            .collect();
        let w = Walk::new(u64::MAX, &|| true);
        assert_eq!(w.fields(&huge).count() as u64, POLL_EVERY - 1);
        assert_eq!(w.stopped(), Some(Stop::Interrupted));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
            let w = unbounded();
            for _ in w.fields(&data) {}
        }
    }
}
