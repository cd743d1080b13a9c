//! Turns what the machine observed into findings: per stream, then across
//! concatenated streams and whatever follows them.

use std::collections::{BTreeMap, HashMap, HashSet};

use aisec_core::{
    Confidence, FileInput, FileKind, Finding, ScanContext, Severity, generic, sniff_content,
};

use crate::opcode::Opcode;
use crate::parse::{ParseError, ParseErrorKind};
use crate::policy::{self, Verdict};
use crate::render::Renderer;
use crate::rules::*;
use crate::vm::{
    self, Call, CallKind, Event, ImportOrigin, Machine, MutationKind, Node, NodeId, VmError,
};

/// Pickle streams read from one file. Torch's legacy format has five; a
/// file with more than this many complete streams is reported, not walked.
pub const MAX_STREAMS: usize = 64;
/// Call sites reported per dangerous callable and stream; the rest are
/// counted in the last finding's message.
const MAX_SITES_PER_CALLABLE: usize = 16;
/// Distinct unknown callables reported per stream.
const MAX_UNKNOWN_FINDINGS: usize = 256;
/// Literal byte strings inside a stream that look like pickles and are
/// scanned as members of their own (pickles smuggled as data).
const MAX_EMBEDDED_SCANS: usize = 16;
/// Imports the post-stop sweep lists.
const MAX_SWEPT_IMPORTS: usize = 100_000;
/// Length of one rendered call in evidence.
const EVIDENCE_LEN: usize = 400;
/// Window checked when deciding whether a file without a protocol header is
/// a pickle at all.
const PLAUSIBILITY_WINDOW: usize = 64 * 1024;
/// First, cheaper probe of files not named like a pickle: one page.
const PROBE_PAGE: usize = 4096;

