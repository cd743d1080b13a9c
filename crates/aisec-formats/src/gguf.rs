//! GGUF header and metadata reader (bounded): enough to pull out the chat
//! templates and to tell a well-formed file from a damaged or crafted one.
//! The tensor infos are read and checked against the file the way llama.cpp's
//! loader checks them (dimensions, types, alignment, data inside the file);
//! tensor data itself is never read.

/// Metadata entries read at most; real files have a few dozen.
const MAX_KV: u64 = 1_000_000;
/// Longest string value; chat templates are kilobytes, vocabularies are arrays.
const MAX_STRING: u64 = 64 * 1024 * 1024;
/// Array elements skipped at most per file (vocabularies reach ~250k).
const MAX_ARRAY_ELEMENTS: u64 = 64 * 1024 * 1024;
/// Tensor infos read at most; the largest models have tens of thousands.
const MAX_TENSORS: u64 = 1 << 20;
/// ggml's `GGML_MAX_DIMS`: llama.cpp rejects tensors with more dimensions.
const MAX_DIMS: u32 = 4;
/// Alignment of the data section when `general.alignment` is absent
/// (`GGUF_DEFAULT_ALIGNMENT`).
const DEFAULT_ALIGNMENT: u64 = 32;
/// GGUF value type of a u32 (`general.alignment` must be one).
const TYPE_U32: u32 = 4;

/// (elements per block, bytes per block) of each ggml tensor type, from
/// ggml's type traits (checked against gguf-py's `GGML_QUANT_SIZES`).
/// Types not listed (retired interleaved layouts, types newer than this
/// table) are not size-checked: an unknown type is not proof of damage.
fn type_size(ty: u32) -> Option<(u64, u64)> {
    Some(match ty {
        0 => (1, 4),
        1 => (1, 2),
        2 => (32, 18),
        3 => (32, 20),
        6 => (32, 22),
        7 => (32, 24),
        8 => (32, 34),
        9 => (32, 40),
        10 => (256, 84),
        11 => (256, 110),
        12 => (256, 144),
        13 => (256, 176),
        14 => (256, 210),
        15 => (256, 292),
        16 => (256, 66),
        17 => (256, 74),
        18 => (256, 98),
        19 => (256, 50),
        20 => (32, 18),
        21 => (256, 110),
        22 => (256, 82),
        23 => (256, 136),
        24 => (1, 1),
        25 => (1, 2),
        26 => (1, 4),
        27 => (1, 8),
        28 => (1, 8),
        29 => (256, 56),
        30 => (1, 2),
        34 => (256, 54),
        35 => (256, 66),
        39 => (32, 17),
        _ => return None,
    })
}

#[derive(Debug)]
pub struct GgufHeader<'a> {
    pub version: u32,
    pub tensor_count: u64,
    /// (key, template source, byte offset of the string) for every
    /// `tokenizer.chat_template*` key read before any error.
    pub chat_templates: Vec<(String, &'a str, u64)>,
    pub kv_count: u64,
    /// Why the file is not a loadable GGUF file, if it is not: what was read
    /// before the problem (the templates) is still reported.
    pub error: Option<String>,
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

/// Reads a GGUF file's header, metadata and tensor infos. `Err` only when
/// the file does not start like GGUF at all; damage further on is
/// [`GgufHeader::error`], with everything read before it.
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
    let mut header = GgufHeader {
        version: r.version,
        tensor_count,
        chat_templates: Vec::new(),
        kv_count,
        error: None,
    };
    if let Err(e) = read_body(&mut r, &mut header) {
        header.error = Some(e);
    }
    Ok(header)
}

