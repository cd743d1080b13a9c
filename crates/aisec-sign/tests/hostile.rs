//! Hostile bundles never panic the verifier; they fail with an error.

use aisec_sign::{PublicKey, VerifyOptions, verify_bundle};
use proptest::prelude::*;

fn key() -> PublicKey {
    PublicKey::from_pem_file(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/shared/model-signing/samples/p256-files/pub.pem"
    )))
    .unwrap()
}

fn sample_bundle() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/shared/model-signing/samples/p256-files/model.sig"
    ))
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_are_an_error(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let dir = tempfile::tempdir().unwrap();
        prop_assert!(verify_bundle(dir.path(), &bytes, None, &key(), &VerifyOptions::default()).is_err());
    }

    #[test]
    fn mutated_sample_bundles_never_panic(pos in 0usize..1500, byte in any::<u8>()) {
        let mut b = sample_bundle();
        let at = pos % b.len();
        let dir = tempfile::tempdir().unwrap();
        b[at] = byte;
        // The empty directory never matches the signed model, so any outcome
        // must be an error; the point is that it is returned, not raised.
        prop_assert!(verify_bundle(dir.path(), &b, None, &key(), &VerifyOptions::default()).is_err());
    }
}

#[test]
fn statement_parser_survives_odd_json() {
    use aisec_sign::Statement;
    for text in [
        "null",
        "[]",
        "{}",
        r#"{"_type":1}"#,
        r#"{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://model_signing/signature/v1.0","subject":[]}"#,
        r#"{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://model_signing/signature/v1.0","subject":[{"name":"m","digest":{"sha256":"zz"}}]}"#,
        r#"{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://model_signing/signature/v1.0","subject":[{"name":"m","digest":{"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}],"predicate":{"serialization":{"method":"shards","hash_type":"sha256","shard_size":1e300},"resources":[]}}"#,
    ] {
        assert!(Statement::parse(text.as_bytes()).is_err(), "{text}");
    }
}
