//! Regression tests for the archive scanner over the fixtures that
//! `fixtures/gen/hygiene_fixtures.py` writes to `tests/fixtures/`.
//!
//! Besides the archive scanner, each scan runs a recorder that keeps every
//! member handed to the scanners, so a test can assert that a payload was
//! really delivered (to the pickle and Keras scanners, in the real tool).

use std::path::Path;
use std::sync::Mutex;

use aisec_core::{FileInput, Finding, Limits, Rule, ScanContext, Scanner, Severity, generic};
use aisec_hygiene::{ArchiveScanner, ExtensionMismatchScanner, rules};

/// The pickle every payload fixture carries: `os.system("echo pwned")`.
const PAYLOAD_MARK: &[u8] = b"echo pwned";

#[derive(Default)]
struct Recorder {
    members: Mutex<Vec<(String, Vec<u8>)>>,
}

/// Forwards to a shared recorder (scanners are boxed, the test keeps a view).
struct Recording(&'static Recorder);

impl Scanner for Recording {
    fn name(&self) -> &'static str {
        "recorder"
    }
    fn rules(&self) -> &'static [&'static Rule] {
        &[]
    }
    fn detect(&self, file: &FileInput<'_>) -> bool {
        file.member.is_some()
    }
    fn scan(&self, file: &FileInput<'_>, _: &ScanContext<'_>) -> Vec<Finding> {
        // Keep a bounded prefix: bombs hand over megabytes of zeros.
        let kept = file.bytes[..file.bytes.len().min(4096)].to_vec();
        self.0
            .members
            .lock()
            .unwrap()
            .push((file.member.unwrap_or_default().to_owned(), kept));
        Vec::new()
    }
}

struct Scan {
    findings: Vec<Finding>,
    members: Vec<(String, Vec<u8>)>,
}

impl Scan {
    fn with_rule(&self, rule: &Rule) -> Vec<&Finding> {
        self.findings
            .iter()
            .filter(|f| f.rule_id == rule.id)
            .collect()
    }

    fn delivered(&self, member_suffix: &str, mark: &[u8]) -> bool {
        self.members.iter().any(|(m, bytes)| {
            m.ends_with(member_suffix) && bytes.windows(mark.len()).any(|w| w == mark)
        })
    }
}

