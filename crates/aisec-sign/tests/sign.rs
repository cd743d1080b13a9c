//! aisec signs, aisec verifies; the signature has the reference's shape; the
//! scan gate finds, verifies and reports.

use std::fs;
use std::path::{Path, PathBuf};

use aisec_sign::{
    Error, HashAlgorithm, Serialization, SignOptions, VerifyOptions, find_signature, sign,
    sign_to_file, verify, verify_for_gate,
};

fn keys() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keys")).to_path_buf()
}

fn model(dir: &Path) -> PathBuf {
    let m = dir.join("my-model");
    fs::create_dir_all(m.join("tokenizer")).unwrap();
    fs::create_dir_all(m.join(".git")).unwrap();
    fs::write(m.join(".git/HEAD"), "ref: x\n").unwrap();
    fs::write(m.join("config.json"), r#"{"model_type":"bert"}"#).unwrap();
    fs::write(m.join("tokenizer/vocab.txt"), "a\nb\n").unwrap();
    fs::write(m.join("tokenizer.json"), "{}").unwrap();
    fs::write(m.join("empty.bin"), b"").unwrap();
    fs::write(
        m.join("weights.bin"),
        (0..5000u32).map(|i| i as u8).collect::<Vec<_>>(),
    )
    .unwrap();
    m
}

#[test]
fn sign_then_verify_every_serialization_and_curve() {
    let tmp = tempfile::tempdir().unwrap();
    let m = model(tmp.path());
    let sers = [
        Serialization::Files {
            hash: HashAlgorithm::Sha256,
        },
        Serialization::Files {
            hash: HashAlgorithm::Blake2b,
        },
        Serialization::Files {
            hash: HashAlgorithm::Blake3,
        },
        Serialization::Shards {
            hash: HashAlgorithm::Sha256,
            shard_size: 1000,
        },
        Serialization::Shards {
            hash: HashAlgorithm::Blake2b,
            shard_size: 64,
        },
    ];
    for (private, public) in [
        ("p256-sec1.pem", "p256-pub.pem"),
        ("p384-pkcs8.pem", "p384-pub.pem"),
    ] {
        for ser in sers {
            let sig = tmp.path().join("model.sig");
            let opts = SignOptions {
                serialization: ser,
                ..SignOptions::default()
            };
            let signed = sign_to_file(&m, &keys().join(private), &sig, &opts).unwrap();
            assert_eq!(signed.statement.subject_name, "my-model");
            let v = verify(&m, &sig, &keys().join(public), &VerifyOptions::default())
                .unwrap_or_else(|e| panic!("{ser:?} {private}: {e}"));
            assert_eq!(v.serialization, ser);
            assert_eq!(v.root_digest, hex::encode(signed.statement.root_digest));
            assert!(v.warnings.is_empty(), "{:?}", v.warnings);
        }
    }
}

#[test]
fn signed_statement_has_the_reference_shape() {
    let tmp = tempfile::tempdir().unwrap();
    let m = model(tmp.path());
    let signed = sign(&m, &keys().join("p256-sec1.pem"), &SignOptions::default()).unwrap();
    let bundle: serde_json::Value = serde_json::from_str(&signed.bundle_json).unwrap();
    let keys_of =
        |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        bundle["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    assert_eq!(
        keys_of(&bundle["verificationMaterial"]["publicKey"]),
        vec!["hint"]
    );
    assert_eq!(
        bundle["verificationMaterial"]["tlogEntries"],
        serde_json::json!([])
    );
    assert_eq!(bundle["dsseEnvelope"]["signatures"][0]["keyid"], "");
    // The hint is sha256 of the openssl-written public key file.
    let pem = fs::read(keys().join("p256-pub.pem")).unwrap();
    use sha2::Digest;
    assert_eq!(
        bundle["verificationMaterial"]["publicKey"]["hint"],
        hex::encode(sha2::Sha256::digest(&pem))
    );

    let st = &signed.statement;
    let names: Vec<&str> = st.resources.iter().map(|r| r.name.as_str()).collect();
    // Component order, .git ignored, empty file listed in files mode.
    assert_eq!(
        names,
        vec![
            "config.json",
            "empty.bin",
            "tokenizer/vocab.txt",
            "tokenizer.json",
            "weights.bin"
        ]
    );
    assert_eq!(
        st.ignore_paths,
        vec![".git", ".gitattributes", ".github", ".gitignore"]
    );
    let json: serde_json::Value = serde_json::from_slice(&st.to_json()).unwrap();
    assert_eq!(json["predicate"]["serialization"]["method"], "files");
    assert_eq!(json["predicate"]["serialization"]["allow_symlinks"], false);
    assert!(
        json["predicate"]["serialization"]
            .get("shard_size")
            .is_none()
    );
    assert_eq!(
        json["predicate"]["resources"][1]["digest"],
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

#[test]
fn shard_mode_writes_integer_shard_size_and_skips_empty_files() {
    let tmp = tempfile::tempdir().unwrap();
    let m = model(tmp.path());
    let opts = SignOptions {
        serialization: Serialization::Shards {
            hash: HashAlgorithm::Sha256,
            shard_size: 2048,
        },
        ..SignOptions::default()
    };
    let signed = sign(&m, &keys().join("p384-pkcs8.pem"), &opts).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&signed.statement.to_json()).unwrap();
    assert_eq!(
        json["predicate"]["serialization"]["shard_size"],
        serde_json::json!(2048)
    );
    let names: Vec<&str> = signed
        .statement
        .resources
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(
        names,
        vec![
            "config.json:0:21",
            "tokenizer/vocab.txt:0:4",
            "tokenizer.json:0:2",
            "weights.bin:0:2048",
            "weights.bin:2048:4096",
            "weights.bin:4096:5000"
        ]
    );
    assert!(
        signed
            .statement
            .resources
            .iter()
            .all(|r| r.algorithm == "sha256-sharded-2048")
    );
}

#[test]
fn signature_inside_the_model_is_ignored_and_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let m = model(tmp.path());
    let sig = m.join("model.sig");
    let signed = sign_to_file(
        &m,
        &keys().join("p256-sec1.pem"),
        &sig,
        &SignOptions::default(),
    )
    .unwrap();
    assert!(
        signed
            .statement
            .ignore_paths
            .contains(&"model.sig".to_owned())
    );
    verify(
        &m,
        &sig,
        &keys().join("p256-pub.pem"),
        &VerifyOptions::default(),
    )
    .unwrap();
    // Re-signing over an existing signature gives the same manifest.
    let again = sign_to_file(
        &m,
        &keys().join("p256-sec1.pem"),
        &sig,
        &SignOptions::default(),
    )
    .unwrap();
    assert_eq!(again.statement.root_digest, signed.statement.root_digest);
}

#[test]
fn ignore_paths_leave_out_a_subtree() {
    let tmp = tempfile::tempdir().unwrap();
    let m = model(tmp.path());
    let opts = SignOptions {
        ignore_paths: vec!["tokenizer".into()],
        ..SignOptions::default()
    };
    let signed = sign(&m, &keys().join("p256-sec1.pem"), &opts).unwrap();
    assert!(
        signed
            .statement
            .resources
            .iter()
            .all(|r| !r.name.starts_with("tokenizer/"))
    );
    assert!(
        signed
            .statement
            .resources
            .iter()
            .any(|r| r.name == "tokenizer.json")
    );
    let bad = SignOptions {
        ignore_paths: vec!["../x".into()],
        ..SignOptions::default()
    };
    assert!(matches!(
        sign(&m, &keys().join("p256-sec1.pem"), &bad),
        Err(Error::InvalidOption(_))
    ));
}

#[test]
fn single_file_model() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("model.safetensors");
    fs::write(&f, b"weights").unwrap();
    let sig = tmp.path().join("model.safetensors.sig");
    let signed = sign_to_file(
        &f,
        &keys().join("p256-sec1.pem"),
        &sig,
        &SignOptions::default(),
    )
    .unwrap();
    assert_eq!(signed.statement.resources[0].name, ".");
    assert_eq!(signed.statement.subject_name, "model.safetensors");
    verify(
        &f,
        &sig,
        &keys().join("p256-pub.pem"),
        &VerifyOptions::default(),
    )
    .unwrap();
    assert_eq!(find_signature(&f), Some(sig));
}

