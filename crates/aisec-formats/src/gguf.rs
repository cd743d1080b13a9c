//! GGUF header and metadata reader (bounded): enough to pull out the chat
//! templates and to tell a well-formed header from a crafted one. Tensor data
//! is never read.

/// Metadata entries read at most; real files have a few dozen.
const MAX_KV: u64 = 1_000_000;
/// Longest string value; chat templates are kilobytes, vocabularies are arrays.
const MAX_STRING: u64 = 64 * 1024 * 1024;
/// Array elements skipped at most per file (vocabularies reach ~250k).
const MAX_ARRAY_ELEMENTS: u64 = 64 * 1024 * 1024;

#[derive(Debug)]
pub struct GgufHeader<'a> {
    pub version: u32,
    pub tensor_count: u64,
    /// (key, template source, byte offset of the string) for every
    /// `tokenizer.chat_template*` key.
    pub chat_templates: Vec<(String, &'a str, u64)>,
    pub kv_count: u64,
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    version: u32,
    array_budget: u64,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: u64) -> Result<&'a [u8], String> {
        let n = usize::try_from(n).map_err(|_| "length overflows".to_owned())?;
        let end = self.pos.checked_add(n).ok_or("length overflows")?;
        let s = self
            .bytes
            .get(self.pos..end)
            .ok_or_else(|| format!("truncated at byte {} (needed {n} more)", self.pos))?;
        self.pos = end;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4")))
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8")))
    }
    /// v1 used 32-bit lengths and counts, v2+ 64-bit.
    fn count(&mut self) -> Result<u64, String> {
        if self.version == 1 {
            self.u32().map(u64::from)
        } else {
            self.u64()
        }
    }
    fn string(&mut self) -> Result<(&'a [u8], u64), String> {
        let len = self.count()?;
        if len > MAX_STRING {
            return Err(format!(
                "string of {len} bytes at byte {} exceeds the limit",
                self.pos
            ));
        }
        let at = self.pos as u64;
        Ok((self.take(len)?, at))
    }
    fn skip_value(&mut self, ty: u32, depth: u32) -> Result<(), String> {
        match ty {
            0 | 1 | 7 => self.take(1).map(drop),
            2 | 3 => self.take(2).map(drop),
            4..=6 => self.take(4).map(drop),
            10..=12 => self.take(8).map(drop),
            8 => self.string().map(drop),
            9 => {
                if depth > 4 {
                    return Err("arrays nested too deep".into());
                }
                let inner = self.u32()?;
                let n = self.count()?;
                self.array_budget = self
                    .array_budget
                    .checked_sub(n)
                    .ok_or_else(|| format!("array of {n} elements exceeds the limit"))?;
                let fixed = match inner {
                    0 | 1 | 7 => Some(1),
                    2 | 3 => Some(2),
                    4..=6 => Some(4),
                    10..=12 => Some(8),
                    _ => None,
                };
                match fixed {
                    Some(size) => self
                        .take(n.checked_mul(size).ok_or("array size overflows")?)
                        .map(drop),
                    None => (0..n).try_for_each(|_| self.skip_value(inner, depth + 1)),
                }
            }
            other => Err(format!("unknown value type {other} at byte {}", self.pos)),
        }
    }
}

pub fn read_header(bytes: &[u8]) -> Result<GgufHeader<'_>, String> {
    if !bytes.starts_with(b"GGUF") {
        return Err("no GGUF magic".into());
    }
    let mut r = Reader {
        bytes,
        pos: 4,
        version: 0,
        array_budget: MAX_ARRAY_ELEMENTS,
    };
    r.version = r.u32()?;
    if !(1..=3).contains(&r.version) {
        return Err(format!("unsupported GGUF version {}", r.version));
    }
    let tensor_count = r.count()?;
    let kv_count = r.count()?;
    if kv_count > MAX_KV {
        return Err(format!(
            "claims {kv_count} metadata entries, over the limit"
        ));
    }
    let mut chat_templates = Vec::new();
    for _ in 0..kv_count {
        let (key, _) = r.string()?;
        let key = String::from_utf8_lossy(key).into_owned();
        let ty = r.u32()?;
        if ty == 8 && key.starts_with("tokenizer.chat_template") {
            let (value, at) = r.string()?;
            let text =
                std::str::from_utf8(value).map_err(|e| format!("`{key}` is not UTF-8: {e}"))?;
            chat_templates.push((key, text, at));
        } else {
            r.skip_value(ty, 0)?;
        }
    }
    Ok(GgufHeader {
        version: r.version,
        tensor_count,
        chat_templates,
        kv_count,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn build(kvs: &[(&str, &str)]) -> Vec<u8> {
        let mut out = b"GGUF".to_vec();
        out.extend_from_slice(&3u32.to_le_bytes());
        out.extend_from_slice(&0u64.to_le_bytes());
        out.extend_from_slice(&(kvs.len() as u64 + 1).to_le_bytes());
        // an array of strings first, as vocabularies are
        let key = b"tokenizer.ggml.tokens";
        out.extend_from_slice(&(key.len() as u64).to_le_bytes());
        out.extend_from_slice(key);
        out.extend_from_slice(&9u32.to_le_bytes());
        out.extend_from_slice(&8u32.to_le_bytes());
        out.extend_from_slice(&2u64.to_le_bytes());
        for t in ["<s>", "</s>"] {
            out.extend_from_slice(&(t.len() as u64).to_le_bytes());
            out.extend_from_slice(t.as_bytes());
        }
        for (k, v) in kvs {
            out.extend_from_slice(&(k.len() as u64).to_le_bytes());
            out.extend_from_slice(k.as_bytes());
            out.extend_from_slice(&8u32.to_le_bytes());
            out.extend_from_slice(&(v.len() as u64).to_le_bytes());
            out.extend_from_slice(v.as_bytes());
        }
        out
    }

    #[test]
    fn reads_templates_and_rejects_truncation() {
        let f = build(&[
            ("general.name", "demo"),
            ("tokenizer.chat_template", "{{ x }}"),
        ]);
        let h = read_header(&f).unwrap();
        assert_eq!(h.chat_templates.len(), 1);
        assert_eq!(h.chat_templates[0].1, "{{ x }}");
        assert!(
            read_header(&f[..f.len() - 3])
                .unwrap_err()
                .contains("truncated")
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(tail in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
            let mut f = b"GGUF\x03\x00\x00\x00".to_vec();
            f.extend(tail);
            let _ = read_header(&f);
        }
    }
}
