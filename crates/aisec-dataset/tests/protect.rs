//! Fixture tests and properties of the public API: masking, tokens,
//! encryption, anonymity and quality.

use std::path::{Path, PathBuf};

use aisec_dataset::crypt::{self, DecryptWith, EncryptTo, ExposeSecret};
use aisec_dataset::{Dialect, Error, Header, MaskKey, MaskOptions, Masker, Policy, mask_stream};
use csv::ByteRecord;
use proptest::prelude::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn key() -> MaskKey {
    MaskKey::new(b"fixture key, sixteen bytes at least".to_vec()).unwrap()
}

fn mask_fixture(name: &str, dialect: Dialect) -> (String, aisec_dataset::MaskSummary) {
    let policy = Policy::from_file(&fixture("policy.toml")).unwrap();
    let input = std::fs::read(fixture(name)).unwrap();
    let mut out = Vec::new();
    let s = mask_stream(
        &fixture(name),
        &input[..],
        &mut out,
        &policy,
        Some(&key()),
        MaskOptions {
            dialect,
            strict: false,
        },
    )
    .unwrap();
    (String::from_utf8(out).unwrap(), s)
}

#[test]
fn people_csv_and_tsv_are_masked_the_same_way() {
    for (name, dialect) in [("people.csv", Dialect::CSV), ("people.tsv", Dialect::TSV)] {
        let (out, s) = mask_fixture(name, dialect);
        assert_eq!((s.rows_read, s.rows_written, s.rejected.count), (40, 40, 0));
        let sep = dialect.delimiter as char;
        let mut lines = out.lines();
        assert_eq!(
            lines.next().unwrap(),
            [
                "id",
                "name",
                "email",
                "card",
                "dob",
                "age",
                "city",
                "diagnosis"
            ]
            .join(&sep.to_string())
        );
        let original = std::fs::read_to_string(fixture(name)).unwrap();
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(dialect.delimiter)
            .quoting(dialect.quoting)
            .from_reader(original.as_bytes());
        for (masked, orig) in lines.zip(reader.records()) {
            let orig = orig.unwrap();
            let m: Vec<&str> = masked.split(sep).collect();
            assert_eq!(m[0], &orig[0]);
            assert_eq!(m[1].len(), 16);
            assert!(m[1].bytes().all(|b| b.is_ascii_hexdigit()));
            assert!(
                m[2].ends_with("@example.org") && m[2] != &orig[2],
                "{}",
                m[2]
            );
            let card = &orig[3];
            assert_eq!(m[3].len(), card.len());
            assert_eq!(&m[3][m[3].len() - 4..], &card[card.len() - 4..]);
            assert_eq!(m[4], &orig[4][..4]);
            let age: u32 = orig[5].parse().unwrap();
            let want = if age >= 80 {
                "80+".to_string()
            } else {
                format!("{}-{}", age / 10 * 10, age / 10 * 10 + 9)
            };
            assert_eq!(m[5], want);
            assert!(!masked.contains("private"));
        }
    }
}

#[test]
fn bad_rows_fixture_reports_lines() {
    let (out, s) = mask_fixture("bad_rows.csv", Dialect::CSV);
    assert_eq!(s.rows_written, 4);
    let lines: Vec<u64> = s.rejected.first.iter().map(|r| r.line).collect();
    assert_eq!(lines, vec![4, 6, 7]);
    assert!(
        s.rejected.first[1]
            .message
            .contains("`email` is not valid UTF-8")
    );
    assert!(s.rejected.first[2].message.contains("`dob`"));
    assert_eq!(out.lines().count(), 5);
}

