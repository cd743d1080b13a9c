//! API keys and credentials, by aisec-secrets' engine (one Aho-Corasick
//! prefilter and the provider detectors behind it): one implementation of
//! secret detection in the tool, not two.

use super::{DataClass, Hit};

pub fn find(text: &str, out: &mut Vec<Hit>) {
    for m in aisec_secrets::find_secrets(text) {
        out.push(Hit {
            class: DataClass::Secret,
            start: m.start,
            end: m.end,
            redacted: format!("{}: {}", m.what, m.redacted),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_keys_are_found_and_redacted() {
        let key = concat!("ghp_", "R8d2Xq7LmN4pZ9vT1cW6yB3kH5jF0sGaE2uQ");
        let mut out = Vec::new();
        find(&format!("token {key}"), &mut out);
        assert_eq!(out.len(), 1);
        assert!(!out[0].redacted.contains("R8d2Xq7LmN4p"));
        let mut none = Vec::new();
        find("just some words", &mut none);
        assert!(none.is_empty());
    }
}
