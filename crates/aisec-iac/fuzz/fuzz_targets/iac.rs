//! Arbitrary bytes through every parser and rule set of aisec-iac, under each
//! name that routes to one (Terraform and Dockerfiles go by name, YAML by
//! content once the name says YAML).
#![no_main]

use aisec_core::{FileInput, Limits, ScanContext, Scanner, detect_kind};
use aisec_iac::IacScanner;
use libfuzzer_sys::fuzz_target;

const NAMES: &[&str] = &["main.tf", "main.tf.json", "Dockerfile", "deploy.yaml", ".gitlab-ci.yml", "noext"];

fuzz_target!(|data: &[u8]| {
    let scanners: Vec<Box<dyn Scanner>> = vec![Box::new(IacScanner)];
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
        if IacScanner.detect(&file) {
            let _ = IacScanner.scan(&file, &ctx);
        }
    }
    // The YAML tree on its own, whatever the markers say.
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = aisec_iac::yaml::Yaml::parse(text);
        let _ = aisec_iac::docker::parse(text);
        let _ = aisec_iac::common::check_script(text);
    }
});