fn read_body<'a>(r: &mut Reader<'a>, header: &mut GgufHeader<'a>) -> Result<(), String> {
    if header.kv_count > MAX_KV {
        return Err(format!(
            "claims {} metadata entries, over the limit",
            header.kv_count
        ));
    }
    let mut alignment = DEFAULT_ALIGNMENT;
    for _ in 0..header.kv_count {
        let (key, _) = r.string()?;
        let key = String::from_utf8_lossy(key).into_owned();
        let ty = r.u32()?;
        if ty == 8 && key.starts_with("tokenizer.chat_template") {
            let (value, at) = r.string()?;
            let text =
                std::str::from_utf8(value).map_err(|e| format!("`{key}` is not UTF-8: {e}"))?;
            header.chat_templates.push((key, text, at));
        } else if key == "general.alignment" && ty == TYPE_U32 {
            alignment = u64::from(r.u32()?);
            if alignment == 0 || !alignment.is_power_of_two() {
                return Err(format!(
                    "general.alignment {alignment} is not a power of two"
                ));
            }
        } else {
            r.skip_value(ty, 0)?;
        }
    }
    if header.tensor_count > MAX_TENSORS {
        return Err(format!(
            "claims {} tensors, over the limit of {MAX_TENSORS}",
            header.tensor_count
        ));
    }
    // (name, offset, bytes when the type's size is known)
    let mut tensors: Vec<(&[u8], u64, Option<u64>)> = Vec::new();
    let mut names = std::collections::HashSet::new();
    for _ in 0..header.tensor_count {
        let (name, _) = r.string()?;
        let shown = String::from_utf8_lossy(name);
        if !names.insert(name) {
            return Err(format!("tensor `{shown}` is defined twice"));
        }
        let dims = r.u32()?;
        if dims > MAX_DIMS {
            return Err(format!(
                "tensor `{shown}` has {dims} dimensions (at most {MAX_DIMS})"
            ));
        }
        let mut elements = Some(1u64);
        let mut first = 0;
        for d in 0..dims {
            let n = r.count()?;
            if i64::try_from(n).is_err() {
                return Err(format!("tensor `{shown}` has a negative dimension"));
            }
            if d == 0 {
                first = n;
            }
            elements = elements.and_then(|e| e.checked_mul(n));
        }
        let elements = elements
            .filter(|&e| i64::try_from(e).is_ok())
            .ok_or_else(|| format!("tensor `{shown}` has more elements than fit in 64 bits"))?;
        let ty = r.u32()?;
        let offset = r.u64()?;
        if offset % alignment != 0 {
            return Err(format!(
                "tensor `{shown}` starts at data offset {offset}, not a multiple of the alignment {alignment}"
            ));
        }
        let size = match type_size(ty) {
            Some((block, bytes)) => {
                if first % block != 0 {
                    return Err(format!(
                        "tensor `{shown}` has {first} elements per row, not a multiple of its type's block of {block}"
                    ));
                }
                Some(
                    (elements / block).checked_mul(bytes).ok_or_else(|| {
                        format!("tensor `{shown}` is larger than fits in 64 bits")
                    })?,
                )
            }
            None => None,
        };
        tensors.push((name, offset, size));
    }
    // The data section starts at the next multiple of the alignment.
    let data_start = (r.pos as u64).div_ceil(alignment).saturating_mul(alignment);
    let data_len = (r.bytes.len() as u64).saturating_sub(data_start);
    if header.tensor_count > 0 && data_start > r.bytes.len() as u64 {
        return Err("the file ends before its tensor data section".into());
    }
    for (name, offset, size) in tensors {
        let end = offset.checked_add(size.unwrap_or(0));
        if end.is_none_or(|end| end > data_len) || offset > data_len {
            return Err(format!(
                "tensor `{}` claims data bytes {offset}..{} but the data section holds {data_len}: the file is truncated or the offsets lie",
                String::from_utf8_lossy(name),
                end.map_or("overflow".to_owned(), |e| e.to_string())
            ));
        }
    }
    Ok(())
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
        assert_eq!(h.error, None);
        assert_eq!(h.chat_templates.len(), 1);
        assert_eq!(h.chat_templates[0].1, "{{ x }}");
        let cut = read_header(&f[..f.len() - 3]).unwrap();
        assert!(cut.error.unwrap().contains("truncated"));
    }

    /// The error of a file with one tensor info (dims, type, offset) and a
    /// data section of `data` bytes.
    fn damage(dims: &[u64], ty: u32, offset: u64, data: usize) -> Option<String> {
        read_header(&with_tensor(dims, ty, offset, data))
            .unwrap()
            .error
    }

    fn with_tensor(dims: &[u64], ty: u32, offset: u64, data: usize) -> Vec<u8> {
        let mut out = b"GGUF".to_vec();
        out.extend_from_slice(&3u32.to_le_bytes());
        out.extend_from_slice(&1u64.to_le_bytes());
        out.extend_from_slice(&0u64.to_le_bytes());
        let name = b"tok_embd.weight";
        out.extend_from_slice(&(name.len() as u64).to_le_bytes());
        out.extend_from_slice(name);
        out.extend_from_slice(&(dims.len() as u32).to_le_bytes());
        for d in dims {
            out.extend_from_slice(&d.to_le_bytes());
        }
        out.extend_from_slice(&ty.to_le_bytes());
        out.extend_from_slice(&offset.to_le_bytes());
        out.resize(out.len().div_ceil(32) * 32 + data, 0);
        out
    }

    #[test]
    fn tensor_data_must_lie_inside_the_file() {
        // 4 x 4 F32 = 64 bytes.
        assert_eq!(damage(&[4, 4], 0, 0, 64), None);
        assert!(damage(&[4, 4], 0, 0, 63).unwrap().contains("truncated"));
        // Q4_0: blocks of 32 elements in 18 bytes; 64 x 2 = 4 blocks = 72.
        assert_eq!(damage(&[64, 2], 2, 0, 72), None);
        assert!(damage(&[64, 2], 2, 0, 71).is_some());
        assert!(damage(&[33, 2], 2, 0, 512).unwrap().contains("block"));
        assert!(damage(&[4], 0, 8, 64).unwrap().contains("alignment"));
        assert!(
            damage(&[1, 1, 1, 1, 1], 0, 0, 64)
                .unwrap()
                .contains("dimensions")
        );
        // An unknown type is not size-checked, but its start still must be
        // inside the data section.
        assert_eq!(damage(&[4], 200, 0, 0), None);
        assert!(damage(&[4], 200, 64, 0).is_some());
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
