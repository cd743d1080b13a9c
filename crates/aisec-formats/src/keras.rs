//! Keras model configs (`config.json` in a `.keras` zip, the `model_config`
//! of a legacy HDF5 file, `model.json`): Lambda layers and objects from
//! modules outside Keras.

use serde_json::Value;

/// Config nesting walked at most (models nest layers in models in layers).
const MAX_DEPTH: u32 = 64;

/// Modules whose objects can only mean code execution in a model config.
const DANGEROUS_MODULES: &[&str] = &[
    "os",
    "posix",
    "nt",
    "subprocess",
    "builtins",
    "__builtin__",
    "sys",
    "shutil",
    "socket",
    "importlib",
    "runpy",
    "pickle",
    "marshal",
    "ctypes",
    "pty",
];

#[derive(Debug, PartialEq, Eq)]
pub enum KerasIssue {
    /// A Lambda layer; `bytecode` when its function is serialised Python
    /// bytecode (runs on load), else a reference to a named function.
    Lambda {
        layer: String,
        bytecode: bool,
        detail: String,
    },
    /// A class or function from a module outside Keras/TensorFlow.
    ForeignObject {
        module: String,
        name: String,
        dangerous: bool,
    },
}

/// Is this JSON a Keras model config by what it says? (`class_name` +
/// `config`, and Keras mentioned somewhere: `keras_version`,
/// `module: keras...`.) A config that never says "keras" is still found by
/// its shape ([`is_keras_structure`]) or by where it is stored
/// ([`is_keras_archive_config`]).
pub fn looks_like_keras(text: &[u8]) -> bool {
    let has = |n: &[u8]| memchr::memmem::find(text, n).is_some();
    has(b"\"class_name\"") && has(b"\"config\"") && has(b"keras")
}

/// Cheap byte test before a parse: could this JSON hold a Keras config?
/// `"class_name"` spelled out, or `\u` escapes (`"class\u005fname"`, which
/// `json.loads` decodes and a byte search does not see) beside `"config"`.
pub fn might_be_keras(text: &[u8]) -> bool {
    let has = |n: &[u8]| memchr::memmem::find(text, n).is_some();
    has(b"\"config\"") && (has(b"\"class_name\"") || has(b"\\u"))
}

/// `config.json` inside a `.keras` archive: the file `keras.models.load_model`
/// deserialises, whatever its content mentions. `member` is the `!`-joined
/// member path, `path` the file on disk (the container when the member sits
/// at the first level).
pub fn is_keras_archive_config(path: &str, member: Option<&str>) -> bool {
    let Some(member) = member else {
        return false;
    };
    let (container, name) = match member.rsplit_once(aisec_core::MEMBER_SEPARATOR) {
        Some((outer, name)) => (outer, name),
        None => (path, member),
    };
    let base = |p: &str| {
        p.rsplit(['/', '\\'])
            .next()
            .unwrap_or(p)
            .to_ascii_lowercase()
    };
    base(name) == "config.json" && base(container).ends_with(".keras")
}

/// Objects looked at by [`is_keras_structure`] before it gives up.
const MAX_SHAPE_NODES: usize = 100_000;

/// Is this parsed JSON shaped like a Keras model config, whatever it
/// mentions? The top level is what `deserialize_keras_object` and
/// `model_from_json` take (`class_name` string + `config` object), or some
/// object within holds a layer list (`config.layers` of `class_name`
/// objects) or a `Lambda` layer.
pub fn is_keras_structure(v: &Value) -> bool {
    if is_serialised_object(v) {
        return true;
    }
    let mut todo: Vec<(&Value, u32)> = vec![(v, 0)];
    let mut seen = 0usize;
    while let Some((node, depth)) = todo.pop() {
        seen += 1;
        if seen > MAX_SHAPE_NODES || depth > MAX_DEPTH {
            break;
        }
        match node {
            Value::Object(map) => {
                if is_serialised_object(node) {
                    let class = map.get("class_name").and_then(Value::as_str);
                    let layers = map
                        .get("config")
                        .and_then(|c| c.get("layers"))
                        .and_then(Value::as_array)
                        .is_some_and(|l| l.iter().any(is_serialised_object));
                    if layers || class == Some("Lambda") {
                        return true;
                    }
                }
                todo.extend(map.values().map(|c| (c, depth + 1)));
            }
            Value::Array(items) => todo.extend(items.iter().map(|c| (c, depth + 1))),
            _ => {}
        }
    }
    false
}

/// `{"class_name": "...", "config": {...}}`: a serialised Keras object.
fn is_serialised_object(v: &Value) -> bool {
    v.get("class_name").is_some_and(Value::is_string)
        && v.get("config")
            .is_some_and(|c| c.is_object() || c.is_array())
}

pub fn analyse(config: &Value) -> Vec<KerasIssue> {
    let mut out = Vec::new();
    walk(config, 0, &mut out);
    out
}

