//! What a file is to a BOM: a model, a dataset, or neither, and in which
//! format and framework. Content first (aisec-core sniffing), then the name,
//! since a renamed pickle is still a pickle.

use aisec_core::{FileKind, detect_kind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Model,
    Data,
}

/// A file's role, format and (when the format alone says so) framework.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Class {
    pub role: Role,
    pub format: &'static str,
    pub framework: Option<&'static str>,
}

fn ext(name: &str) -> String {
    let base = name.rsplit('/').next().unwrap_or(name);
    base.rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default()
}

fn class(role: Role, format: &'static str, framework: Option<&'static str>) -> Option<Class> {
    Some(Class {
        role,
        format,
        framework,
    })
}

/// Classifies a file from its first bytes (up to `aisec_core::SNIFF_LEN`) and
/// its model-relative name.
pub fn classify(head: &[u8], name: &str) -> Option<Class> {
    let e = ext(name);
    let base = name.rsplit('/').next().unwrap_or(name);
    match detect_kind(head, base) {
        FileKind::Safetensors => class(Role::Model, "safetensors", None),
        FileKind::Gguf => class(Role::Model, "gguf", Some("llama.cpp")),
        FileKind::Hdf5 if matches!(e.as_str(), "h5" | "hdf5" | "keras") => {
            class(Role::Model, "hdf5", Some("keras"))
        }
        FileKind::Hdf5 => class(Role::Data, "hdf5", None),
        FileKind::Numpy => class(Role::Data, "numpy", Some("numpy")),
        FileKind::Protobuf if e == "onnx" => class(Role::Model, "onnx", Some("onnx")),
        FileKind::Protobuf if base == "saved_model.pb" => {
            class(Role::Model, "tensorflow-savedmodel", Some("tensorflow"))
        }
        FileKind::Protobuf => class(Role::Model, "protobuf", None),
        FileKind::Pickle => match e.as_str() {
            "pt" | "pth" | "bin" | "ckpt" => class(Role::Model, "pickle", Some("pytorch")),
            "joblib" => class(Role::Model, "pickle", Some("scikit-learn")),
            _ => class(Role::Model, "pickle", None),
        },
        FileKind::Zip => match e.as_str() {
            "pt" | "pth" | "bin" | "ckpt" | "mar" => {
                class(Role::Model, "pytorch-zip", Some("pytorch"))
            }
            "keras" => class(Role::Model, "keras-zip", Some("keras")),
            "nemo" => class(Role::Model, "zip", Some("nemo")),
            "npz" => class(Role::Data, "numpy-zip", Some("numpy")),
            _ => None,
        },
        _ => match e.as_str() {
            "tflite" => class(Role::Model, "tflite", Some("tensorflow-lite")),
            "mlmodel" => class(Role::Model, "coreml", Some("coreml")),
            "pdparams" => class(Role::Model, "paddle", Some("paddlepaddle")),
            "msgpack" if base.contains("flax") => class(Role::Model, "msgpack", Some("flax")),
            "ggml" => class(Role::Model, "ggml", Some("llama.cpp")),
            "llamafile" => class(Role::Model, "llamafile", Some("llama.cpp")),
            "csv" | "tsv" => class(Role::Data, "csv", None),
            "parquet" => class(Role::Data, "parquet", None),
            "arrow" | "feather" => class(Role::Data, "arrow", None),
            "jsonl" => class(Role::Data, "jsonl", None),
            "tfrecord" => class(Role::Data, "tfrecord", Some("tensorflow")),
            "avro" => class(Role::Data, "avro", None),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_decides_then_name() {
        assert_eq!(classify(b"GGUF\x03\x00", "x.bin").unwrap().format, "gguf");
        let c = classify(b"\x80\x04\x95", "pytorch_model.bin").unwrap();
        assert_eq!((c.role, c.framework), (Role::Model, Some("pytorch")));
        assert_eq!(
            classify(b"PK\x03\x04", "model.pt").unwrap().format,
            "pytorch-zip"
        );
        assert_eq!(
            classify(b"a,b\n1,2\n", "train.csv").unwrap().role,
            Role::Data
        );
        assert_eq!(classify(b"hello", "notes.txt"), None);
        // A text file named like a model is not a model.
        assert_eq!(classify(b"hello", "model.safetensors"), None);
    }
}
