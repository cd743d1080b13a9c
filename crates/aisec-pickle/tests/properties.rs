//! Properties of the parser and the machine over generated input.

use std::path::Path;

use aisec_core::{FileInput, Finding, Limits, ScanContext, Scanner};
use aisec_pickle::opcode::{ArgShape, Opcode};
use aisec_pickle::parse::Parser;
use aisec_pickle::{PickleScanner, decompile, disasm, scan_pickle};
use proptest::prelude::*;

fn run_scan(data: &[u8]) -> Vec<Finding> {
    let scanners: Vec<Box<dyn Scanner>> = vec![Box::new(PickleScanner)];
    let limits = Limits::default();
    let ctx = ScanContext::new(&limits, &scanners);
    let file = FileInput::on_disk("p.pkl", Path::new("p.pkl"), data);
    let _ = PickleScanner.detect(&file);
    scan_pickle(data, &file, &ctx)
}

/// fickling's straddle variant 7: a FRAME opened inside a frame that claims
/// more bytes than the stream holds is still a frame inside a frame.
#[test]
fn a_frame_inside_an_overlong_frame_is_inconsistent() {
    let mut data = b"\x80\x05\x95".to_vec();
    data.extend_from_slice(&30u64.to_le_bytes());
    data.push(b'N');
    data.push(0x95);
    data.extend_from_slice(&2u64.to_le_bytes());
    data.extend_from_slice(b"N.");
    let findings = run_scan(&data);
    assert!(
        findings
            .iter()
            .any(|f| f.rule_id == "AISEC-PKL-009" && f.message.contains("opens inside it")),
        "{findings:?}"
    );
}

/// A pickle kept as a `bytes` value runs only if the application unpickles
/// it later: the finding says so instead of claiming a call at load time.
#[test]
fn an_embedded_pickle_is_reported_as_stored_data() {
    let inner = b"\x80\x02cos\nsystem\nX\x0a\x00\x00\x00echo pwnedX\x85R.";
    let mut outer = b"\x80\x03C".to_vec();
    outer.push(u8::try_from(inner.len()).unwrap());
    outer.extend_from_slice(inner);
    outer.push(b'.');
    let findings = run_scan(&outer);
    let embedded = findings
        .iter()
        .find(|f| f.rule_id == "AISEC-PKL-001")
        .unwrap_or_else(|| panic!("{findings:?}"));
    assert!(
        embedded
            .message
            .starts_with("embedded pickle stored as data"),
        "{}",
        embedded.message
    );
    assert!(
        embedded
            .location
            .member
            .as_deref()
            .is_some_and(|m| m.starts_with("embedded@")),
        "{:?}",
        embedded.location
    );
}

/// One opcode with a well-formed argument of its shape.
fn encoded_op() -> impl Strategy<Value = (Opcode, Vec<u8>)> {
    (
        prop::sample::select(Opcode::ALL.to_vec()),
        prop::collection::vec(any::<u8>(), 0..24),
        "[a-z0-9_.]{0,12}",
        "[a-z0-9_.]{0,12}",
    )
        .prop_map(|(op, payload, line_a, line_b)| {
            let mut out = vec![op as u8];
            match op.arg_shape() {
                ArgShape::None => {}
                ArgShape::U1 => out.push(payload.first().copied().unwrap_or(0)),
                ArgShape::U2 => out.extend_from_slice(&[1, 0]),
                ArgShape::U4 | ArgShape::I4 => out.extend_from_slice(&[2, 0, 0, 0]),
                ArgShape::U8 => out.extend_from_slice(&0u64.to_le_bytes()),
                ArgShape::F8Be => out.extend_from_slice(&1.5f64.to_be_bytes()),
                ArgShape::Line => {
                    out.extend_from_slice(line_a.as_bytes());
                    out.push(b'\n');
                }
                ArgShape::TwoLines => {
                    out.extend_from_slice(line_a.as_bytes());
                    out.push(b'\n');
                    out.extend_from_slice(line_b.as_bytes());
                    out.push(b'\n');
                }
                ArgShape::Len1 => {
                    out.push(payload.len() as u8);
                    out.extend_from_slice(&payload);
                }
                ArgShape::Len4 | ArgShape::Len4Signed => {
                    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
                    out.extend_from_slice(&payload);
                }
                ArgShape::Len8 => {
                    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
                    out.extend_from_slice(&payload);
                }
            }
            (op, out)
        })
}

