//! Arbitrary bytes through every format reader of aisec-formats, under each
//! name that routes to one (the scanner picks parsers by content and name).
#![no_main]

use aisec_core::{FileInput, Limits, ScanContext, Scanner, detect_kind};
use libfuzzer_sys::fuzz_target;

const NAMES: &[&str] = &[
    "m.safetensors",
    "m.gguf",
    "m.npy",
    "m.onnx",
    "saved_model.pb",
    "frozen.pb",
    "m.h5",
    "config.json",
    "chat_template.jinja",
    // Hydra configs (a `.nemo` archive's member).
    "model_config.yaml",
];

fuzz_target!(|data: &[u8]| {
    let scanners: Vec<Box<dyn Scanner>> = vec![Box::new(aisec_formats::FormatsScanner)];
    let limits = Limits::default();
    let ctx = ScanContext::new(&limits, &scanners);
    for name in NAMES {
        let file = FileInput {
            path: name,
            member: None,
            fs_path: None,
            bytes: data,
            kind: detect_kind(data, name),
            depth: 0,
        };
        // Call the scanner directly: `ctx.run` would catch a panic.
        if aisec_formats::FormatsScanner.detect(&file) {
            let _ = aisec_formats::FormatsScanner.scan(&file, &ctx);
        }
    }
    let _ = aisec_formats::torchscript::analyse(data);
    let _ = aisec_formats::hdf5::root_string_attributes(data, &["model_config", "training_config"]);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = aisec_formats::jinja::analyse(text);
    }
});
