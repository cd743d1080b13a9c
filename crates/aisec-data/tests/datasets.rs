//! Profiles of the committed fixtures (`fixtures/gen/data_fixtures.py`):
//! which column is flagged with which detector, and benign datasets that
//! must stay clean.

use std::path::{Path, PathBuf};

use aisec_core::{FileInput, Limits, ScanContext, Scanner};
use aisec_data::{
    DataClass, DataScanner, DatasetFormat, DatasetProfile, SampleOptions, profile, profile_path,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn load(name: &str) -> DatasetProfile {
    profile_path(&fixture(name), &SampleOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// (column, detector) pairs that count, sorted.
fn flagged(p: &DatasetProfile) -> Vec<(String, DataClass)> {
    let mut v: Vec<_> = p
        .columns
        .iter()
        .flat_map(|c| c.flagged().map(|d| (c.name.clone(), d.detector)))
        .collect();
    v.sort();
    v
}

fn hint_only(p: &DatasetProfile) -> Vec<String> {
    p.columns
        .iter()
        .filter(|c| c.hint_only)
        .map(|c| c.name.clone())
        .collect()
}

#[test]
fn customers_csv_every_column_its_class() {
    let p = load("customers.csv");
    assert_eq!(p.format, DatasetFormat::Csv);
    assert_eq!(p.rows_sampled, 40);
    assert!(!p.truncated);
    let want = [
        ("card_number", DataClass::PaymentCard),
        ("date_of_birth", DataClass::DateOfBirth),
        ("email", DataClass::Email),
        ("first_name", DataClass::PersonName),
        ("iban", DataClass::Iban),
        ("last_login_ip", DataClass::IpAddress),
        ("nino", DataClass::UkNino),
        ("phone", DataClass::Phone),
        ("ssn", DataClass::UsSsn),
        ("surname", DataClass::PersonName),
    ];
    let want: Vec<(String, DataClass)> = want.iter().map(|(c, d)| ((*c).to_owned(), *d)).collect();
    assert_eq!(flagged(&p), want);
    assert_eq!(hint_only(&p), ["passport_no"]);
    let email = p.columns.iter().find(|c| c.name == "email").unwrap();
    let d = &email.detections[0];
    assert_eq!((d.hits, d.hit_ratio, d.first_line), (40, 1.0, Some(2)));
    assert!(d.examples.len() == 3 && d.examples.iter().all(|e| e.contains("***@")));
    // Nothing raw leaves: no example contains a full value of the file.
    let raw = std::fs::read_to_string(fixture("customers.csv")).unwrap();
    for c in &p.columns {
        for d in &c.detections {
            for e in &d.examples {
                assert!(e.len() < 8 || !raw.contains(e.as_str()), "{e} is raw");
            }
        }
    }
}

#[test]
fn bare_name_column_counts_next_to_emails() {
    let p = load("contacts.tsv");
    assert_eq!(p.format, DatasetFormat::Tsv);
    assert_eq!(
        flagged(&p),
        [
            ("email".to_owned(), DataClass::Email),
            ("name".to_owned(), DataClass::PersonName)
        ]
    );
}

#[test]
fn json_lines_key_paths_are_columns() {
    let p = load("events.jsonl");
    assert_eq!(p.format, DatasetFormat::JsonLines);
    assert_eq!(
        flagged(&p),
        [
            ("user.email".to_owned(), DataClass::Email),
            ("user.ip".to_owned(), DataClass::IpAddress),
            ("user.mobile".to_owned(), DataClass::Phone),
        ]
    );
}

#[test]
fn parquet_by_name_with_row_groups_and_secrets() {
    let p = load("customers.parquet");
    assert_eq!(p.format, DatasetFormat::Parquet);
    assert_eq!((p.rows_sampled, p.rows_total), (40, Some(40)));
    assert_eq!(
        flagged(&p),
        [
            ("api_token".to_owned(), DataClass::Secret),
            ("birth_date".to_owned(), DataClass::DateOfBirth),
            ("card".to_owned(), DataClass::PaymentCard),
            ("email".to_owned(), DataClass::Email),
            ("full_name".to_owned(), DataClass::PersonName),
            ("phone_number".to_owned(), DataClass::Phone),
        ]
    );
}

#[test]
fn parquet_sampling_reads_only_some_row_groups() {
    // Four row groups of ten rows; a 15-row budget reads two of them.
    let opts = SampleOptions {
        max_rows: 15,
        ..SampleOptions::default()
    };
    let p = profile_path(&fixture("customers.parquet"), &opts).unwrap();
    assert_eq!(p.rows_sampled, 15);
    assert!(p.truncated);
    let size = std::fs::metadata(fixture("customers.parquet"))
        .unwrap()
        .len();
    assert!(p.bytes_read < size, "{} of {size}", p.bytes_read);
}

#[test]
fn text_and_notebooks_are_free_text() {
    let p = load("support_tickets.txt");
    let got: Vec<DataClass> = flagged(&p).into_iter().map(|(_, d)| d).collect();
    assert_eq!(
        got,
        [
            DataClass::Iban,
            DataClass::PaymentCard,
            DataClass::Phone,
            DataClass::Email,
            DataClass::DateOfBirth
        ]
        .iter()
        .copied()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
    );
    let nb = load("analysis.ipynb");
    assert_eq!(nb.format, DatasetFormat::Notebook);
    assert_eq!(
        flagged(&nb),
        [
            ("outputs".to_owned(), DataClass::Email),
            ("outputs".to_owned(), DataClass::UsSsn)
        ]
    );
}

#[test]
fn masked_columns_are_flagged_by_name() {
    let p = load("masked.csv");
    assert!(flagged(&p).is_empty());
    assert_eq!(hint_only(&p), ["email", "ssn", "passport", "gender"]);
}

#[test]
fn counts_and_codes_under_personal_names_are_not_hidden_personal_data() {
    // The Ames housing data: `3SsnPorch` is porch area, `Street` the paving.
    let csv = b"Id,3SsnPorch,Street,Gender\n1,0,Pave,F\n2,153,Grvl,M\n3,0,Pave,F\n";
    let p = profile("train.csv", csv, &SampleOptions::default()).unwrap();
    assert_eq!(hint_only(&p), ["Gender"], "{p:?}");
    // Masked values are long enough to be what the name says.
    let masked = b"ssn,street\n***-**-1234,** Elm Street\n***-**-9876,*** Oak Avenue\n";
    let p = profile("masked.csv", masked, &SampleOptions::default()).unwrap();
    assert_eq!(hint_only(&p), ["ssn", "street"], "{p:?}");
}

#[test]
fn benign_datasets_are_clean() {
    for name in [
        "benign_features.csv",
        "benign_runs.jsonl",
        "benign_items.parquet",
    ] {
        let p = load(name);
        assert!(
            !p.is_sensitive(),
            "{name}: {:?} {:?}",
            flagged(&p),
            hint_only(&p)
        );
        assert!(p.rows_sampled >= 100, "{name}");
    }
}

#[test]
fn row_and_byte_budgets_truncate_text_formats() {
    let opts = SampleOptions {
        max_rows: 5,
        ..SampleOptions::default()
    };
    let p = profile_path(&fixture("customers.csv"), &opts).unwrap();
    assert_eq!(p.rows_sampled, 5);
    assert!(p.truncated);
    let bytes = std::fs::read(fixture("events.jsonl")).unwrap();
    let opts = SampleOptions {
        max_bytes: 1000,
        ..SampleOptions::default()
    };
    let p = profile("events.jsonl", &bytes, &opts).unwrap();
    assert!(p.truncated && p.bytes_read == 1000 && p.rows_sampled > 0 && p.rows_sampled < 25);
    assert!(
        p.notes.is_empty(),
        "the cut last line is dropped, not reported: {:?}",
        p.notes
    );
}

#[test]
fn errors_name_the_file() {
    let e = profile(
        "weird.bin",
        b"\x00\x01\x02binary",
        &SampleOptions::default(),
    )
    .unwrap_err();
    assert!(
        e.to_string().starts_with("weird.bin: binary content"),
        "{e}"
    );
    let e = profile(
        "cut.parquet",
        b"PAR1\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
        &SampleOptions::default(),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("cut.parquet: not a readable Parquet file"),
        "{e}"
    );
    let e = profile_path(Path::new("/nonexistent/x.csv"), &SampleOptions::default()).unwrap_err();
    assert!(
        e.to_string().starts_with("/nonexistent/x.csv: cannot read"),
        "{e}"
    );
}

fn scan(name: &str, bytes: &[u8]) -> Vec<aisec_core::Finding> {
    let scanners: Vec<Box<dyn Scanner>> = vec![Box::new(DataScanner)];
    let limits = Limits::default();
    let ctx = ScanContext::new(&limits, &scanners);
    let file = FileInput::on_disk(name, Path::new(name), bytes);
    ctx.run(&file)
}

#[test]
fn scanner_reports_one_finding_per_column_and_kind() {
    let bytes = std::fs::read(fixture("customers.csv")).unwrap();
    let findings = scan("customers.csv", &bytes);
    assert_eq!(findings.len(), 11, "{findings:#?}");
    let email = findings
        .iter()
        .find(|f| f.rule_id == "AISEC-DATA-001")
        .unwrap();
    assert_eq!(email.location.line, Some(2));
    assert!(
        email.message.contains("40 of 40 sampled values (100.0%)"),
        "{}",
        email.message
    );
    assert!(email.evidence.as_deref().unwrap().contains("***@"));
    assert!(findings.iter().any(|f| f.rule_id == "AISEC-DATA-010"));
}

#[test]
fn scanner_picks_parquet_by_magic_and_skips_text_secrets() {
    let bytes = std::fs::read(fixture("customers.parquet")).unwrap();
    let findings = scan("export.bin", &bytes);
    assert!(
        findings.iter().any(|f| f.rule_id == "AISEC-DATA-009"),
        "{findings:#?}"
    );
    let txt = std::fs::read(fixture("support_tickets.txt")).unwrap();
    assert!(scan("support_tickets.txt", &txt).is_empty());
    let key = concat!("ghp_", "R8d2Xq7LmN4pZ9vT1cW6yB3kH5jF0sGaE2uQ");
    let csv = format!("id,token\n1,{key}\n2,{key}\n");
    assert!(
        scan("t.csv", csv.as_bytes())
            .iter()
            .all(|f| f.rule_id != "AISEC-DATA-009")
    );
    for name in [
        "benign_features.csv",
        "benign_runs.jsonl",
        "benign_items.parquet",
    ] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        assert!(scan(name, &bytes).is_empty(), "{name}");
    }
}

/// Found by fuzzing: a timestamp chrono cannot place made `Field`'s Display
/// panic inside the parquet crate. Dates are now formatted here.
#[test]
fn out_of_range_parquet_timestamps_do_not_panic() {
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/regressions/timestamp_out_of_range.parquet"),
    )
    .unwrap();
    // The reader catches decoder panics; this hook sees them even so.
    static PANICKED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {
        PANICKED.store(true, std::sync::atomic::Ordering::SeqCst)
    }));
    let outcome = profile("t.parquet", &bytes, &SampleOptions::default());
    std::panic::set_hook(hook);
    assert!(
        !PANICKED.load(std::sync::atomic::Ordering::SeqCst),
        "the decoder panicked"
    );
    assert!(outcome.is_ok_and(|p| p.rows_sampled > 0));
}