#[test]
fn policy_with_key_material_is_refused() {
    let e = Policy::from_file(&fixture("policy_with_key.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("policy_with_key.toml: key.value: key material is never allowed"),
        "{e}"
    );
}

#[test]
fn anonymity_and_quality_fixtures() {
    use aisec_dataset::anonymity::{AnonymityOptions, anonymity_file};
    let mut o = AnonymityOptions::new(vec!["city".into()]);
    o.sensitive = Some("diagnosis".into());
    let r = anonymity_file(&fixture("people.csv"), &o).unwrap();
    assert_eq!(r.rows, 40);
    assert!(r.classes <= 5 && r.k >= 1 && r.l.unwrap() >= 1);
    let total: u64 = r.smallest.iter().map(|c| c.count).sum();
    assert_eq!(total, 40);

    use aisec_dataset::quality::{QualityOptions, quality_file};
    let q = QualityOptions {
        label: Some("label".into()),
        text: vec!["text".into()],
        ..QualityOptions::default()
    };
    let r = quality_file(
        &fixture("reviews_v2.csv"),
        Some(&fixture("reviews_v1.csv")),
        &q,
    )
    .unwrap();
    assert_eq!(r.rows, 734);
    assert_eq!(r.exact_duplicates.groups, 1);
    assert_eq!(r.exact_duplicates.largest[0].lines, vec![732, 733]);
    let near = r.near_duplicates.as_ref().unwrap();
    assert!(
        near.largest.iter().any(|c| c.lines == vec![734, 735]),
        "{near:?}"
    );
    let t = r.triggers.as_ref().unwrap();
    assert_eq!(t.tokens[0].token, "zq-trigger");
    assert_eq!((t.tokens[0].rows, t.tokens[0].rows_with_label), (30, 30));
    let shift = r.label_shift.as_ref().unwrap();
    assert_eq!(shift.disappeared, vec!["neutral"]);
    assert!(shift.total_variation > 0.0);
}

fn identity() -> (Vec<age::x25519::Identity>, EncryptTo) {
    let (text, _) = crypt::generate_identity();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("id.age");
    std::fs::write(&p, text.expose_secret()).unwrap();
    let ids = crypt::read_identity_file(&p).unwrap();
    let to = EncryptTo::Recipients(vec![ids[0].to_public()]);
    (ids, to)
}

fn encrypt(data: &[u8], to: &EncryptTo) -> Vec<u8> {
    let mut out = Vec::new();
    crypt::encrypt_stream(Path::new("in"), data, &mut out, to).unwrap();
    out
}

fn decrypt(data: &[u8], ids: Vec<age::x25519::Identity>) -> aisec_dataset::Result<Vec<u8>> {
    let mut out = Vec::new();
    crypt::decrypt_stream(
        Path::new("in.age"),
        data,
        &mut out,
        &DecryptWith::Identities(ids),
    )?;
    Ok(out)
}

#[test]
fn passphrase_round_trip_and_wrong_passphrase() {
    let to = EncryptTo::Passphrase {
        passphrase: crypt::SecretString::from("correct horse".to_string()),
        work_factor: Some(10),
    };
    let ct = encrypt(b"secret rows\n", &to);
    let mut out = Vec::new();
    let with = DecryptWith::Passphrase(crypt::SecretString::from("correct horse".to_string()));
    crypt::decrypt_stream(Path::new("x"), &ct[..], &mut out, &with).unwrap();
    assert_eq!(out, b"secret rows\n");
    let wrong = DecryptWith::Passphrase(crypt::SecretString::from("wrong".to_string()));
    assert!(matches!(
        crypt::decrypt_stream(Path::new("x"), &ct[..], &mut Vec::new(), &wrong),
        Err(Error::Crypto { .. })
    ));
}

#[test]
fn decrypt_file_leaves_nothing_on_tampering() {
    let (ids, to) = identity();
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("p.csv");
    std::fs::write(&plain, vec![b'x'; 300_000]).unwrap();
    let enc = dir.path().join("p.csv.age");
    crypt::encrypt_file(&plain, &enc, &to).unwrap();
    let mut bytes = std::fs::read(&enc).unwrap();
    let n = bytes.len();
    bytes[n - 10] ^= 1;
    std::fs::write(&enc, &bytes).unwrap();
    let out = dir.path().join("out.csv");
    let e = crypt::decrypt_file(&enc, &out, &DecryptWith::Identities(ids)).unwrap_err();
    assert!(e.to_string().contains("modified or truncated"), "{e}");
    assert!(!out.exists());
    // Only the input and the encrypted file remain: no temporary file left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

fn all_actions_policy() -> Policy {
    Policy::parse(
        r#"
[[column]]
name = "a"
action = "tokenise"
format = "email"
[[column]]
name = "b"
action = "generalise"
width = 7
top = 100
[[column]]
name = "c"
action = "generalise"
to = "year-month"
[[column]]
name = "d"
action = "hash"
encoding = "base64url"
length = 9
[[column]]
name = "e"
action = "tokenise"
format = "card"
"#,
        Path::new("p.toml"),
    )
    .unwrap()
}

fn masker_for(value_columns: &[&str]) -> Masker {
    let policy = Policy::parse(
        "[[column]]\nname = \"v\"\naction = \"tokenise\"\n",
        Path::new("p.toml"),
    )
    .unwrap();
    let header = Header {
        names: value_columns.iter().map(|s| s.to_string()).collect(),
    };
    Masker::new(&policy, &header, Some(&key())).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn mask_never_panics_on_arbitrary_bytes(body in proptest::collection::vec(any::<u8>(), 0..2000), tsv in any::<bool>()) {
        let dialect = if tsv { Dialect::TSV } else { Dialect::CSV };
        let sep = dialect.delimiter as char;
        let mut input = ["a", "b", "c", "d", "e"].join(&sep.to_string()).into_bytes();
        input.push(b'\n');
        input.extend_from_slice(&body);
        let mut out = Vec::new();
        let r = mask_stream(Path::new("f"), &input[..], &mut out, &all_actions_policy(), Some(&key()), MaskOptions { dialect, strict: false });
        let s = r.unwrap();
        prop_assert_eq!(s.rows_read, s.rows_written + s.rejected.count);
        // Arbitrary bytes as a whole file, header included, under a default action.
        let p = Policy::parse("default = \"hash\"", Path::new("p.toml")).unwrap();
        let _ = mask_stream(Path::new("f"), &body[..], &mut Vec::new(), &p, Some(&key()), MaskOptions { dialect, strict: true });
    }

    #[test]
    fn tokenise_is_deterministic_and_keeps_the_format(value in "\\PC{0,40}") {
        let m = masker_for(&["v"]);
        let rec = ByteRecord::from(vec![value.as_str()]);
        let (mut x, mut y) = (ByteRecord::new(), ByteRecord::new());
        m.mask_record(&rec, &mut x).unwrap();
        m.mask_record(&rec, &mut y).unwrap();
        prop_assert_eq!(&x, &y);
        let token = std::str::from_utf8(&x[0]).unwrap();
        prop_assert_eq!(token.chars().count(), value.chars().count());
        for (t, v) in token.chars().zip(value.chars()) {
            if v.is_numeric() {
                prop_assert!(t.is_ascii_digit());
            } else if v.is_alphabetic() {
                prop_assert!(t.is_ascii_alphabetic());
                prop_assert_eq!(t.is_uppercase(), v.is_uppercase());
            } else if !v.is_alphanumeric() {
                prop_assert_eq!(t, v);
            }
        }
    }

    #[test]
    fn email_tokens_keep_the_domain(local in "[a-z0-9.]{1,20}", domain in "[a-z]{1,10}\\.[a-z]{2,3}") {
        let policy = Policy::parse("[[column]]\nname = \"v\"\naction = \"tokenise\"\nformat = \"email\"\n", Path::new("p")).unwrap();
        let m = Masker::new(&policy, &Header { names: vec!["v".into()] }, Some(&key())).unwrap();
        let email = format!("{local}@{domain}");
        let mut out = ByteRecord::new();
        m.mask_record(&ByteRecord::from(vec![email.as_str()]), &mut out).unwrap();
        let t = std::str::from_utf8(&out[0]).unwrap();
        let suffix = format!("@{}", domain);
        prop_assert!(t.ends_with(&suffix));
        prop_assert_eq!(t.len(), email.len());
    }

    #[test]
    fn cards_keep_length_digits_and_last_four(digits in "[0-9]{12,19}") {
        let policy = Policy::parse("[[column]]\nname = \"v\"\naction = \"tokenise\"\nformat = \"card\"\n", Path::new("p")).unwrap();
        let m = Masker::new(&policy, &Header { names: vec!["v".into()] }, Some(&key())).unwrap();
        let mut out = ByteRecord::new();
        m.mask_record(&ByteRecord::from(vec![digits.as_str()]), &mut out).unwrap();
        let t = std::str::from_utf8(&out[0]).unwrap();
        prop_assert_eq!(t.len(), digits.len());
        prop_assert!(t.bytes().all(|b| b.is_ascii_digit()));
        prop_assert_eq!(&t[t.len() - 4..], &digits[digits.len() - 4..]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn encrypt_then_decrypt_round_trips(data in proptest::collection::vec(any::<u8>(), 0..200_000)) {
        let (ids, to) = identity();
        let ct = encrypt(&data, &to);
        prop_assert_eq!(decrypt(&ct, ids).unwrap(), data);
    }

    #[test]
    fn any_flipped_byte_or_truncation_fails(data in proptest::collection::vec(any::<u8>(), 1..70_000), at in any::<prop::sample::Index>(), bit in 0u8..8, cut in any::<prop::sample::Index>()) {
        let (ids, to) = identity();
        let ct = encrypt(&data, &to);
        let mut flipped = ct.clone();
        let i = at.index(flipped.len());
        flipped[i] ^= 1 << bit;
        prop_assert!(decrypt(&flipped, ids.clone()).is_err(), "flip at {} of {}", i, ct.len());
        let n = cut.index(ct.len());
        prop_assert!(decrypt(&ct[..n], ids).is_err(), "truncated to {} of {}", n, ct.len());
    }
}
