//! Model format scanners: safetensors header validation, GGUF metadata and
//! chat templates, NumPy object arrays, Hugging Face configs that need remote
//! code, Jinja chat templates wherever they are stored, and Hydra configs
//! (NeMo's `model_config.yaml`) whose `_target_` names a dangerous callable.
//!
//! Files beside the scanned one (ONNX external data) are looked at only
//! through [`ScanContext::stat_sibling`], which the engine confines to the
//! scanned tree; this crate never touches the file system itself.
//!
//! Pickle-based formats (PyTorch zip and legacy, joblib, `.pkl`) are found by
//! the pickle scanner, through the archive scanner for zips and tars; this
//! crate hands the pickle inside an object `.npy` to them the same way
//! ([`ScanContext::scan_member`]).
//!
//! What it never does: load a model, render a template, read tensor data
//! (headers only), or allocate beyond the bounds named in each module.

pub mod gguf;
pub mod graphs;
pub mod hdf5;
pub mod hydra;
pub mod jinja;
pub mod keras;
pub mod mlflow;
pub mod numpy;
pub mod proto;
pub mod rules;
pub mod safetensors;
pub mod torchscript;
pub mod yaml_events;
pub mod yaml_templates;

use aisec_core::{
    Confidence, FileInput, FileKind, Finding, ScanContext, Scanner, Severity, SiblingError,
    excerpt, generic,
};
use serde_json::Value;

pub use rules::RULES;

/// JSON configs bigger than this are not model configs; skip the parse.
const MAX_CONFIG_JSON: usize = 16 * 1024 * 1024;

pub struct FormatsScanner;

fn is_template_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".jinja") || lower.ends_with(".jinja2") || lower.ends_with(".j2")
}

/// Why a file is judged as a JSON model config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConfigVia {
    /// `.json` with the keys we judge (a cheap byte search before any parse),
    /// or `config.json` in a `.keras` archive: a parse error is reported.
    Name,
    /// Any other text that starts like a JSON object and may hold a Keras
    /// config (`model.json` renamed, no extension): judged as Keras only, and
    /// silent when it does not parse.
    Content,
}

fn model_config(file: &FileInput<'_>) -> Option<ConfigVia> {
    if file.kind != FileKind::Text || file.bytes.len() > MAX_CONFIG_JSON {
        return None;
    }
    if keras::is_keras_archive_config(file.path, file.member) {
        return Some(ConfigVia::Name);
    }
    if file.has_extension("json") {
        // Separate memmem searches, not one Aho-Corasick pass: memmem skips on
        // rare bytes at several GB/s and stops at "no `\"config\"`", while one
        // overlapping automaton pass reports every `\u` escape of a
        // tokenizer.json (24 x 4 MiB vocabularies: 27 ms vs 261 ms).
        let keys = contains(file.bytes, b"\"auto_map\"")
            || contains(file.bytes, b"chat_template\"")
            || keras::might_be_keras(file.bytes);
        return keys.then_some(ConfigVia::Name);
    }
    let object = file
        .bytes
        .strip_prefix(b"\xef\xbb\xbf")
        .unwrap_or(file.bytes)
        .trim_ascii_start()
        .starts_with(b"{");
    (object && keras::might_be_keras(file.bytes)).then_some(ConfigVia::Content)
}

fn is_model_config(file: &FileInput<'_>) -> bool {
    model_config(file).is_some()
}

/// Text files bigger than this are not templates; skip the prefilter.
const MAX_SNIFFED_TEMPLATE: usize = 16 * 1024 * 1024;

/// Extensions under which a text file is judged as a Jinja template by its
/// content (a name that does not say Jinja does not stop a loader that is
/// told to read it: `.template`, `.tmpl`, `.html` template folders, prompt
/// files, no extension). Source code (`.py`: f-strings spell `{{` and
/// classes spell `__init__`) and documentation (`.md`, `.rst`: write-ups of
/// payloads) are left out.
const SNIFFED_TEMPLATE_EXTENSIONS: &[&str] = &[
    "template", "tmpl", "tpl", "jinja", "jinja2", "j2", "html", "htm", "xhtml", "xml", "txt",
    "text", "prompt", "chat",
];

/// A text file under another name whose content may be a Jinja sandbox
/// escape ([`jinja::looks_like_ssti`]).
fn is_sniffed_template(file: &FileInput<'_>) -> bool {
    file.kind == FileKind::Text
        && file.bytes.len() <= MAX_SNIFFED_TEMPLATE
        && !is_template_file(file.name())
        && file.name() != "MLmodel"
        && (file.extension_str().is_none() || file.has_extension_in(SNIFFED_TEMPLATE_EXTENSIONS))
        && jinja::looks_like_ssti(file.bytes)
}

/// YAML that may hold a chat template under a template key.
fn is_yaml_template_candidate(file: &FileInput<'_>) -> bool {
    file.kind == FileKind::Text
        && file.bytes.len() <= MAX_CONFIG_YAML
        && file.has_extension_in(&["yaml", "yml"])
        && yaml_templates::mentions_chat_template(file.bytes)
}

/// YAML or JSON bigger than this is not a Hydra config; skip the parse.
const MAX_CONFIG_YAML: usize = 16 * 1024 * 1024;

/// Unknown `_target_` callables named in one finding's evidence, at most.
const MAX_LISTED_TARGETS: usize = 8;

/// A text file that may be a Hydra/OmegaConf config: YAML, JSON or no
/// extension (content decides: the `_target_` key must appear, and the
/// parse must find it as a key).
fn is_hydra_candidate(file: &FileInput<'_>) -> bool {
    file.kind == FileKind::Text
        && file.bytes.len() <= MAX_CONFIG_YAML
        && (file.extension_str().is_none() || file.has_extension_in(&["yaml", "yml", "json"]))
        && hydra::mentions_target(file.bytes)
}

/// Keras configs embedded per HDF5 file, at most; a model has one or two.
const MAX_EMBEDDED_CONFIGS: usize = 16;

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    find(hay, needle).is_some()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

fn line_at(bytes: &[u8], offset: usize) -> u32 {
    bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u32
        + 1
}

impl Scanner for FormatsScanner {
    fn name(&self) -> &'static str {
        "formats"
    }

    fn rules(&self) -> &'static [&'static aisec_core::Rule] {
        RULES
    }

    fn detect(&self, file: &FileInput<'_>) -> bool {
        matches!(
            file.kind,
            FileKind::Safetensors
                | FileKind::Gguf
                | FileKind::Numpy
                | FileKind::Protobuf
                | FileKind::Hdf5
        ) || file.has_extension_in(&["safetensors", "gguf", "npy", "onnx", "pb"])
            || (file.kind == FileKind::Text
                && (is_template_file(file.name()) || file.name() == "MLmodel"))
            || is_model_config(file)
            || is_hydra_candidate(file)
            || is_sniffed_template(file)
            || is_yaml_template_candidate(file)
            || file.member.is_some_and(torchscript::is_torchscript_source)
    }

    fn scan(&self, file: &FileInput<'_>, ctx: &ScanContext<'_>) -> Vec<Finding> {
        // A pickle or zip under a model-format name is the pickle, archive and
        // extension scanners' business; judging it here would only add noise.
        if matches!(file.kind, FileKind::Pickle | FileKind::Zip) {
            return Vec::new();
        }
        if file.kind == FileKind::Text
            && file.member.is_some_and(torchscript::is_torchscript_source)
        {
            return scan_torchscript(file);
        }
        let mut out = scan_format(file, ctx);
        if is_hydra_candidate(file) {
            out.extend(scan_hydra(file));
        }
        if is_sniffed_template(file) {
            out.extend(scan_sniffed_template(file));
        }
        if is_yaml_template_candidate(file) {
            out.extend(scan_yaml_templates(file));
        }
        out
    }
}