/// Found by fuzzing: a footer on which parquet's thrift metadata decoder
/// panics (an unwrap in its column metadata reader). The panic is the
/// parquet crate's; the reader contains it and names the file.
#[test]
fn a_footer_that_panics_the_metadata_decoder_is_an_error() {
    let raw = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions/footer_decoder_panic.bin"),
    )
    .unwrap();
    let mut wrapped = b"PAR1".to_vec();
    wrapped.extend_from_slice(&raw);
    wrapped.extend_from_slice(b"PAR1");
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = std::panic::catch_unwind(|| {
        let opts = SampleOptions::default();
        (
            profile("x.parquet", &wrapped, &opts).map(|_| ()),
            profile("d.parquet", &raw, &opts).map(|_| ()),
        )
    });
    std::panic::set_hook(hook);
    // Under its own name the bytes may be read as text: any answer but a panic.
    let (wrapped, _as_named) = outcome.expect("profile must not panic");
    let err = wrapped
        .expect_err("a broken footer is an error")
        .to_string();
    assert!(err.contains("x.parquet") && err.contains("footer"), "{err}");
}

/// A notebook of saved outputs: `cells` is a list of output texts, one cell each.
fn notebook(outputs: &[&str]) -> Vec<u8> {
    let cells: Vec<serde_json::Value> = outputs
        .iter()
        .map(|o| {
            serde_json::json!({
                "cell_type": "code",
                "source": ["df.head()"],
                "metadata": {},
                "outputs": [{"output_type": "stream", "name": "stdout", "text": [o]}],
            })
        })
        .collect();
    serde_json::to_vec_pretty(&serde_json::json!({"nbformat": 4, "metadata": {}, "cells": cells}))
        .unwrap()
}