fn fixture(rel: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn scan_with(rel: &str, limits: &Limits) -> Scan {
    let bytes = fixture(rel);
    scan_bytes(rel, &bytes, limits)
}

fn scan_bytes(name: &str, bytes: &[u8], limits: &Limits) -> Scan {
    let recorder: &'static Recorder = Box::leak(Box::default());
    let scanners: Vec<Box<dyn Scanner>> = vec![
        Box::new(ArchiveScanner),
        Box::new(ExtensionMismatchScanner),
        Box::new(Recording(recorder)),
    ];
    let ctx = ScanContext::new(limits, &scanners);
    let file = FileInput::on_disk(name, Path::new(name), bytes);
    let findings = ctx.run(&file);
    let members = std::mem::take(&mut *recorder.members.lock().unwrap());
    Scan { findings, members }
}

fn scan(rel: &str) -> Scan {
    scan_with(rel, &Limits::default())
}

// ---- 1. Zips with bytes in front -------------------------------------------

#[test]
fn a_keras_zip_behind_zeros_or_a_script_is_opened_and_reported() {
    for (rel, prefix) in [("polyglot/zeros.keras", 100), ("polyglot/script.keras", 73)] {
        let s = scan(rel);
        let poly = s.with_rule(&rules::POLYGLOT_PREFIX);
        assert_eq!(poly.len(), 1, "{rel}: {:#?}", s.findings);
        assert_eq!(poly[0].severity, Severity::High);
        assert!(
            poly[0].message.starts_with(&format!("{prefix} bytes")),
            "{}",
            poly[0].message
        );
        assert!(
            s.delivered("config.json", b"Lambda"),
            "{rel}: the Keras config never reached the scanners: {:?}",
            s.members.iter().map(|m| &m.0).collect::<Vec<_>>()
        );
    }
    // The script is handed over too, for whoever reads from byte 0.
    let s = scan("polyglot/script.keras");
    assert!(s.delivered("<data before zip>", b"#!/bin/sh"));
}

#[test]
fn torch_zip64_and_npz_behind_a_prefix_deliver_their_pickles() {
    let s = scan("polyglot/zip64.pt");
    let poly = s.with_rule(&rules::POLYGLOT_PREFIX);
    assert_eq!(poly.len(), 1, "{:#?}", s.findings);
    assert_eq!(poly[0].severity, Severity::High);
    assert!(s.delivered("archive/data.pkl", PAYLOAD_MARK));
    let s = scan("polyglot/objects.npz");
    assert_eq!(
        s.with_rule(&rules::POLYGLOT_PREFIX).len(),
        1,
        "{:#?}",
        s.findings
    );
    assert!(s.delivered("data.npy", PAYLOAD_MARK));
}

#[test]
fn a_prefix_the_offsets_already_count_is_still_a_polyglot() {
    // `zip -A` style: the directory's offsets include the script in front.
    let s = scan("polyglot/adjusted.zip");
    let poly = s.with_rule(&rules::POLYGLOT_PREFIX);
    assert_eq!(poly.len(), 1, "{:#?}", s.findings);
    assert!(
        poly[0]
            .evidence
            .as_deref()
            .unwrap_or("")
            .contains("#!/bin/sh")
    );
    assert!(s.delivered("notes.txt", b"fine"));
}

#[test]
fn a_zip_at_byte_zero_is_no_polyglot() {
    let s = scan("encryption/flag-stored.pt");
    assert!(
        s.with_rule(&rules::POLYGLOT_PREFIX).is_empty(),
        "{:#?}",
        s.findings
    );
}

// ---- 2. The encryption flag on plaintext (CVE-2025-1945) ------------------

#[test]
fn the_encryption_flag_on_a_plaintext_pickle_does_not_hide_it() {
    for rel in ["encryption/flag-stored.pt", "encryption/flag-deflated.pt"] {
        let s = scan(rel);
        assert!(
            s.delivered("archive/data.pkl", PAYLOAD_MARK),
            "{rel}: the pickle was not scanned: {:#?}",
            s.findings
        );
        let flagged = s.with_rule(&rules::HEADER_MISMATCH);
        assert!(
            flagged.iter().any(|f| f
                .message
                .contains("flagged as encrypted but its data is plaintext")
                && f.references.iter().any(|r| r.id == "CVE-2025-1945")),
            "{rel}: {:#?}",
            s.findings
        );
        assert!(s.with_rule(&rules::UNSCANNABLE_MEMBER).is_empty(), "{rel}");
    }
}

#[test]
fn a_really_encrypted_member_is_reported_and_not_scanned() {
    let s = scan("encryption/zipcrypto.zip");
    let unscannable = s.with_rule(&rules::UNSCANNABLE_MEMBER);
    assert_eq!(unscannable.len(), 1, "{:#?}", s.findings);
    assert!(unscannable[0].message.contains("encrypted"));
    assert!(!s.members.iter().any(|(m, _)| m == "data.pkl"));
}

// ---- 3. Bombs: bounded work, bounded findings -----------------------------

fn assert_bounded_bomb(s: &Scan) {
    // Per-entry bomb findings are capped per archive (3 listed, one count),
    // and the nesting is bounded: a few dozen findings at most, not one per
    // member (the two-layer bomb printed 512, the nested one 140,609).
    assert!(
        s.findings.len() <= 40,
        "{} findings: {:#?}",
        s.findings.len(),
        s.findings
    );
    assert!(!s.with_rule(&rules::DECOMPRESSION_BOMB).is_empty());
    assert!(
        s.findings
            .iter()
            .filter(|f| f.rule_id == generic::LIMIT_EXCEEDED.id)
            .count()
            <= 1
    );
}

#[test]
fn the_two_layer_bomb_says_so_a_bounded_number_of_times() {
    let s = scan("bombs/two-layer.zip");
    assert_bounded_bomb(&s);
    assert!(
        s.findings.iter().any(|f| f
            .message
            .contains("more zip entries are decompression bombs")),
        "{:#?}",
        s.findings
    );
}

#[test]
fn the_nested_bomb_is_bounded() {
    let s = scan("bombs/nested.zip");
    assert_bounded_bomb(&s);
    // It is opened down to its leaves (five levels), once per level.
    assert!(
        s.members
            .iter()
            .any(|(m, _)| m.matches('!').count() == 4 && m.ends_with(".bin"))
    );
}

#[test]
fn a_spent_budget_stops_the_bombs_with_one_gen_003_finding() {
    // A budget of 1 MiB: both bombs exhaust it; the scan stops there with
    // the one finding the context records, not one per member.
    let limits = Limits {
        max_total_decompressed: 1024 * 1024,
        ..Limits::default()
    };
    for rel in ["bombs/two-layer.zip", "bombs/nested.zip"] {
        let s = scan_with(rel, &limits);
        let budget: Vec<_> = s
            .findings
            .iter()
            .filter(|f| f.rule_id == generic::LIMIT_EXCEEDED.id)
            .collect();
        assert_eq!(budget.len(), 1, "{rel}: {:#?}", s.findings);
        assert_eq!(budget[0].severity, Severity::High);
        assert!(
            budget[0].message.contains("decompressed bytes"),
            "{}",
            budget[0].message
        );
        assert!(s.findings.len() <= 20, "{rel}: {:#?}", s.findings);
    }
}

#[test]
fn the_member_budget_stops_a_zip_with_one_finding() {
    let limits = Limits {
        max_total_members: 1,
        ..Limits::default()
    };
    let s = scan_with("bombs/two-layer.zip", &limits);
    let budget: Vec<_> = s
        .findings
        .iter()
        .filter(|f| f.rule_id == generic::LIMIT_EXCEEDED.id)
        .collect();
    assert_eq!(budget.len(), 1, "{:#?}", s.findings);
    assert!(budget[0].message.contains("archive members"));
    assert!(s.members.len() <= 1);
}

// ---- 4. Limits that would hide a payload ----------------------------------

fn tar_with(entries: &[(&str, u8, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, kind, data) in entries {
        let mut header = tar::Header::new_ustar();
        header.set_path(name).unwrap();
        header.set_size(data.len() as u64);
        header.set_entry_type(tar::EntryType::new(*kind));
        header.set_mode(0o644);
        header.set_cksum();
        builder.append(&header, *data).unwrap();
    }
    builder.into_inner().unwrap()
}

#[test]
fn a_payload_after_the_tar_member_limit_is_a_high_gen_003() {
    let filler: Vec<(String, u8, &[u8])> = (0..10)
        .map(|i| (format!("f{i}.txt"), b'0', &b"x"[..]))
        .collect();
    let mut entries: Vec<(&str, u8, &[u8])> = filler
        .iter()
        .map(|(n, k, d)| (n.as_str(), *k, *d))
        .collect();
    entries.push(("model.pkl", b'0', b"\x80\x04echo pwned."));
    let tar = tar_with(&entries);
    let limits = Limits {
        max_members: 10,
        ..Limits::default()
    };
    let s = scan_bytes("many.tar", &tar, &limits);
    let limit: Vec<_> = s
        .findings
        .iter()
        .filter(|f| f.rule_id == generic::LIMIT_EXCEEDED.id)
        .collect();
    assert_eq!(limit.len(), 1, "{:#?}", s.findings);
    assert_eq!(limit[0].severity, Severity::High);
}

#[test]
fn tar_entries_of_unusual_types_are_scanned_as_files() {
    // tarfile extracts contiguous ('7') and unknown ('Z', 'A') types as
    // regular files; a payload there must not pass unscanned. (A sparse 'S'
    // entry without GNU headers is reported malformed by the tar reader.)
    for kind in [b'7', b'Z', b'A'] {
        let tar = tar_with(&[("model.pkl", kind, b"\x80\x04echo pwned.")]);
        let s = scan_bytes("odd.tar", &tar, &Limits::default());
        assert!(
            s.delivered("model.pkl", PAYLOAD_MARK),
            "type {}: {:#?}",
            kind as char,
            s.findings
        );
    }
}

#[test]
fn nesting_past_the_limit_is_a_high_gen_003() {
    let limits = Limits {
        max_nesting: 2,
        ..Limits::default()
    };
    let s = scan_with("bombs/nested.zip", &limits);
    let limit: Vec<_> = s
        .findings
        .iter()
        .filter(|f| f.rule_id == generic::LIMIT_EXCEEDED.id)
        .collect();
    assert!(!limit.is_empty(), "{:#?}", s.findings);
    assert!(limit.iter().all(|f| f.severity == Severity::High));
    assert!(limit.len() <= 3, "nesting findings multiply: {limit:#?}");
}

// ---- 5. Damaged files are always a finding --------------------------------

#[test]
fn every_damaged_stream_is_a_finding() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/damaged");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert!(names.len() >= 25, "{names:?}");
    let mut silent = Vec::new();
    for name in &names {
        let s = scan(&format!("damaged/{name}"));
        let reported = s.findings.iter().any(|f| {
            f.rule_id == generic::MALFORMED.id
                || f.rule_id == rules::HEADER_MISMATCH.id
                || f.rule_id == rules::UNSCANNABLE_MEMBER.id
        });
        if !reported {
            silent.push((name.clone(), s.findings));
        }
    }
    assert!(silent.is_empty(), "no damage reported for {silent:#?}");
}

#[test]
fn a_truncated_lz4_frame_is_malformed() {
    // Cut mid-block, and cut where the first block header should be (which
    // lz4_flex alone reads as a complete, empty stream).
    for rel in [
        "damaged/model.pkl.truncated.lz4",
        "damaged/model.pkl.header-only.lz4",
    ] {
        let s = scan(rel);
        assert!(
            s.findings
                .iter()
                .any(|f| f.rule_id == generic::MALFORMED.id && f.message.contains("lz4")),
            "{rel}: {:#?}",
            s.findings
        );
    }
}

#[test]
fn a_zlib_stream_with_a_bad_checksum_is_malformed_and_still_scanned() {
    let s = scan("damaged/model.pkl.checksum.zlib");
    assert!(
        s.findings
            .iter()
            .any(|f| f.rule_id == generic::MALFORMED.id),
        "{:#?}",
        s.findings
    );
    assert!(s.delivered("model.pkl.checksum", PAYLOAD_MARK));
}

#[test]
fn a_name_that_claims_a_stream_without_one_is_malformed() {
    for ext in ["gz", "xz", "7z", "zst", "lz4", "bz2", "keras", "tar"] {
        let s = scan(&format!("damaged/not-a-stream.{ext}"));
        assert!(
            s.findings
                .iter()
                .any(|f| f.rule_id == generic::MALFORMED.id),
            "{ext}: {:#?}",
            s.findings
        );
    }
}

#[test]
fn text_that_happens_to_start_like_zlib_is_left_alone() {
    let s = scan_bytes(
        "notes.md",
        b"x^2 + y^2 = r^2 is a circle\n",
        &Limits::default(),
    );
    assert!(s.findings.is_empty(), "{:#?}", s.findings);
}

// ---- A cut bomb is graded by what follows the cut -----------------------------

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// Zeros past the ratio cut hid nothing (zero-filled tensors compress like
/// bombs): the rule's medium. Content behind a long zero run (a sparse file
/// and then a pickle, in one `.tar.gz`) was not scanned: high, failing the
/// default gate.
#[test]
fn a_cut_bomb_is_high_when_content_follows_the_cut() {
    let zeros = vec![0u8; 8 * 1024 * 1024];
    let s = scan_bytes("zeros.bin.gz", &gzip(&zeros), &Limits::default());
    let bomb = s.with_rule(&rules::DECOMPRESSION_BOMB);
    assert_eq!(bomb.len(), 1, "{:#?}", s.findings);
    assert_eq!(bomb[0].severity, Severity::Medium, "{}", bomb[0].message);
    assert!(
        bomb[0].message.ends_with("the rest of the stream is zeros"),
        "{}",
        bomb[0].message
    );

    let mut hidden = zeros.clone();
    hidden.extend_from_slice(b"cos\nsystem\n(S'echo pwned'\ntR.");
    let s = scan_bytes("hidden.bin.gz", &gzip(&hidden), &Limits::default());
    let bomb = s.with_rule(&rules::DECOMPRESSION_BOMB);
    assert_eq!(bomb.len(), 1, "{:#?}", s.findings);
    assert_eq!(bomb[0].severity, Severity::High, "{}", bomb[0].message);
    assert!(
        bomb[0].message.contains("may hold content"),
        "{}",
        bomb[0].message
    );
}
