//! ONNX and TensorFlow graphs, walked over the protobuf wire format: which
//! operators they use and where their external data lives.

use crate::proto::{Stop, Value, Walk};

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
    /// Tensor names whose external data location is ONNX Runtime's
    /// in-memory tag ([`ORT_MEMORY_ADDRESS_TAG`]).
    pub memory_address_data: Vec<String>,
    /// Every other external data reference, to check against the files.
    pub external_data: Vec<ExternalData>,
    pub nodes: usize,
    /// Why the walk ended early, if it did.
    pub stopped: Option<Stop>,
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

/// The location ONNX Runtime reads as "the data is already in memory, at the
/// address in `offset`" (`kTensorProtoMemoryAddressTag`). Meant for models
/// built in memory; in a file it makes readers that honour it dereference an
/// address the file chooses (CWE-822).
pub const ORT_MEMORY_ADDRESS_TAG: &str = "*/_ORT_MEM_ADDR_/*";

/// Whether an external data location leaves the model's directory, judged
/// lexically as loaders join it to that directory: absolute and drive paths
/// and URLs leave it; `..` leaves it only when it climbs above the directory
/// (`sub/../w.bin` is `w.bin`). Backslashes count as separators, as they do
/// for loaders on Windows. Links are the engine's to judge
/// ([`aisec_core::ScanContext::stat_sibling`]).
pub fn location_escapes(location: &str) -> bool {
    let l = location.replace('\\', "/");
    if l.starts_with('/')
        || (l.len() >= 2 && l.as_bytes()[0].is_ascii_alphabetic() && l.as_bytes()[1] == b':')
        || l.contains("://")
    {
        return true;
    }
    let mut depth = 0usize;
    for part in l.split('/') {
        match part {
            "" | "." => {}
            ".." => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return true,
            },
            _ => depth += 1,
        }
    }
    false
}

/// Walks an ONNX `ModelProto` under `walk`'s bounds.
pub fn onnx(bytes: &[u8], walk: &Walk<'_>) -> OnnxReport {
    let mut report = OnnxReport::default();
    for (no, v) in walk.fields(bytes) {
        match (no, v) {
            // graph
            (7, Value::Bytes(g)) => onnx_graph(g, 0, walk, &mut report),
            // functions: FunctionProto.node = 7
            (25, Value::Bytes(func)) => {
                for (fno, fv) in walk.fields(func) {
                    if let (7, Value::Bytes(node)) = (fno, fv) {
                        onnx_node(node, 0, walk, &mut report);
                    }
                }
            }
            _ => {}
        }
    }
    report.stopped = walk.stopped();
    report.custom_ops.sort();
    report.custom_ops.dedup();
    report.python_ops.sort();
    report.python_ops.dedup();
    report
}

fn onnx_graph(graph: &[u8], depth: u32, walk: &Walk<'_>, report: &mut OnnxReport) {
    if depth > MAX_GRAPH_DEPTH {
        walk.stop(Stop::Limit(format!(
            "subgraphs nested deeper than {MAX_GRAPH_DEPTH} levels"
        )));
        return;
    }
    for (no, v) in walk.fields(graph) {
        match (no, v) {
            (1, Value::Bytes(node)) => onnx_node(node, depth, walk, report),
            // initializer = 5, sparse_initializer = 15 (its values and
            // indices are TensorProtos: 1 and 2).
            (5, Value::Bytes(tensor)) => onnx_tensor(tensor, walk, report),
            (15, Value::Bytes(sparse)) => {
                for (sno, sv) in walk.fields(sparse) {
                    if let (1 | 2, Value::Bytes(tensor)) = (sno, sv) {
                        onnx_tensor(tensor, walk, report);
                    }
                }
            }
            _ => {}
        }
    }
}