fn scan_format(file: &FileInput<'_>, ctx: &ScanContext<'_>) -> Vec<Finding> {
    let ext = |e: &str| file.has_extension(e);
    match file.kind {
        FileKind::Safetensors => scan_safetensors(file),
        _ if ext("safetensors") => scan_safetensors(file),
        FileKind::Gguf => scan_gguf(file),
        _ if ext("gguf") => scan_gguf(file),
        FileKind::Numpy => scan_numpy(file, ctx),
        _ if ext("npy") => scan_numpy(file, ctx),
        FileKind::Hdf5 => scan_hdf5(file),
        _ if ext("onnx") => scan_onnx(file, ctx),
        _ if ext("pb") => scan_tensorflow(file, ctx),
        FileKind::Text if is_template_file(file.name()) => match std::str::from_utf8(file.bytes) {
            Ok(text) => template_findings(file, text, 0, 0),
            Err(e) => vec![Finding::new(
                &generic::MALFORMED,
                file,
                format!("template is not UTF-8: {e}"),
            )],
        },
        FileKind::Text if file.name() == "MLmodel" => scan_mlflow(file),
        _ => match model_config(file) {
            Some(via) => scan_config(file, via),
            None => Vec::new(),
        },
    }
}

/// A text file judged a template by its content, not its name: only what
/// reaches Python internals or hides the attribute it reads (escapes and
/// computed attribute names) is reported; a gadget name alone or Jinja that
/// does not parse says nothing about a file that may not be Jinja at all
/// (HTML, Go and Angular templates share the braces). Not UTF-8: Jinja's
/// loaders decode strictly, so such a file never renders.
fn scan_sniffed_template(file: &FileInput<'_>) -> Vec<Finding> {
    let Ok(text) = std::str::from_utf8(file.bytes) else {
        return Vec::new();
    };
    let mut out = template_findings(file, text, 0, 0);
    out.retain(|f| f.rule_id == rules::TEMPLATE_INJECTION.id && f.severity >= Severity::High);
    out
}

/// `chat_template` values in YAML, judged like a JSON tokenizer config's.
fn scan_yaml_templates(file: &FileInput<'_>) -> Vec<Finding> {
    let Ok(text) = std::str::from_utf8(file.bytes) else {
        return Vec::new();
    };
    let found = yaml_templates::read(text);
    let mut out: Vec<Finding> = found
        .templates
        .iter()
        .flat_map(|t| template_findings(file, &t.source, 0, t.line))
        .collect();
    // Broken YAML after a template key: the loader's reader may see more.
    if let (Some((line, why)), false) = (&found.error, found.templates.is_empty()) {
        out.push(
            Finding::new(
                &generic::MALFORMED,
                file,
                format!(
                    "YAML with chat templates does not parse past line {line}: {}",
                    excerpt(why)
                ),
            )
            .severity(Severity::Low)
            .line(*line, None),
        );
    }
    out
}

fn scan_safetensors(file: &FileInput<'_>) -> Vec<Finding> {
    match safetensors::validate(file.bytes) {
        Ok(()) => Vec::new(),
        Err(safetensors::Problem::Malformed(why)) => vec![
            Finding::new(
                &generic::MALFORMED,
                file,
                format!("not a valid safetensors file: {why}"),
            )
            .bytes(0, 8),
        ],
        Err(safetensors::Problem::Layout(problems)) => problems
            .into_iter()
            .map(|issue| {
                let f = Finding::new(
                    &rules::SAFETENSORS_LAYOUT,
                    file,
                    format!("safetensors header: {}", issue.why),
                )
                .bytes(issue.at, issue.at)
                .evidence(issue.why);
                // Past the end: readers that trust the offsets read out of
                // bounds (see the rule's explanation for the grading).
                if issue.out_of_bounds {
                    f.severity(Severity::High)
                } else {
                    f
                }
            })
            .collect(),
    }
}

fn scan_gguf(file: &FileInput<'_>) -> Vec<Finding> {
    match gguf::read_header(file.bytes) {
        Err(why) => vec![Finding::new(
            &generic::MALFORMED,
            file,
            format!("not a valid GGUF file: {why}"),
        )],
        Ok(header) => {
            let mut out = Vec::new();
            for (key, template, at) in header.chat_templates {
                for mut f in template_findings(file, template, at, 0) {
                    f.message = format!("{} (GGUF `{key}`)", f.message);
                    out.push(f);
                }
            }
            if let Some(why) = header.error {
                out.push(Finding::new(
                    &generic::MALFORMED,
                    file,
                    format!("not a valid GGUF file (llama.cpp would refuse it): {why}"),
                ));
            }
            out
        }
    }
}

fn scan_numpy(file: &FileInput<'_>, ctx: &ScanContext<'_>) -> Vec<Finding> {
    match numpy::read_header(file.bytes) {
        Err(why) => vec![Finding::new(
            &generic::MALFORMED,
            file,
            format!("not a valid .npy file: {why}"),
        )],
        Ok(h) if h.object => {
            let at = h.data_offset as u64;
            let mut out = vec![
                Finding::new(
                    &rules::NUMPY_OBJECT_ARRAY,
                    file,
                    "NumPy array of dtype object: loading it unpickles the payload",
                )
                .evidence(format!("descr {}", h.descr))
                .bytes(at, at),
            ];
            out.extend(ctx.scan_member(file, "<object array pickle>", h.data));
            out
        }
        Ok(_) => Vec::new(),
    }
}

