//! ONNX and TensorFlow graphs, walked over the protobuf wire format: which
//! operators they use and where their external data lives.

use crate::proto::{Value, fields};

/// Subgraphs (If/Loop/Scan bodies, function libraries) nested deeper than
/// this are reported, not walked.
const MAX_GRAPH_DEPTH: u32 = 32;
/// Nodes examined per model; real graphs have tens of thousands at most.
const MAX_NODES: usize = 2_000_000;

/// ONNX operator domains served by the ONNX standard and ONNX Runtime's own
/// contrib operators; anything else needs a custom-op library loaded.
const ONNX_STANDARD_DOMAINS: &[&str] = &[
    "",
    "ai.onnx",
    "ai.onnx.ml",
    "ai.onnx.training",
    "ai.onnx.preview.training",
    "com.microsoft",
    "com.microsoft.nchwc",
    "com.microsoft.experimental",
    "com.ms.internal.nhwc",
];

/// onnxruntime-extensions operators that run Python at inference time.
const ONNX_PYTHON_OPS: &[&str] = &["PyOp", "PythonOp", "PyFunc"];

#[derive(Debug, Default, PartialEq, Eq)]
pub struct OnnxReport {
    /// (domain, op_type) of operators outside the standard domains.
    pub custom_ops: Vec<(String, String)>,
    pub python_ops: Vec<String>,
    /// (tensor name, location) of external data that leaves the model dir.
    pub escaping_external_data: Vec<(String, String)>,
    /// Every other external data reference, to check against the files.
    pub external_data: Vec<ExternalData>,
    pub nodes: usize,
    pub error: Option<String>,
}

/// One tensor's `external_data`: where, from which byte, how many bytes
/// (`None` when the model leaves them out: from 0, to the end of the file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalData {
    pub tensor: String,
    pub location: String,
    pub offset: Option<u64>,
    pub length: Option<u64>,
}

pub fn location_escapes(location: &str) -> bool {
    let l = location.replace('\\', "/");
    l.starts_with('/')
        || (l.len() >= 2 && l.as_bytes()[0].is_ascii_alphabetic() && l.as_bytes()[1] == b':')
        || l.contains("://")
        || l.split('/').any(|c| c == "..")
}

pub fn onnx(bytes: &[u8]) -> OnnxReport {
    let mut report = OnnxReport::default();
    let mut f = fields(bytes);
    for (no, v) in f.by_ref() {
        match (no, v) {
            // graph
            (7, Value::Bytes(g)) => onnx_graph(g, 0, &mut report),
            // functions: FunctionProto.node = 7
            (25, Value::Bytes(func)) => {
                for (fno, fv) in fields(func) {
                    if let (7, Value::Bytes(node)) = (fno, fv) {
                        onnx_node(node, 0, &mut report);
                    }
                }
            }
            _ => {}
        }
    }
    if report.error.is_none() {
        report.error = f.error;
    }
    report.custom_ops.sort();
    report.custom_ops.dedup();
    report.python_ops.sort();
    report.python_ops.dedup();
    report
}

fn onnx_graph(graph: &[u8], depth: u32, report: &mut OnnxReport) {
    if depth > MAX_GRAPH_DEPTH {
        report
            .error
            .get_or_insert_with(|| "subgraphs nested too deep".into());
        return;
    }
    let mut f = fields(graph);
    for (no, v) in f.by_ref() {
        match (no, v) {
            (1, Value::Bytes(node)) => onnx_node(node, depth, report),
            (5, Value::Bytes(tensor)) => onnx_tensor(tensor, report),
            _ => {}
        }
    }
    if let Some(e) = f.error {
        report.error.get_or_insert(e);
    }
}

