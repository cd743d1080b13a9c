//! Model format scanners: safetensors header validation, GGUF metadata and
//! chat templates, NumPy object arrays, Hugging Face configs that need remote
//! code, and Jinja chat templates wherever they are stored.
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
pub mod jinja;
pub mod keras;
pub mod mlflow;
pub mod numpy;
pub mod proto;
pub mod rules;
pub mod safetensors;
pub mod torchscript;

use aisec_core::{
    Confidence, FileInput, FileKind, Finding, ScanContext, Scanner, Severity, generic,
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

/// JSON that carries the keys we judge; a cheap byte search before any parse.
fn is_model_config(file: &FileInput<'_>) -> bool {
    file.kind == FileKind::Text
        && file.name().to_ascii_lowercase().ends_with(".json")
        && file.bytes.len() <= MAX_CONFIG_JSON
        && (contains(file.bytes, b"\"auto_map\"")
            || contains(file.bytes, b"\"chat_template\"")
            || keras::looks_like_keras(file.bytes))
}

/// Keras configs embedded per HDF5 file, at most; a model has one or two.
const MAX_EMBEDDED_CONFIGS: usize = 16;

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    find(hay, needle).is_some()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
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
        let ext = file.extension();
        matches!(
            file.kind,
            FileKind::Safetensors
                | FileKind::Gguf
                | FileKind::Numpy
                | FileKind::Protobuf
                | FileKind::Hdf5
        ) || matches!(
            ext.as_deref(),
            Some("safetensors" | "gguf" | "npy" | "onnx" | "pb")
        ) || (file.kind == FileKind::Text
            && (is_template_file(file.name()) || file.name() == "MLmodel"))
            || is_model_config(file)
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
        let ext = file.extension();
        match (file.kind, ext.as_deref()) {
            (FileKind::Safetensors, _) | (_, Some("safetensors")) => scan_safetensors(file),
            (FileKind::Gguf, _) | (_, Some("gguf")) => scan_gguf(file),
            (FileKind::Numpy, _) | (_, Some("npy")) => scan_numpy(file, ctx),
            (FileKind::Hdf5, _) => scan_hdf5(file),
            (_, Some("onnx")) => scan_onnx(file),
            (_, Some("pb")) => scan_tensorflow(file),
            (FileKind::Text, _) if is_template_file(file.name()) => {
                match std::str::from_utf8(file.bytes) {
                    Ok(text) => template_findings(file, text, 0, 0),
                    Err(e) => vec![Finding::new(
                        &generic::MALFORMED,
                        file,
                        format!("template is not UTF-8: {e}"),
                    )],
                }
            }
            (FileKind::Text, _) if file.name() == "MLmodel" => scan_mlflow(file),
            _ if is_model_config(file) => scan_config(file),
            _ => Vec::new(),
        }
    }
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
            .map(|(why, at)| {
                Finding::new(
                    &rules::SAFETENSORS_LAYOUT,
                    file,
                    format!("safetensors header: {why}"),
                )
                .bytes(at, at)
                .evidence(why)
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

fn scan_onnx(file: &FileInput<'_>) -> Vec<Finding> {
    let report = graphs::onnx(file.bytes);
    let mut out = Vec::new();
    for (tensor, location) in &report.escaping_external_data {
        out.push(
            Finding::new(
                &rules::ONNX_EXTERNAL_DATA,
                file,
                format!("tensor `{tensor}` reads its data from `{location}`, outside the model directory"),
            )
            .evidence(location.clone()),
        );
    }
    out.extend(check_external_sizes(file, &report.external_data));
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
    if let Some(e) = report.error {
        out.push(Finding::new(
            &generic::MALFORMED,
            file,
            format!("not a valid ONNX model: {e}"),
        ));
    }
    out
}

/// External data that claims more bytes than its file holds, or whose file
/// is missing. Needs the model's directory (a documented sibling lookup: the
/// size of the named file, never its content); members of archives have
/// none and are not checked.
fn check_external_sizes(file: &FileInput<'_>, external: &[graphs::ExternalData]) -> Vec<Finding> {
    let Some(dir) = file.fs_path.and_then(|p| p.parent()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in external {
        let Ok(meta) = std::fs::metadata(dir.join(&e.location)) else {
            out.push(
                Finding::new(
                    &rules::ONNX_EXTERNAL_DATA,
                    file,
                    format!(
                        "tensor `{}` reads external data from `{}`, which does not exist",
                        e.tensor, e.location
                    ),
                )
                .severity(Severity::Low)
                .evidence(e.location.clone()),
            );
            continue;
        };
        let start = e.offset.unwrap_or(0);
        let end = e.length.map_or(Some(meta.len()), |l| start.checked_add(l));
        if start > meta.len() || end.is_none_or(|end| end > meta.len()) {
            out.push(
                Finding::new(
                    &rules::ONNX_EXTERNAL_DATA,
                    file,
                    format!(
                        "tensor `{}` claims bytes {}..{} of `{}`, which holds {} bytes",
                        e.tensor,
                        start,
                        end.map_or("overflow".to_owned(), |v| v.to_string()),
                        e.location,
                        meta.len()
                    ),
                )
                .severity(Severity::Medium)
                .evidence(e.location.clone()),
            );
        }
    }
    out
}

fn scan_tensorflow(file: &FileInput<'_>) -> Vec<Finding> {
    let saved_model = file.name().eq_ignore_ascii_case("saved_model.pb");
    let report = graphs::tensorflow(file.bytes, saved_model);
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
                format!("op `{op}` (node `{node}`) {why} when the graph runs"),
            )
            .evidence(format!("{op} {node}"))
        })
        .collect();
    if let Some(e) = report.error {
        out.push(Finding::new(
            &generic::MALFORMED,
            file,
            format!("not a valid TensorFlow graph: {e}"),
        ));
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
        Err(e) => vec![format!("not a readable HDF5 file: {e}")],
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

fn scan_config(file: &FileInput<'_>) -> Vec<Finding> {
    let value: Value = match serde_json::from_slice(file.bytes) {
        Ok(v) => v,
        Err(e) => {
            return vec![
                Finding::new(&generic::MALFORMED, file, format!("invalid JSON: {e}"))
                    .line(e.line() as u32, Some(e.column() as u32)),
            ];
        }
    };
    let Some(obj) = value.as_object() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if keras::looks_like_keras(file.bytes) {
        out.extend(keras_findings(file, &value, None));
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
    if let Some(template) = obj.get("chat_template") {
        let line = find(file.bytes, b"\"chat_template\"")
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
