//! NumPy `.npy` headers: is the dtype `object` (so the payload is a pickle)?

/// Largest header NumPy itself writes is small; v2/v3 allow 4 GiB, we don't.
const MAX_HEADER: usize = 1024 * 1024;

#[derive(Debug, PartialEq, Eq)]
pub struct NpyHeader<'a> {
    pub descr: String,
    pub object: bool,
    /// The array data (for object arrays: a pickle).
    pub data: &'a [u8],
    pub data_offset: usize,
}

pub fn read_header(bytes: &[u8]) -> Result<NpyHeader<'_>, String> {
    if !bytes.starts_with(b"\x93NUMPY") || bytes.len() < 10 {
        return Err("no NumPy magic".into());
    }
    let major = bytes[6];
    let (len, start) = match major {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 => {
            let raw = bytes.get(8..12).ok_or("truncated header length")?;
            (u32::from_le_bytes(raw.try_into().expect("4")) as usize, 12)
        }
        v => return Err(format!("unsupported .npy version {v}")),
    };
    if len > MAX_HEADER {
        return Err(format!("header of {len} bytes exceeds the limit"));
    }
    let header = bytes
        .get(start..start + len)
        .ok_or_else(|| format!("header claims {len} bytes but the file ends first"))?;
    let header = String::from_utf8_lossy(header);
    let at = header.find("'descr'").ok_or("header has no 'descr'")?;
    let rest = header[at + 7..]
        .trim_start()
        .strip_prefix(':')
        .ok_or("malformed 'descr'")?;
    let value = literal_extent(rest.trim_start());
    let strings = quoted_strings(value);
    if strings.is_empty() {
        return Err("'descr' holds no dtype".into());
    }
    let object = strings.iter().any(|s| is_object_typecode(s));
    Ok(NpyHeader {
        descr: value.to_owned(),
        object,
        data: &bytes[start + len..],
        data_offset: start + len,
    })
}

/// The text of the Python literal at the start of `s` (a string or a
/// bracketed list/tuple), bounded by its closing quote or bracket.
fn literal_extent(s: &str) -> &str {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                if depth == 0 {
                    return &s[..=i];
                }
            }
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '[' | '(') => depth += 1,
            (None, ']' | ')') => {
                depth -= 1;
                if depth <= 0 {
                    return &s[..=i];
                }
            }
            _ => {}
        }
    }
    s
}

fn quoted_strings(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find(['\'', '"']) {
        let q = rest.as_bytes()[open] as char;
        let body = &rest[open + 1..];
        let Some(close) = body.find(q) else { break };
        out.push(&body[..close]);
        rest = &body[close + 1..];
    }
    out
}

/// `O`, `|O`, `<O8`...: NumPy's object type code with byte order and size.
fn is_object_typecode(s: &str) -> bool {
    let s = s.trim_start_matches(['|', '<', '>', '=']);
    s.strip_prefix('O')
        .is_some_and(|d| d.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str) -> Vec<u8> {
        let h = format!("{{'descr': {descr}, 'fortran_order': False, 'shape': (2,), }}\n");
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(h.len() as u16).to_le_bytes());
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(b"\x80\x02N.");
        out
    }

    #[test]
    fn object_dtypes_are_recognised() {
        assert!(read_header(&npy("'|O'")).unwrap().object);
        assert!(!read_header(&npy("'<f4'")).unwrap().object);
        assert!(
            read_header(&npy("[('a', '<f4'), ('b', '|O')]"))
                .unwrap()
                .object
        );
        assert!(!read_header(&npy("[('Offset', '<f4')]")).unwrap().object);
        assert_eq!(read_header(&npy("'|O'")).unwrap().data, b"\x80\x02N.");
        assert!(read_header(b"\x93NUMPY\x01\x00\xff\xff{").is_err());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let mut f = b"\x93NUMPY\x01\x00".to_vec();
            f.extend(data);
            let _ = read_header(&f);
        }
    }
}