fn onnx_node(node: &[u8], depth: u32, report: &mut OnnxReport) {
    report.nodes += 1;
    if report.nodes > MAX_NODES {
        report
            .error
            .get_or_insert_with(|| format!("more than {MAX_NODES} nodes"));
        return;
    }
    let (mut op, mut domain) = ("", "");
    for (no, v) in fields(node) {
        match (no, v) {
            (4, v) => op = v.str().unwrap_or(""),
            (7, v) => domain = v.str().unwrap_or(""),
            // AttributeProto: g = 6 (graph), graphs = 11
            (5, Value::Bytes(attr)) => {
                for (ano, av) in fields(attr) {
                    if let (6 | 11, Value::Bytes(g)) = (ano, av) {
                        onnx_graph(g, depth + 1, report);
                    }
                }
            }
            _ => {}
        }
    }
    if ONNX_PYTHON_OPS.contains(&op) {
        report.python_ops.push(format!("{domain}::{op}"));
    }
    if !ONNX_STANDARD_DOMAINS.contains(&domain) {
        report.custom_ops.push((domain.to_owned(), op.to_owned()));
    }
}

fn onnx_tensor(tensor: &[u8], report: &mut OnnxReport) {
    let mut name = "";
    let (mut location, mut offset, mut length) = (None, None, None);
    for (no, v) in fields(tensor) {
        match (no, v) {
            (8, v) => name = v.str().unwrap_or(""),
            (13, Value::Bytes(entry)) => {
                let (mut key, mut value) = ("", "");
                for (eno, ev) in fields(entry) {
                    match eno {
                        1 => key = ev.str().unwrap_or(""),
                        2 => value = ev.str().unwrap_or(""),
                        _ => {}
                    }
                }
                match key {
                    "location" => location = Some(value),
                    // ONNX stores these as decimal strings; one that does not
                    // parse claims "everything" (u64::MAX) rather than nothing.
                    "offset" => offset = Some(value.trim().parse().unwrap_or(u64::MAX)),
                    "length" => length = Some(value.trim().parse().unwrap_or(u64::MAX)),
                    _ => {}
                }
            }
            _ => {}
        }
    }
    let Some(location) = location else { return };
    if location_escapes(location) {
        report
            .escaping_external_data
            .push((name.to_owned(), location.to_owned()));
    } else {
        report.external_data.push(ExternalData {
            tensor: name.to_owned(),
            location: location.to_owned(),
            offset,
            length,
        });
    }
}

/// TensorFlow ops that touch the file system or run Python when a graph is
/// executed. Checkpoint ops (SaveV2, RestoreV2...) are in every SavedModel
/// and deliberately absent.
pub const TF_DANGEROUS_OPS: &[(&str, &str)] = &[
    ("ReadFile", "reads any file the server can read"),
    ("WriteFile", "writes any file the server can write"),
    ("MatchingFiles", "lists files by glob"),
    ("ImmutableConst", "memory-maps a file named in the graph"),
    ("PyFunc", "calls a Python function"),
    ("PyFuncStateless", "calls a Python function"),
    ("EagerPyFunc", "calls a Python function"),
    ("LoadLibrary", "loads a shared library"),
];

#[derive(Debug, Default, PartialEq, Eq)]
pub struct TfReport {
    /// (op, node name) for each dangerous op.
    pub dangerous: Vec<(String, String)>,
    pub nodes: usize,
    pub error: Option<String>,
}

/// Walks a `SavedModel` (`saved_model.pb`: `meta_graphs` = 2 →
/// `MetaGraphDef.graph_def` = 2) or, when `saved_model` is false, a bare
/// `GraphDef` (a frozen `.pb`, nodes at field 1). The two cannot be told
/// apart by content reliably, so the caller decides by name.
pub fn tensorflow(bytes: &[u8], saved_model: bool) -> TfReport {
    let mut report = TfReport::default();
    if !saved_model {
        tf_graph(bytes, 0, &mut report);
        return report;
    }
    let mut f = fields(bytes);
    for (no, v) in f.by_ref() {
        if let (2, Value::Bytes(meta)) = (no, v) {
            for (mno, mv) in fields(meta) {
                if let (2, Value::Bytes(graph)) = (mno, mv) {
                    tf_graph(graph, 0, &mut report);
                }
            }
        }
    }
    if let Some(e) = f.error {
        report.error.get_or_insert(e);
    }
    report
}