/// PyTorch's legacy (pre-zip) serialization starts with a pickle of this
/// integer, then pickles of the protocol version, system info, the object,
/// the storage keys, followed by raw tensor bytes.
const TORCH_LEGACY_MAGIC: &[u8] = &[0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

/// Extensions under which pickles are commonly stored; a file with one of
/// these and content that parses as a pickle is scanned even without a
/// protocol-2+ header (protocols 0 and 1 have none).
const PICKLE_EXTENSIONS: &[&str] = &[
    "pkl", "pickle", "pck", "pcl", "p", "pt", "pth", "bin", "ckpt", "joblib", "dill", "sav",
    "model", "dat", "data", "npy", "db",
];

/// Whether `bytes` is worth scanning as a pickle: the loader would get past
/// its first opcodes, or would already import or call something before the
/// first byte it rejects. Random text or binary fails within a few bytes (an
/// opcode needs operands that are not there), so this never treats prose as
/// a pickle; a truncated real pickle still passes.
pub fn looks_like_pickle(bytes: &[u8]) -> bool {
    let window = &bytes[..bytes.len().min(PLAUSIBILITY_WINDOW)];
    let m = Machine::run(window, 0);
    if m.result.is_some() || reaches_execution(&m) {
        return true;
    }
    let has_header = sniff_content(bytes) == Some(FileKind::Pickle);
    match &m.error {
        Some(VmError::Parse(e)) => {
            use crate::parse::ParseErrorKind::*;
            let cut_by_window = window.len() < bytes.len();
            let ran_out = matches!(e.kind, Truncated | MissingStop | UnterminatedLine);
            let enough = if has_header { 1 } else { 3 };
            ran_out && (cut_by_window || m.op_count >= enough)
                || (has_header && m.op_count >= 3 && !m.imports.is_empty())
        }
        Some(VmError::Semantic { .. }) => has_header && !m.imports.is_empty(),
        None => m.limit.is_some(),
    }
}

/// Whether the loader, running the stream opcode by opcode, gets to do
/// something before it stops: CPython's unpickler executes each opcode as it
/// reads it, so a call (`REDUCE`, `INST`, `OBJ`, `NEWOBJ`, a planted
/// `__setstate__`) made before an invalid byte, a bad `STRING` or the end of
/// the data has already run when the loader raises. That holds with or
/// without a protocol header (protocols 0 and 1 have none).
///
/// The criterion, applied to the valid prefix the machine executed:
/// - a call whose callee is an import with a well-formed dotted name (or an
///   extension-registry or computed import, which name nothing literally);
/// - or an import of a denied name: importing it is the first half of the
///   payload, and the bytes that follow are what keeps other scanners out.
///
/// Prose and binary data essentially never get there: a call needs an import
/// opcode with two newline-terminated identifier lines, then the opcodes
/// that build an argument tuple, then the call opcode, all before the first
/// invalid byte.
pub fn reaches_execution(m: &Machine<'_>) -> bool {
    m.imports.iter().any(|import| {
        plausible(import)
            && (!import.calls.is_empty()
                || (matches!(import.origin, ImportOrigin::Literal)
                    && matches!(policy::classify(&import.name), Verdict::Deny { .. })))
    })
}

/// An import a loader could resolve: a literal name must be a dotted Python
/// identifier (`c \n\n.` is a complete stream that "imports" a space, which
/// no loader can find); computed and registry imports are judged by what
/// they do instead.
fn plausible(import: &vm::Import) -> bool {
    match import.origin {
        ImportOrigin::Literal | ImportOrigin::Reflected => is_dotted_identifier(&import.name),
        ImportOrigin::Computed | ImportOrigin::Unresolved | ImportOrigin::Extension(_) => true,
    }
}

pub fn detect(file: &FileInput<'_>) -> bool {
    let named_like_pickle = file.has_extension_in(PICKLE_EXTENSIONS);
    match file.kind {
        FileKind::Pickle => looks_like_pickle(file.bytes),
        FileKind::Binary | FileKind::Text if named_like_pickle => looks_like_pickle(file.bytes),
        FileKind::Binary | FileKind::Text => is_disguised_pickle(file.bytes),
        _ => false,
    }
}

/// A protocol 0/1 pickle under a name that says otherwise (`notes.txt`):
/// loaders do not care about names. Held to a stricter test than a file
/// named like a pickle: a complete stream that imports something. Prose
/// never gets there (a space is not an opcode).
fn is_disguised_pickle(bytes: &[u8]) -> bool {
    // First one page: tensor data and other binaries fail within a few bytes,
    // and reading the whole window of each tensor of a checkpoint would page
    // in megabytes a scan never needs. Only a prefix that is still a valid
    // stream when the page runs out earns the full window; the VM is
    // deterministic, so a stream that failed inside the page fails there in
    // the window too.
    let first = &bytes[..bytes.len().min(PROBE_PAGE)];
    if first.is_empty() || Opcode::from_byte(first[0]).is_none() {
        return false;
    }
    let m = Machine::run(first, 0);
    if m.result.is_some() {
        return m.imports.iter().any(plausible);
    }
    if reaches_execution(&m) {
        return true;
    }
    let ran_out = matches!(
        &m.error,
        Some(VmError::Parse(ParseError {
            kind: ParseErrorKind::Truncated
                | ParseErrorKind::MissingStop
                | ParseErrorKind::UnterminatedLine,
            ..
        }))
    );
    if !ran_out || bytes.len() <= first.len() {
        return false;
    }
    let window = &bytes[..bytes.len().min(PLAUSIBILITY_WINDOW)];
    let m = Machine::run(window, 0);
    m.result.is_some() && m.imports.iter().any(plausible) || reaches_execution(&m)
}

struct StreamReport<'f> {
    file: &'f FileInput<'f>,
    stream: usize,
    findings: Vec<Finding>,
    /// Nodes already scanned as a loader's payload, not to be scanned twice.
    loaded_payloads: HashSet<usize>,
    /// Which reading of the stream this is, when there are two.
    view: &'static str,
}

impl StreamReport<'_> {
    fn where_(&self) -> String {
        let stream = if self.stream == 0 {
            String::new()
        } else {
            format!(" (pickle stream {})", self.stream + 1)
        };
        format!("{stream}{}", self.view)
    }
}

