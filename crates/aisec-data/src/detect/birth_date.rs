//! Dates of birth. A date is only a date of birth by context: in a column
//! whose name says so (`dob`, `birth_date`, `date_of_birth`), or in text
//! right after a marker (`born`, `DOB`, `date of birth`). Timestamps and
//! other dates are never reported. Years run 1900 to 2030, so `2099-01-01`
//! placeholders and version-like triples fail.

use std::sync::LazyLock;

use regex::Regex;

use super::{DataClass, Hit, stands_alone};
use crate::mask;

const MONTHS: &[&str] = &[
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const FIRST_YEAR: u32 = 1900;
const LAST_YEAR: u32 = 2030;
/// How far before a date a marker may stand in free text ("born on the 3rd of").
const MARKER_WINDOW: usize = 24;
const MARKERS: &[&str] = &[
    "born",
    "dob",
    "d.o.b",
    "date of birth",
    "birth date",
    "birthdate",
    "birthday",
    "geb.",
];

static NUMERIC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u)([0-9]{4})[\-/.]([0-9]{1,2})[\-/.]([0-9]{1,2})|([0-9]{1,2})[\-/.]([0-9]{1,2})[\-/.]([0-9]{4})")
        .expect("valid regex")
});
static TEXTUAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i-u)([0-9]{1,2})(?:st|nd|rd|th)?(?: of)? ([a-z]{3})[a-z]*\.?,? ([0-9]{4})|([a-z]{3})[a-z]*\.? ([0-9]{1,2})(?:st|nd|rd|th)?,? ([0-9]{4})")
        .expect("valid regex")
});

/// True when a birth marker appears anywhere in `text` (the cheap gate; the
/// window is checked per date).
pub fn birth_date_context(text: &str) -> bool {
    // Every marker has a `b`: most values are out after one memchr, and the
    // rest need no lower-cased copy (this runs on nearly every cell).
    memchr::memchr2(b'b', b'B', text.as_bytes()).is_some() && ANY_MARKER.is_match(text)
}

/// [`MARKERS`] as one case-insensitive matcher.
static ANY_MARKER: LazyLock<Regex> = LazyLock::new(|| {
    let alternatives: Vec<String> = MARKERS.iter().map(|m| regex::escape(m)).collect();
    Regex::new(&format!("(?i-u){}", alternatives.join("|"))).expect("valid regex")
});

pub fn find(text: &str, column_says_birth: bool, out: &mut Vec<Hit>) {
    let lower = text.to_ascii_lowercase();
    let near_marker = |start: usize| {
        let from = start.saturating_sub(MARKER_WINDOW + 16);
        let window = lower.get(from..start).unwrap_or("");
        MARKERS.iter().any(|m| window.contains(m))
    };
    let mut push = |start: usize, end: usize| {
        if column_says_birth || near_marker(start) {
            out.push(Hit {
                class: DataClass::DateOfBirth,
                start,
                end,
                redacted: mask::keep_ends(&text[start..end], 0, 0),
            });
        }
    };
    for m in NUMERIC.find_iter(text) {
        if stands_alone_date(text, m.start(), m.end()) && parse_date(m.as_str()).is_some() {
            push(m.start(), m.end());
        }
    }
    for m in TEXTUAL.find_iter(text) {
        if stands_alone(text, m.start(), m.end()) && parse_date(m.as_str()).is_some() {
            push(m.start(), m.end());
        }
    }
}

/// A date may be followed by a time (`1985-03-12T00:00:00`, `1985-03-12 00:00`).
fn stands_alone_date(text: &str, start: usize, end: usize) -> bool {
    let next = text.as_bytes().get(end);
    let time_follows = matches!(next, Some(b'T' | b' '))
        && text.as_bytes().get(end + 1).is_some_and(u8::is_ascii_digit);
    if time_follows {
        return start
            .checked_sub(1)
            .and_then(|i| text.as_bytes().get(i))
            .is_none_or(|b| !(b.is_ascii_alphanumeric() || b"_.-/+#".contains(b)));
    }
    stands_alone(text, start, end)
}

/// `(year, month, day)` of a date in ISO, day-first or month-first numeric
/// form or with an English month name, when it is a real calendar date
/// in the years people now alive were born.
pub fn parse_date(s: &str) -> Option<(u32, u32, u32)> {
    let num = |x: &str| x.parse::<u32>().ok();
    let valid = |y: u32, m: u32, d: u32| {
        (FIRST_YEAR..=LAST_YEAR).contains(&y)
            && (1..=12).contains(&m)
            && d >= 1
            && d <= days_in(y, m)
    };
    if let Some(c) = NUMERIC.captures(s) {
        if let (Some(y), Some(m), Some(d)) = (c.get(1), c.get(2), c.get(3)) {
            let (y, m, d) = (num(y.as_str())?, num(m.as_str())?, num(d.as_str())?);
            return valid(y, m, d).then_some((y, m, d));
        }
        let (a, b, y) = (
            num(c.get(4)?.as_str())?,
            num(c.get(5)?.as_str())?,
            num(c.get(6)?.as_str())?,
        );
        // Day-first (most of the world) or month-first (US): either reading will do.
        if valid(y, b, a) {
            return Some((y, b, a));
        }
        return valid(y, a, b).then_some((y, a, b));
    }
    let c = TEXTUAL.captures(s)?;
    let month_of = |name: &str| {
        let lower = name.to_ascii_lowercase();
        MONTHS
            .iter()
            .position(|m| *m == lower)
            .map(|i| i as u32 + 1)
    };
    let (d, m, y) = if let (Some(d), Some(m), Some(y)) = (c.get(1), c.get(2), c.get(3)) {
        (num(d.as_str())?, month_of(m.as_str())?, num(y.as_str())?)
    } else {
        (
            num(c.get(5)?.as_str())?,
            month_of(c.get(4)?.as_str())?,
            num(c.get(6)?.as_str())?,
        )
    };
    valid(y, m, d).then_some((y, m, d))
}

fn days_in(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str, hinted: bool) -> Vec<String> {
        let mut out = Vec::new();
        find(text, hinted, &mut out);
        out.into_iter()
            .map(|h| text[h.start..h.end].to_owned())
            .collect()
    }

    #[test]
    fn dates_in_birth_columns() {
        for d in [
            "1985-03-12",
            "12/03/1985",
            "03/31/1985",
            "12.03.1985",
            "1985-03-12T00:00:00",
            "March 12, 1985",
            "12 Mar 1985",
        ] {
            assert_eq!(found(d, true).len(), 1, "{d}");
        }
        assert!(found("1985-03-12", false).is_empty());
        for bad in [
            "1985-13-12",
            "1985-02-30",
            "2099-01-01",
            "1899-12-31",
            "31/31/1985",
            "1.2.3",
        ] {
            assert!(found(bad, true).is_empty(), "{bad}");
        }
        assert_eq!(parse_date("2000-02-29"), Some((2000, 2, 29)));
        assert_eq!(parse_date("1900-02-29"), None);
    }

    #[test]
    fn dates_in_text_need_a_marker() {
        assert_eq!(
            found("Jane (born 4 July 1976) joined", false),
            ["4 July 1976"]
        );
        assert_eq!(found("DOB: 1976-07-04", false), ["1976-07-04"]);
        assert!(
            found(
                "released on 2021-07-04, born of necessity long before any of this",
                false
            )
            .is_empty()
        );
        assert!(found("meeting on 1976-07-04", false).is_empty());
    }
}