fn tf_graph(graph: &[u8], depth: u32, report: &mut TfReport) {
    if depth > MAX_GRAPH_DEPTH {
        return;
    }
    let mut f = fields(graph);
    for (no, v) in f.by_ref() {
        match (no, v) {
            (1, Value::Bytes(node)) => tf_node(node, report),
            // library: FunctionDefLibrary.function = 1 → FunctionDef.node_def = 3
            (2, Value::Bytes(lib)) => {
                for (lno, lv) in fields(lib) {
                    if let (1, Value::Bytes(func)) = (lno, lv) {
                        for (fno, fv) in fields(func) {
                            if let (3, Value::Bytes(node)) = (fno, fv) {
                                tf_node(node, report);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(e) = f.error {
        report.error.get_or_insert(e);
    }
}

fn tf_node(node: &[u8], report: &mut TfReport) {
    report.nodes += 1;
    if report.nodes > MAX_NODES {
        return;
    }
    let (mut name, mut op) = ("", "");
    for (no, v) in fields(node) {
        match no {
            1 => name = v.str().unwrap_or(""),
            2 => op = v.str().unwrap_or(""),
            _ => {}
        }
    }
    if TF_DANGEROUS_OPS.iter().any(|(d, _)| *d == op) {
        report.dangerous.push((op.to_owned(), name.to_owned()));
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn msg(fields: &[(u32, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (no, body) in fields {
            out.push(((no << 3) | 2) as u8);
            let mut len = body.len();
            loop {
                let b = (len & 0x7f) as u8;
                len >>= 7;
                out.push(if len > 0 { b | 0x80 } else { b });
                if len == 0 {
                    break;
                }
            }
            out.extend_from_slice(body);
        }
        out
    }

    pub(crate) fn onnx_model(op: &str, domain: &str, location: &str) -> Vec<u8> {
        let node = msg(&[(4, op.as_bytes()), (7, domain.as_bytes())]);
        let entry = msg(&[(1, b"location"), (2, location.as_bytes())]);
        let tensor = msg(&[(8, b"weight"), (13, &entry)]);
        let graph = msg(&[(1, &node), (5, &tensor)]);
        msg(&[(7, &graph)])
    }

    #[test]
    fn onnx_custom_ops_and_escaping_data() {
        let r = onnx(&onnx_model("Relu", "", "weights.bin"));
        assert_eq!(r.nodes, 1);
        assert!(r.custom_ops.is_empty() && r.escaping_external_data.is_empty());
        assert_eq!(
            r.external_data,
            vec![ExternalData {
                tensor: "weight".into(),
                location: "weights.bin".into(),
                offset: None,
                length: None,
            }]
        );
        let r = onnx(&onnx_model("PyOp", "ai.onnx.contrib", "../../etc/passwd"));
        assert_eq!(r.python_ops, vec!["ai.onnx.contrib::PyOp"]);
        assert_eq!(
            r.custom_ops,
            vec![("ai.onnx.contrib".into(), "PyOp".into())]
        );
        assert_eq!(
            r.escaping_external_data,
            vec![("weight".into(), "../../etc/passwd".into())]
        );
        assert!(location_escapes("/abs"));
        assert!(location_escapes("C:\\\\x"));
        assert!(!location_escapes("data/w.bin"));
    }

    #[test]
    fn tensorflow_ops_in_graph_and_library() {
        let node = |name: &str, op: &str| msg(&[(1, name.as_bytes()), (2, op.as_bytes())]);
        let func = msg(&[(3, &node("f/read", "ReadFile"))]);
        let lib = msg(&[(1, &func)]);
        let graph = msg(&[
            (1, &node("x", "Const")),
            (1, &node("w", "WriteFile")),
            (2, &lib),
        ]);
        let meta = msg(&[(2, &graph)]);
        let saved = msg(&[(2, &meta)]);
        let r = tensorflow(&saved, true);
        assert_eq!(
            r.dangerous,
            vec![
                ("WriteFile".into(), "w".into()),
                ("ReadFile".into(), "f/read".into())
            ]
        );
        assert_eq!(
            tensorflow(&graph, false).dangerous.len(),
            2,
            "a frozen GraphDef too"
        );
    }
}