/// Scans every pickle stream in `bytes` (the whole file or archive member
/// described by `file`) and returns its findings. Nested payloads (literal
/// arguments of `pickle.loads`, pickles stored as bytes) are handed to
/// `ctx.scan_member`, so every scanner sees them and nesting stays bounded by
/// `ctx.limits.max_nesting`.
///
/// `file.bytes` is not read: callers that found a pickle inside another
/// container pass the pickle's own bytes and a `file` naming where it is.
pub fn scan_pickle(bytes: &[u8], file: &FileInput<'_>, ctx: &ScanContext<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut pos = 0usize;
    let mut complete_streams = 0usize;
    let mut torch_legacy = false;
    for stream in 0.. {
        if pos >= bytes.len() {
            break;
        }
        if stream >= MAX_STREAMS {
            findings.push(
                Finding::new(
                    &generic::LIMIT_EXCEEDED,
                    file,
                    format!("more than {MAX_STREAMS} concatenated pickle streams; the rest of the file was not scanned"),
                )
                .bytes(pos as u64, bytes.len() as u64),
            );
            break;
        }
        let m = Machine::run(bytes, pos);
        let trailing = stream > 0;
        if trailing && m.result.is_none() && !has_plausible_imports(&m) {
            // Not a pickle: raw bytes after the last stream.
            if !torch_legacy {
                findings.push(
                    Finding::new(
                        &TRAILING_DATA,
                        file,
                        format!("{} bytes follow the end of the pickle", bytes.len() - pos),
                    )
                    .bytes(pos as u64, bytes.len() as u64),
                );
            }
            break;
        }
        if stream == 0 {
            torch_legacy = m.result.is_some_and(
                |r| matches!(m.node(r), Node::BigInt(b) if b.as_ref() == TORCH_LEGACY_MAGIC),
            );
        }
        let file_ref: &FileInput<'_> = file;
        let mut report = StreamReport {
            file: file_ref,
            stream,
            findings: Vec::new(),
            loaded_payloads: HashSet::new(),
            view: "",
        };
        analyze(&m, &mut report, ctx, trailing && m.result.is_none());
        if let Some(v) = m.frame_violation {
            report_frame_divergence(bytes, pos, v, &mut report, ctx);
        }
        findings.append(&mut report.findings);
        if m.result.is_some() {
            complete_streams += 1;
        }
        if m.result.is_none() || m.end <= pos {
            break;
        }
        pos = m.end;
    }
    if complete_streams > 1 && !torch_legacy {
        findings.push(
            Finding::new(
                &APPENDED_PICKLE,
                file,
                format!("{complete_streams} pickle streams are concatenated; loaders that read in a loop run them all"),
            )
            .evidence(format!("{complete_streams} streams")),
        );
    }
    findings
}

/// A frame that an opcode crosses, or that another FRAME opens inside, is
/// read one way from memory and another from a file (see
/// [`crate::parse::FrameReading`]). The frame is reported, and the stream
/// is run again the way a chunked file reader runs it; what only that
/// reading shows is reported too.
fn report_frame_divergence(
    bytes: &[u8],
    pos: usize,
    v: crate::parse::FrameViolation,
    report: &mut StreamReport<'_>,
    ctx: &ScanContext<'_>,
) {
    let here = report.where_();
    let what = if v.nested {
        format!("a FRAME at offset {} opens inside it", v.at)
    } else {
        format!("the opcode at offset {} reads past that end", v.at)
    };
    report.findings.push(
        Finding::new(
            &INCONSISTENT_FRAME,
            report.file,
            format!(
                "the FRAME at offset {} declares that its frame ends at offset {}, but {what}: CPython reading from memory and CPython reading a file in chunks execute different opcodes here{here}",
                v.frame_offset, v.frame_end
            ),
        )
        .evidence(format!("frame {}..{}, crossed at {}", v.frame_offset, v.frame_end, v.at))
        .bytes(v.frame_offset as u64, v.frame_end as u64),
    );
    let chunked = Machine::run_chunked(bytes, pos);
    let mut other = StreamReport {
        file: report.file,
        stream: report.stream,
        findings: Vec::new(),
        loaded_payloads: HashSet::new(),
        view: " (as CPython reads it from a file, frame by frame)",
    };
    analyze(&chunked, &mut other, ctx, false);
    let seen: HashSet<(String, Option<String>)> = report
        .findings
        .iter()
        .map(|f| (f.rule_id.clone(), f.evidence.clone()))
        .collect();
    report.findings.extend(
        other
            .findings
            .into_iter()
            .filter(|f| !seen.contains(&(f.rule_id.clone(), f.evidence.clone()))),
    );
}

/// A trailing segment counts as a pickle if it imported something with a
/// name the loader could import (not bytes that happened to parse).
fn has_plausible_imports(m: &Machine<'_>) -> bool {
    m.imports
        .iter()
        .any(|i| matches!(i.origin, ImportOrigin::Literal) && is_dotted_identifier(&i.name))
}

fn is_dotted_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.split('.').all(|seg| {
            let mut chars = seg.chars();
            chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
                && chars.all(|c| c == '_' || c.is_alphanumeric())
        })
}

fn call_of(m: &Machine<'_>, id: NodeId) -> Option<Call> {
    match m.node(id) {
        Node::Call(c) => Some(c.clone()),
        _ => None,
    }
}

