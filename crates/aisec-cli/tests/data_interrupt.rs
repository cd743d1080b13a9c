//! `aisec data decrypt` and `mask` interrupted mid-stream leave no temporary
//! file (the plaintext of a decryption in particular) in the output
//! directory, and end with the signal that interrupted them.
//!
//! The input is a FIFO the test feeds: once it has written `FEED_BYTES`
//! into it, the command has read all but a pipe buffer of them and is
//! provably in the middle of writing its output when the signal comes,
//! however fast or loaded the machine is; a large regular file would make
//! that a race.
#![cfg(unix)]

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// POSIX signal numbers (the same on every Unix for these three).
const SIGHUP: i32 = 1;
const SIGINT: i32 = 2;
const SIGTERM: i32 = 15;

/// Plaintext the tests encrypt or mask: several of masking's 1 MiB chunks
/// and far more than any buffer between the FIFO and the output file.
const PLAIN_BYTES: usize = 8 << 20;
/// Fed into the FIFO before the signal: half the input, so the command is
/// mid-stream (it has written output and has more to read).
const FEED_BYTES: usize = PLAIN_BYTES / 2;
/// How long the feed may take before the test gives up (a command that
/// never opens its input would otherwise hang the test).
const FEED_TIMEOUT: Duration = Duration::from_secs(120);

const KEY_ENV: (&str, &str) = ("AISEC_TEST_MASK_KEY", "a test key that is long enough");

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../aisec-dataset/tests/fixtures")
        .join(name)
}

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_aisec"));
    c.current_dir(dir)
        .args(args)
        .env_remove("AISEC_DATA_PASSPHRASE")
        .env(KEY_ENV.0, KEY_ENV.1);
    c
}

fn run(dir: &Path, args: &[&str]) -> Output {
    let o = command(dir, args).output().expect("run aisec");
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// Rows in the shape of the masking fixture (its header, its rows
/// repeated) up to `PLAIN_BYTES`.
fn people_csv() -> Vec<u8> {
    let text = std::fs::read_to_string(fixture("people.csv")).unwrap();
    let (header, rows) = text.split_once('\n').unwrap();
    let mut out = format!("{header}\n").into_bytes();
    while out.len() < PLAIN_BYTES {
        out.extend_from_slice(rows.as_bytes());
    }
    out
}

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().unwrap().success();
    assert!(ok, "mkfifo {}", path.display());
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Starts `args` (reading the FIFO `fifo`), feeds it the first `FEED_BYTES`
/// of `input`, sends `signal` while the FIFO is still open, and checks that
/// the command failed by that signal.
fn interrupt(dir: &Path, fifo: &Path, input: &[u8], args: &[&str], signal: (i32, &str)) {
    let mut child: Child = command(dir, args)
        .stderr(Stdio::piped())
        .spawn()
        .expect("start aisec");
    let (fed_tx, fed_rx) = mpsc::channel();
    let (close_tx, close_rx) = mpsc::channel::<()>();
    let feed = input[..FEED_BYTES].to_vec();
    let fifo = fifo.to_path_buf();
    let writer = std::thread::spawn(move || {
        // Blocks until aisec opens its input; write_all returns once aisec
        // has read all but a pipe buffer of the bytes.
        let mut w = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
        w.write_all(&feed).unwrap();
        fed_tx.send(()).unwrap();
        // Kept open, so aisec waits for more input rather than seeing an end.
        let _ = close_rx.recv();
    });
    if fed_rx.recv_timeout(FEED_TIMEOUT).is_err() {
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        panic!(
            "{args:?} did not read its input: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let sent = Command::new("kill")
        .args([&format!("-{}", signal.1), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    close_tx.send(()).unwrap();
    writer.join().unwrap();
    assert!(!out.status.success(), "{args:?}: {:?}", out.status);
    assert_eq!(
        out.status.signal(),
        Some(signal.0),
        "{args:?} under SIG{}: {:?} {}",
        signal.1,
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn interrupted_decrypt_leaves_no_plaintext_behind() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let public = run(dir.path(), &["data", "keygen", &d("id.age")]).stdout;
    let public = String::from_utf8(public).unwrap().trim().to_owned();
    let plain = people_csv();
    std::fs::write(d("plain.csv"), &plain).unwrap();
    run(
        dir.path(),
        &[
            "data",
            "encrypt",
            &d("plain.csv"),
            &d("data.age"),
            "--recipient",
            &public,
        ],
    );
    let ciphertext = std::fs::read(d("data.age")).unwrap();
    let fifo = dir.path().join("in.age");
    mkfifo(&fifo);
    // The output's own directory, so that anything left there shows.
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("plain.csv");
    let args = [
        "data",
        "decrypt",
        fifo.to_str().unwrap(),
        out.to_str().unwrap(),
        "--identity",
        &d("id.age"),
    ];
    for signal in [(SIGINT, "INT"), (SIGTERM, "TERM"), (SIGHUP, "HUP")] {
        interrupt(dir.path(), &fifo, &ciphertext, &args, signal);
        assert_eq!(entries(&out_dir), Vec::<String>::new(), "SIG{}", signal.1);
    }

    // Uninterrupted, the same command writes the plaintext, readable by its
    // owner only.
    std::fs::remove_file(&fifo).unwrap();
    std::fs::copy(d("data.age"), &fifo).unwrap();
    run(dir.path(), &args);
    assert_eq!(entries(&out_dir), ["plain.csv"]);
    assert!(std::fs::read(&out).unwrap() == plain);
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{mode:o}");
}

#[test]
fn interrupted_mask_leaves_no_partial_output() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("in.csv");
    mkfifo(&fifo);
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("masked.csv");
    let policy = fixture("policy.toml");
    let args = [
        "data",
        "mask",
        fifo.to_str().unwrap(),
        out.to_str().unwrap(),
        "--policy",
        policy.to_str().unwrap(),
    ];
    interrupt(dir.path(), &fifo, &people_csv(), &args, (SIGINT, "INT"));
    assert_eq!(entries(&out_dir), Vec::<String>::new());
}
