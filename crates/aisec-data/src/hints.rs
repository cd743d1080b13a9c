//! Column-name hints: what a column's name says it holds. A hint confirms a
//! detector (a weak match in a column named `phone` counts), enables the
//! detectors that need context (bare digits as an SSN, dates as dates of
//! birth, names), and flags a column on its own when its values are masked,
//! hashed or of a kind no detector reads (`passport`, `address`, `religion`).

use serde::Serialize;

use crate::detect::DataClass;

/// What a column name announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnHint {
    Email,
    Phone,
    Ssn,
    Nino,
    NationalId,
    Passport,
    BankAccount,
    PaymentCard,
    IpAddress,
    BirthDate,
    PersonName,
    /// A bare `name`: a person's, or a product's, a file's, a model's. Counts
    /// only when the values look like names and the dataset holds other
    /// personal data.
    AmbiguousName,
    Address,
    Credential,
    /// GDPR Article 9 special categories: health, ethnicity, religion, sex
    /// life and orientation, political opinion, biometrics.
    SpecialCategory,
    /// Not sensitive: `version`, `release` (keeps dotted versions from
    /// reading as IPv4 addresses).
    Version,
}

impl ColumnHint {
    pub fn describe(self) -> &'static str {
        match self {
            ColumnHint::Email => "e-mail address",
            ColumnHint::Phone => "phone number",
            ColumnHint::Ssn => "US social security number",
            ColumnHint::Nino => "UK national insurance number",
            ColumnHint::NationalId => "national identity, tax or licence number",
            ColumnHint::Passport => "passport number",
            ColumnHint::BankAccount => "bank account (IBAN)",
            ColumnHint::PaymentCard => "payment card",
            ColumnHint::IpAddress => "IP or MAC address",
            ColumnHint::BirthDate => "date of birth",
            ColumnHint::PersonName => "person name",
            ColumnHint::AmbiguousName => "name",
            ColumnHint::Address => "postal address",
            ColumnHint::Credential => "password or credential",
            ColumnHint::SpecialCategory => "special-category data (GDPR Art. 9)",
            ColumnHint::Version => "version",
        }
    }

    /// The detector whose matches this hint confirms.
    pub fn confirms(self) -> Option<DataClass> {
        Some(match self {
            ColumnHint::Email => DataClass::Email,
            ColumnHint::Phone => DataClass::Phone,
            ColumnHint::Ssn => DataClass::UsSsn,
            ColumnHint::Nino => DataClass::UkNino,
            ColumnHint::BankAccount => DataClass::Iban,
            ColumnHint::PaymentCard => DataClass::PaymentCard,
            ColumnHint::IpAddress => DataClass::IpAddress,
            ColumnHint::BirthDate => DataClass::DateOfBirth,
            ColumnHint::PersonName => DataClass::PersonName,
            ColumnHint::Credential => DataClass::Secret,
            _ => return None,
        })
    }

    /// Whether the name alone makes the column sensitive.
    pub fn sensitive_by_itself(self) -> bool {
        !matches!(self, ColumnHint::AmbiguousName | ColumnHint::Version)
    }
}

