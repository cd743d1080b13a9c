//! Signatures made by the reference tool (model_signing 1.1.1 and the
//! upstream 1.0.x/1.1.0 vectors) verify with aisec, and tampering with a copy
//! of a signed model fails with a message naming the file.

use std::fs;
use std::path::{Path, PathBuf};

use aisec_sign::{Error, HashAlgorithm, PublicKey, Serialization, VerifyOptions, verify};

fn samples() -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/shared/model-signing/samples"
    ))
    .to_path_buf()
}

fn check(model: &str, sig: &str, key: &str, opts: &VerifyOptions) -> aisec_sign::VerifiedModel {
    let s = samples();
    verify(&s.join(model), &s.join(sig), &s.join(key), opts)
        .unwrap_or_else(|e| panic!("{model}: {e}"))
}

#[test]
fn p256_files_verifies() {
    let v = check(
        "p256-files/model",
        "p256-files/model.sig",
        "p256-files/pub.pem",
        &VerifyOptions::default(),
    );
    assert_eq!(v.name, "model");
    assert_eq!(v.files, 5);
    assert!(v.root_digest.starts_with("80ad8c1dcecb6bd2"));
    assert_eq!(v.curve, "P-256");
    assert!(v.warnings.is_empty(), "{:?}", v.warnings);
}

#[test]
fn p256_inside_unicode_verifies_with_signature_inside_and_git_dirs() {
    let v = check(
        "p256-inside-unicode/model",
        "p256-inside-unicode/model/model.sig",
        "p256-inside-unicode/pub.pem",
        &VerifyOptions::default(),
    );
    assert!(v.root_digest.starts_with("4102e8c1bb3e3bdb"));
    assert_eq!(v.resources, 5);
    assert!(v.warnings.is_empty(), "{:?}", v.warnings);

    // A `.git/` at the top level is ignored by default: add one to a copy.
    let tmp = tempfile::tempdir().unwrap();
    let m = tmp.path().join("model");
    copy_dir(&samples().join("p256-inside-unicode/model"), &m);
    fs::create_dir_all(m.join(".git/objects")).unwrap();
    fs::write(m.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    let key = samples().join("p256-inside-unicode/pub.pem");
    verify(&m, &m.join("model.sig"), &key, &VerifyOptions::default()).unwrap();
    // ...but `sub/.gitignore` is signed: changing it fails.
    fs::write(m.join("sub/.gitignore"), "changed\n").unwrap();
    let err = verify(&m, &m.join("model.sig"), &key, &VerifyOptions::default()).unwrap_err();
    assert!(
        err.to_string().contains("changed 'sub/.gitignore'"),
        "{err}"
    );
}

#[test]
fn p256_single_file_verifies() {
    let v = check(
        "p256-single-file/model.bin",
        "p256-single-file/model.sig",
        "p256-single-file/pub.pem",
        &VerifyOptions::default(),
    );
    assert_eq!(v.name, "model.bin");
    assert_eq!(v.files, 1);
    assert!(v.root_digest.starts_with("ee78a77bcef2fb9f"));
}

#[test]
fn p384_blake2b_verifies() {
    let v = check(
        "p384-blake2b/model",
        "p384-blake2b/model.sig",
        "p384-blake2b/pub.pem",
        &VerifyOptions::default(),
    );
    assert_eq!(
        v.serialization,
        Serialization::Files {
            hash: HashAlgorithm::Blake2b
        }
    );
    assert_eq!(v.curve, "P-384");
    assert!(v.root_digest.starts_with("ec1b38f343ff6f52"));
}

#[test]
fn p384_shards_with_float_shard_size_verifies() {
    let v = check(
        "p384-shards/model",
        "p384-shards/model.sig",
        "p384-shards/pub.pem",
        &VerifyOptions::default(),
    );
    assert_eq!(
        v.serialization,
        Serialization::Shards {
            hash: HashAlgorithm::Sha256,
            shard_size: 64
        }
    );
    assert_eq!(v.resources, 7);
    // empty.bin has no shard, so three files are covered.
    assert_eq!(v.files, 3);
    assert!(v.root_digest.starts_with("874115fbdec0ff99"));
}

#[test]
fn upstream_vectors_verify_including_legacy_key_material() {
    let key = "upstream/signing-key-pub.pem";
    let v = check(
        "upstream/v1.0.0-elliptic-key/signme-1",
        "upstream/v1.0.0-elliptic-key/model.sig",
        key,
        &VerifyOptions::default(),
    );
    assert_eq!(v.name, "signme-1");
    assert!(
        v.warnings.iter().any(|w| w.contains("legacy key material")),
        "{:?}",
        v.warnings
    );

    // 1.0.1 did not record `ignore-me`; the verifier must be told.
    let opts = VerifyOptions {
        ignore_paths: vec!["ignore-me".into()],
        ..VerifyOptions::default()
    };
    let v = check(
        "upstream/v1.0.1-elliptic-key",
        "upstream/v1.0.1-elliptic-key/model.sig",
        key,
        &opts,
    );
    assert!(v.root_digest.starts_with("92745110b1ab4368"));
    let err = verify(
        &samples().join("upstream/v1.0.1-elliptic-key"),
        &samples().join("upstream/v1.0.1-elliptic-key/model.sig"),
        &samples().join(key),
        &VerifyOptions::default(),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("added (not signed) 'ignore-me'"),
        "{err}"
    );

    // 1.1.0 lists it in the signature's own ignore_paths.
    let v = check(
        "upstream/v1.1.0-elliptic-key",
        "upstream/v1.1.0-elliptic-key/model.sig",
        key,
        &VerifyOptions::default(),
    );
    assert!(v.root_digest.starts_with("92745110b1ab4368"));
    assert!(v.warnings.is_empty(), "{:?}", v.warnings);
}

#[test]
fn key_hints_are_sha256_of_the_pem_file() {
    for (key, hint) in [
        (
            "p256-files/pub.pem",
            "98533103c4f67a88ead185bd189cd40c543f43c4bee0373dd1168ef44eea3364",
        ),
        (
            "p384-shards/pub.pem",
            "14850ff2780da64168d5b3a9328c5989cf29109e8a83af0010e39ce66d0b7029",
        ),
        (
            "upstream/signing-key-pub.pem",
            "e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f57abba763df3e3f8e",
        ),
    ] {
        assert_eq!(
            PublicKey::from_pem_file(&samples().join(key))
                .unwrap()
                .hint(),
            hint,
            "{key}"
        );
    }
}

#[test]
fn wrong_key_is_named_as_a_key_mismatch() {
    let s = samples();
    let err = verify(
        &s.join("p256-files/model"),
        &s.join("p256-files/model.sig"),
        &s.join("p384-shards/pub.pem"),
        &VerifyOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::KeyMismatch { .. }), "{err}");
}