/// Findings for one template. `base` is the template's byte offset in the
/// file (binary containers), `base_line` the file line it starts on (0 when
/// lines do not apply).
fn template_findings(
    file: &FileInput<'_>,
    template: &str,
    base: u64,
    base_line: u32,
) -> Vec<Finding> {
    let analysis = jinja::analyse(template);
    let mut out = Vec::new();
    let escapes: Vec<&jinja::TemplateIssue> = analysis
        .issues
        .iter()
        .filter(|i| i.severity == jinja::Sev::Escape)
        .collect();
    let hidden: Vec<&jinja::TemplateIssue> = analysis
        .issues
        .iter()
        .filter(|i| i.severity == jinja::Sev::Hidden)
        .collect();
    let suspicious: Vec<&jinja::TemplateIssue> = analysis
        .issues
        .iter()
        .filter(|i| i.severity == jinja::Sev::Suspicious)
        .collect();
    let place = |f: Finding, issue: &jinja::TemplateIssue| {
        let f = f.bytes(base + issue.offset as u64, base + issue.offset as u64);
        if base == 0 || base_line > 0 {
            f.line(base_line.max(1) + issue.line - 1, None)
        } else {
            f
        }
    };
    if let Some(first) = escapes.first() {
        let all: Vec<&str> = escapes.iter().map(|i| i.what.as_str()).collect();
        out.push(place(
            Finding::new(
                &rules::TEMPLATE_INJECTION,
                file,
                format!("chat template reaches Python internals via {}", first.what),
            )
            .evidence(all.join(", ")),
            first,
        ));
    } else if let Some(first) = hidden.first() {
        let all: Vec<&str> = hidden.iter().map(|i| i.what.as_str()).collect();
        out.push(place(
            Finding::new(
                &rules::TEMPLATE_INJECTION,
                file,
                format!(
                    "chat template uses {}: the attribute it reads is assembled at render time, the way sandbox escapes hide `__class__`",
                    first.what
                ),
            )
            .severity(Severity::High)
            .confidence(Confidence::Medium)
            .evidence(all.join(", ")),
            first,
        ));
    } else if let Some(first) = suspicious.first() {
        let all: Vec<&str> = suspicious.iter().map(|i| i.what.as_str()).collect();
        out.push(place(
            Finding::new(
                &rules::TEMPLATE_INJECTION,
                file,
                format!(
                    "chat template uses {}, a known sandbox-escape building block",
                    first.what
                ),
            )
            .severity(Severity::Medium)
            .confidence(Confidence::Low)
            .evidence(all.join(", ")),
            first,
        ));
    }
    if let Some(err) = analysis.parse_error {
        out.push(
            Finding::new(
                &generic::MALFORMED,
                file,
                format!("chat template does not parse as Jinja (minijinja): {err}"),
            )
            .severity(Severity::Low)
            .confidence(Confidence::Medium),
        );
    }
    out
}

/// A protobuf walk bounded by the full-read limit (`--max-file-size`: the
/// bytes of graph structure the walk reads; skipped tensor payloads do not
/// count) and polling the file's time budget.
fn graph_walk<'s>(ctx: &ScanContext<'_>, stop: &'s dyn Fn() -> bool) -> proto::Walk<'s> {
    proto::Walk::new(ctx.limits.max_full_read, stop)
}

/// The finding for a walk that ended early, if one is due: a malformed
/// message is GEN-002, a bound of ours GEN-003; an interrupted walk has its
/// finding already (the context recorded which budget ran out).
fn walk_stopped(file: &FileInput<'_>, what: &str, stopped: Option<proto::Stop>) -> Option<Finding> {
    match stopped? {
        proto::Stop::Malformed(e) => Some(Finding::new(
            &generic::MALFORMED,
            file,
            format!("not a valid {what}: {e}"),
        )),
        proto::Stop::Limit(e) => Some(Finding::new(
            &generic::LIMIT_EXCEEDED,
            file,
            format!("{what}: {e}; the rest of the graph was not scanned"),
        )),
        proto::Stop::Interrupted => None,
    }
}

fn scan_onnx(file: &FileInput<'_>, ctx: &ScanContext<'_>) -> Vec<Finding> {
    let stop = || ctx.check_time(file).is_err();
    let walk = graph_walk(ctx, &stop);
    let report = graphs::onnx(file.bytes, &walk);
    let mut out = Vec::new();
    for (tensor, location) in &report.escaping_external_data {
        out.push(
            Finding::new(
                &rules::ONNX_EXTERNAL_DATA,
                file,
                format!(
                    "tensor `{}` reads its data from `{}`, outside the model directory",
                    excerpt(tensor),
                    excerpt(location)
                ),
            )
            .evidence(excerpt(location)),
        );
    }
    for tensor in &report.memory_address_data {
        out.push(
            Finding::new(
                &rules::ONNX_EXTERNAL_DATA,
                file,
                format!(
                    "tensor `{}` names ONNX Runtime's in-memory tag as its location: readers that honour it read memory at the address in `offset`",
                    excerpt(tensor)
                ),
            )
            .evidence(graphs::ORT_MEMORY_ADDRESS_TAG),
        );
    }
    out.extend(check_external_data(file, ctx, &report.external_data));
    for op in &report.python_ops {
        out.push(
            Finding::new(
                &rules::ONNX_CUSTOM_OPERATOR,
                file,
                format!("Python operator `{op}` runs Python code at inference"),
            )
            .severity(Severity::High)
            .evidence(op.clone()),
        );
    }
    if !report.custom_ops.is_empty() {
        let ops: Vec<String> = report
            .custom_ops
            .iter()
            .map(|(d, o)| format!("{d}::{o}"))
            .collect();
        out.push(
            Finding::new(
                &rules::ONNX_CUSTOM_OPERATOR,
                file,
                format!(
                    "{} operator(s) from custom domains need a custom-op library",
                    ops.len()
                ),
            )
            .evidence(ops.join(", ")),
        );
    }
    out.extend(walk_stopped(file, "ONNX model", report.stopped));
    out
}

/// External data that is lexically inside the model directory, checked
/// through the engine ([`ScanContext::stat_sibling`]: confined to the scanned
/// tree, links and `--exclude` honoured, the size only, never the content):
/// a location that resolves outside the tree anyway (through a link) is
/// `AISEC-GEN-007`; a missing file, a non-regular file, or a claim past the
/// end of the file is `AISEC-MOD-005`. A location that leaves the model
/// directory lexically was already reported as `AISEC-MOD-005` and is not
/// looked at. Archive members and inputs without a tree have no directory
/// and are not checked.
fn check_external_data(
    file: &FileInput<'_>,
    ctx: &ScanContext<'_>,
    external: &[graphs::ExternalData],
) -> Vec<Finding> {
    let mut out = Vec::new();
    for e in external {
        let (tensor, location) = (excerpt(&e.tensor), excerpt(&e.location));
        let meta = match ctx.stat_sibling(file, &e.location) {
            Ok(meta) => meta,
            Err(SiblingError::NoDirectory) => return out,
            // Left to the user's choices: links not followed, excluded paths.
            Err(SiblingError::Symlink | SiblingError::Excluded) => continue,
            Err(SiblingError::OutsideRoot) => {
                let mut f = ScanContext::escape_finding(file, &e.location);
                f.message = format!(
                    "tensor `{tensor}` reads external data from `{location}`, which resolves outside the scanned tree; it was not looked at"
                );
                out.push(f);
                continue;
            }
            Err(SiblingError::Missing) => {
                out.push(
                    Finding::new(
                        &rules::ONNX_EXTERNAL_DATA,
                        file,
                        format!(
                            "tensor `{tensor}` reads external data from `{location}`, which does not exist"
                        ),
                    )
                    .severity(Severity::Low)
                    .evidence(location),
                );
                continue;
            }
            Err(SiblingError::NotRegular) => {
                out.push(
                    Finding::new(
                        &rules::ONNX_EXTERNAL_DATA,
                        file,
                        format!(
                            "tensor `{tensor}` reads external data from `{location}`, which is not a regular file (a directory, FIFO or device)"
                        ),
                    )
                    .severity(Severity::Medium)
                    .evidence(location),
                );
                continue;
            }
            Err(other) => {
                out.push(
                    Finding::new(
                        &rules::ONNX_EXTERNAL_DATA,
                        file,
                        format!(
                            "tensor `{tensor}` reads external data from `{location}`, which could not be checked: {other}"
                        ),
                    )
                    .severity(Severity::Low)
                    .confidence(Confidence::Low)
                    .evidence(location),
                );
                continue;
            }
        };
        let start = e.offset.unwrap_or(0);
        let end = e.length.map_or(Some(meta.size), |l| start.checked_add(l));
        if start > meta.size || end.is_none_or(|end| end > meta.size) {
            out.push(
                Finding::new(
                    &rules::ONNX_EXTERNAL_DATA,
                    file,
                    format!(
                        "tensor `{tensor}` claims bytes {}..{} of `{location}`, which holds {} bytes",
                        start,
                        end.map_or("overflow".to_owned(), |v| v.to_string()),
                        meta.size
                    ),
                )
                .severity(Severity::Medium)
                .evidence(location),
            );
        }
    }
    out
}

