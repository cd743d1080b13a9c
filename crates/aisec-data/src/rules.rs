//! The rule table of the data scanner: one rule per class of personal data,
//! one for credentials in datasets, and two for columns whose name alone
//! says they are sensitive. Each explanation is what `aisec explain
//! AISEC-DATA-NNN` prints.

use aisec_core::{Reference, Rule, Severity, atlas, cwe};

use crate::detect::DataClass;

/// CWE-359: Exposure of Private Personal Information to an Unauthorized Actor.
const CWE_359: Reference = cwe!(359);
/// CWE-200: Exposure of Sensitive Information to an Unauthorized Actor.
const CWE_200: Reference = cwe!(200);
/// CWE-312: Cleartext Storage of Sensitive Information.
const CWE_312: Reference = cwe!(312);
/// OWASP Top 10 for LLM Applications (2025), LLM02: Sensitive Information
/// Disclosure (LLM06 in the 2023 list): training data a model can repeat.
const OWASP_LLM02: Reference = Reference::new(
    "OWASP-LLM02:2025",
    "https://genai.owasp.org/llmrisk/llm022025-sensitive-information-disclosure/",
);
/// MITRE ATLAS AML.T0057: LLM Data Leakage.
const ATLAS_DATA_LEAKAGE: Reference = atlas!("AML.T0057");
/// GDPR Article 4(1): the definition of personal data.
const GDPR_ART_4: Reference = Reference::new("GDPR-Art.4", "https://gdpr-info.eu/art-4-gdpr/");
/// GDPR Article 9: special categories of personal data.
const GDPR_ART_9: Reference = Reference::new("GDPR-Art.9", "https://gdpr-info.eu/art-9-gdpr/");
/// PCI DSS: cardholder data may not be stored unprotected.
const PCI_DSS: Reference = Reference::new(
    "PCI-DSS-3.5",
    "https://www.pcisecuritystandards.org/standards/pci-dss/",
);

const PII_REFS: &[Reference] = &[
    CWE_359,
    CWE_200,
    OWASP_LLM02,
    ATLAS_DATA_LEAKAGE,
    GDPR_ART_4,
];

macro_rules! pii_rule {
    ($name:ident, $id:literal, $slug:literal, $summary:literal, $sev:expr, $what:literal, $why:literal, $refs:expr) => {
        pub static $name: Rule = Rule {
            id: $id,
            name: $slug,
            summary: $summary,
            default_severity: $sev,
            explanation: concat!(
                "## What it finds\n",
                $what,
                "\n\nOne finding per file, column and kind, at the line of the first match, with the share of the ",
                "sampled non-empty values that matched and up to three masked examples (never a raw value). ",
                "Only a sample is read (by default the first 10 000 rows or 16 MiB; for Parquet the footer and ",
                "the first row groups). A weak match (one that look-alikes share) counts when at least 30% of a ",
                "column matches, when the column's name agrees, or in free text.\n\n",
                "## Why it matters\n",
                $why,
                " Datasets are copied to notebooks, buckets, hubs and fine-tuning jobs; a model trained on ",
                "personal data can repeat it to anyone who prompts it (training-data extraction), and under ",
                "GDPR Art. 4(1) anything that identifies a person is personal data whose processing needs a ",
                "lawful basis, minimisation and protection.\n\n",
                "## Remediation\n",
                "Drop the column if the model does not need it; otherwise pseudonymise or mask it before the ",
                "data leaves its source system (`aisec data mask`), restrict who can read the raw dataset, and ",
                "record the lawful basis. Synthetic or test data that only looks real can be waived in `aisec.toml`."
            ),
            references: $refs,
        };
    };
}

pii_rule!(
    EMAIL,
    "AISEC-DATA-001",
    "dataset-email-addresses",
    "A dataset column holds e-mail addresses",
    Severity::Medium,
    "E-mail addresses in a column (CSV/TSV, JSON Lines, Parquet) or in free text.",
    "An e-mail address identifies a person directly and is the key that joins one dataset to another.",
    PII_REFS
);