fn analyze(
    m: &Machine<'_>,
    report: &mut StreamReport<'_>,
    ctx: &ScanContext<'_>,
    broken_trailing: bool,
) {
    let file = report.file;
    let here = report.where_();
    let r = Renderer::inline(m, EVIDENCE_LEN);
    let reachable = reachable_nodes(m);

    // Which imports are called, and which calls reach a known name.
    let mut unknown: BTreeMap<String, (usize, usize, usize, usize)> = BTreeMap::new();
    let mut unknown_dropped = 0usize;
    let called_names: HashSet<&str> = m
        .imports
        .iter()
        .filter(|i| !i.calls.is_empty())
        .map(|i| i.name.as_str())
        .collect();
    for import in &m.imports {
        if broken_trailing && !is_dotted_identifier(&import.name) {
            continue;
        }
        match &import.origin {
            ImportOrigin::Unresolved => {
                report.findings.push(
                    Finding::new(
                        &OBFUSCATED_IMPORT,
                        file,
                        format!("STACK_GLOBAL imports a name computed at load time that could not be resolved{here}"),
                    )
                    .evidence(format!("import of a computed name at offset {}", import.offset))
                    .bytes(import.offset as u64, import.end as u64),
                );
                continue;
            }
            ImportOrigin::Computed => {
                report.findings.push(
                    Finding::new(
                        &OBFUSCATED_IMPORT,
                        file,
                        format!(
                            "STACK_GLOBAL imports `{}` under a name assembled at load time{here}",
                            import.name
                        ),
                    )
                    .evidence(import.name.clone())
                    .bytes(import.offset as u64, import.end as u64),
                );
            }
            ImportOrigin::Extension(code) => {
                let called = if import.calls.is_empty() {
                    String::new()
                } else {
                    format!(" and calls it ({} call(s))", import.calls.len())
                };
                report.findings.push(
                    Finding::new(
                        &OBFUSCATED_IMPORT,
                        file,
                        format!(
                            "{} pushes whatever the loading process registered under copyreg extension code {code}{called}: the file does not say what it imports, the loader's registry does{here}",
                            import.opcode.name()
                        ),
                    )
                    .evidence(import.name.clone())
                    .bytes(import.offset as u64, import.end as u64),
                );
                continue;
            }
            ImportOrigin::Literal | ImportOrigin::Reflected => {}
        }
        match policy::classify(&import.name) {
            Verdict::Deny {
                severity,
                category,
                sources,
                ..
            } => {
                let written = import
                    .written
                    .as_deref()
                    .map(|w| format!(" (written as `{w}`)"))
                    .unwrap_or_default();
                let how = if import.origin == ImportOrigin::Reflected {
                    " (reached through reflection)"
                } else {
                    ""
                };
                if import.calls.is_empty() {
                    if reflected_and_called_elsewhere(&called_names, import) {
                        continue;
                    }
                    let reach = if m.result.is_some() {
                        "imported on load and reachable from the result"
                    } else {
                        "imported on load before the stream breaks off"
                    };
                    report.findings.push(
                        Finding::new(
                            &DANGEROUS_CALLABLE,
                            file,
                            format!(
                                "imports `{}`{written}{how}, which {}; not called by the pickle itself, but {reach}{here}",
                                import.name,
                                category.describe()
                            ),
                        )
                        .severity(severity)
                        .evidence(import.name.clone())
                        .bytes(import.offset as u64, import.end as u64)
                        .with_advisories(sources),
                    );
                }
                let total = import.calls.len();
                for (n, &call_id) in import.calls.iter().enumerate().take(MAX_SITES_PER_CALLABLE) {
                    let Some(call) = call_of(m, call_id) else {
                        continue;
                    };
                    let mut message = format!(
                        "calls `{}`{written}{how} at load time, which {}{here}",
                        import.name,
                        category.describe()
                    );
                    if n + 1 == MAX_SITES_PER_CALLABLE && total > MAX_SITES_PER_CALLABLE {
                        message.push_str(&format!(
                            " ({} more calls not listed)",
                            total - MAX_SITES_PER_CALLABLE
                        ));
                    }
                    if policy::loads_first_argument(&import.name) {
                        message.push_str(&nested_payload(
                            m,
                            &call,
                            file,
                            ctx,
                            &mut report.findings,
                            &mut report.loaded_payloads,
                        ));
                    }
                    report.findings.push(
                        Finding::new(&DANGEROUS_CALLABLE, file, message)
                            .severity(severity)
                            .evidence(r.expr(call_id))
                            .bytes(call.offset as u64, call.offset as u64 + 1)
                            .with_advisories(sources),
                    );
                }
            }
            Verdict::Unknown => {
                let entry =
                    unknown
                        .entry(import.name.clone())
                        .or_insert((import.offset, import.end, 0, 0));
                entry.2 += 1;
                entry.3 += import.calls.len();
            }
            Verdict::UnknownTorchScript => {
                report.findings.push(
                    torchscript_unknown(file, &import.name, &here)
                        .bytes(import.offset as u64, import.end as u64),
                );
            }
            Verdict::Allow => {}
        }
    }
    for (listed, (name, (offset, end, sites, calls))) in unknown.into_iter().enumerate() {
        if listed >= MAX_UNKNOWN_FINDINGS {
            unknown_dropped += 1;
            continue;
        }
        let what = if calls > 0 {
            format!(
                "calls `{name}` ({calls} call{}) at load time",
                if calls == 1 { "" } else { "s" }
            )
        } else {
            format!("imports `{name}`")
        };
        let _ = sites;
        report.findings.push(
            Finding::new(
                &UNKNOWN_CALLABLE,
                file,
                format!("{what}, which is not on the list of known-safe callables{here}"),
            )
            .confidence(Confidence::Medium)
            .evidence(name)
            .bytes(offset as u64, end as u64),
        );
    }
    if unknown_dropped > 0 {
        report.findings.push(Finding::new(
            &UNKNOWN_CALLABLE,
            file,
            format!("{unknown_dropped} further unknown callables not listed{here}"),
        ));
    }

    // Resolvers whose arguments could not be folded hide what they import.
    for import in &m.imports {
        if !policy::is_resolver(&import.name) {
            continue;
        }
        for &call_id in import.calls.iter().take(MAX_SITES_PER_CALLABLE) {
            let Some(call) = call_of(m, call_id) else {
                continue;
            };
            if call.folded.is_none()
                && !matches!(call.kind, CallKind::SetState | CallKind::Forwarded)
            {
                report.findings.push(
                    Finding::new(
                        &OBFUSCATED_IMPORT,
                        file,
                        format!(
                            "`{}` resolves a name built at load time that could not be determined{here}",
                            import.name
                        ),
                    )
                    .evidence(r.expr(call_id))
                    .bytes(call.offset as u64, call.offset as u64 + 1),
                );
            }
        }
    }

    // Calls whose callee is not an import at all.
    let mut discarded_reported = 0usize;
    for event in &m.events {
        let Event::Call(id) = event else { continue };
        let Some(call) = call_of(m, *id) else {
            continue;
        };
        let resolved = m.resolve_import(call.callee, 0);
        if resolved.is_none() {
            let callee_is_opaque = matches!(m.node(call.callee), Node::Opaque);
            report.findings.push(
                Finding::new(
                    &OBFUSCATED_IMPORT,
                    file,
                    format!(
                        "calls a value computed at load time rather than an imported name{here}"
                    ),
                )
                .confidence(if callee_is_opaque {
                    Confidence::Medium
                } else {
                    Confidence::High
                })
                .evidence(r.expr(*id))
                .bytes(call.offset as u64, call.offset as u64 + 1),
            );
        }
        // BUILD discards what a planted `__setstate__` returns, by design;
        // a forwarded call's result is the helper's result.
        let result_is_kept = !matches!(call.kind, CallKind::SetState | CallKind::Forwarded);
        if result_is_kept
            && m.result.is_some()
            && !reachable.contains(id)
            && discarded_reported < MAX_SITES_PER_CALLABLE
        {
            discarded_reported += 1;
            let benign = resolved
                .is_some_and(|i| policy::classify(&m.imports[i as usize].name) == Verdict::Allow);
            report.findings.push(
                Finding::new(
                    &DISCARDED_CALL,
                    file,
                    format!("the result of this load-time call is thrown away: it was made for its side effect{here}"),
                )
                .severity(if benign { Severity::Low } else { Severity::Medium })
                .evidence(r.expr(*id))
                .bytes(call.offset as u64, call.offset as u64 + 1),
            );
        }
    }

    // A helper that calls what it is given (NumPy's random constructors):
    // anything but the callables real pickles pass is the gadget, whatever
    // the allow list says of the helper.
    for event in &m.events {
        let Event::Call(id) = event else { continue };
        let Some(call) = call_of(m, *id) else {
            continue;
        };
        if call.kind != CallKind::Forwarded {
            continue;
        }
        let verdict = m
            .resolve_import(call.callee, 0)
            .map(|i| policy::classify(&m.imports[i as usize].name));
        if matches!(verdict, Some(Verdict::Allow | Verdict::Deny { .. })) {
            // Allowed: a real NumPy pickle. Denied: reported above as a call.
            continue;
        }
        report.findings.push(
            Finding::new(
                &DANGEROUS_CALLABLE,
                file,
                format!(
                    "a NumPy random-state constructor calls `{}` at load time with arguments from the file: only NumPy's bit-generator constructors belong there{here}",
                    r.callee(call.callee)
                ),
            )
            .evidence(r.expr(*id))
            .bytes(call.offset as u64, call.offset as u64 + 1),
        );
    }

    for &(offset, kind, target) in &m.global_mutations {
        let what = match kind {
            MutationKind::Build => "BUILD sets attributes of",
            MutationKind::SetItem | MutationKind::SetItems => "SETITEM writes into",
            MutationKind::Append | MutationKind::Appends => "APPEND adds to",
            MutationKind::AddItems => "ADDITEMS adds to",
        };
        report.findings.push(
            Finding::new(
                &GLOBAL_MUTATION,
                file,
                format!(
                    "{what} the imported object `{}` itself{here}",
                    r.callee(target)
                ),
            )
            .evidence(r.callee(target))
            .bytes(offset as u64, offset as u64 + 1),
        );
    }

    let loaded = std::mem::take(&mut report.loaded_payloads);
    scan_embedded_pickles(m, file, ctx, &loaded, &mut report.findings);
    for inner in &m.inline {
        analyze(inner, report, ctx, false);
    }

    let mut oddities = Vec::new();
    if m.memo_overwrites > 0 {
        oddities.push(format!("{} memo slot(s) written twice", m.memo_overwrites));
    }
    if m.leftover_at_stop > 0 {
        oddities.push(format!(
            "{} value(s) or mark(s) left on the stack at STOP",
            m.leftover_at_stop
        ));
    }
    if let Some(at) = m.late_proto {
        oddities.push(format!("PROTO opcode in mid-stream at offset {at}"));
    }
    if !oddities.is_empty() {
        report.findings.push(
            Finding::new(
                &NONSTANDARD_STRUCTURE,
                file,
                format!("structure no pickler writes: {}{here}", oddities.join("; ")),
            )
            .evidence(oddities.join("; ")),
        );
    }

    if broken_trailing {
        return;
    }
    if let Some(error) = &m.error {
        let seen = report.findings.len();
        report.findings.push(
            Finding::new(
                &generic::MALFORMED,
                file,
                format!(
                    "pickle is malformed: {error}; {seen} finding(s) above were seen before the error{here}"
                ),
            )
            .evidence(error.to_string())
            .bytes(m.end as u64, m.end as u64 + 1),
        );
        sweep(m, m.end, file, &mut report.findings, &here);
    }
    if let Some(limit) = &m.limit {
        report.findings.push(
            Finding::new(
                &generic::LIMIT_EXCEEDED,
                file,
                format!(
                    "the pickle exceeds the limit on {} at offset {}; the rest was only swept for imports{here}",
                    limit.what, limit.offset
                ),
            )
            .bytes(limit.offset as u64, limit.offset as u64 + 1),
        );
        sweep(m, limit.offset, file, &mut report.findings, &here);
    }
}