#[test]
fn notebook_outputs_get_every_dataset_detector() {
    // An IBAN was reported by nobody while AISEC-SEC-019 owned notebooks.
    let nb = notebook(&[
        "nothing here",
        "0  Ann  GB82 WEST 1234 5698 7654 32\n1  Bob  DE89 3704 0044 0532 0130 00",
        "card 4111 1111 1111 1111, ssn 123-45-6789",
    ]);
    let f = scan("nb/analysis.ipynb", &nb);
    let got: Vec<(&str, &str)> = f
        .iter()
        .map(|f| {
            (
                f.rule_id.as_str(),
                f.message.split(", e.g.").next().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "AISEC-DATA-012",
                "the saved output of cell 2 shows 2 IBANs (bank account numbers)"
            ),
            (
                "AISEC-DATA-012",
                "the saved output of cell 3 shows 1 payment card numbers"
            ),
            (
                "AISEC-DATA-012",
                "the saved output of cell 3 shows 1 US social security numbers"
            ),
        ],
        "{f:#?}"
    );
    assert!(f.iter().all(|f| f.severity == aisec_core::Severity::High));
    let src = String::from_utf8(nb).unwrap();
    let line = src.lines().position(|l| l.contains("GB82")).unwrap() as u32 + 1;
    assert_eq!(f[0].location.line, Some(line));
    let json = serde_json::to_string(&f).unwrap();
    for raw in [
        "GB82 WEST 1234 5698 7654 32",
        "4111 1111 1111 1111",
        "123-45-6789",
    ] {
        assert!(!json.contains(raw), "{raw} leaked: {json}");
    }
}

#[test]
fn notebook_emails_count_from_a_table_and_skip_documentation_domains() {
    let nb = std::fs::read(fixture("analysis.ipynb")).unwrap();
    let f = scan("analysis.ipynb", &nb);
    let ids: Vec<&str> = f.iter().map(|f| f.rule_id.as_str()).collect();
    assert_eq!(ids, ["AISEC-DATA-012", "AISEC-DATA-012"], "{f:#?}");
    assert!(
        f[0].message.contains("cell 1 shows 5 e-mail addresses"),
        "{}",
        f[0].message
    );
    assert!(
        !serde_json::to_string(&f)
            .unwrap()
            .contains("ahmed89@corp-mail.net")
    );
    // Two addresses are an author and a maintainer; documentation domains are nobody.
    let few = notebook(&[
        "by ann@acme.io and bob@acme.io",
        "a@example.com b@example.org c@x.example.com",
    ]);
    assert!(scan("few.ipynb", &few).is_empty());
    // Not a notebook: nothing (the hygiene and secrets scanners speak of broken JSON).
    assert!(scan("broken.ipynb", b"{not json").is_empty());
}