fn walk(v: &Value, depth: u32, out: &mut Vec<KerasIssue>) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Object(map) => {
            let class = map.get("class_name").and_then(Value::as_str);
            if class == Some("Lambda") {
                let cfg = map.get("config");
                let layer = cfg
                    .and_then(|c| c.get("name"))
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_owned();
                let function = cfg.and_then(|c| c.get("function"));
                // Keras 3: {"class_name": "__lambda__", "config": {"code": base64}};
                // Keras 2: ["<base64 marshal>", null, null] with function_type "lambda".
                let keras3_code = function.and_then(|f| {
                    f.get("config")
                        .and_then(|c| c.get("code"))
                        .or_else(|| f.get("code"))
                        .and_then(Value::as_str)
                });
                let keras2_lambda = cfg
                    .and_then(|c| c.get("function_type"))
                    .and_then(Value::as_str)
                    == Some("lambda");
                let keras2_code = function
                    .and_then(Value::as_array)
                    .and_then(|a| a.first())
                    .and_then(Value::as_str);
                let (bytecode, detail) = match (keras3_code, keras2_lambda, keras2_code) {
                    (Some(code), _, _) => {
                        (true, format!("{} bytes of base64 bytecode", code.len()))
                    }
                    (None, true, Some(code)) => {
                        (true, format!("{} bytes of marshalled bytecode", code.len()))
                    }
                    _ => (false, function.map(|f| f.to_string()).unwrap_or_default()),
                };
                out.push(KerasIssue::Lambda {
                    layer,
                    bytecode,
                    detail,
                });
            }
            if let Some(module) = map.get("module").and_then(Value::as_str) {
                let root = module.split('.').next().unwrap_or(module);
                let known = matches!(
                    root,
                    "keras" | "tf_keras" | "tensorflow" | "keras_hub" | "keras_nlp" | "keras_cv"
                );
                if !known {
                    let name = map
                        .get("class_name")
                        .or_else(|| map.get("registered_name"))
                        .and_then(Value::as_str)
                        .unwrap_or("?")
                        .to_owned();
                    out.push(KerasIssue::ForeignObject {
                        module: module.to_owned(),
                        name,
                        dangerous: DANGEROUS_MODULES.contains(&root),
                    });
                }
            }
            for child in map.values() {
                walk(child, depth + 1, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| walk(i, depth + 1, out)),
        _ => {}
    }
}

/// Braces tried backwards from each `"class_name"` to find the start of its
/// object; the top-level config starts within a few keys of it.
const MAX_BRACE_TRIES: usize = 64;

/// Keras model configs embedded in other bytes (a legacy HDF5 file stores
/// `model_config` as a string attribute): for each `"class_name"`, the
/// nearest preceding `{` that starts a JSON object holding it. A bounded byte
/// search (memchr), not an HDF5 parser: an attribute split across HDF5 heap
/// blocks is missed (see the crate docs).
pub fn embedded_configs(bytes: &[u8], max: usize) -> Vec<(usize, Value)> {
    let finder = memchr::memmem::Finder::new(b"\"class_name\"");
    let mut out = Vec::new();
    let mut from = 0;
    while out.len() < max {
        let Some(pos) = finder.find(&bytes[from..]).map(|p| p + from) else {
            break;
        };
        let mut next = pos + 1;
        for brace in memchr::memrchr_iter(b'{', &bytes[from..pos])
            .map(|b| b + from)
            .take(MAX_BRACE_TRIES)
        {
            let mut stream =
                serde_json::Deserializer::from_slice(&bytes[brace..]).into_iter::<Value>();
            if let Some(Ok(v)) = stream.next() {
                let end = brace + stream.byte_offset();
                if end > pos && v.get("class_name").is_some() {
                    out.push((brace, v));
                    next = end;
                    break;
                }
            }
        }
        from = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lambda_layers_and_foreign_modules() {
        let cfg = json!({
            "module": "keras", "class_name": "Sequential",
            "config": {"layers": [
                {"module": "keras.layers", "class_name": "Dense", "config": {"name": "d"}},
                {"module": "keras.layers", "class_name": "Lambda", "config": {"name": "evil",
                    "function": {"class_name": "__lambda__", "config": {"code": "4wEAAAAAAAAA"}}}},
                {"module": "os", "class_name": "system", "config": {}}
            ]}
        });
        let issues = analyse(&cfg);
        assert!(issues.contains(&KerasIssue::Lambda {
            layer: "evil".into(),
            bytecode: true,
            detail: "12 bytes of base64 bytecode".into()
        }));
        assert!(issues.contains(&KerasIssue::ForeignObject {
            module: "os".into(),
            name: "system".into(),
            dangerous: true
        }));
        let clean = json!({"module": "keras", "class_name": "Sequential", "config": {"layers": [{"module": "keras.layers", "class_name": "Dense", "config": {}}]}});
        assert!(analyse(&clean).is_empty());
    }

    #[test]
    fn configs_are_found_inside_binary_bytes() {
        let mut blob = b"\x89HDF\r\n\x1a\n\0{\0junk".to_vec();
        blob.extend_from_slice(br#"{"module": "keras", "class_name": "Sequential", "config": {"layers": [{"class_name": "Dense"}]}}"#);
        blob.extend_from_slice(b"\0\0more");
        let found = embedded_configs(&blob, 8);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].1["class_name"], "Sequential");
    }
}