#[test]
fn forged_payload_fails_the_signature_check() {
    let s = samples();
    let text = fs::read_to_string(s.join("p256-files/model.sig")).unwrap();
    let mut bundle: serde_json::Value = serde_json::from_str(&text).unwrap();
    let payload = bundle["dsseEnvelope"]["payload"]
        .as_str()
        .unwrap()
        .to_owned();
    // Flip one character of the base64 payload (still valid base64).
    let mut chars: Vec<char> = payload.chars().collect();
    chars[40] = if chars[40] == 'A' { 'B' } else { 'A' };
    bundle["dsseEnvelope"]["payload"] = chars.into_iter().collect::<String>().into();
    let tmp = tempfile::tempdir().unwrap();
    let sig = tmp.path().join("model.sig");
    fs::write(&sig, bundle.to_string()).unwrap();
    let err = verify(
        &s.join("p256-files/model"),
        &sig,
        &s.join("p256-files/pub.pem"),
        &VerifyOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::BadSignature { .. }), "{err}");
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            fs::copy(e.path(), &dst).unwrap();
            let mut perm = fs::metadata(&dst).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perm.set_readonly(false);
            fs::set_permissions(&dst, perm).unwrap();
        }
    }
}

/// A writable copy of a sample's model directory and its signature outside.
fn tampered_copy(sample: &str) -> (tempfile::TempDir, PathBuf, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let m = tmp.path().join("model");
    copy_dir(&samples().join(sample).join("model"), &m);
    let sig = samples().join(sample).join("model.sig");
    let key = samples().join(sample).join("pub.pem");
    (tmp, m, sig, key)
}

