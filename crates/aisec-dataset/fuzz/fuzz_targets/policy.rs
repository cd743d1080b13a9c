//! Arbitrary text through the policy parser: it must return a policy or an
//! error, never panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = aisec_dataset::Policy::parse(text, Path::new("fuzz.toml"));
    }
});