/// `getattr(os, 'system')` yields a reflected import of `os.system` that is
/// the callee of a later call; the reflected import itself is only reported
/// when nothing calls it, and the base import (`os`) is reported anyway.
fn reflected_and_called_elsewhere(called: &HashSet<&str>, import: &vm::Import) -> bool {
    import.origin == ImportOrigin::Reflected && called.contains(import.name.as_str())
}

fn nested_payload(
    m: &Machine<'_>,
    call: &Call,
    file: &FileInput<'_>,
    ctx: &ScanContext<'_>,
    findings: &mut Vec<Finding>,
    scanned: &mut HashSet<usize>,
) -> String {
    let first = m.tuple_items(call.args).and_then(|a| a.first().copied());
    let payload = first.and_then(|a| m.literal_bytes(a, 0));
    match payload {
        Some(bytes) if !bytes.is_empty() => {
            if let Some(offset) = offset_in(m.data(), &bytes) {
                scanned.insert(offset);
            }
            let member = format!("nested@{}", call.offset);
            let nested = ctx.scan_member(file, &member, &bytes);
            let count = nested.len();
            findings.extend(nested);
            format!(
                "; its literal payload ({} bytes) was scanned as `{member}`: {count} finding(s)",
                bytes.len()
            )
        }
        _ => "; its payload is not a literal and could not be scanned".to_owned(),
    }
}

