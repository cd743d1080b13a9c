//! Value detectors: one file per class of personal data. Each detector finds
//! every occurrence in one value (a cell, or a line of free text), validates
//! it (checksums, number plans, prefix rules) and returns it redacted.
//!
//! Detectors are cheap to call on values that cannot match: [`Features`] is
//! one pass over the bytes, and each detector is gated on it before any regex
//! runs (a cell with no `@` never reaches the e-mail regex).

mod birth_date;
mod card;
mod email;
mod iban;
mod national_id;
mod network;
mod person_name;
mod phone;
mod secret;

use serde::Serialize;

use crate::hints::ColumnHint;

pub use birth_date::{birth_date_context, parse_date};
pub use card::{card_brand, luhn_valid};
pub use iban::iban_valid;
pub use national_id::{nino_valid, ssn_valid};

/// A class of sensitive data a detector recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DataClass {
    Secret,
    Email,
    Iban,
    PaymentCard,
    UsSsn,
    UkNino,
    IpAddress,
    Phone,
    DateOfBirth,
    PersonName,
}

impl DataClass {
    /// Every class, in priority order: when two detectors claim overlapping
    /// text, the earlier one wins (an e-mail address holding digits is not a
    /// phone number; an IBAN's digits are not a card number).
    pub const ALL: [DataClass; 10] = [
        DataClass::Secret,
        DataClass::Email,
        DataClass::Iban,
        DataClass::PaymentCard,
        DataClass::UsSsn,
        DataClass::UkNino,
        DataClass::IpAddress,
        DataClass::Phone,
        DataClass::DateOfBirth,
        DataClass::PersonName,
    ];

    /// Plural noun for messages ("3 of 4 values are e-mail addresses").
    pub fn describe(self) -> &'static str {
        match self {
            DataClass::Secret => "API keys or credentials",
            DataClass::Email => "e-mail addresses",
            DataClass::Iban => "IBANs (bank account numbers)",
            DataClass::PaymentCard => "payment card numbers",
            DataClass::UsSsn => "US social security numbers",
            DataClass::UkNino => "UK national insurance numbers",
            DataClass::IpAddress => "IP addresses",
            DataClass::Phone => "phone numbers",
            DataClass::DateOfBirth => "dates of birth",
            DataClass::PersonName => "person names",
        }
    }

    /// Stable snake_case id, as in the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            DataClass::Secret => "secret",
            DataClass::Email => "email",
            DataClass::Iban => "iban",
            DataClass::PaymentCard => "payment_card",
            DataClass::UsSsn => "us_ssn",
            DataClass::UkNino => "uk_nino",
            DataClass::IpAddress => "ip_address",
            DataClass::Phone => "phone",
            DataClass::DateOfBirth => "date_of_birth",
            DataClass::PersonName => "person_name",
        }
    }

    /// A strong detector's match is rarely anything else (a checksum or a
    /// distinctive shape), so a single hit in a column counts. A weak one
    /// (Luhn passes one random number in ten; IPs and phone numbers have
    /// look-alikes) needs a share of the column, or a column name that agrees.
    pub fn is_strong(self) -> bool {
        matches!(
            self,
            DataClass::Secret | DataClass::Email | DataClass::Iban | DataClass::UsSsn
        )
    }
}

/// One occurrence of sensitive data in a value. Holds no copy of the value:
/// `redacted` is the only form that leaves the crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub class: DataClass,
    /// Byte span within the value.
    pub start: usize,
    pub end: usize,
    pub redacted: String,
}

/// Cheap facts about a value, computed in one pass, that decide which
/// detectors can possibly match.
#[derive(Debug, Default, Clone, Copy)]
pub struct Features {
    pub digits: usize,
    pub upper: usize,
    pub at_signs: usize,
    pub dots: usize,
    pub colons: usize,
    pub letters: usize,
}

impl Features {
    pub fn of(text: &str) -> Self {
        let mut f = Features::default();
        for &b in text.as_bytes() {
            match b {
                b'0'..=b'9' => f.digits += 1,
                b'A'..=b'Z' => {
                    f.upper += 1;
                    f.letters += 1;
                }
                b'a'..=b'z' => f.letters += 1,
                b'@' => f.at_signs += 1,
                b'.' => f.dots += 1,
                b':' => f.colons += 1,
                _ => {}
            }
        }
        f
    }
}

/// What a detector may know about the value besides its text.
#[derive(Debug, Clone, Copy, Default)]
pub struct ValueContext {
    /// What the column's name says it holds.
    pub hint: Option<ColumnHint>,
    /// Run the credential detectors (off where another scanner already
    /// reports secrets in the same bytes).
    pub secrets: bool,
}