fn onnx_node(node: &[u8], depth: u32, walk: &Walk<'_>, report: &mut OnnxReport) {
    report.nodes += 1;
    if report.nodes > MAX_NODES {
        walk.stop(Stop::Limit(format!("more than {MAX_NODES} nodes")));
        return;
    }
    let (mut op, mut domain) = ("", "");
    for (no, v) in walk.fields(node) {
        match (no, v) {
            (4, v) => op = walk.str(v).unwrap_or(""),
            (7, v) => domain = walk.str(v).unwrap_or(""),
            // AttributeProto: t = 5 (tensor), g = 6 (graph), tensors = 10,
            // graphs = 11. Constant nodes and attributes hold tensors that
            // may use external data like initializers.
            (5, Value::Bytes(attr)) => {
                for (ano, av) in walk.fields(attr) {
                    match (ano, av) {
                        (6 | 11, Value::Bytes(g)) => onnx_graph(g, depth + 1, walk, report),
                        (5 | 10, Value::Bytes(t)) => onnx_tensor(t, walk, report),
                        _ => {}
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

fn onnx_tensor(tensor: &[u8], walk: &Walk<'_>, report: &mut OnnxReport) {
    let mut name = "";
    let (mut location, mut offset, mut length) = (None, None, None);
    // raw_data (9) and the packed value fields are skipped by length.
    for (no, v) in walk.fields(tensor) {
        match (no, v) {
            (8, v) => name = walk.str(v).unwrap_or(""),
            (13, Value::Bytes(entry)) => {
                let (mut key, mut value) = ("", "");
                for (eno, ev) in walk.fields(entry) {
                    match eno {
                        1 => key = walk.str(ev).unwrap_or(""),
                        2 => value = walk.str(ev).unwrap_or(""),
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
    if location == ORT_MEMORY_ADDRESS_TAG {
        report.memory_address_data.push(name.to_owned());
    } else if location_escapes(location) {
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
    /// Why the walk ended early, if it did.
    pub stopped: Option<Stop>,
}

/// Walks a `SavedModel` (`saved_model.pb`: `meta_graphs` = 2 →
/// `MetaGraphDef.graph_def` = 2) or, when `saved_model` is false, a bare
/// `GraphDef` (a frozen `.pb`, nodes at field 1). The two cannot be told
/// apart by content reliably, so the caller decides by name.
pub fn tensorflow(bytes: &[u8], saved_model: bool, walk: &Walk<'_>) -> TfReport {
    let mut report = TfReport::default();
    if saved_model {
        for (no, v) in walk.fields(bytes) {
            if let (2, Value::Bytes(meta)) = (no, v) {
                for (mno, mv) in walk.fields(meta) {
                    if let (2, Value::Bytes(graph)) = (mno, mv) {
                        tf_graph(graph, walk, &mut report);
                    }
                }
            }
        }
    } else {
        tf_graph(bytes, walk, &mut report);
    }
    report.stopped = walk.stopped();
    report
}

fn tf_graph(graph: &[u8], walk: &Walk<'_>, report: &mut TfReport) {
    for (no, v) in walk.fields(graph) {
        match (no, v) {
            (1, Value::Bytes(node)) => tf_node(node, walk, report),
            // library: FunctionDefLibrary.function = 1 → FunctionDef.node_def = 3
            (2, Value::Bytes(lib)) => {
                for (lno, lv) in walk.fields(lib) {
                    if let (1, Value::Bytes(func)) = (lno, lv) {
                        for (fno, fv) in walk.fields(func) {
                            if let (3, Value::Bytes(node)) = (fno, fv) {
                                tf_node(node, walk, report);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

fn tf_node(node: &[u8], walk: &Walk<'_>, report: &mut TfReport) {
    report.nodes += 1;
    if report.nodes > MAX_NODES {
        walk.stop(Stop::Limit(format!("more than {MAX_NODES} nodes")));
        return;
    }
    let (mut name, mut op) = ("", "");
    for (no, v) in walk.fields(node) {
        match no {
            1 => name = walk.str(v).unwrap_or(""),
            2 => op = walk.str(v).unwrap_or(""),
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
    use crate::proto::unbounded;

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

    fn onnx_at(bytes: &[u8]) -> OnnxReport {
        onnx(bytes, &unbounded())
    }

    #[test]
    fn onnx_custom_ops_and_escaping_data() {
        let r = onnx_at(&onnx_model("Relu", "", "weights.bin"));
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
        let r = onnx_at(&onnx_model("PyOp", "ai.onnx.contrib", "../../etc/passwd"));
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
    fn locations_are_normalised_before_they_are_judged() {
        for inside in [
            "subdir/../weights.bin",
            "./weights.bin",
            "a/b/../../w.bin",
            "a//./b/w.bin",
            "a\\..\\w.bin",
        ] {
            assert!(!location_escapes(inside), "{inside}");
        }
        for outside in [
            "../w.bin",
            "subdir/../../w.bin",
            "a/../../b/w.bin",
            "./../w.bin",
            "..\\w.bin",
            "/etc/passwd",
            "C:/w.bin",
            "file:///etc/passwd",
        ] {
            assert!(location_escapes(outside), "{outside}");
        }
        let r = onnx_at(&onnx_model("Relu", "", "subdir/../weights.bin"));
        assert!(r.escaping_external_data.is_empty());
        assert_eq!(r.external_data[0].location, "subdir/../weights.bin");
        let r = onnx_at(&onnx_model("Relu", "", ORT_MEMORY_ADDRESS_TAG));
        assert_eq!(r.memory_address_data, ["weight"]);
        assert!(r.external_data.is_empty());
    }

    #[test]
    fn damage_inside_nested_messages_stops_the_walk() {
        // A node whose op_type claims more bytes than the node holds: the
        // outer lengths are consistent, the inner message is not.
        let node = [0x22u8, 0x09, b'R', b'e', b'l', b'u'];
        let graph = msg(&[(1, &node)]);
        let r = onnx_at(&msg(&[(7, &graph)]));
        assert!(matches!(r.stopped, Some(Stop::Malformed(e)) if e.contains("past the end")));
        // Zero padding after a valid model (what a sparse or partly written
        // file holds): protobuf rejects field number 0.
        let mut padded = onnx_model("Relu", "", "w.bin");
        padded.extend_from_slice(&[0u8; 64]);
        assert!(matches!(onnx_at(&padded).stopped, Some(Stop::Malformed(_))));
        // Truncated in the middle of the graph.
        let whole = onnx_model("Relu", "", "w.bin");
        assert!(matches!(
            onnx_at(&whole[..whole.len() - 3]).stopped,
            Some(Stop::Malformed(_))
        ));
        assert_eq!(onnx_at(&whole).stopped, None);
    }

    #[test]
    fn a_huge_initializer_is_skipped_by_its_length() {
        // raw_data of 64 MiB: the walk reads its key and length only.
        let raw = vec![0u8; 64 << 20];
        let tensor = msg(&[(8, b"w"), (9, &raw)]);
        let graph = msg(&[(1, &msg(&[(4, b"Add")])), (5, &tensor)]);
        let model = msg(&[(7, &graph)]);
        let walk = Walk::new(4096, &|| false);
        let r = onnx(&model, &walk);
        assert_eq!(r.stopped, None);
        assert_eq!(r.nodes, 1);
        assert!(walk.bytes_read() < 64, "{}", walk.bytes_read());
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
        let r = tensorflow(&saved, true, &unbounded());
        assert_eq!(
            r.dangerous,
            vec![
                ("WriteFile".into(), "w".into()),
                ("ReadFile".into(), "f/read".into())
            ]
        );
        assert_eq!(
            tensorflow(&graph, false, &unbounded()).dangerous.len(),
            2,
            "a frozen GraphDef too"
        );
    }
}