const OS_SYSTEM_CALL: &[u8] = b"\x80\x02cos\nsystem\n\x8c\x0aecho pwned\x85R";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = run_scan(&data);
        let _ = disasm(&data);
        let _ = decompile(&data);
    }

    #[test]
    fn the_parser_reads_back_what_was_written(ops in prop::collection::vec(encoded_op(), 0..64)) {
        let written: Vec<Opcode> = ops
            .iter()
            .map(|(op, _)| *op)
            .take_while(|op| *op != Opcode::STOP)
            .collect();
        let mut bytes: Vec<u8> = ops.iter().flat_map(|(_, b)| b.clone()).collect();
        bytes.push(b'.');
        let read: Vec<Opcode> = Parser::new(&bytes, 0)
            .map(|r| r.expect("well-formed opcodes parse").opcode)
            .collect();
        prop_assert_eq!(&read[..written.len()], &written[..]);
        prop_assert_eq!(read.last(), Some(&Opcode::STOP));
        let _ = run_scan(&bytes);
        let _ = decompile(&bytes);
    }

    /// A dangerous call stays reported whatever follows it: garbage,
    /// truncation, more opcodes.
    #[test]
    fn a_call_followed_by_anything_is_caught(tail in prop::collection::vec(any::<u8>(), 0..512)) {
        let mut bytes = OS_SYSTEM_CALL.to_vec();
        bytes.extend_from_slice(&tail);
        let findings = run_scan(&bytes);
        prop_assert!(
            findings.iter().any(|f| f.rule_id == "AISEC-PKL-001"
                && f.evidence.as_deref() == Some("os.system('echo pwned')")),
            "{:?}", findings
        );
    }

    /// Without a protocol header too, and whatever the file is called: a
    /// protocol 0 call followed by any bytes is detected as a pickle and the
    /// call is reported, with the error that stopped the loader after it.
    #[test]
    fn a_headerless_call_followed_by_anything_is_detected(
        tail in prop::collection::vec(any::<u8>(), 0..256),
        name in prop::sample::select(vec!["m.pkl", "m.pt", "m.bin", "notes.txt", "blob"]),
    ) {
        let mut bytes = b"cposix\nsystem\n(S'echo pwned'\ntR".to_vec();
        bytes.extend_from_slice(&tail);
        let file = FileInput::on_disk(name, Path::new(name), &bytes);
        prop_assert!(PickleScanner.detect(&file), "{name} not detected");
        let findings = run_scan(&bytes);
        prop_assert!(
            findings.iter().any(|f| f.rule_id == "AISEC-PKL-001"
                && f.evidence.as_deref() == Some("os.system('echo pwned')")),
            "{:?}", findings
        );
    }

    /// Prose is never a pickle under a text name, and never fails the gate
    /// under any name (`Jaa ?.` is a valid pickle of an integer, harmless).
    #[test]
    fn prose_is_not_detected(text in "[A-Za-z]{1,8} [A-Za-z0-9 ,.;:!?'()\\n-]{0,400}") {
        let file = FileInput::on_disk("notes.txt", Path::new("notes.txt"), text.as_bytes());
        prop_assert!(!PickleScanner.detect(&file), "{text:?}");
        for name in ["m.bin", "m.pkl"] {
            let file = FileInput::on_disk(name, Path::new(name), text.as_bytes());
            if PickleScanner.detect(&file) {
                let findings = run_scan(text.as_bytes());
                prop_assert!(
                    findings.iter().all(|f| f.severity < aisec_core::Severity::High),
                    "{name}: {text:?}: {findings:?}"
                );
            }
        }
    }

    /// The chunked-frame reading never panics either, and never reads past
    /// the input.
    #[test]
    fn chunked_frame_reading_never_panics(data in prop::collection::vec(any::<u8>(), 0..2048)) {
        let m = aisec_pickle::vm::Machine::run_chunked(&data, 0);
        prop_assert!(m.end <= data.len());
        let mut framed = b"\x80\x04\x95".to_vec();
        framed.extend_from_slice(&(data.len() as u64 / 2).to_le_bytes());
        framed.extend_from_slice(&data);
        let m = aisec_pickle::vm::Machine::run_chunked(&framed, 0);
        prop_assert!(m.end <= framed.len());
        let _ = run_scan(&framed);
    }

    /// Names stored at arbitrary memo slots, fetched in any order, resolve.
    #[test]
    fn memo_indices_do_not_hide_names(a in 0u32..100_000, b in 0u32..100_000, pad in 0usize..20) {
        prop_assume!(a != b);
        let mut p = b"\x80\x04".to_vec();
        for _ in 0..pad {
            p.extend_from_slice(b"N0");
        }
        p.extend_from_slice(b"\x8c\x02os");
        p.push(b'r');
        p.extend_from_slice(&a.to_le_bytes());
        p.extend_from_slice(b"0\x8c\x06system");
        p.push(b'r');
        p.extend_from_slice(&b.to_le_bytes());
        p.push(b'0');
        p.push(b'j');
        p.extend_from_slice(&a.to_le_bytes());
        p.push(b'j');
        p.extend_from_slice(&b.to_le_bytes());
        p.extend_from_slice(b"\x93\x8c\x01x\x85R.");
        let findings = run_scan(&p);
        prop_assert!(
            findings.iter().any(|f| f.rule_id == "AISEC-PKL-001"
                && f.evidence.as_deref() == Some("os.system('x')")),
            "{:?}", findings
        );
    }
}