/// Literal byte strings that are themselves pickles (a payload stored as
/// data, to be loaded by code elsewhere) are scanned as members.
/// Where `part` starts inside `whole`, when it is a slice of it.
fn offset_in(whole: &[u8], part: &[u8]) -> Option<usize> {
    let start = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    (start + part.len() <= whole.len()).then_some(start)
}

fn scan_embedded_pickles(
    m: &Machine<'_>,
    file: &FileInput<'_>,
    ctx: &ScanContext<'_>,
    already_scanned: &HashSet<usize>,
    findings: &mut Vec<Finding>,
) {
    let mut scanned = 0;
    let mut seen = HashSet::new();
    for node in &m.nodes {
        if scanned >= MAX_EMBEDDED_SCANS {
            break;
        }
        let (Node::Bytes(b) | Node::ByteArray(b)) = node else {
            continue;
        };
        if b.len() < 4 || !b.ends_with(b".") || sniff_content(b) != Some(FileKind::Pickle) {
            continue;
        }
        // Payloads built by folding (base64...) are not in the input; they
        // were only ever scanned as a loader's argument, if at all.
        let Some(start) = offset_in(m.data(), b) else {
            continue;
        };
        if already_scanned.contains(&start) || !seen.insert(start) {
            continue;
        }
        scanned += 1;
        let member = format!("embedded@{start}");
        // What the embedded pickle would do runs only when code elsewhere
        // unpickles these bytes, not when this file is loaded: say so, so the
        // message does not claim a call at load time that loading never makes.
        findings.extend(ctx.scan_member(file, &member, b).into_iter().map(|mut f| {
            if f.location.member.as_deref().is_some_and(|m| m.ends_with(&member)) {
                f.message = format!(
                    "embedded pickle stored as data (it runs if the application unpickles these bytes): {}",
                    f.message
                );
            }
            f
        }));
    }
}

