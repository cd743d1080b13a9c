//! Government identifiers: US social security numbers and UK national
//! insurance numbers, each with the issuing rules that random digits and
//! product codes fail.

use std::sync::LazyLock;

use regex::Regex;

use super::{DataClass, Hit, digits_of, stands_alone};
use crate::mask;

static SSN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u)[0-9]{3}([\- ])[0-9]{2}([\- ])[0-9]{4}").expect("valid regex")
});
static SSN_BARE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?-u)[0-9]{9}").expect("valid regex"));
static NINO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u)[A-Z]{2} ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]").expect("valid regex")
});

/// SSNs the SSA says were never valid although well formed: the Woolworth
/// wallet card and the 1940s advertising number.
const PUBLICISED_SSNS: &[&str] = &["078051120", "219099999"];

/// `AAA-GG-SSSS` (dashes or spaces, the same both times). Nine bare digits
/// only count in a column whose name says SSN: nine digits alone are far
/// more often an id or a count.
pub fn find_ssn(text: &str, bare_allowed: bool, out: &mut Vec<Hit>) {
    for caps in SSN.captures_iter(text) {
        let (Some(m), Some(a), Some(b)) = (caps.get(0), caps.get(1), caps.get(2)) else {
            continue;
        };
        if a.as_str() == b.as_str()
            && stands_alone(text, m.start(), m.end())
            && ssn_valid(&digits_of(m.as_str()))
        {
            out.push(hit(
                DataClass::UsSsn,
                m.start(),
                m.end(),
                mask::keep_ends(m.as_str(), 0, 4),
            ));
        }
    }
    if bare_allowed {
        for m in SSN_BARE.find_iter(text) {
            if stands_alone(text, m.start(), m.end()) && ssn_valid(&digits_of(m.as_str())) {
                out.push(hit(
                    DataClass::UsSsn,
                    m.start(),
                    m.end(),
                    mask::keep_ends(m.as_str(), 0, 4),
                ));
            }
        }
    }
}

/// The SSA's structural rules (since 2011 numbers are random, but these
/// still hold): area not 000, 666 or 900-999; group not 00; serial not 0000.
pub fn ssn_valid(digits: &[u8]) -> bool {
    if digits.len() != 9 {
        return false;
    }
    let n = |r: std::ops::Range<usize>| digits[r].iter().fold(0u32, |a, &d| a * 10 + u32::from(d));
    let (area, group, serial) = (n(0..3), n(3..5), n(5..9));
    let joined: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
    area != 0
        && area != 666
        && area < 900
        && group != 0
        && serial != 0
        && !PUBLICISED_SSNS.contains(&joined.as_str())
}

pub fn find_nino(text: &str, out: &mut Vec<Hit>) {
    for m in NINO.find_iter(text) {
        let compact: Vec<u8> = m.as_str().bytes().filter(|b| *b != b' ').collect();
        if stands_alone(text, m.start(), m.end()) && nino_valid(&compact) {
            out.push(hit(
                DataClass::UkNino,
                m.start(),
                m.end(),
                mask::keep_ends(m.as_str(), 2, 0),
            ));
        }
    }
}

/// HMRC's prefix rules: neither letter D, F, I, Q, U or V; the second not O;
/// the prefixes BG, GB, KN, NK, NT, TN and ZZ never allocated; the suffix
/// A-D.
pub fn nino_valid(compact: &[u8]) -> bool {
    const NEVER: &[u8] = b"DFIQUV";
    const NOT_ALLOCATED: &[&[u8]] = &[b"BG", b"GB", b"KN", b"NK", b"NT", b"TN", b"ZZ"];
    compact.len() == 9
        && !NEVER.contains(&compact[0])
        && !NEVER.contains(&compact[1])
        && compact[1] != b'O'
        && !NOT_ALLOCATED.contains(&&compact[..2])
        && compact[2..8].iter().all(u8::is_ascii_digit)
        && (b'A'..=b'D').contains(&compact[8])
}

fn hit(class: DataClass, start: usize, end: usize, redacted: String) -> Hit {
    Hit {
        class,
        start,
        end,
        redacted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ssn(text: &str, bare: bool) -> Vec<String> {
        let mut out = Vec::new();
        find_ssn(text, bare, &mut out);
        out.into_iter()
            .map(|h| text[h.start..h.end].to_owned())
            .collect()
    }

    fn nino(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        find_nino(text, &mut out);
        out.into_iter().map(|h| h.redacted).collect()
    }

    #[test]
    fn ssn_rules() {
        assert_eq!(ssn("ssn 536-22-8726.", false), ["536-22-8726"]);
        assert_eq!(ssn("536 22 8726", false), ["536 22 8726"]);
        for bad in [
            "000-12-3456",
            "666-12-3456",
            "912-12-3456",
            "536-00-8726",
            "536-22-0000",
            "078-05-1120",
            "536-22 8726",
            "1536-22-8726",
            "536-22-87260",
        ] {
            assert!(ssn(bad, false).is_empty(), "{bad}");
        }
        assert!(ssn("536228726", false).is_empty());
        assert_eq!(ssn("536228726", true), ["536228726"]);
        assert!(ssn("1536228726", true).is_empty());
    }

    #[test]
    fn nino_rules() {
        assert_eq!(nino("AB123456C"), ["AB*******"]);
        assert_eq!(nino("JG 10 37 59 A").len(), 1);
        for bad in [
            "GB123456A",
            "DA123456A",
            "AO123456A",
            "AB123456E",
            "XAB123456C",
            "ab123456c",
        ] {
            assert!(nino(bad).is_empty(), "{bad}");
        }
    }
}
