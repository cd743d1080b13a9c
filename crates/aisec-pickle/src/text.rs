//! Decoders for protocol-0 text arguments and for the few pure functions the
//! VM folds (base64, hex, rot13), written small rather than pulled in, since
//! each is a dozen lines and they must never fail loudly on hostile input.

/// STRING's argument: a Python `repr()` of a byte string, quotes included.
/// `None` where the loader raises ("the STRING opcode argument must be quoted").
pub fn decode_quoted_string(line: &[u8]) -> Option<Vec<u8>> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.len() < 2 {
        return None;
    }
    let quote = line[0];
    if (quote != b'\'' && quote != b'"') || line[line.len() - 1] != quote {
        return None;
    }
    Some(decode_escapes(&line[1..line.len() - 1]))
}

/// `codecs.escape_decode`: `\n`, `\xhh`, octal, and unknown escapes kept.
fn decode_escapes(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c != b'\\' || i + 1 >= s.len() {
            out.push(c);
            i += 1;
            continue;
        }
        let e = s[i + 1];
        i += 2;
        match e {
            b'\n' => {}
            b'\\' => out.push(b'\\'),
            b'\'' => out.push(b'\''),
            b'"' => out.push(b'"'),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut v = (e - b'0') as u32;
                let mut n = 1;
                while n < 3 && i < s.len() && (b'0'..=b'7').contains(&s[i]) {
                    v = v * 8 + (s[i] - b'0') as u32;
                    i += 1;
                    n += 1;
                }
                out.push((v & 0xff) as u8);
            }
            b'x' => match (s.get(i).and_then(hex_val), s.get(i + 1).and_then(hex_val)) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => {
                    out.push(b'\\');
                    out.push(b'x');
                }
            },
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    out
}

fn hex_val(b: &u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// UNICODE's argument: `raw-unicode-escape`, every byte is a Latin-1 code
/// point except `\uXXXX` / `\UXXXXXXXX` after an odd run of backslashes.
pub fn decode_raw_unicode_escape(line: &[u8]) -> String {
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        let c = line[i];
        if c == b'\\' {
            let run_start = i;
            while i < line.len() && line[i] == b'\\' {
                i += 1;
            }
            let run = i - run_start;
            let width = match line.get(i) {
                Some(b'u') => 4,
                Some(b'U') => 8,
                _ => 0,
            };
            if run % 2 == 1 && width > 0 {
                let digits = line.get(i + 1..i + 1 + width);
                let code = digits
                    .and_then(|d| std::str::from_utf8(d).ok())
                    .and_then(|d| u32::from_str_radix(d, 16).ok())
                    .and_then(char::from_u32);
                if let Some(ch) = code {
                    out.extend(std::iter::repeat_n('\\', run - 1));
                    out.push(ch);
                    i += 1 + width;
                    continue;
                }
            }
            out.extend(std::iter::repeat_n('\\', run));
            continue;
        }
        out.push(c as char);
        i += 1;
    }
    out
}

/// Text encoded as Latin-1 (what `_codecs.encode(s, 'latin1')` returns;
/// protocol 2 writes every `bytes` object that way). `None` when a character
/// is outside Latin-1, where the loader would raise.
pub fn encode_latin1(s: &str, max_len: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len().min(max_len));
    for ch in s.chars() {
        if out.len() >= max_len {
            return None;
        }
        let v = ch as u32;
        if v > 0xff {
            return None;
        }
        out.push(v as u8);
    }
    Some(out)
}

pub fn decode_base64(input: &[u8], max_len: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity((input.len() / 4 * 3).min(max_len));
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &c in input {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            b'\n' | b'\r' | b' ' | b'\t' => continue,
            _ => return None,
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
            if out.len() > max_len {
                return None;
            }
        }
    }
    Some(out)
}

pub fn decode_hex(input: &[u8], max_len: usize) -> Option<Vec<u8>> {
    let digits: Vec<u8> = input
        .iter()
        .copied()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    if digits.len() % 2 != 0 || digits.len() / 2 > max_len {
        return None;
    }
    digits
        .chunks(2)
        .map(|p| Some(hex_val(&p[0])? * 16 + hex_val(&p[1])?))
        .collect()
}

pub fn rot13(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'a'..='z' => (((c as u8 - b'a') + 13) % 26 + b'a') as char,
            'A'..='Z' => (((c as u8 - b'A') + 13) % 26 + b'A') as char,
            _ => c,
        })
        .collect()
}

/// Python `repr()` of text, cut to `max` characters.
pub fn py_repr_str(s: &str, max: usize) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len().min(max) + 2);
    out.push(quote);
    for (count, ch) in s.chars().enumerate() {
        if count >= max {
            out.push_str("...");
            break;
        }
        match ch {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || (0x7f..0xa0).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python `repr()` of bytes, cut to `max` bytes.
pub fn py_repr_bytes(b: &[u8], max: usize) -> String {
    let mut out = String::with_capacity(b.len().min(max) + 3);
    out.push_str("b'");
    for &c in b.iter().take(max) {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\'' => out.push_str("\\'"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(c as char),
            _ => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    if b.len() > max {
        out.push_str("...");
    }
    out.push('\'');
    if b.len() > max {
        out.push_str(&format!("<{} bytes>", b.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_strings_decode_like_python() {
        assert_eq!(decode_quoted_string(b"'os'").unwrap(), b"os");
        assert_eq!(
            decode_quoted_string(b"\"a\\x41\\n\\101\"").unwrap(),
            b"aA\nA"
        );
        assert_eq!(decode_quoted_string(b"'a\\q'").unwrap(), b"a\\q");
        assert!(decode_quoted_string(b"os").is_none());
        assert!(decode_quoted_string(b"'").is_none());
        assert!(decode_quoted_string(b"'x\"").is_none());
    }

    #[test]
    fn raw_unicode_escape() {
        assert_eq!(decode_raw_unicode_escape(b"sy\\u0073tem"), "system");
        assert_eq!(decode_raw_unicode_escape(b"a\\\\u0041"), "a\\\\u0041");
        assert_eq!(decode_raw_unicode_escape(b"\xe9"), "\u{e9}");
        assert_eq!(decode_raw_unicode_escape(b"x\\U0001F600"), "x\u{1F600}");
        assert_eq!(decode_raw_unicode_escape(b"\\u00"), "\\u00");
    }

    #[test]
    fn folds() {
        assert_eq!(decode_base64(b"b3Muc3lzdGVt", 100).unwrap(), b"os.system");
        assert_eq!(decode_hex(b"6f73", 10).unwrap(), b"os");
        assert_eq!(rot13("bf"), "os");
        assert_eq!(encode_latin1("\u{80}\u{2}", 10).unwrap(), vec![0x80, 2]);
        assert!(encode_latin1("\u{100}", 10).is_none());
        assert_eq!(py_repr_str("it's", 10), "\"it's\"");
        assert_eq!(py_repr_bytes(b"\x80a", 10), "b'\\x80a'");
    }
}
