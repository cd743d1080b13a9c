//! The rule table of the data scanner: one rule per class of personal data,
//! one for credentials in datasets, and two for columns whose name alone
//! says they are sensitive. Each explanation is what `aisec explain
//! AISEC-DATA-NNN` prints.

use aisec_core::{Reference, Rule, Severity, atlas, cwe, refs};

use crate::detect::DataClass;

/// CWE-200: Exposure of Sensitive Information to an Unauthorized Actor.
const CWE_200: Reference = cwe!(200);
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
    refs::CWE_359,
    CWE_200,
    refs::OWASP_LLM02,
    ATLAS_DATA_LEAKAGE,
    GDPR_ART_4,
];

/// The explanation of a personal-data rule: what it finds and why it
/// matters, between paragraphs every such rule shares (how findings are
/// grouped and sampled, training-data extraction, GDPR, the remediation). It
/// builds the `explanation` field only; the rules themselves are declared
/// with `aisec_core::rules!` like every other family's.
macro_rules! pii_explanation {
    ($what:literal, $why:literal $(,)?) => {
        concat!(
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
        )
    };
}

aisec_core::rules! {
/// Every rule of the family, in id order.
pub static RULES;

pub static EMAIL = Rule {
    id: "AISEC-DATA-001",
    name: "dataset-email-addresses",
    summary: "A dataset column holds e-mail addresses",
    default_severity: Severity::Medium,
    explanation: pii_explanation!(
        "E-mail addresses in a column (CSV/TSV, JSON Lines, Parquet) or in free text.",
        "An e-mail address identifies a person directly and is the key that joins one dataset to another.",
    ),
    references: PII_REFS,
};

pub static PHONE = Rule {
    id: "AISEC-DATA-002",
    name: "dataset-phone-numbers",
    summary: "A dataset column holds phone numbers",
    default_severity: Severity::Medium,
    explanation: pii_explanation!(
        "Phone numbers: international (`+44 20 7946 0958`, E.164 `+14155552671`, `0044...`), North American \
(`(415) 555-2671`) and national numbers with a trunk prefix (`020 7946 0958`, `01 23 45 67 89`). Bare digit \
runs count only in a column named for phones, so ids, timestamps and counts are not reported.",
        "A phone number identifies a person and reaches them directly (SIM-swap, phishing, harassment).",
    ),
    references: PII_REFS,
};

pub static PAYMENT_CARD = Rule {
    id: "AISEC-DATA-003",
    name: "dataset-payment-card-numbers",
    summary: "A dataset column holds payment card numbers (PAN)",
    default_severity: Severity::High,
    explanation: pii_explanation!(
        "Card numbers of 12-19 digits with a real scheme's IIN prefix and length (Visa, Mastercard, Amex, Discover, \
JCB, Diners, UnionPay, Maestro, Mir), grouped as printed cards are, that pass the Luhn check.",
        "Card numbers are cardholder data under PCI DSS: storing them unprotected outside the cardholder-data \
environment is a compliance breach, and with a name and expiry date they are fraud.",
    ),
    references: &[refs::CWE_359, refs::CWE_312, PCI_DSS, refs::OWASP_LLM02, GDPR_ART_4],
};

pub static IBAN = Rule {
    id: "AISEC-DATA-004",
    name: "dataset-bank-account-numbers",
    summary: "A dataset column holds IBANs (bank account numbers)",
    default_severity: Severity::High,
    explanation: pii_explanation!(
        "IBANs (ISO 13616) of a country in the SWIFT registry, with that country's length and a valid mod-97 check.",
        "A bank account number identifies its holder and, with a name, is enough to set up direct debits.",
    ),
    references: &[refs::CWE_359, refs::CWE_312, refs::OWASP_LLM02, GDPR_ART_4],
};

pub static NATIONAL_ID = Rule {
    id: "AISEC-DATA-005",
    name: "dataset-national-identifiers",
    summary: "A dataset column holds national identifiers (US SSN, UK national insurance numbers)",
    default_severity: Severity::High,
    explanation: pii_explanation!(
        "US social security numbers (`AAA-GG-SSSS`; area not 000, 666 or 9xx, group not 00, serial not 0000; nine \
bare digits only in a column named SSN) and UK national insurance numbers (two prefix letters HMRC allocates, six \
digits, suffix A-D).",
        "A national identifier is permanent and unique: once leaked it enables identity theft for life, and most \
privacy laws treat it as high-risk data.",
    ),
    references: &[
        refs::CWE_359,
        refs::CWE_312,
        refs::OWASP_LLM02,
        ATLAS_DATA_LEAKAGE,
        GDPR_ART_4
    ],
};

pub static IP_ADDRESS = Rule {
    id: "AISEC-DATA-006",
    name: "dataset-ip-addresses",
    summary: "A dataset column holds IP addresses",
    default_severity: Severity::Low,
    explanation: pii_explanation!(
        "IPv4 and IPv6 addresses, not version strings (`v1.2.3.4`, `torch==2.1.0.1`, a `version` column), OIDs, \
loopback, unspecified or netmask values.",
        "IP addresses in logs and clickstreams are personal data (CJEU, Breyer, C-582/14): they locate and, with an \
ISP's records, identify a user.",
    ),
    references: PII_REFS,
};

pub static DATE_OF_BIRTH = Rule {
    id: "AISEC-DATA-007",
    name: "dataset-dates-of-birth",
    summary: "A dataset column holds dates of birth",
    default_severity: Severity::Medium,
    explanation: pii_explanation!(
        "Calendar dates (ISO, day- or month-first, or with a month name; years 1900-2030) in a column named for \
births (`dob`, `birth_date`, `dateOfBirth`) or in text right after `born`, `DOB` or `date of birth`. Other dates and \
timestamps are never reported.",
        "A date of birth with a postcode and sex re-identifies most people in a population (Sweeney): it is the \
classic quasi-identifier.",
    ),
    references: PII_REFS,
};

pub static PERSON_NAME = Rule {
    id: "AISEC-DATA-008",
    name: "dataset-person-names",
    summary: "A dataset column holds person names",
    default_severity: Severity::Medium,
    explanation: pii_explanation!(
        "Name-like values (capitalised words, particles such as `van` or `de`, no digits) in a column named for \
people's names (`first_name`, `surname`, `full_name`, `customer_name`...), or in a bare `name` column when at \
least half its values are name-like and another column of the file holds personal data. Free text is not \
searched for names (that needs a named-entity model).",
        "A name identifies a person directly and links every other column of the row to them.",
    ),
    references: PII_REFS,
};

pub static CREDENTIAL = Rule {
    id: "AISEC-DATA-009",
    name: "dataset-credentials",
    summary: "A dataset holds API keys or credentials",
    default_severity: Severity::High,
    explanation: pii_explanation!(
        "Provider API keys, tokens and private keys found by aisec-secrets' detectors inside dataset values that the \
secrets scanner does not read itself (compressed Parquet pages). Text datasets are left to the secrets scanner \
(`AISEC-SEC-*`), so nothing is reported twice.",
        "A credential in training data is a credential a model can learn and repeat, and one every reader of the \
dataset can use.",
    ),
    references: &[refs::CWE_798, refs::CWE_312, refs::OWASP_LLM02],
};

pub static SENSITIVE_COLUMN_NAME = Rule {
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
    references: &[refs::CWE_359, CWE_200, GDPR_ART_4],
};

pub static SPECIAL_CATEGORY_COLUMN = Rule {
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
    references: &[refs::CWE_359, GDPR_ART_9, refs::OWASP_LLM02],
};

pub static NOTEBOOK_OUTPUT = Rule {
    id: "AISEC-DATA-012",
    name: "notebook-output-personal-data",
    summary: "A notebook's saved output shows personal data (e-mail addresses, IBANs, card numbers, national ids...)",
    default_severity: Severity::Medium,
    explanation: "\
## What it finds
Saved outputs of Jupyter notebook cells (printed text, data-frame previews,
tracebacks) that show personal data, found by the same detectors as datasets
(`AISEC-DATA-001`..`008`): e-mail addresses, IBANs, payment card numbers
(IIN and Luhn), US SSNs and UK national insurance numbers, phone numbers, IP
addresses and dates of birth. One finding per cell and kind, with the count,
at the line of the first match; the evidence is masked. E-mail addresses,
phone numbers and IP addresses count from three in one cell (an author's
address is not a table of customers), and documentation domains such as
`example.com` are ignored. Each finding has the severity of the matching
dataset rule (an IBAN or a card number is high). Replaces `AISEC-SEC-019`,
which read only e-mails, cards and SSNs.

## Why it matters
Notebooks are committed with their outputs: `df.head()` of a customer table
publishes real people's data with the code, in every clone and fork. That is
a disclosure under most privacy laws, and training data that was meant to stay
internal.

## Remediation
Clear outputs before committing (`jupyter nbconvert --clear-output`,
`nbstripout` as a pre-commit hook), and work on anonymised or synthetic samples.",
    references: &[refs::CWE_359, refs::CWE_312, refs::OWASP_LLM02, GDPR_ART_4],
};

}

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
