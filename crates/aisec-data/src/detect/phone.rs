//! Phone numbers: international (`+` or `00`, country code, 8-15 digits in
//! all as E.164 allows), North American (`(415) 555-2671`, `415-555-2671`,
//! area code and exchange 2-9) and trunk-prefix national numbers
//! (`020 7946 0958`, `01 23 45 67 89`, `030 12345678`: a leading 0, at least
//! one separator, 10-12 digits). A run of digits alone is a phone number only
//! in a column named for phones: ids, timestamps and counts look the same.

use std::sync::LazyLock;

use regex::Regex;

use super::{DataClass, Hit, digits_of};
use crate::mask;

/// The shortest number any pattern here accepts (a national number with
/// trunk prefix, or a NANP number without its country code).
pub const MIN_DIGITS: usize = 8;

static INTERNATIONAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?-u)(?:\+|00)[1-9][0-9]{0,2}(?:[ .\-]?\(?[0-9]{1,4}\)?)(?:[ .\-]?[0-9]{1,5}){1,5}",
    )
    .expect("valid regex")
});
static NANP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?-u)(?:1[ .\-]?)?(?:\([2-9][0-9]{2}\) ?|[2-9][0-9]{2}[ .\-])[2-9][0-9]{2}[ .\-][0-9]{4}",
    )
    .expect("valid regex")
});
static TRUNK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u)\(0[0-9]{1,4}\) ?[0-9]{3,4}[ \-]?[0-9]{3,4}|0[1-9][0-9]{0,3}[ \-][0-9]{2,6}(?:[ \-][0-9]{2,4}){0,4}")
        .expect("valid regex")
});
static BARE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?-u)\+?[0-9]{10,15}").expect("valid regex"));

pub fn find(text: &str, bare_allowed: bool, out: &mut Vec<Hit>) {
    let mut push = |start: usize, end: usize| {
        if out.iter().any(|h| start < h.end && h.start < end) {
            return;
        }
        out.push(Hit {
            class: DataClass::Phone,
            start,
            end,
            redacted: mask::keep_ends(&text[start..end], 0, 2),
        });
    };
    for m in INTERNATIONAL.find_iter(text) {
        let n = digits_of(m.as_str()).len() - usize::from(m.as_str().starts_with("00")) * 2;
        if (8..=15).contains(&n) && alone(text, m.start(), m.end()) {
            push(m.start(), m.end());
        }
    }
    for m in NANP.find_iter(text) {
        if alone(text, m.start(), m.end()) {
            push(m.start(), m.end());
        }
    }
    for m in TRUNK.find_iter(text) {
        let n = digits_of(m.as_str()).len();
        if (10..=12).contains(&n) && alone(text, m.start(), m.end()) {
            push(m.start(), m.end());
        }
    }
    if bare_allowed {
        for m in BARE.find_iter(text) {
            if alone(text, m.start(), m.end()) {
                push(m.start(), m.end());
            }
        }
    }
}

/// Like [`super::stands_alone`], but a phone number may follow `tel:` and
/// may not be followed by more digit groups of a longer number.
fn alone(text: &str, start: usize, end: usize) -> bool {
    let bytes = text.as_bytes();
    let left_ok = start
        .checked_sub(1)
        .and_then(|i| bytes.get(i))
        .is_none_or(|b| !(b.is_ascii_alphanumeric() || b"_.-/+#".contains(b)));
    let right_ok = match bytes.get(end) {
        Some(b) if b.is_ascii_alphanumeric() || *b == b'_' => false,
        Some(b'.' | b'-' | b'/' | b':') => !bytes.get(end + 1).is_some_and(u8::is_ascii_digit),
        _ => true,
    };
    left_ok && right_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str, bare: bool) -> Vec<String> {
        let mut out = Vec::new();
        find(text, bare, &mut out);
        out.into_iter()
            .map(|h| text[h.start..h.end].to_owned())
            .collect()
    }

    #[test]
    fn international_and_national_formats() {
        for (text, want) in [
            ("+14155552671", "+14155552671"),
            ("call +44 20 7946 0958 today", "+44 20 7946 0958"),
            ("tel:+49-30-1234567", "+49-30-1234567"),
            ("+33 1 23 45 67 89", "+33 1 23 45 67 89"),
            ("+91 98765 43210", "+91 98765 43210"),
            ("0044 20 7946 0958", "0044 20 7946 0958"),
            ("(415) 555-2671", "(415) 555-2671"),
            ("415-555-2671", "415-555-2671"),
            ("1-800-555-0199", "1-800-555-0199"),
            ("020 7946 0958", "020 7946 0958"),
            ("07700 900123", "07700 900123"),
            ("01 23 45 67 89", "01 23 45 67 89"),
        ] {
            assert_eq!(found(text, false), [want], "{text}");
        }
    }

    #[test]
    fn numbers_that_are_not_phones() {
        for not in [
            "1700000000",
            "20240115103000",
            "2024-01-15",
            "2024-01-15 10:30:00",
            "3.14159265",
            "192.168.100.200",
            "id 4155552671",
            "01-02-2024",
            "+1 5",
            "v415-555-2671",
            "ISBN 978-0-306-40615-7",
            "1.0.0-rc1",
            "shape (1024, 768)",
            "x=123.456.7890.1",
        ] {
            assert!(
                found(not, false).is_empty(),
                "{not}: {:?}",
                found(not, false)
            );
        }
    }

    #[test]
    fn bare_digits_only_with_a_hint() {
        assert!(found("4155552671", false).is_empty());
        assert_eq!(found("4155552671", true), ["4155552671"]);
        assert!(found("123", true).is_empty());
    }
}
