//! End-to-end tests of `aisec data mask|encrypt|decrypt|keygen|anonymity|quality`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../aisec-dataset/tests/fixtures")
        .join(name)
}

fn aisec(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_aisec"));
    c.current_dir(dir)
        .args(args)
        .env_remove("AISEC_DATA_PASSPHRASE");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run aisec")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const KEY_ENV: (&str, &str) = ("AISEC_TEST_MASK_KEY", "a test key that is long enough");

#[test]
fn mask_writes_masked_csv_and_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    let o = aisec(
        dir.path(),
        &[KEY_ENV],
        &[
            "data",
            "mask",
            fixture("people.csv").to_str().unwrap(),
            out.to_str().unwrap(),
            "--policy",
            fixture("policy.toml").to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("40 rows written"), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("id,name,email,card,dob,age,city,diagnosis\n"));
    assert!(!text.contains("private") && !text.contains("Haddad"));
    assert_eq!(text.lines().count(), 41);
    // Deterministic: the same key gives the same output.
    let out2 = dir.path().join("out2.csv");
    let o = aisec(
        dir.path(),
        &[KEY_ENV],
        &[
            "data",
            "mask",
            fixture("people.csv").to_str().unwrap(),
            out2.to_str().unwrap(),
            "--policy",
            fixture("policy.toml").to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&out2).unwrap());
}

#[test]
fn mask_key_file_overrides_and_tsv_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("mask.key");
    let o = aisec(
        dir.path(),
        &[],
        &["data", "keygen", "--mask", key.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&key).unwrap().trim().len(), 64);
    // Never overwritten.
    let o = aisec(
        dir.path(),
        &[],
        &["data", "keygen", "--mask", key.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(2));
    let out = dir.path().join("out.tsv");
    let o = aisec(
        dir.path(),
        &[],
        &[
            "data",
            "mask",
            fixture("people.tsv").to_str().unwrap(),
            out.to_str().unwrap(),
            "--policy",
            fixture("policy.toml").to_str().unwrap(),
            "--key-file",
            key.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.starts_with("id\tname\temail\tcard\tdob\tage\tcity\tdiagnosis\n"),
        "{text}"
    );
}

#[test]
fn mask_reports_bad_rows_and_strict_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    let args = |strict: bool| {
        let mut a = vec![
            "data".to_string(),
            "mask".into(),
            fixture("bad_rows.csv").to_str().unwrap().into(),
            out.to_str().unwrap().into(),
            "--policy".into(),
            fixture("policy.toml").to_str().unwrap().into(),
        ];
        if strict {
            a.push("--strict".into());
        }
        a
    };
    let a = args(false);
    let o = aisec(
        dir.path(),
        &[KEY_ENV],
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("4 rows written") && e.contains("3 rejected"),
        "{e}"
    );
    assert!(
        e.contains("bad_rows.csv:4: rejected: expected 9 fields"),
        "{e}"
    );
    assert!(e.contains("bad_rows.csv:6: rejected"), "{e}");
    assert!(out.exists());
    std::fs::remove_file(&out).unwrap();
    let a = args(true);
    let o = aisec(
        dir.path(),
        &[KEY_ENV],
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("bad_rows.csv:4:"), "{}", stderr(&o));
    assert!(!out.exists());
}

#[test]
fn mask_errors_exit_2_with_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    let input = fixture("people.csv");
    let o = aisec(
        dir.path(),
        &[],
        &[
            "data",
            "mask",
            input.to_str().unwrap(),
            out.to_str().unwrap(),
            "--policy",
            fixture("policy_with_key.toml").to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("policy_with_key.toml: key.value: key material is never allowed"),
        "{}",
        stderr(&o)
    );
    // Key reference whose variable is not set.
    let o = aisec(
        dir.path(),
        &[],
        &[
            "data",
            "mask",
            input.to_str().unwrap(),
            out.to_str().unwrap(),
            "--policy",
            fixture("policy.toml").to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("AISEC_TEST_MASK_KEY"), "{}", stderr(&o));
    // A column the input lacks.
    let policy = dir.path().join("p.toml");
    std::fs::write(&policy, "[[column]]\nname = \"phone\"\naction = \"drop\"\n").unwrap();
    let o = aisec(
        dir.path(),
        &[],
        &[
            "data",
            "mask",
            input.to_str().unwrap(),
            out.to_str().unwrap(),
            "--policy",
            policy.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("column[0].name: column `phone` is not in the input header"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
}

#[test]
fn encrypt_decrypt_with_identity_and_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n).to_str().unwrap().to_owned();
    let o = aisec(dir.path(), &[], &["data", "keygen", &d("id.age")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let public = String::from_utf8(o.stdout).unwrap().trim().to_owned();
    assert!(public.starts_with("age1"), "{public}");
    let input = fixture("people.csv");
    let o = aisec(
        dir.path(),
        &[],
        &[
            "data",
            "encrypt",
            input.to_str().unwrap(),
            &d("p.age"),
            "-r",
            &public,
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        std::fs::read(d("p.age"))
            .unwrap()
            .starts_with(b"age-encryption.org/v1\n")
    );
    let o = aisec(
        dir.path(),
        &[],
        &[
            "data",
            "decrypt",
            &d("p.age"),
            &d("p.csv"),
            "-i",
            &d("id.age"),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(d("p.csv")).unwrap(),
        std::fs::read(&input).unwrap()
    );

    // Truncated: error, and no output.
    let ct = std::fs::read(d("p.age")).unwrap();
    std::fs::write(d("t.age"), &ct[..ct.len() - 20]).unwrap();
    let o = aisec(
        dir.path(),
        &[],
        &[
            "data",
            "decrypt",
            &d("t.age"),
            &d("t.csv"),
            "-i",
            &d("id.age"),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no output written"), "{}", stderr(&o));
    assert!(!Path::new(&d("t.csv")).exists());

    let pass = [("AISEC_DATA_PASSPHRASE", "correct horse battery")];
    let o = aisec(
        dir.path(),
        &pass,
        &[
            "data",
            "encrypt",
            input.to_str().unwrap(),
            &d("w.age"),
            "--work-factor",
            "10",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = aisec(
        dir.path(),
        &pass,
        &["data", "decrypt", &d("w.age"), &d("w.csv")],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(d("w.csv")).unwrap(),
        std::fs::read(&input).unwrap()
    );
    let o = aisec(
        dir.path(),
        &[("AISEC_DATA_PASSPHRASE", "wrong")],
        &["data", "decrypt", &d("w.age"), &d("x.csv")],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(!Path::new(&d("x.csv")).exists());
    // No key at all.
    let o = aisec(
        dir.path(),
        &[],
        &["data", "encrypt", input.to_str().unwrap(), &d("n.age")],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("AISEC_DATA_PASSPHRASE"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn anonymity_table_json_and_gate() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("t.csv");
    std::fs::write(
        &f,
        "zip,sex,diag\n1,F,flu\n1,F,cold\n2,M,flu\n2,M,flu\n2,M,cold\n3,F,flu\n",
    )
    .unwrap();
    let p = f.to_str().unwrap();
    let o = aisec(
        dir.path(),
        &[],
        &[
            "data",
            "anonymity",
            p,
            "--quasi",
            "zip,sex",
            "--sensitive",
            "diag",
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["k"], 1);
    assert_eq!(v["l"], 1);
    assert_eq!(v["classes"], 3);
    assert_eq!(v["smallest"][0]["values"], serde_json::json!(["3", "F"]));
    assert_eq!(v["smallest"][0]["first_line"], 7);
    let o = aisec(
        dir.path(),
        &[],
        &[
            "data",
            "anonymity",
            p,
            "--quasi",
            "sex",
            "--fail-below-k",
            "3",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let t = String::from_utf8(o.stdout).unwrap();
    assert!(t.contains("k-anonymity          3"), "{t}");
    let o = aisec(
        dir.path(),
        &[],
        &[
            "data",
            "anonymity",
            p,
            "--quasi",
            "zip",
            "--fail-below-k",
            "3",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let o = aisec(
        dir.path(),
        &[],
        &["data", "anonymity", p, "--quasi", "nope"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("`nope` is not in the header"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn quality_reports_duplicates_shift_and_triggers() {
    let dir = tempfile::tempdir().unwrap();
    let o = aisec(
        dir.path(),
        &[],
        &[
            "data",
            "quality",
            fixture("reviews_v2.csv").to_str().unwrap(),
            "--label",
            "label",
            "--text",
            "text",
            "--against",
            fixture("reviews_v1.csv").to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["rows"], 734);
    assert_eq!(
        v["exact_duplicates"]["largest"][0]["lines"],
        serde_json::json!([732, 733])
    );
    assert_eq!(v["triggers"]["tokens"][0]["token"], "zq-trigger");
    assert_eq!(
        v["label_shift"]["disappeared"],
        serde_json::json!(["neutral"])
    );
    let o = aisec(
        dir.path(),
        &[],
        &[
            "data",
            "quality",
            fixture("reviews_v2.csv").to_str().unwrap(),
            "--label",
            "label",
            "--text",
            "text",
        ],
    );
    assert_eq!(o.status.code(), Some(0));
    let t = String::from_utf8(o.stdout).unwrap();
    assert!(t.contains("exact duplicates: 1 groups"), "{t}");
    assert!(t.contains("zq-trigger"), "{t}");
}

#[test]
fn help_teaches_the_policy_format() {
    let dir = tempfile::tempdir().unwrap();
    let o = aisec(dir.path(), &[], &["data", "mask", "--help"]);
    let t = String::from_utf8(o.stdout).unwrap();
    assert!(
        t.contains("[[column]]") && t.contains("tokenise") && t.contains("Exit codes"),
        "{t}"
    );
}

#[test]
fn mask_json_lines_by_key_path() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("chats.jsonl");
    std::fs::write(
        &input,
        concat!(
            r#"{"id":1,"user":{"email":"jane.doe@example.com"},"messages":[{"role":"user","content":"I am Jane, card 4111 1111 1111 1111"},{"role":"assistant","content":"Thanks"}]}"#,
            "\n",
            "this line is not JSON\n",
            r#"{"id":2,"user":{"email":"li.wei@example.org"},"messages":[]}"#,
            "\n",
        ),
    )
    .unwrap();
    let policy = dir.path().join("chat.toml");
    std::fs::write(
        &policy,
        "[key]\nenv = \"AISEC_TEST_MASK_KEY\"\n\n[[column]]\nname = \"user.email\"\naction = \"tokenise\"\nformat = \"email\"\n\n[[column]]\nname = \"messages.content\"\naction = \"redact\"\nreplacement = \"[removed]\"\n",
    )
    .unwrap();
    let out = dir.path().join("chats.masked.jsonl");
    let o = aisec(
        dir.path(),
        &[KEY_ENV],
        &[
            "data",
            "mask",
            input.to_str().unwrap(),
            out.to_str().unwrap(),
            "--policy",
            policy.to_str().unwrap(),
        ],
    );
    // One bad line: rejected with its line number, exit 1, the rest written.
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("2 rows written"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("chats.jsonl:2: rejected"),
        "{}",
        stderr(&o)
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        !text.contains("jane.doe") && !text.contains("4111"),
        "{text}"
    );
    assert!(
        text.contains("@example.com") && text.contains("\"role\":\"user\""),
        "{text}"
    );
    assert_eq!(text.matches("[removed]").count(), 2, "{text}");
}