/// Every hit in `text`, overlaps resolved by [`DataClass::ALL`] priority,
/// appended to `out` in priority order.
pub fn detect(text: &str, ctx: ValueContext, out: &mut Vec<Hit>) {
    if !out.is_empty() {
        // Detectors judge overlaps against what is in the vector, so they get
        // an empty one; the profiler's hot path always passes one.
        let mut fresh = Vec::new();
        detect(text, ctx, &mut fresh);
        out.append(&mut fresh);
        return;
    }
    let first = 0;
    let f = Features::of(text);
    let hint = ctx.hint;
    // Candidates are pushed straight onto `out` and compacted below: no
    // allocation per value (this runs on every sampled cell).
    let candidates = &mut *out;
    if ctx.secrets {
        secret::find(text, candidates);
    }
    if f.at_signs > 0 {
        email::find(text, candidates);
    }
    if f.upper >= 2 && f.digits >= 2 && text.len() >= 15 {
        iban::find(text, candidates);
    }
    if f.digits >= card::MIN_DIGITS {
        card::find(text, candidates);
    }
    if f.digits >= 9 {
        national_id::find_ssn(text, hint == Some(ColumnHint::Ssn), candidates);
    }
    if f.digits >= 6 && f.upper >= 3 {
        national_id::find_nino(text, candidates);
    }
    if hint != Some(ColumnHint::Version) {
        if f.dots >= 3 && f.digits >= 4 {
            network::find_ipv4(text, candidates);
        }
        if f.colons >= 2 {
            network::find_ipv6(text, candidates);
        }
    }
    if f.digits >= phone::MIN_DIGITS {
        phone::find(text, hint == Some(ColumnHint::Phone), candidates);
    }
    if f.digits >= 4 || f.letters >= 3 {
        let hinted = hint == Some(ColumnHint::BirthDate);
        if hinted || birth_date_context(text) {
            birth_date::find(text, hinted, candidates);
        }
    }
    if matches!(
        hint,
        Some(ColumnHint::PersonName | ColumnHint::AmbiguousName)
    ) && f.letters >= 2
    {
        person_name::find(text, candidates);
    }
    // Candidates arrive grouped by detector in priority order, so a candidate
    // is kept only when no kept hit (of a higher priority) overlaps it. Kept
    // hits are moved down to `out[first..kept]`, in order.
    let mut kept = first;
    for i in first..out.len() {
        let (c_start, c_end) = (out[i].start, out[i].end);
        let overlaps = out[first..kept]
            .iter()
            .any(|h| c_start < h.end && h.start < c_end);
        if !overlaps {
            out.swap(kept, i);
            kept += 1;
        }
    }
    out.truncate(kept);
}

/// True when `text[start..end]` stands on its own: not the middle of a longer
/// number, word, version string or path. The characters that may not touch
/// a match are letters, digits and `_` on both sides, and on the left also
/// `.`, `-`, `/`, `+`, `#` (a version `v1.2.3.4`, a range `10-555-...`); a
/// `:` may precede (`ssn:536-22-8726`, `tel:+44...`).
/// On the right `.`, `-`, `/`, `:` followed by a digit continue the number.
pub fn stands_alone(text: &str, start: usize, end: usize) -> bool {
    let bytes = text.as_bytes();
    if let Some(&b) = start.checked_sub(1).and_then(|i| bytes.get(i))
        && (b.is_ascii_alphanumeric() || b"_.-/+#".contains(&b))
    {
        return false;
    }
    match bytes.get(end) {
        Some(b) if b.is_ascii_alphanumeric() || *b == b'_' => false,
        Some(b'.' | b'-' | b'/' | b':') => !bytes.get(end + 1).is_some_and(u8::is_ascii_digit),
        _ => true,
    }
}

/// The ASCII digits of `s`, in order.
pub fn digits_of(s: &str) -> Vec<u8> {
    s.bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(text: &str, hint: Option<ColumnHint>) -> Vec<DataClass> {
        let mut out = Vec::new();
        detect(
            text,
            ValueContext {
                hint,
                secrets: true,
            },
            &mut out,
        );
        out.iter().map(|h| h.class).collect()
    }

    #[test]
    fn overlaps_go_to_the_more_specific_class() {
        assert_eq!(
            classes("mail 4155552671@example.com now", None),
            vec![DataClass::Email]
        );
        assert_eq!(
            classes("GB82 WEST 1234 5698 7654 32", None),
            vec![DataClass::Iban]
        );
    }

    #[test]
    fn hits_of_an_earlier_value_do_not_shadow_this_one() {
        let ctx = ValueContext {
            hint: None,
            secrets: false,
        };
        let mut out = Vec::new();
        detect("+44 20 7946 0018", ctx, &mut out);
        assert_eq!(out.len(), 1);
        // Same byte span, another value: appended, not judged against it.
        detect("+44 20 7946 0019", ctx, &mut out);
        assert_eq!(out.len(), 2, "{out:?}");
        assert!(out.iter().all(|h| h.class == DataClass::Phone));
    }

    #[test]
    fn benign_values_hit_nothing() {
        for v in [
            "2024-01-15 10:30:00",
            "2024-01-15T10:30:00Z",
            "1700000000",
            "0.123456789",
            "SKU-000123",
            "v1.2.3.4",
            "version 10.0.19041.1",
            "3.14159265358979",
            "id=123456789012",
            "lr=0.0003 epochs=10 batch=256",
        ] {
            assert!(classes(v, None).is_empty(), "{v}: {:?}", classes(v, None));
        }
    }

    #[test]
    fn boundaries_reject_fragments() {
        assert!(stands_alone("a 123 b", 2, 5));
        assert!(!stands_alone("a1234 b", 2, 5));
        assert!(!stands_alone("v1.2.3", 1, 6));
        assert!(stands_alone("x 1.2.", 2, 5));
        assert!(!stands_alone("123-4567", 0, 3));
    }
}
