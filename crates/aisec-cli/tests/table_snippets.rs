//! End to end: the table shows each text finding's source line with a caret,
//! the rule's first remediation sentence and a pointer to `aisec explain`,
//! and never quotes a secret's line.

use std::path::Path;
use std::process::Command;

fn table(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_aisec"))
        .env("AISEC_DB_DIR", "/nonexistent/aisec-test-db")
        .args(["scan", "--color", "never"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run aisec");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn text_findings_show_their_line_help_and_explain_pointer() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM python:latest\nUSER 1000\n",
    )
    .unwrap();
    // A real-looking key, so that the secrets scanner reports it.
    let key = ["AKIA", "Z7XQ3MRPLK2VJ4TN"].concat();
    std::fs::write(dir.path().join("settings.env"), format!("AWS_KEY={key}\n")).unwrap();

    let text = table(dir.path(), &["."]);
    assert!(
        text.contains(
            "\
             |
           1 | FROM python:latest
             | ^^^^^^^^^^^^^^^^^^
"
        ),
        "{text}"
    );
    assert!(text.contains("= help: Pin a version tag"), "{text}");
    assert!(
        text.contains("= note: `aisec explain AISEC-IAC-017` for the whole rule"),
        "{text}"
    );
    assert!(text.contains("AISEC-SEC-"), "{text}");
    assert!(!text.contains(&key[4..]), "{text}");

    // The same run twice prints the same bytes.
    assert_eq!(text, table(dir.path(), &["."]));
}

#[test]
fn a_single_file_target_is_its_own_root() {
    // The snippet reader opens only files under the targets; a target that
    // is a file confines it to that file.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), "FROM python:latest\n").unwrap();
    let text = table(dir.path(), &["Dockerfile"]);
    assert!(text.contains("1 | FROM python:latest"), "{text}");
}