pii_rule!(
    PHONE,
    "AISEC-DATA-002",
    "dataset-phone-numbers",
    "A dataset column holds phone numbers",
    Severity::Medium,
    "Phone numbers: international (`+44 20 7946 0958`, E.164 `+14155552671`, `0044...`), North American \
(`(415) 555-2671`) and national numbers with a trunk prefix (`020 7946 0958`, `01 23 45 67 89`). Bare digit \
runs count only in a column named for phones, so ids, timestamps and counts are not reported.",
    "A phone number identifies a person and reaches them directly (SIM-swap, phishing, harassment).",
    PII_REFS
);

pii_rule!(
    PAYMENT_CARD,
    "AISEC-DATA-003",
    "dataset-payment-card-numbers",
    "A dataset column holds payment card numbers (PAN)",
    Severity::High,
    "Card numbers of 12-19 digits with a real scheme's IIN prefix and length (Visa, Mastercard, Amex, Discover, \
JCB, Diners, UnionPay, Maestro, Mir), grouped as printed cards are, that pass the Luhn check.",
    "Card numbers are cardholder data under PCI DSS: storing them unprotected outside the cardholder-data \
environment is a compliance breach, and with a name and expiry date they are fraud.",
    &[CWE_359, CWE_312, PCI_DSS, OWASP_LLM02, GDPR_ART_4]
);

pii_rule!(
    IBAN,
    "AISEC-DATA-004",
    "dataset-bank-account-numbers",
    "A dataset column holds IBANs (bank account numbers)",
    Severity::High,
    "IBANs (ISO 13616) of a country in the SWIFT registry, with that country's length and a valid mod-97 check.",
    "A bank account number identifies its holder and, with a name, is enough to set up direct debits.",
    &[CWE_359, CWE_312, OWASP_LLM02, GDPR_ART_4]
);

pii_rule!(
    NATIONAL_ID,
    "AISEC-DATA-005",
    "dataset-national-identifiers",
    "A dataset column holds national identifiers (US SSN, UK national insurance numbers)",
    Severity::High,
    "US social security numbers (`AAA-GG-SSSS`; area not 000, 666 or 9xx, group not 00, serial not 0000; nine \
bare digits only in a column named SSN) and UK national insurance numbers (two prefix letters HMRC allocates, six \
digits, suffix A-D).",
    "A national identifier is permanent and unique: once leaked it enables identity theft for life, and most \
privacy laws treat it as high-risk data.",
    &[
        CWE_359,
        CWE_312,
        OWASP_LLM02,
        ATLAS_DATA_LEAKAGE,
        GDPR_ART_4
    ]
);

pii_rule!(
    IP_ADDRESS,
    "AISEC-DATA-006",
    "dataset-ip-addresses",
    "A dataset column holds IP addresses",
    Severity::Low,
    "IPv4 and IPv6 addresses, not version strings (`v1.2.3.4`, `torch==2.1.0.1`, a `version` column), OIDs, \
loopback, unspecified or netmask values.",
    "IP addresses in logs and clickstreams are personal data (CJEU, Breyer, C-582/14): they locate and, with an \
ISP's records, identify a user.",
    PII_REFS
);

pii_rule!(
    DATE_OF_BIRTH,
    "AISEC-DATA-007",
    "dataset-dates-of-birth",
    "A dataset column holds dates of birth",
    Severity::Medium,
    "Calendar dates (ISO, day- or month-first, or with a month name; years 1900-2030) in a column named for \
births (`dob`, `birth_date`, `dateOfBirth`) or in text right after `born`, `DOB` or `date of birth`. Other dates and \
timestamps are never reported.",
    "A date of birth with a postcode and sex re-identifies most people in a population (Sweeney): it is the \
classic quasi-identifier.",
    PII_REFS
);

pii_rule!(
    PERSON_NAME,
    "AISEC-DATA-008",
    "dataset-person-names",
    "A dataset column holds person names",
    Severity::Medium,
    "Name-like values (capitalised words, particles such as `van` or `de`, no digits) in a column named for \
people's names (`first_name`, `surname`, `full_name`, `customer_name`...), or in a bare `name` column when at \
least half its values are name-like and another column of the file holds personal data. Free text is not \
searched for names (that needs a named-entity model).",
    "A name identifies a person directly and links every other column of the row to them.",
    PII_REFS
);