fn scan_tensorflow(file: &FileInput<'_>, ctx: &ScanContext<'_>) -> Vec<Finding> {
    let saved_model = file.name().eq_ignore_ascii_case("saved_model.pb");
    let stop = || ctx.check_time(file).is_err();
    let walk = graph_walk(ctx, &stop);
    let report = graphs::tensorflow(file.bytes, saved_model, &walk);
    let mut out: Vec<Finding> = report
        .dangerous
        .iter()
        .map(|(op, node)| {
            let why = graphs::TF_DANGEROUS_OPS
                .iter()
                .find(|(o, _)| o == op)
                .map(|(_, w)| *w)
                .unwrap_or("");
            Finding::new(
                &rules::TF_DANGEROUS_OP,
                file,
                format!(
                    "op `{op}` (node `{}`) {why} when the graph runs",
                    excerpt(node)
                ),
            )
            .evidence(format!("{op} {}", excerpt(node)))
        })
        .collect();
    out.extend(walk_stopped(file, "TensorFlow graph", report.stopped));
    out
}

/// Hydra `_target_` keys: dangerous callables one finding each (critical),
/// callables outside the known frameworks one low finding per file.
fn scan_hydra(file: &FileInput<'_>) -> Vec<Finding> {
    let Ok(text) = std::str::from_utf8(file.bytes) else {
        return Vec::new();
    };
    let config = hydra::read(text);
    let mut out = Vec::new();
    let mut unknown: Vec<&hydra::Target> = Vec::new();
    for target in &config.targets {
        match hydra::judge(&target.name) {
            hydra::Verdict::Dangerous(what) => {
                let name = excerpt(&target.name);
                out.push(
                    Finding::new(
                        &rules::HYDRA_DANGEROUS_TARGET,
                        file,
                        format!(
                            "config `_target_` names `{name}`, which {what}: instantiating the config (NeMo restore_from, hydra.utils.instantiate) calls it{}",
                            if target.partial { " (as a partial, when the consumer calls it)" } else { "" }
                        ),
                    )
                    .evidence(format!("_target_: {name}"))
                    .line(target.line, None),
                );
            }
            hydra::Verdict::Unknown => unknown.push(target),
            hydra::Verdict::Known => {}
        }
    }
    if let Some(first) = unknown.first() {
        let names: Vec<String> = unknown
            .iter()
            .take(MAX_LISTED_TARGETS)
            .map(|t| excerpt(&t.name))
            .collect();
        out.push(
            Finding::new(
                &rules::HYDRA_DANGEROUS_TARGET,
                file,
                format!(
                    "config `_target_` names {} callable(s) outside the known ML frameworks; instantiating the config imports and calls them",
                    unknown.len()
                ),
            )
            .severity(Severity::Low)
            .confidence(Confidence::Low)
            .evidence(names.join(", "))
            .line(first.line, None),
        );
    }
    // A broken config that already showed Hydra keys: the loader's YAML
    // reader may see more than ours did.
    if let (Some((line, why)), false) = (&config.error, config.targets.is_empty()) {
        if file.extension_str().is_some() {
            out.push(
                Finding::new(
                    &generic::MALFORMED,
                    file,
                    format!(
                        "Hydra config does not parse past line {line}: {}",
                        excerpt(why)
                    ),
                )
                .severity(Severity::Low)
                .line(*line, None),
            );
        }
    }
    out
}

fn keras_findings(file: &FileInput<'_>, config: &Value, at: Option<u64>) -> Vec<Finding> {
    keras::analyse(config)
        .into_iter()
        .map(|issue| {
            let f = match issue {
                keras::KerasIssue::Lambda { layer, bytecode, detail } => {
                    let f = Finding::new(
                        &rules::KERAS_LAMBDA,
                        file,
                        if bytecode {
                            format!("Lambda layer `{layer}` carries Python bytecode that runs when the model loads")
                        } else {
                            format!("Lambda layer `{layer}` calls a Python function by name when the model loads")
                        },
                    )
                    .evidence(format!("{layer}: {detail}"));
                    if bytecode { f } else { f.severity(Severity::High) }
                }
                keras::KerasIssue::ForeignObject { module, name, dangerous } => {
                    let f = Finding::new(
                        &rules::KERAS_FOREIGN_OBJECT,
                        file,
                        format!("config imports `{name}` from module `{module}`, outside Keras"),
                    )
                    .evidence(format!("{module}.{name}"));
                    if dangerous { f.severity(Severity::Critical) } else { f }
                }
            };
            match at {
                Some(offset) => f.bytes(offset, offset),
                None => f,
            }
        })
        .collect()
}

/// Root attributes that `keras.models.load_model` deserialises from a
/// legacy `.h5` model.
const KERAS_H5_ATTRIBUTES: &[&str] = &["model_config", "training_config"];

/// Legacy Keras HDF5: the configs are read from the root group's attributes,
/// where Keras reads them (so `\u`-escaped keys or variable-length strings
/// are seen as Keras sees them). What the reader cannot read (dense attribute
/// storage, a broken file) is reported, and the raw bytes are then searched
/// for embedded configs instead.
fn scan_hdf5(file: &FileInput<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let unread = match hdf5::root_string_attributes(file.bytes, KERAS_H5_ATTRIBUTES) {
        Ok(attrs) => {
            for attr in &attrs.strings {
                match serde_json::from_slice::<Value>(&attr.value) {
                    Ok(config) => {
                        out.extend(keras_findings(file, &config, Some(attr.offset as u64)))
                    }
                    Err(e) => out.push(
                        Finding::new(
                            &generic::MALFORMED,
                            file,
                            format!("HDF5 attribute `{}` is not JSON: {e}", attr.name),
                        )
                        .bytes(attr.offset as u64, attr.offset as u64),
                    ),
                }
            }
            attrs.unread
        }
        // Damage, not a gap in our reader: the default severity of the rule.
        Err(e) => {
            out.push(
                Finding::new(
                    &generic::MALFORMED,
                    file,
                    format!(
                        "not a readable HDF5 file: {e}; searched the raw bytes for model configs instead"
                    ),
                )
                .evidence(e.to_string()),
            );
            out.extend(
                keras::embedded_configs(file.bytes, MAX_EMBEDDED_CONFIGS)
                    .into_iter()
                    .flat_map(|(at, config)| keras_findings(file, &config, Some(at as u64))),
            );
            return out;
        }
    };
    if unread.is_empty() {
        return out;
    }
    for why in unread {
        out.push(
            Finding::new(
                &generic::MALFORMED,
                file,
                format!("HDF5: {why}; searched the raw bytes for model configs instead"),
            )
            .severity(Severity::Low)
            .evidence(why),
        );
    }
    out.extend(
        keras::embedded_configs(file.bytes, MAX_EMBEDDED_CONFIGS)
            .into_iter()
            .flat_map(|(at, config)| keras_findings(file, &config, Some(at as u64))),
    );
    out
}

