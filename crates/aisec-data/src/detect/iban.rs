//! IBANs (ISO 13616): a country code from the SWIFT IBAN registry, two check
//! digits, the BBAN with that country's exact length, printed in one run or
//! in groups of four, and the mod-97 check (ISO 7064) equal to 1.

use std::sync::LazyLock;

use regex::Regex;

use super::{DataClass, Hit};
use crate::mask;

/// IBAN lengths by country, from the SWIFT IBAN registry.
const LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BI", 27),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DJ", 27),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FK", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("LY", 25),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MN", 20),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NI", 28),
    ("NL", 18),
    ("NO", 15),
    ("OM", 23),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("RU", 33),
    ("SA", 24),
    ("SC", 31),
    ("SD", 18),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("SO", 23),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
    ("YE", 30),
];

/// Where an IBAN can start; the rest is walked by hand because its length
/// depends on the country and groups may be separated by single spaces.
static START: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?-u)[A-Z]{2}[0-9]{2}").expect("valid regex"));

pub fn find(text: &str, out: &mut Vec<Hit>) {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(m) = START.find_at(text, from) {
        from = m.start() + 1;
        if m.start() > 0 && bytes[m.start() - 1].is_ascii_alphanumeric() {
            continue;
        }
        let Some(&(_, len)) = LENGTHS
            .iter()
            .find(|(c, _)| c.as_bytes() == &bytes[m.start()..m.start() + 2])
        else {
            continue;
        };
        // Collect `len` alphanumerics, allowing one space between groups of four.
        let mut compact = Vec::with_capacity(len);
        let mut i = m.start();
        while i < bytes.len() && compact.len() < len {
            let b = bytes[i];
            if b.is_ascii_uppercase() || b.is_ascii_digit() {
                compact.push(b);
            } else if b == b' '
                && compact.len() % 4 == 0
                && bytes.get(i + 1).is_some_and(u8::is_ascii_alphanumeric)
            {
                // A separator between groups of four.
            } else {
                break;
            }
            i += 1;
        }
        let end = i;
        if compact.len() != len || bytes.get(end).is_some_and(u8::is_ascii_alphanumeric) {
            continue;
        }
        if iban_valid(&compact) {
            let s = &text[m.start()..end];
            out.push(Hit {
                class: DataClass::Iban,
                start: m.start(),
                end,
                redacted: mask::keep_ends(s, 2, 4),
            });
            from = end;
        }
    }
}

/// The ISO 7064 mod-97 check of a compact IBAN (country, check digits, BBAN):
/// the first four characters moved to the end, letters as 10..35, the number
/// mod 97 must be 1. Computed piecewise, so any length works.
pub fn iban_valid(compact: &[u8]) -> bool {
    if compact.len() < 5 || !compact.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let (head, tail) = compact.split_at(4);
    let mut rem: u32 = 0;
    for &b in tail.iter().chain(head) {
        let b = b.to_ascii_uppercase();
        if b.is_ascii_digit() {
            rem = (rem * 10 + u32::from(b - b'0')) % 97;
        } else {
            rem = (rem * 100 + u32::from(b - b'A' + 10)) % 97;
        }
    }
    rem == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        find(text, &mut out);
        out.into_iter()
            .map(|h| text[h.start..h.end].to_owned())
            .collect()
    }

    #[test]
    fn finds_ibans_grouped_or_not() {
        assert_eq!(found("DE89370400440532013000"), ["DE89370400440532013000"]);
        assert_eq!(
            found("iban: GB82 WEST 1234 5698 7654 32 EUR"),
            ["GB82 WEST 1234 5698 7654 32"]
        );
        assert_eq!(found("NO9386011117947"), ["NO9386011117947"]);
        assert_eq!(
            found("FR1420041010050500013M02606"),
            ["FR1420041010050500013M02606"]
        );
    }

    #[test]
    fn rejects_bad_checksums_lengths_and_fragments() {
        assert!(found("DE89370400440532013001").is_empty());
        assert!(found("DE8937040044053201300").is_empty());
        assert!(found("DE893704004405320130001").is_empty());
        assert!(found("XDE89370400440532013000").is_empty());
        assert!(found("ZZ89370400440532013000").is_empty());
        assert!(found("SKU AB12 3456").is_empty());
    }

    #[test]
    fn mod97() {
        assert!(iban_valid(b"GB82WEST12345698765432"));
        assert!(!iban_valid(b"GB82WEST12345698765433"));
        assert!(!iban_valid(b"GB"));
    }
}