fn sweep(
    m: &Machine<'_>,
    from: usize,
    file: &FileInput<'_>,
    findings: &mut Vec<Finding>,
    here: &str,
) {
    // The sweep goes on through any streams appended after this one: the
    // machine stopped, so the stream loop will not reach them.
    let mut swept = Vec::new();
    let mut pos = from;
    for _ in 0..MAX_STREAMS {
        let (found, next) = vm::sweep_imports(m.data(), pos, MAX_SWEPT_IMPORTS - swept.len());
        swept.extend(found);
        if next <= pos || next >= m.data().len() || swept.len() >= MAX_SWEPT_IMPORTS {
            break;
        }
        pos = next;
    }
    let already: HashSet<&str> = m.imports.iter().map(|i| i.name.as_str()).collect();
    let mut reported = HashSet::new();
    for s in swept {
        if already.contains(s.name.as_str()) || !reported.insert(s.name.clone()) {
            continue;
        }
        if !is_dotted_identifier(&s.name) {
            continue;
        }
        let finding = match policy::classify(&s.name) {
            Verdict::UnknownTorchScript => torchscript_unknown(file, &s.name, here),
            Verdict::Deny {
                severity,
                category,
                sources,
                ..
            } => Finding::new(
                &DANGEROUS_CALLABLE,
                file,
                format!(
                    "imports `{}`, which {}, after the point where symbolic analysis stopped{here}",
                    s.name,
                    category.describe()
                ),
            )
            .severity(severity)
            .with_advisories(sources),
            Verdict::Unknown => Finding::new(
                &UNKNOWN_CALLABLE,
                file,
                format!(
                    "imports `{}` after the point where symbolic analysis stopped{here}",
                    s.name
                ),
            ),
            Verdict::Allow => continue,
        };
        findings.push(
            finding
                .confidence(Confidence::Medium)
                .evidence(s.name)
                .bytes(s.offset as u64, s.offset as u64 + 1),
        );
    }
}