fn scan_torchscript(file: &FileInput<'_>) -> Vec<Finding> {
    torchscript::analyse(file.bytes)
        .into_iter()
        .map(|issue| {
            let at_load = issue.runs_at_load();
            let when = match &issue {
                torchscript::TsIssue::FileOrNative { method: Some(m), .. }
                | torchscript::TsIssue::CustomOperator { method: Some(m), .. } => {
                    if at_load {
                        format!("in `{m}`, which runs while the archive loads")
                    } else {
                        format!("in `{m}`")
                    }
                }
                _ => "at module level".to_string(),
            };
            match issue {
                torchscript::TsIssue::FileOrNative { name, effect, line, offset, .. } => {
                    let f = Finding::new(
                        &rules::TORCHSCRIPT_FILE_OR_NATIVE,
                        file,
                        format!("TorchScript calls `{name}`, which {effect}, {when}"),
                    )
                    .evidence(name)
                    .line(line as u32, None)
                    .bytes(offset as u64, offset as u64);
                    if at_load { f.severity(Severity::Critical) } else { f }
                }
                torchscript::TsIssue::CustomOperator { name, namespace, line, offset, .. } => {
                    let f = Finding::new(
                        &rules::TORCHSCRIPT_CUSTOM_OPERATOR,
                        file,
                        format!("TorchScript calls `{name}` from namespace `{namespace}`, which only a native extension registers, {when}"),
                    )
                    .evidence(name)
                    .line(line as u32, None)
                    .bytes(offset as u64, offset as u64);
                    if at_load { f.severity(Severity::High) } else { f }
                }
            }
        })
        .collect()
}

fn scan_mlflow(file: &FileInput<'_>) -> Vec<Finding> {
    let text = String::from_utf8_lossy(file.bytes);
    let issues = match mlflow::analyse(&text) {
        Ok(i) => i,
        Err(e) => {
            return vec![Finding::new(
                &generic::MALFORMED,
                file,
                format!("invalid MLmodel: {e}"),
            )];
        }
    };
    issues
        .into_iter()
        .map(|issue| match issue {
            mlflow::MlflowIssue::CustomLoader(m) => Finding::new(
                &rules::MLFLOW_CODE_ON_LOAD,
                file,
                format!("pyfunc loader module `{m}` is the model's own code, imported on load"),
            )
            .severity(Severity::High)
            .evidence(m),
            mlflow::MlflowIssue::CodePaths(paths) => Finding::new(
                &rules::MLFLOW_CODE_ON_LOAD,
                file,
                "the model ships code directories that are imported on load",
            )
            .evidence(paths.join(", ")),
            mlflow::MlflowIssue::Pickled(flavor, how) => Finding::new(
                &rules::MLFLOW_CODE_ON_LOAD,
                file,
                format!("flavor `{flavor}` unpickles the model on load"),
            )
            .confidence(Confidence::Medium)
            .evidence(how),
        })
        .collect()
}