#[test]
fn bad_keys_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let m = model(tmp.path());
    let junk = tmp.path().join("junk.pem");
    fs::write(&junk, "not a key").unwrap();
    let err = sign(&m, &junk, &SignOptions::default()).unwrap_err();
    assert!(err.to_string().contains("junk.pem"), "{err}");
    let err = sign(&m, &tmp.path().join("missing.pem"), &SignOptions::default()).unwrap_err();
    assert!(err.to_string().contains("missing.pem"), "{err}");
}

#[test]
fn gate_reports_unsigned_tampered_and_passes_signed() {
    let tmp = tempfile::tempdir().unwrap();
    let m = model(tmp.path());
    let public = keys().join("p256-pub.pem");
    let fail = verify_for_gate(&m, &public).unwrap_err();
    assert_eq!(fail.rule.id, "AISEC-SIG-001");
    assert_eq!(fail.to_finding().rule_id, "AISEC-SIG-001");

    sign_to_file(
        &m,
        &keys().join("p256-sec1.pem"),
        &m.join("model.sig"),
        &SignOptions::default(),
    )
    .unwrap();
    let ok = verify_for_gate(&m, &public).unwrap();
    assert_eq!(ok.name, "my-model");

    fs::write(m.join("weights.bin"), b"swapped").unwrap();
    let fail = verify_for_gate(&m, &public).unwrap_err();
    assert_eq!(fail.rule.id, "AISEC-SIG-002");
    assert!(
        fail.message.contains("changed 'weights.bin'"),
        "{}",
        fail.message
    );

    let fail = verify_for_gate(&m, &keys().join("p384-pub.pem")).unwrap_err();
    assert_eq!(fail.rule.id, "AISEC-SIG-002");
    assert!(fail.message.contains("hint"), "{}", fail.message);
}

#[test]
fn rules_are_documented() {
    for r in aisec_sign::RULES {
        assert!(r.explanation.contains("## What it finds"), "{}", r.id);
        assert!(r.explanation.contains("## Why it matters"), "{}", r.id);
        assert!(r.explanation.contains("## Remediation"), "{}", r.id);
        assert!(!r.references.is_empty());
    }
}
