//! A bounded protobuf wire-format reader: enough to walk ONNX and TensorFlow
//! graphs field by field.
//!
//! Hand-written rather than `prost`-generated: we read a handful of fields
//! from two large schemas (ONNX, TensorFlow), and generated code would pull in
//! protoc at build time and decode whole messages (tensor payloads included)
//! where we only need to skip them. Every read here is a slice of the input.

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

/// Iterates the fields of one message. Stops with an error at the first
/// malformed field; `Fields::error` tells whether that happened.
pub struct Fields<'a> {
    buf: &'a [u8],
    pos: usize,
    pub error: Option<String>,
}

pub fn fields(buf: &[u8]) -> Fields<'_> {
    Fields {
        buf,
        pos: 0,
        error: None,
    }
}

impl Fields<'_> {
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

    fn fail(&mut self, why: String) -> Option<(u32, Value<'static>)> {
        self.error = Some(why);
        self.pos = self.buf.len();
        None
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = (u32, Value<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let start = self.pos;
        let Some(key) = self.varint() else {
            self.fail(format!("truncated field key at byte {start}"));
            return None;
        };
        let field = (key >> 3) as u32;
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
        let got: Vec<_> = fields(&msg).collect();
        assert_eq!(got, vec![(1, Value::Varint(150)), (2, Value::Bytes(b"hi"))]);
        let mut f = fields(&[0x12, 0x09, b'x']);
        assert!(f.next().is_none());
        assert!(f.error.unwrap().contains("past the end"));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
            for _ in fields(&data) {}
        }
    }
}