pii_rule!(
    CREDENTIAL,
    "AISEC-DATA-009",
    "dataset-credentials",
    "A dataset holds API keys or credentials",
    Severity::High,
    "Provider API keys, tokens and private keys found by aisec-secrets' detectors inside dataset values that the \
secrets scanner does not read itself (compressed Parquet pages). Text datasets are left to the secrets scanner \
(`AISEC-SEC-*`), so nothing is reported twice.",
    "A credential in training data is a credential a model can learn and repeat, and one every reader of the \
dataset can use.",
    &[cwe!(798), CWE_312, OWASP_LLM02]
);

pub static SENSITIVE_COLUMN_NAME: Rule = Rule {
    id: "AISEC-DATA-010",
    name: "dataset-sensitive-column-name",
    summary: "A dataset column's name says it holds personal data that no detector confirmed",
    default_severity: Severity::Low,
    explanation: "\
## What it finds
A column whose name says it holds personal data (`email`, `ssn`, `passport`,
`address`, `dob`, `phone`, `iban`, `ip`, `password`...) where no detector
confirmed the values: they are masked, hashed, encoded, or of a kind no
detector reads (passport numbers, postal addresses).

## Why it matters
Masked and hashed values are often still personal data: a hash of an e-mail
address is a stable identifier that joins datasets, and a masked column may be
masked only in the sample. The column name is also what a reviewer, a data
catalogue or a regulator reads.

## Remediation
Confirm what the column holds. Drop it if the model does not need it; if it is
pseudonymised, record how (salted hash, tokenisation) and keep the key apart.
Waive the finding in `aisec.toml` once reviewed.",
    references: &[CWE_359, CWE_200, GDPR_ART_4],
};

pub static SPECIAL_CATEGORY_COLUMN: Rule = Rule {
    id: "AISEC-DATA-011",
    name: "dataset-special-category-column",
    summary: "A dataset column holds special-category data (health, ethnicity, religion, sex...)",
    default_severity: Severity::Medium,
    explanation: "\
## What it finds
A column named for GDPR Article 9 special categories of personal data: health
(`diagnosis`, `medical`, `health`, `disability`), racial or ethnic origin
(`race`, `ethnicity`), religion, political opinion, sex life or orientation,
biometrics, and `sex`/`gender`, which fairness work needs but which are
sensitive all the same.

## Why it matters
Processing special-category data is prohibited under GDPR Art. 9 unless an
exception applies (explicit consent, medical purposes, research with
safeguards). A model trained on it can infer or disclose it, and using it as a
feature can make decisions discriminatory.

## Remediation
Keep the column only with a documented Art. 9 exception and access controls;
if it is needed only to measure fairness, keep it outside the training data.
Waive the finding in `aisec.toml` once reviewed.",
    references: &[CWE_359, GDPR_ART_9, OWASP_LLM02],
};

pub static RULES: &[&Rule] = &[
    &EMAIL,
    &PHONE,
    &PAYMENT_CARD,
    &IBAN,
    &NATIONAL_ID,
    &IP_ADDRESS,
    &DATE_OF_BIRTH,
    &PERSON_NAME,
    &CREDENTIAL,
    &SENSITIVE_COLUMN_NAME,
    &SPECIAL_CATEGORY_COLUMN,
];

/// The rule that reports `class`.
pub fn rule_for(class: DataClass) -> &'static Rule {
    match class {
        DataClass::Email => &EMAIL,
        DataClass::Phone => &PHONE,
        DataClass::PaymentCard => &PAYMENT_CARD,
        DataClass::Iban => &IBAN,
        DataClass::UsSsn | DataClass::UkNino => &NATIONAL_ID,
        DataClass::IpAddress => &IP_ADDRESS,
        DataClass::DateOfBirth => &DATE_OF_BIRTH,
        DataClass::PersonName => &PERSON_NAME,
        DataClass::Secret => &CREDENTIAL,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_has_a_rule_in_the_table() {
        for class in DataClass::ALL {
            let rule = rule_for(class);
            assert!(RULES.iter().any(|r| r.id == rule.id), "{class:?}");
        }
        for rule in RULES {
            assert!(rule.explanation.contains("## Remediation"), "{}", rule.id);
            assert!(!rule.references.is_empty(), "{}", rule.id);
        }
    }
}
