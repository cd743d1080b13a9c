//! Short, safe excerpts of scanned text for messages and evidence.
//!
//! A line a parser rejects is still the scanned file's content: it may hold a
//! key (`--index-url https://user:TOKEN@host`), and reports travel to CI logs
//! and code-scanning services. So nothing a scanner quotes from an unparsable
//! line is copied verbatim: [`excerpt`] caps the length, masks anything that
//! looks like a credential and escapes control characters (which would
//! otherwise rewrite the terminal of whoever reads the table output).

/// Characters of scanned text a message may quote.
pub const EXCERPT_CHARS: usize = 60;

/// Tokens at least this long with letters and digits mixed are treated as
/// possible keys: real identifiers and package names are shorter or
/// single-class, while API keys, tokens and hashes are long and mixed.
const SECRET_TOKEN_MIN: usize = 16;

/// Words that make the value after `=` or `:` a secret whatever it looks like.
const SECRET_KEYS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "auth",
    "credential",
    "private",
];

/// A quotable version of `text`: credentials masked, control characters
/// escaped, at most [`EXCERPT_CHARS`] characters (an ellipsis says when it
/// was cut).
pub fn excerpt(text: &str) -> String {
    let masked = mask_secrets(text.trim());
    let mut out = String::new();
    for (shown, c) in masked.chars().enumerate() {
        if shown == EXCERPT_CHARS {
            out.push('…');
            break;
        }
        push_escaped(&mut out, c);
    }
    out
}

/// Escapes control characters (ESC, CR, LF, BEL, C1 controls, bidi
/// overrides) so that text from a scanned file cannot move the cursor, set a
/// window title or split a row when printed. Everything else is kept as is.
pub fn escape_control(text: &str) -> String {
    if !text.chars().any(needs_escape) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        push_escaped(&mut out, c);
    }
    out
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        // Bidirectional overrides and isolates (Trojan Source, CVE-2021-42574).
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn push_escaped(out: &mut String, c: char) {
    if needs_escape(c) {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            _ => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    } else {
        out.push(c);
    }
}

/// Masks credentials in a line: URL passwords, values of secret-named keys,
/// and long mixed tokens.
fn mask_secrets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut after_secret_key = false;
    for (is_token, piece) in split_tokens(text) {
        if !is_token {
            if piece.contains('=') || piece.contains(':') {
                // `key=value` / `key: value`: the value is judged by the key.
            } else if !piece.trim().is_empty() {
                after_secret_key = false;
            }
            out.push_str(piece);
            continue;
        }
        let lower = piece.to_ascii_lowercase();
        if after_secret_key || looks_like_key(piece) {
            out.push_str(&redacted(piece));
            after_secret_key = false;
        } else {
            out.push_str(piece);
            after_secret_key = SECRET_KEYS.iter().any(|k| lower.contains(k));
        }
    }
    mask_url_passwords(&out)
}

/// `scheme://user:password@host`: the password goes, the rest stays.
fn mask_url_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let authority_end = tail.find(['/', ' ', '\t', '"', '\'']).unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        match authority.rfind('@') {
            Some(at) if authority[..at].contains(':') => {
                let colon = authority[..at].find(':').unwrap_or(at);
                out.push_str(&authority[..colon]);
                out.push_str(":***");
                out.push_str(&authority[at..]);
            }
            _ => out.push_str(authority),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    out
}

/// Splits into runs of token characters and runs of everything else.
fn split_tokens(text: &str) -> impl Iterator<Item = (bool, &str)> {
    let is_token = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+' | '/' | '.');
    let mut rest = text;
    std::iter::from_fn(move || {
        let first = rest.chars().next()?;
        let kind = is_token(first);
        let end = rest
            .char_indices()
            .find(|&(_, c)| is_token(c) != kind)
            .map_or(rest.len(), |(i, _)| i);
        let (piece, tail) = rest.split_at(end);
        rest = tail;
        Some((kind, piece))
    })
}

fn looks_like_key(token: &str) -> bool {
    if token.len() < SECRET_TOKEN_MIN {
        return false;
    }
    // Paths and dotted names (`requirements/base.txt`, `torch.nn.Module`)
    // are long and mixed but not keys: judge the longest segment.
    let longest = token
        .split(['/', '.'])
        .max_by_key(|s| s.len())
        .unwrap_or(token);
    longest.len() >= SECRET_TOKEN_MIN
        && longest.chars().any(|c| c.is_ascii_digit())
        && longest.chars().any(|c| c.is_ascii_alphabetic())
}

fn redacted(token: &str) -> String {
    let keep: String = token.chars().take(4).collect();
    format!("{keep}…[redacted]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_on_broken_lines_are_masked() {
        let e = excerpt("garbage ghp_1234567890abcdefghijABCDEFGHIJ0123 here");
        assert!(!e.contains("1234567890abcdef"), "{e}");
        assert!(e.contains("ghp_…[redacted]"), "{e}");
        let e = excerpt("password = hunter2");
        assert!(!e.contains("hunter2"), "{e}");
        let e = excerpt("--index-url https://alice:s3cr3t@pypi.example/simple");
        assert!(!e.contains("s3cr3t"), "{e}");
        assert!(e.contains("alice:***@pypi.example"), "{e}");
    }

    #[test]
    fn ordinary_text_is_kept() {
        assert_eq!(
            excerpt("torch>=2.0 ; python_version"),
            "torch>=2.0 ; python_version"
        );
        assert_eq!(
            excerpt("-r requirements/base-requirements.txt"),
            "-r requirements/base-requirements.txt"
        );
    }

    #[test]
    fn excerpts_are_short_and_escaped() {
        let long = "a ".repeat(200);
        let e = excerpt(&long);
        assert!(e.chars().count() <= EXCERPT_CHARS + 1, "{e}");
        assert!(e.ends_with('…'));
        assert_eq!(excerpt("x\u{1b}]0;pwned\u{7}"), "x\\u{1b}]0;pwned\\u{7}");
        assert_eq!(escape_control("a\nb"), "a\\nb");
        assert_eq!(escape_control("plain"), "plain");
        assert_eq!(escape_control("\u{202e}txt"), "\\u{202e}txt");
    }
}