fn fails_naming(sample: &str, tamper: impl FnOnce(&Path), needles: &[&str]) {
    let (_tmp, m, sig, key) = tampered_copy(sample);
    verify(&m, &sig, &key, &VerifyOptions::default()).expect("untouched copy verifies");
    tamper(&m);
    let err = verify(&m, &sig, &key, &VerifyOptions::default()).unwrap_err();
    assert!(matches!(err, Error::Mismatch(_)), "{err}");
    for n in needles {
        assert!(err.to_string().contains(n), "{sample}: '{err}' lacks '{n}'");
    }
}

fn flip_byte(path: &Path, at: usize) {
    let mut b = fs::read(path).unwrap();
    b[at] ^= 1;
    fs::write(path, b).unwrap();
}

#[test]
fn tamper_change_one_byte() {
    fails_naming(
        "p256-files",
        |m| flip_byte(&m.join("tokenizer/vocab.txt"), 0),
        &["changed 'tokenizer/vocab.txt'"],
    );
    fails_naming(
        "p384-blake2b",
        |m| flip_byte(&m.join("weights.bin"), 3),
        &["changed 'weights.bin'"],
    );
    // In shard mode, the byte sits in the third shard of w.bin.
    fails_naming(
        "p384-shards",
        |m| flip_byte(&m.join("w.bin"), 150),
        &["changed 'w.bin'"],
    );
}

#[test]
fn tamper_add_a_file() {
    fails_naming(
        "p256-files",
        |m| fs::write(m.join("a/evil.pkl"), b"\x80\x04.").unwrap(),
        &["added (not signed) 'a/evil.pkl'"],
    );
    fails_naming(
        "p384-shards",
        |m| fs::write(m.join("sub/new.bin"), b"x").unwrap(),
        &["added (not signed) 'sub/new.bin'"],
    );
    // An unsigned file passes when the caller asks to ignore unsigned files.
    let (_tmp, m, sig, key) = tampered_copy("p256-files");
    fs::write(m.join("extra.txt"), b"x").unwrap();
    let opts = VerifyOptions {
        ignore_unsigned_files: true,
        ..VerifyOptions::default()
    };
    verify(&m, &sig, &key, &opts).unwrap();
}

#[test]
fn tamper_remove_a_file() {
    fails_naming(
        "p256-files",
        |m| fs::remove_file(m.join("config.json")).unwrap(),
        &["removed 'config.json'"],
    );
    fails_naming(
        "p384-shards",
        |m| fs::remove_file(m.join("z.txt")).unwrap(),
        &["removed 'z.txt'"],
    );
}

#[test]
fn tamper_rename_a_file() {
    fails_naming(
        "p256-files",
        |m| fs::rename(m.join("tokenizer.json"), m.join("tokenizer2.json")).unwrap(),
        &["renamed 'tokenizer.json' -> 'tokenizer2.json'"],
    );
    fails_naming(
        "p384-shards",
        |m| fs::rename(m.join("sub/x.bin"), m.join("sub/y.bin")).unwrap(),
        &["added (not signed) 'sub/y.bin'", "removed 'sub/x.bin'"],
    );
}

#[test]
fn tamper_grow_a_sharded_file() {
    fails_naming(
        "p384-shards",
        |m| {
            let mut b = fs::read(m.join("w.bin")).unwrap();
            b.extend_from_slice(&[0u8; 100]);
            fs::write(m.join("w.bin"), b).unwrap();
        },
        &["changed 'w.bin'"],
    );
}

#[cfg(unix)]
#[test]
fn symlinks_are_refused_by_name() {
    let (_tmp, m, sig, key) = tampered_copy("p256-files");
    std::os::unix::fs::symlink("config.json", m.join("link.json")).unwrap();
    let err = verify(&m, &sig, &key, &VerifyOptions::default()).unwrap_err();
    assert!(
        matches!(err, Error::Symlink(ref p) if p == "link.json"),
        "{err}"
    );
}
