//! Payment card numbers (PAN): 12-19 digits, in one run or in groups of four
//! (Amex and Diners 4-6-5/4-6-4) with one kind of separator, an issuer
//! identification number (IIN) of a real scheme with a length that scheme
//! issues, and a valid Luhn check digit.

use std::sync::LazyLock;

use regex::Regex;

use super::{DataClass, Hit, digits_of, stands_alone};
use crate::mask;

/// Maestro's shortest PAN.
pub const MIN_DIGITS: usize = 12;

static CARD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?-u)[0-9](?:[ \-]?[0-9]){11,18}").expect("valid regex"));

pub fn find(text: &str, out: &mut Vec<Hit>) {
    for m in CARD.find_iter(text) {
        let s = m.as_str();
        if !stands_alone(text, m.start(), m.end()) || !well_grouped(s) {
            continue;
        }
        let digits = digits_of(s);
        if card_brand(&digits).is_some()
            && luhn_valid(&digits)
            && !digits.iter().all(|d| *d == digits[0])
        {
            out.push(Hit {
                class: DataClass::PaymentCard,
                start: m.start(),
                end: m.end(),
                redacted: mask::card(s),
            });
        }
    }
}

/// Ungrouped, or groups of four with one kind of separator (the last group
/// shorter), or the 4-6-5 / 4-6-4 grouping of Amex and Diners.
fn well_grouped(s: &str) -> bool {
    let has_space = s.contains(' ');
    let has_dash = s.contains('-');
    if !has_space && !has_dash {
        return true;
    }
    if has_space && has_dash {
        return false;
    }
    let groups: Vec<usize> = s.split([' ', '-']).map(str::len).collect();
    let fours = groups.len() >= 3
        && groups[..groups.len() - 1].iter().all(|g| *g == 4)
        && (1..=4).contains(groups.last().unwrap_or(&0));
    fours || groups == [4, 6, 5] || groups == [4, 6, 4]
}

/// The Luhn (mod 10) check over a PAN's digits.
pub fn luhn_valid(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    !digits.is_empty() && sum % 10 == 0
}

/// The scheme whose IIN range `digits` starts with, when it also has a length
/// that scheme issues (ISO/IEC 7812 ranges as the schemes publish them).
pub fn card_brand(digits: &[u8]) -> Option<&'static str> {
    let prefix = |n: usize| -> u32 {
        digits
            .iter()
            .take(n)
            .fold(0u32, |acc, &d| acc * 10 + u32::from(d))
    };
    let len = digits.len();
    let (brand, lengths): (&str, &[usize]) = match (prefix(1), prefix(2), prefix(4), prefix(6)) {
        (4, ..) => ("visa", &[13, 16, 19]),
        (_, 51..=55, ..) | (_, _, 2221..=2720, _) => ("mastercard", &[16]),
        (_, 34 | 37, ..) => ("amex", &[15]),
        (_, _, 6011, _) | (_, 65, ..) | (_, _, 6440..=6499, _) => ("discover", &[16, 17, 18, 19]),
        (_, _, _, 622_126..=622_925) => ("discover", &[16, 17, 18, 19]),
        (_, 62, ..) => ("unionpay", &[16, 17, 18, 19]),
        (_, _, 3528..=3589, _) => ("jcb", &[16, 17, 18, 19]),
        (_, 36 | 38 | 39, ..) | (_, _, 3000..=3059 | 3095, _) => {
            ("diners", &[14, 15, 16, 17, 18, 19])
        }
        (_, _, 2200..=2204, _) => ("mir", &[16, 17, 18, 19]),
        (_, 50 | 56..=58, ..) | (_, _, 6304 | 6759, _) | (_, _, _, 676_770 | 676_774) => {
            ("maestro", &[12, 13, 14, 15, 16, 17, 18, 19])
        }
        _ => return None,
    };
    lengths.contains(&len).then_some(brand)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        find(text, &mut out);
        out.into_iter().map(|h| h.redacted).collect()
    }

    #[test]
    fn finds_cards_of_each_scheme() {
        for pan in [
            "4242424242424242",
            "4111 1111 1111 1111",
            "5555-5555-5555-4444",
            "2223003122003222",
            "378282246310005",
            "3782 822463 10005",
            "6011111111111117",
            "3530111333300000",
            "30569309025904",
            "6200000000000005",
        ] {
            assert_eq!(found(pan).len(), 1, "{pan}");
        }
        assert_eq!(
            found("paid with 4242 4242 4242 4242."),
            ["**** **** **** 4242"]
        );
    }

    #[test]
    fn rejects_numbers_that_are_not_cards() {
        for not in [
            "4242424242424241",     // Luhn fails
            "1234567812345670",     // no scheme starts with 1
            "4111-1111 1111-1111",  // mixed separators
            "41 1111 1111 1111 11", // odd grouping
            "42424242424242420000", // too long (20 digits)
            "v4242424242424242",    // part of a token
            "1700000000123",        // a timestamp in ms
        ] {
            assert!(found(not).is_empty(), "{not}");
        }
        assert!(found("0000000000000000").is_empty());
        // One digit repeated is a placeholder even where Luhn holds.
        assert!(found("0000 0000 0000 0000").is_empty());
    }

    #[test]
    fn luhn_and_brand() {
        assert!(luhn_valid(&digits_of("79927398713")));
        assert!(!luhn_valid(&digits_of("79927398710")));
        assert_eq!(card_brand(&digits_of("378282246310005")), Some("amex"));
        assert_eq!(card_brand(&digits_of("37828224631000")), None);
    }
}