fn scan_config(file: &FileInput<'_>, via: ConfigVia) -> Vec<Finding> {
    let value: Value = match serde_json::from_slice(file.bytes) {
        Ok(v) => v,
        Err(_) if via == ConfigVia::Content => return Vec::new(),
        Err(e) => {
            return vec![
                Finding::new(&generic::MALFORMED, file, format!("invalid JSON: {e}"))
                    .line(e.line() as u32, Some(e.column() as u32)),
            ];
        }
    };
    let mut out = Vec::new();
    // Keras by what the file says, by where it is stored (`config.json` of a
    // `.keras` archive), or by its shape: an attacker's config need not
    // mention Keras at all.
    if keras::looks_like_keras(file.bytes)
        || keras::is_keras_archive_config(file.path, file.member)
        || keras::is_keras_structure(&value)
    {
        out.extend(keras_findings(file, &value, None));
    }
    let Some(obj) = value.as_object() else {
        return out;
    };
    if via == ConfigVia::Content {
        return out;
    }
    if let Some(map) = obj.get("auto_map").and_then(Value::as_object) {
        let line = find(file.bytes, b"\"auto_map\"")
            .map(|o| line_at(file.bytes, o))
            .unwrap_or(1);
        for (class, target) in map {
            let targets: Vec<&str> = match target {
                Value::String(s) => vec![s.as_str()],
                Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            for t in targets {
                let message = match t.split_once("--") {
                    Some((repo, _)) => format!(
                        "`{class}` is loaded from Python code in another repository, `{repo}` (needs trust_remote_code=True)"
                    ),
                    None => format!(
                        "`{class}` is loaded from Python code shipped with the model (needs trust_remote_code=True)"
                    ),
                };
                out.push(
                    Finding::new(&rules::REMOTE_CODE, file, message)
                        .evidence(format!("{class} -> {t}"))
                        .line(line, None),
                );
            }
        }
    }
    for (key, template) in obj
        .iter()
        .filter(|(k, _)| yaml_templates::is_template_key(k))
    {
        let line = find(file.bytes, format!("\"{key}\"").as_bytes())
            .map(|o| line_at(file.bytes, o))
            .unwrap_or(1);
        let templates: Vec<&str> = match template {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a
                .iter()
                .filter_map(|t| t.get("template").and_then(Value::as_str))
                .collect(),
            _ => Vec::new(),
        };
        for t in templates {
            out.extend(template_findings(file, t, 0, line));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use aisec_core::{Limits, Scanner};
    use std::path::Path;

    fn run(name: &str, bytes: &[u8]) -> Vec<Finding> {
        let scanners: Vec<Box<dyn Scanner>> = vec![Box::new(FormatsScanner)];
        let limits = Limits::default();
        let ctx = ScanContext::new(&limits, &scanners);
        ctx.run(&FileInput::on_disk(name, Path::new(name), bytes))
    }

    #[test]
    fn gguf_with_a_malicious_template_is_critical() {
        let f = gguf::tests::build(&[(
            "tokenizer.chat_template",
            "{% for m in messages %}{{ m.content }}{% endfor %}{{ cycler.__init__.__globals__.os.popen('echo pwned').read() }}",
        )]);
        let found = run("model.gguf", &f);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].rule_id, "AISEC-MOD-001");
        assert_eq!(found[0].severity, Severity::Critical);
        assert!(found[0].location.byte_range.unwrap().start > 20);
        let clean = gguf::tests::build(&[(
            "tokenizer.chat_template",
            "{% for m in messages %}{{ m['content'] }}{% endfor %}",
        )]);
        assert!(run("model.gguf", &clean).is_empty());
        assert_eq!(
            run("model.gguf", b"GGUF\x03\x00\x00\x00\x01")[0].rule_id,
            "AISEC-GEN-002"
        );
    }

    #[test]
    fn configs_with_auto_map_and_templates() {
        let cfg = br#"{
  "architectures": ["X"],
  "auto_map": {"AutoModel": "modeling_x.XModel", "AutoConfig": "evil/repo--configuration_x.XConfig"}
}"#;
        let found = run("config.json", cfg);
        assert_eq!(found.len(), 2);
        assert!(
            found
                .iter()
                .all(|f| f.rule_id == "AISEC-MOD-003" && f.location.line == Some(3))
        );
        assert!(found.iter().any(|f| f.message.contains("evil/repo")));

        let tok = br#"{"chat_template": [{"name": "default", "template": "{{ ''.__class__ }}"}]}"#;
        let found = run("tokenizer_config.json", tok);
        assert_eq!(found[0].rule_id, "AISEC-MOD-001");
        assert!(run("config.json", br#"{"architectures": ["LlamaForCausalLM"]}"#).is_empty());
    }

    #[test]
    fn safetensors_rules_and_names_that_lie() {
        let ok = safetensors::tests::build(
            r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
            4,
        );
        assert!(run("m.safetensors", &ok).is_empty());
        let gap = safetensors::tests::build(
            r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
            40,
        );
        assert_eq!(run("m.safetensors", &gap)[0].rule_id, "AISEC-MOD-002");
        // Named safetensors, header length nonsense: malformed, not silent.
        assert_eq!(
            run("m.safetensors", b"\xff\xff\xff\xff\x00\x00\x00\x00{}")[0].rule_id,
            "AISEC-GEN-002"
        );
    }

    fn rs(f: &Finding) -> (&str, Severity) {
        (f.rule_id.as_str(), f.severity)
    }

    /// Files beside the scanned one, by reference, as the engine would
    /// answer: a size, or why not.
    struct Siblings(Vec<(&'static str, Result<u64, SiblingError>)>);

    impl aisec_core::SiblingSource for Siblings {
        fn read(&self, _: &str, _: &str) -> Result<aisec_core::Sibling, SiblingError> {
            panic!("the ONNX scanner must not read external data")
        }
        fn stat(
            &self,
            from: &str,
            reference: &str,
        ) -> Result<aisec_core::SiblingMeta, SiblingError> {
            assert_eq!(from, "m/model.onnx");
            match self.0.iter().find(|(r, _)| *r == reference) {
                Some((_, Ok(size))) => Ok(aisec_core::SiblingMeta {
                    display: format!("m/{reference}"),
                    size: *size,
                }),
                Some((_, Err(e))) => Err(e.clone()),
                None => Err(SiblingError::Missing),
            }
        }
        fn list(&self, _: &str, _: &str) -> Result<Vec<String>, SiblingError> {
            Err(SiblingError::NoDirectory)
        }
    }

    fn run_onnx_with(siblings: &Siblings, location: &str, length: Option<&str>) -> Vec<Finding> {
        let mut entries = vec![graphs::tests::msg(&[
            (1, b"location"),
            (2, location.as_bytes()),
        ])];
        if let Some(l) = length {
            entries.push(graphs::tests::msg(&[(1, b"length"), (2, l.as_bytes())]));
        }
        let mut tensor = graphs::tests::msg(&[(8, b"weight")]);
        for e in &entries {
            tensor.extend(graphs::tests::msg(&[(13, e)]));
        }
        let graph = graphs::tests::msg(&[(5, &tensor)]);
        let model = graphs::tests::msg(&[(7, &graph)]);
        let scanners: Vec<Box<dyn Scanner>> = vec![Box::new(FormatsScanner)];
        let limits = Limits::default();
        let ctx = ScanContext::with_siblings(&limits, &scanners, siblings);
        ctx.run(&FileInput::on_disk(
            "m/model.onnx",
            Path::new("m/model.onnx"),
            &model,
        ))
    }

    #[test]
    fn onnx_external_data_is_normalised_then_checked_through_the_engine() {
        let tree = Siblings(vec![
            ("subdir/../weights.bin", Ok(8)),
            ("linked.bin", Err(SiblingError::OutsideRoot)),
            ("fifo.bin", Err(SiblingError::NotRegular)),
        ]);
        // Inside the model directory once `..` is resolved: no escape, and
        // its size is checked like any other.
        assert!(run_onnx_with(&tree, "subdir/../weights.bin", Some("8")).is_empty());
        let over = run_onnx_with(&tree, "subdir/../weights.bin", Some("9"));
        assert_eq!(over.len(), 1, "{over:?}");
        assert_eq!(rs(&over[0]), ("AISEC-MOD-005", Severity::Medium));
        // Climbing above the directory: the format rule, high, not looked at.
        let up = run_onnx_with(&tree, "subdir/../../weights.bin", None);
        assert_eq!(up.len(), 1, "{up:?}");
        assert_eq!(rs(&up[0]), ("AISEC-MOD-005", Severity::High));
        // Inside on paper, outside in fact (a link): the engine's rule.
        let linked = run_onnx_with(&tree, "linked.bin", None);
        assert_eq!(linked.len(), 1, "{linked:?}");
        assert_eq!(rs(&linked[0]), ("AISEC-GEN-007", Severity::High));
        assert!(linked[0].message.contains("weight"));
        let missing = run_onnx_with(&tree, "gone.bin", None);
        assert_eq!(rs(&missing[0]), ("AISEC-MOD-005", Severity::Low));
        let fifo = run_onnx_with(&tree, "fifo.bin", None);
        assert_eq!(rs(&fifo[0]), ("AISEC-MOD-005", Severity::Medium));
        // ONNX Runtime's memory tag is an address, not a file.
        let mem = run_onnx_with(&tree, graphs::ORT_MEMORY_ADDRESS_TAG, None);
        assert_eq!(rs(&mem[0]), ("AISEC-MOD-005", Severity::High));
        // Without a tree (archive members, tests) nothing is looked at.
        let found = run(
            "model.onnx",
            &graphs::tests::onnx_model("Relu", "", "w.bin"),
        );
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn onnx_walks_are_bounded_and_damage_is_reported() {
        // A real header followed by zeros (a sparse 5 GB file in the issue):
        // malformed at the first zero byte, not walked to the end.
        let mut padded = graphs::tests::onnx_model("Relu", "", "w.bin");
        padded.extend(std::iter::repeat_n(0u8, 1 << 20));
        let found = run("model.onnx", &padded);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].rule_id, "AISEC-GEN-002");
        assert!(found[0].message.contains("field number 0"));
        // --max-file-size bounds the bytes of structure the walk reads.
        let nodes: Vec<(u32, Vec<u8>)> = (0..1000)
            .map(|_| (1, graphs::tests::msg(&[(4, b"Relu")])))
            .collect();
        let refs: Vec<(u32, &[u8])> = nodes.iter().map(|(n, b)| (*n, b.as_slice())).collect();
        let model = graphs::tests::msg(&[(7, &graphs::tests::msg(&refs))]);
        let scanners: Vec<Box<dyn Scanner>> = vec![Box::new(FormatsScanner)];
        let limits = Limits {
            max_full_read: 1024,
            ..Limits::default()
        };
        let ctx = ScanContext::new(&limits, &scanners);
        let found = ctx.run(&FileInput::on_disk("m.onnx", Path::new("m.onnx"), &model));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].rule_id, "AISEC-GEN-003");
        // A TensorFlow graph with a flipped length inside a node.
        let node = [0x0au8, 0x7f, b'x'];
        let graph = graphs::tests::msg(&[(1, &node)]);
        let found = run("frozen.pb", &graph);
        assert_eq!(found[0].rule_id, "AISEC-GEN-002", "{found:?}");
    }

    #[test]
    fn safetensors_offsets_past_the_end_are_high() {
        // A 4 GiB claim on a file of a few hundred bytes.
        let f = safetensors::tests::build(
            r#"{"w":{"dtype":"F32","shape":[1073741824],"data_offsets":[0,4294967296]}}"#,
            96,
        );
        let found = run("m.safetensors", &f);
        let claim = found
            .iter()
            .find(|f| f.message.contains("outside"))
            .expect("the range is reported");
        assert_eq!(rs(claim), ("AISEC-MOD-002", Severity::High));
        // Overlaps stay medium: both ranges are inside the file.
        let overlap = safetensors::tests::build(
            r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
            8,
        );
        let found = run("m.safetensors", &overlap);
        assert!(
            !found.is_empty() && found.iter().all(|f| f.severity == Severity::Medium),
            "{found:?}"
        );
    }

    #[test]
    fn damaged_gguf_is_malformed_and_its_templates_are_still_judged() {
        let mut f = gguf::tests::build(&[(
            "tokenizer.chat_template",
            "{{ cycler.__init__.__globals__.os.popen('echo pwned').read() }}",
        )]);
        // Claim one tensor whose info is missing: cut after the metadata.
        f[8..16].copy_from_slice(&1u64.to_le_bytes());
        let found = run("model.gguf", &f);
        let rules: Vec<&str> = found.iter().map(|f| f.rule_id.as_str()).collect();
        assert_eq!(rules, ["AISEC-MOD-001", "AISEC-GEN-002"], "{found:?}");
    }

    #[test]
    fn hydra_targets_in_a_nemo_member_and_a_plain_config() {
        let config = b"preprocessor:\n  _target_: nemo.collections.asr.modules.AudioToMelSpectrogramPreprocessor\nencoder:\n  _target_: os.system\n  command: echo pwned\nhelper:\n  _target_: my_lab.helpers.Thing\n";
        let scanners: Vec<Box<dyn Scanner>> = vec![Box::new(FormatsScanner)];
        let limits = Limits::default();
        let ctx = ScanContext::new(&limits, &scanners);
        let parent = FileInput::on_disk("asr.nemo", Path::new("asr.nemo"), b"");
        let found = ctx.scan_member(&parent, "./model_config.yaml", config);
        let critical: Vec<&Finding> = found
            .iter()
            .filter(|f| f.severity == Severity::Critical)
            .collect();
        assert_eq!(critical.len(), 1, "{found:?}");
        assert_eq!(critical[0].rule_id, "AISEC-MOD-013");
        assert_eq!(critical[0].location.line, Some(4));
        assert_eq!(
            critical[0].location.member.as_deref(),
            Some("./model_config.yaml")
        );
        assert!(critical[0].message.contains("os.system"));
        let low: Vec<&Finding> = found
            .iter()
            .filter(|f| f.severity == Severity::Low)
            .collect();
        assert_eq!(low.len(), 1, "{found:?}");
        assert!(
            low[0]
                .evidence
                .as_deref()
                .unwrap()
                .contains("my_lab.helpers.Thing")
        );
        for (name, text) in [
            (
                "cfg.json",
                &br#"{"cb": {"_target_": "builtins.eval", "_args_": ["1"]}}"#[..],
            ),
            (
                "conf.yml",
                b"x:\n  _partial_: true\n  _target_: pickle.loads\n",
            ),
        ] {
            let found = run(name, text);
            assert_eq!(found.len(), 1, "{name}: {found:?}");
            assert_eq!(rs(&found[0]), ("AISEC-MOD-013", Severity::Critical));
        }
        // Known framework targets only: silent. Not a Hydra config: silent.
        assert!(run("model_config.yaml", b"a:\n  _target_: torch.nn.Linear\n").is_empty());
        assert!(
            run(
                "notes.yaml",
                b"text: the _target_ key is documented elsewhere\n"
            )
            .is_empty()
        );
        assert!(run("script.py", b"cfg = {'_target_': 'os.system'}\n").is_empty());
    }

    /// A member of `parent` as an archive scanner hands it on.
    fn run_member(parent: &str, member: &str, bytes: &[u8]) -> Vec<Finding> {
        let scanners: Vec<Box<dyn Scanner>> = vec![Box::new(FormatsScanner)];
        let limits = Limits::default();
        let ctx = ScanContext::new(&limits, &scanners);
        let outer = FileInput::on_disk(parent, Path::new(parent), b"");
        ctx.scan_member(&outer, member, bytes)
    }

    /// A Keras 3 config that never says "keras": no `module` keys, the
    /// version only in `metadata.json`.
    const SILENT_KERAS: &[u8] = br#"{"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [null, 2]}},
        {"class_name": "Lambda", "config": {"name": "evil", "function": {"class_name": "__lambda__",
            "config": {"code": "4wEAAAAAAAAAAAAAAAEAAAAFAAAAQwAAAHMOAAAAdABqAWQBgwFTACkCTnoKZWNobyBwd25lZCkC2gJvc9oGc3lzdGVtKQHaAXipAHIFAAAA", "defaults": null, "closure": null}}}}
    ]}, "build_config": {"input_shape": [null, 2]}}"#;

    #[test]
    fn keras_configs_that_never_say_keras() {
        let lambda = |found: &[Finding]| {
            found
                .iter()
                .filter(|f| f.rule_id == "AISEC-MOD-008" && f.severity == Severity::Critical)
                .count()
        };
        // The member of a `.keras` zip, as the archive scanner hands it on,
        // also nested in another archive and under a `./` prefix.
        let found = run_member("model.keras", "config.json", SILENT_KERAS);
        assert_eq!(lambda(&found), 1, "{found:?}");
        assert!(found[0].message.contains("evil"));
        let found = run_member("bundle.zip", "models/m.keras!./config.json", SILENT_KERAS);
        assert_eq!(lambda(&found), 1, "{found:?}");
        // By shape: a config.json member of any zip (metadata.json +
        // config.json + model.weights.h5 renamed), a model.json on disk, JSON
        // under no extension, a Lambda layer on its own.
        assert_eq!(lambda(&run_member("m.zip", "config.json", SILENT_KERAS)), 1);
        assert_eq!(lambda(&run("model.json", SILENT_KERAS)), 1);
        assert_eq!(lambda(&run("model_config", SILENT_KERAS)), 1);
        let bare = br#"{"class_name": "Lambda", "config": {"name": "l", "function": {"class_name": "__lambda__", "config": {"code": "4wEA"}}}}"#;
        assert_eq!(lambda(&run("layer.json", bare)), 1);
        // `class\u005fname` hides the key from a byte search, not from json.loads.
        let escaped = br#"{"class\u005fname": "Sequential", "config": {"layers": [{"class\u005fname": "Lambda", "config": {"name": "e", "function": {"class_name": "__lambda__", "config": {"code": "4wEA"}}}}]}}"#;
        assert_eq!(lambda(&run("cfg.json", escaped)), 1);
        // Anything in `config.json` of a .keras is Keras: a foreign module
        // object with nothing else Keras-like about it.
        let foreign = br#"{"class_name": "system", "module": "os", "config": {}}"#;
        let found = run_member("model.keras", "config.json", foreign);
        assert_eq!(
            rs(&found[0]),
            ("AISEC-MOD-009", Severity::Critical),
            "{found:?}"
        );
        // Benign: a clean Keras config, a Hugging Face config.json in a zip,
        // and JSON that is not a config under no extension.
        let clean = br#"{"class_name": "Sequential", "config": {"layers": [{"class_name": "Dense", "config": {"units": 2}}]}}"#;
        assert!(run_member("model.keras", "config.json", clean).is_empty());
        let hf = br#"{"architectures": ["LlamaForCausalLM"], "model_type": "llama"}"#;
        assert!(run_member("m.zip", "config.json", hf).is_empty());
        assert!(
            run_member(
                "model.keras",
                "metadata.json",
                br#"{"keras_version": "3.6.0"}"#
            )
            .is_empty()
        );
        assert!(run("notes", b"{ \"config\": broken, \"class_name\"").is_empty());
    }

    /// ModelAudit's `jinja2/malicious_subprocess.template`.
    const SUBPROCESS_SSTI: &[u8] = b"{{ config.__class__.__base__.__subclasses__()[104].__init__.__globals__['sys'].modules['subprocess'].call(['whoami']) }}\n";

    #[test]
    fn jinja_payloads_under_names_that_do_not_say_jinja() {
        for name in [
            "malicious_subprocess.template",
            "prompt.tmpl",
            "templates/chat.html",
            "chat_template.txt",
            "chat_template",
            "x.jinja2",
            "x.j2",
        ] {
            let found = run(name, SUBPROCESS_SSTI);
            assert_eq!(found.len(), 1, "{name}: {found:?}");
            assert_eq!(
                rs(&found[0]),
                ("AISEC-MOD-001", Severity::Critical),
                "{name}"
            );
            assert_eq!(found[0].location.line, Some(1), "{name}");
        }
        // Computed attribute names are high there too.
        let hidden = b"{{ ''|attr(['_','_','class','_','_']|join) }}";
        assert_eq!(
            rs(&run("a.template", hidden)[0]),
            ("AISEC-MOD-001", Severity::High)
        );
        // A payload after benign markup, lines counted from the file.
        let page = b"<html>\n<body>\n<p>{{ user.name }}</p>\n{{ lipsum.__globals__['os'].popen('echo pwned').read() }}\n</body></html>\n";
        let found = run("index.html", page);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].location.line, Some(4));
    }

    #[test]
    fn templates_under_other_names_stay_quiet_when_benign() {
        // Real Hugging Face chat templates (Llama 3; the namespace idiom).
        let llama = "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";
        let ns = "{%- set ns = namespace(found=false) -%}{%- for m in messages -%}{%- if m.role == 'system' -%}{%- set ns.found = true -%}{%- endif -%}{%- endfor -%}{{ raise_exception('x') if not ns.found }}";
        for (name, text) in [
            ("chat.template", llama.as_bytes()),
            ("chat_template", ns.as_bytes()),
            ("chat.txt", ns.as_bytes()),
            // Angular/Vue/Go templates: braces, a gadget-like name, no escape.
            (
                "page.html",
                b"<div>{{ config.title }} {{ cycler }}</div><svg xmlns:x=\"namespace\"></svg>",
            ),
            (
                "deploy.tpl",
                b"{{- define \"x\" -}}{{ .Values.__name }}{{- end -}}",
            ),
            // Broken Jinja that is not Jinja at all: no parse-error noise.
            (
                "notes.txt",
                b"{% weird syntax %} and text about __init__ outside tags\n",
            ),
            // Python and Markdown are not judged as templates by content.
            ("model.py", b"print(f\"{{x}} {self.__class__.__name__}\")\n"),
            ("README.md", SUBPROCESS_SSTI),
            (
                "plain.html",
                b"<p>{{ user.name }}</p>{% if x %}y{% endif %}",
            ),
        ] {
            let found = run(name, text);
            assert!(found.is_empty(), "{name}: {found:?}");
        }
    }

    /// ModelAudit's `jinja2/yaml/malicious_config.yaml`.
    const YAML_SSTI: &[u8] = b"model_name: test\nchat_template: \"{{ config.__class__.__init__.__globals__['os'].system('rm -rf /') }}\"\n";

    #[test]
    fn chat_templates_in_yaml() {
        let found = run("malicious_config.yaml", YAML_SSTI);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(rs(&found[0]), ("AISEC-MOD-001", Severity::Critical));
        assert_eq!(found[0].location.line, Some(2));
        let other_keys = b"tokenizer:\n  default_chat_template: |\n    {% for m in messages %}{{ m.content }}{% endfor %}\n    {{ cycler.__init__.__globals__.os.popen('whoami').read() }}\n\"tokenizer.chat_template\": \"{{ ''.__class__ }}\"\n";
        let found = run("serve.yml", other_keys);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found
                .iter()
                .all(|f| rs(f) == ("AISEC-MOD-001", Severity::Critical))
        );
        assert_eq!(found[0].location.line, Some(4), "{found:?}");
        assert_eq!(found[1].location.line, Some(5), "{found:?}");
        // Benign templates and mere mentions stay clean.
        let clean = "chat_template: \"{% for m in messages %}{{ m['content'] }}{% endfor %}\"\nnotes: the chat_template above is upstream's\n";
        assert!(run("tokenizer.yaml", clean.as_bytes()).is_empty());
        assert!(run("other.yaml", b"prompt: \"{{ x }}\"\ntext: chat_template\n").is_empty());
        // The JSON form takes the same keys.
        let json = br#"{"default_chat_template": "{{ ''.__class__ }}"}"#;
        assert_eq!(
            rs(&run("tokenizer_config.json", json)[0]),
            ("AISEC-MOD-001", Severity::Critical)
        );
    }

    #[test]
    fn object_npy_hands_its_pickle_on() {
        let h = "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }\n";
        let mut f = b"\x93NUMPY\x01\x00".to_vec();
        f.extend_from_slice(&(h.len() as u16).to_le_bytes());
        f.extend_from_slice(h.as_bytes());
        f.extend_from_slice(b"\x80\x02N.");
        let found = run("a.npy", &f);
        assert_eq!(found[0].rule_id, "AISEC-MOD-004");
    }
}