#[test]
fn deep_nesting_is_bounded_without_recursion() {
    // A billion-deep tuple would take a gigabyte; 2 million levels of
    // TUPLE1 and 200k marks exercise the same code paths.
    let mut p = b"\x80\x02N".to_vec();
    p.extend(std::iter::repeat_n(0x85u8, 2_000_000));
    p.push(b'.');
    let findings = run_scan(&p);
    assert!(findings.iter().all(|f| f.rule_id != "AISEC-GEN-005"));
    let _ = decompile(&p);

    let mut marks = b"\x80\x02".to_vec();
    marks.extend(std::iter::repeat_n(b'(', 200_000));
    marks.extend_from_slice(b"cos\nsystem\n.");
    let findings = run_scan(&marks);
    assert!(
        findings.iter().any(|f| f.rule_id == "AISEC-GEN-003"),
        "{findings:?}"
    );
    assert!(
        findings.iter().any(|f| f.rule_id == "AISEC-PKL-001"),
        "the sweep after the limit must still see the import: {findings:?}"
    );
}

#[test]
fn the_sweep_after_a_limit_reaches_appended_streams() {
    let mut p = b"\x80\x02".to_vec();
    p.extend(std::iter::repeat_n(b'(', 200_000));
    p.extend_from_slice(b"N.");
    p.extend_from_slice(b"\x80\x02csubprocess\nPopen\n)R.");
    let findings = run_scan(&p);
    assert!(
        findings
            .iter()
            .any(|f| f.evidence.as_deref() == Some("subprocess.Popen")),
        "{findings:?}"
    );
}

#[test]
fn huge_memo_and_stack_are_bounded() {
    let mut p = b"\x80\x04".to_vec();
    for _ in 0..1_200_000u32 {
        p.extend_from_slice(b"N\x94");
    }
    p.extend_from_slice(b"\x8c\x02os\x8c\x06system\x93.");
    let findings = run_scan(&p);
    assert!(
        findings.iter().any(|f| f.rule_id == "AISEC-GEN-003"),
        "{findings:?}"
    );
    assert!(
        findings.iter().any(|f| f.rule_id == "AISEC-PKL-001"),
        "{findings:?}"
    );
}

/// Inputs the fuzzer once crashed on (see tests/fuzz-regressions/).
#[test]
fn fuzz_regressions_scan_cleanly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        let findings = run_scan(&data);
        assert!(findings.iter().all(|f| f.rule_id != "AISEC-GEN-005"));
        let _ = disasm(&data);
        let _ = decompile(&data);
        seen += 1;
    }
    assert!(seen > 0);
}

/// Re-using one huge memoized value many times must cost per use what a
/// small one costs (no copying or decoding proportional to its size).
#[test]
fn reusing_huge_memo_values_stays_linear() {
    let mut p = b"\x80\x04(".to_vec();
    p.extend(std::iter::repeat_n(b'N', 200_000));
    p.extend_from_slice(b"t\x94cmylib\nf\n\x94");
    // A 2 MB string, memoized, used as both STACK_GLOBAL operands.
    p.push(0x8d);
    p.extend_from_slice(&(2u64 << 20).to_le_bytes());
    p.extend(std::iter::repeat_n(b'a', 2 << 20));
    p.push(0x94);
    p.push(b'0');
    for _ in 0..50_000 {
        p.extend_from_slice(b"h\x01h\x00R0");
    }
    p.extend_from_slice(b"h\x02h\x02\x93.");
    let findings = run_scan(&p);
    assert!(
        findings.iter().any(|f| f.rule_id == "AISEC-PKL-002"),
        "{findings:?}"
    );
    assert!(
        findings.iter().any(|f| f.rule_id == "AISEC-GEN-002"),
        "{findings:?}"
    );
}

/// A pickle-shaped value built at load time (not a slice of the input) is
/// neither mistaken for one nor a reason to fail.
#[test]
fn decoded_payloads_that_look_like_pickles() {
    // base64.b64decode('gAJOLg==') == b'\x80\x02N.'
    let p = b"\x80\x02cbase64\nb64decode\n\x8c\x08gAJOLg==\x85R.";
    let findings = run_scan(p);
    assert!(
        findings.iter().all(|f| f.rule_id != "AISEC-GEN-005"),
        "{findings:?}"
    );
    assert!(
        findings.iter().any(|f| f.rule_id == "AISEC-PKL-002"),
        "{findings:?}"
    );
}