/// Token sequences, first match wins: specific before general, so
/// `email_address` is an e-mail and `ip_address` an IP, not a postal address.
const PATTERNS: &[(&[&str], ColumnHint)] = &[
    (&["version"], ColumnHint::Version),
    (&["ver"], ColumnHint::Version),
    (&["release"], ColumnHint::Version),
    (&["email"], ColumnHint::Email),
    (&["e", "mail"], ColumnHint::Email),
    (&["mail"], ColumnHint::Email),
    (&["ip"], ColumnHint::IpAddress),
    (&["ipv4"], ColumnHint::IpAddress),
    (&["ipv6"], ColumnHint::IpAddress),
    (&["mac", "address"], ColumnHint::IpAddress),
    (&["remote", "addr"], ColumnHint::IpAddress),
    (&["phone"], ColumnHint::Phone),
    (&["telephone"], ColumnHint::Phone),
    (&["tel"], ColumnHint::Phone),
    (&["mobile"], ColumnHint::Phone),
    (&["cellphone"], ColumnHint::Phone),
    (&["msisdn"], ColumnHint::Phone),
    (&["fax"], ColumnHint::Phone),
    (&["ssn"], ColumnHint::Ssn),
    (&["social", "security"], ColumnHint::Ssn),
    (&["nino"], ColumnHint::Nino),
    (&["national", "insurance"], ColumnHint::Nino),
    (&["ni", "number"], ColumnHint::Nino),
    (&["national", "id"], ColumnHint::NationalId),
    (&["tax", "id"], ColumnHint::NationalId),
    (&["aadhaar"], ColumnHint::NationalId),
    (&["driver", "license"], ColumnHint::NationalId),
    (&["driving", "licence"], ColumnHint::NationalId),
    (&["passport"], ColumnHint::Passport),
    (&["iban"], ColumnHint::BankAccount),
    (&["bank", "account"], ColumnHint::BankAccount),
    (&["account", "number"], ColumnHint::BankAccount),
    (&["credit", "card"], ColumnHint::PaymentCard),
    (&["card", "number"], ColumnHint::PaymentCard),
    (&["cc", "number"], ColumnHint::PaymentCard),
    (&["ccn"], ColumnHint::PaymentCard),
    (&["cvv"], ColumnHint::PaymentCard),
    (&["cvc"], ColumnHint::PaymentCard),
    (&["dob"], ColumnHint::BirthDate),
    (&["birth"], ColumnHint::BirthDate),
    (&["birthday"], ColumnHint::BirthDate),
    (&["birthdate"], ColumnHint::BirthDate),
    (&["first", "name"], ColumnHint::PersonName),
    (&["last", "name"], ColumnHint::PersonName),
    (&["middle", "name"], ColumnHint::PersonName),
    (&["full", "name"], ColumnHint::PersonName),
    (&["given", "name"], ColumnHint::PersonName),
    (&["family", "name"], ColumnHint::PersonName),
    (&["firstname"], ColumnHint::PersonName),
    (&["lastname"], ColumnHint::PersonName),
    (&["fullname"], ColumnHint::PersonName),
    (&["surname"], ColumnHint::PersonName),
    (&["forename"], ColumnHint::PersonName),
    (&["customer", "name"], ColumnHint::PersonName),
    (&["patient", "name"], ColumnHint::PersonName),
    (&["employee", "name"], ColumnHint::PersonName),
    (&["contact", "name"], ColumnHint::PersonName),
    (&["holder", "name"], ColumnHint::PersonName),
    (&["cardholder"], ColumnHint::PersonName),
    (&["password"], ColumnHint::Credential),
    (&["passwd"], ColumnHint::Credential),
    (&["secret"], ColumnHint::Credential),
    (&["api", "key"], ColumnHint::Credential),
    (&["apikey"], ColumnHint::Credential),
    (&["access", "token"], ColumnHint::Credential),
    (&["auth", "token"], ColumnHint::Credential),
    (&["private", "key"], ColumnHint::Credential),
    (&["address"], ColumnHint::Address),
    (&["street"], ColumnHint::Address),
    (&["postcode"], ColumnHint::Address),
    (&["zipcode"], ColumnHint::Address),
    (&["zip", "code"], ColumnHint::Address),
    (&["postal", "code"], ColumnHint::Address),
    (&["gender"], ColumnHint::SpecialCategory),
    (&["sex"], ColumnHint::SpecialCategory),
    (&["race"], ColumnHint::SpecialCategory),
    (&["ethnicity"], ColumnHint::SpecialCategory),
    (&["religion"], ColumnHint::SpecialCategory),
    (&["sexual", "orientation"], ColumnHint::SpecialCategory),
    (&["diagnosis"], ColumnHint::SpecialCategory),
    (&["medical"], ColumnHint::SpecialCategory),
    (&["health"], ColumnHint::SpecialCategory),
    (&["disability"], ColumnHint::SpecialCategory),
    (&["biometric"], ColumnHint::SpecialCategory),
    (&["political"], ColumnHint::SpecialCategory),
    (&["name"], ColumnHint::AmbiguousName),
];

/// Lower-case words of a column name: split at `_`, `-`, `.`, blanks, `[]`
/// and camelCase humps (`dateOfBirth` → `date of birth`).
pub fn tokens(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        word.extend(c.to_lowercase());
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// What `column` announces, if anything. Only the last path segment of a
/// nested JSON or Parquet column counts (`user.email` → e-mail, but
/// `email_settings.enabled` → nothing).
pub fn hint_for(column: &str) -> Option<ColumnHint> {
    let last = column.rsplit(['.', '/']).next().unwrap_or(column);
    let words = tokens(last.trim_end_matches("[]"));
    if words.is_empty() || words.len() > 8 {
        return None;
    }
    PATTERNS.iter().find_map(|(seq, hint)| {
        words
            .windows(seq.len())
            .any(|w| w.iter().zip(seq.iter()).all(|(a, b)| a == b))
            .then_some(*hint)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_hints() {
        for (name, hint) in [
            ("email", ColumnHint::Email),
            ("Customer E-Mail", ColumnHint::Email),
            ("email_address", ColumnHint::Email),
            ("ip_address", ColumnHint::IpAddress),
            ("home_address", ColumnHint::Address),
            ("dateOfBirth", ColumnHint::BirthDate),
            ("DOB", ColumnHint::BirthDate),
            ("first_name", ColumnHint::PersonName),
            ("surname", ColumnHint::PersonName),
            ("name", ColumnHint::AmbiguousName),
            ("SSN", ColumnHint::Ssn),
            ("iban", ColumnHint::BankAccount),
            ("passport_no", ColumnHint::Passport),
            ("mobilePhone", ColumnHint::Phone),
            ("user.email", ColumnHint::Email),
            ("model_version", ColumnHint::Version),
            ("Gender", ColumnHint::SpecialCategory),
        ] {
            assert_eq!(hint_for(name), Some(hint), "{name}");
        }
    }

    #[test]
    fn ordinary_columns_have_no_hint() {
        for name in [
            "feature_1",
            "price",
            "product_id",
            "timestamp",
            "label",
            "tokens",
            "input_ids",
            "zip_file",
            "email_settings.enabled",
            "cell_id",
            "shipping",
        ] {
            assert_eq!(hint_for(name), None, "{name}");
        }
    }
}