/// An unknown name in TorchScript's helper module: what a damaged or
/// edited TorchScript archive looks like. Not a callable that runs code
/// (Python finds no such attribute, TorchScript's loader rejects the
/// archive), but no TorchScript version writes it: the file was changed
/// after export, which fails the gate.
fn torchscript_unknown(file: &FileInput<'_>, name: &str, here: &str) -> Finding {
    Finding::new(
        &UNKNOWN_CALLABLE,
        file,
        format!(
            "unknown global `{name}` in a TorchScript pickle: `torch.jit._pickle` holds only the helpers TorchScript writes ({}), so the archive was damaged or edited after export{here}",
            policy::torchscript_helpers().join(", ")
        ),
    )
    .severity(Severity::High)
    .evidence(name.to_owned())
}

/// Links a finding to the advisories its deny entry names.
trait WithAdvisories {
    fn with_advisories(self, sources: &str) -> Self;
}

impl WithAdvisories for Finding {
    fn with_advisories(mut self, sources: &str) -> Self {
        for id in sources
            .split_whitespace()
            .filter(|s| s.starts_with("GHSA-") || s.starts_with("CVE-"))
        {
            let url = if id.starts_with("GHSA-") {
                format!("https://github.com/advisories/{id}")
            } else {
                format!("https://nvd.nist.gov/vuln/detail/{id}")
            };
            self = self.reference(aisec_core::Reference::owned(id, url));
        }
        self
    }
}

/// Nodes reachable from the stream's result, following containers, call
/// parts and the items that mutations put into reachable objects.
fn reachable_nodes(m: &Machine<'_>) -> Reachable {
    let mut seen = vec![false; m.nodes.len()];
    let Some(root) = m.result else {
        return Reachable(seen);
    };
    let mut mutations: HashMap<NodeId, Vec<NodeId>> = HashMap::new();
    for e in &m.events {
        if let Event::Mutation { target, items, .. } = e {
            mutations
                .entry(*target)
                .or_default()
                .extend_from_slice(items);
        }
    }
    let mut todo = vec![root];
    while let Some(id) = todo.pop() {
        match seen.get_mut(id as usize) {
            Some(s) if !*s => *s = true,
            _ => continue,
        }
        match m.node(id) {
            Node::Tuple(v) | Node::List(v) | Node::Set(v) | Node::FrozenSet(v) => {
                todo.extend_from_slice(v)
            }
            Node::Dict(pairs) => {
                for (k, v) in pairs {
                    todo.push(*k);
                    todo.push(*v);
                }
            }
            Node::Call(c) => {
                todo.push(c.callee);
                todo.push(c.args);
                todo.extend(c.kwargs);
                todo.extend(c.folded);
            }
            Node::Attr { obj, .. } => todo.push(*obj),
            Node::PersistentLoad(p) => todo.push(*p),
            Node::Global(i) => {
                if let Some((module, name)) = m.imports.get(*i as usize).and_then(|i| i.operands) {
                    todo.push(module);
                    todo.push(name);
                }
            }
            _ => {}
        }
        if let Some(items) = mutations.get(&id) {
            todo.extend_from_slice(items);
        }
    }
    Reachable(seen)
}

/// Which nodes of a stream are part of its result.
struct Reachable(Vec<bool>);

impl Reachable {
    fn contains(&self, id: &NodeId) -> bool {
        self.0.get(*id as usize).copied().unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_identifiers() {
        assert!(is_dotted_identifier("os.system"));
        assert!(is_dotted_identifier("_a.b1"));
        assert!(!is_dotted_identifier("os..system"));
        assert!(!is_dotted_identifier("1a"));
        assert!(!is_dotted_identifier("a b"));
    }

    #[test]
    fn prose_is_not_a_pickle() {
        for text in [
            &b"hello world, this is a readme\n"[..],
            b"Nothing to see here.",
            b"abc",
            b"# title\n\nsome text",
            b"{\"a\": 1}",
            b"",
        ] {
            assert!(
                !looks_like_pickle(text),
                "{:?}",
                String::from_utf8_lossy(text)
            );
        }
        assert!(looks_like_pickle(b"(dp0\nS'a'\np1\nI1\ns."));
        assert!(looks_like_pickle(b"\x80\x04N."));
        assert!(looks_like_pickle(b"\x80\x04\x95\x10\x00\x00"));
    }

    /// Found by the `prose_is_not_detected` proptest: `c \n\n.` is a complete
    /// stream whose GLOBAL names a space, which no loader can import.
    #[test]
    fn a_complete_stream_importing_no_python_name_is_not_a_disguised_pickle() {
        assert!(!is_disguised_pickle(b"c \n\n."));
        assert!(is_disguised_pickle(b"cos\nsystem\n."));
    }
}
