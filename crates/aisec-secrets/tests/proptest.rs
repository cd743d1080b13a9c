//! Hostile input must never panic the secrets engine; spans stay in bounds;
//! redacted evidence never carries the secret.

use std::path::Path;

use aisec_core::{FileInput, Limits, ScanContext, Scanner};
use aisec_secrets::{SecretsScanner, find_secrets_in_bytes};
use proptest::prelude::*;

/// Literals of every detector, keywords and the characters they continue with.
const FRAGMENTS: &[&str] = &[
    "sk-proj-",
    "sk-ant-api03-",
    "T3BlbkFJ",
    "hf_",
    "r8_",
    "gsk_",
    "AIza",
    "GOCSPX-",
    "AKIA",
    "ghp_",
    "github_pat_",
    "xoxb-",
    "hooks.slack.com/services/T",
    "sk_live_",
    "-----BEGIN ",
    "PRIVATE KEY-----",
    "eyJ",
    ".",
    "postgresql://u:",
    "@h",
    "lsv2_pt_",
    "pplx-",
    "xai-",
    "pcsk_",
    "wandb",
    "cohere",
    "mistral",
    "azure",
    "api_key",
    "secret",
    "token",
    "password",
    " = ",
    "=",
    "\"",
    "'",
    "\n",
    "\\n",
    ":",
    " ",
    "service_account\"",
    "\"private_key\": \"",
    "aB3dE5fG7hJ9kL1mN3pQ",
    "0123456789abcdef",
    "ZZZZ",
    "\u{e9}",
    "\x00",
    "xxxx",
    "${X}",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        for m in find_secrets_in_bytes(&bytes) {
            prop_assert!(m.start < m.end && m.end <= bytes.len());
        }
    }

    #[test]
    fn fragment_soup(picks in proptest::collection::vec(0..FRAGMENTS.len(), 0..300)) {
        let text: String = picks.iter().map(|&i| FRAGMENTS[i]).collect();
        let bytes = text.as_bytes();
        let mut last_end = 0;
        for m in find_secrets_in_bytes(bytes) {
            prop_assert!(m.start < m.end && m.end <= bytes.len());
            prop_assert!(m.start >= last_end, "overlapping findings");
            last_end = m.end;
            let secret = String::from_utf8_lossy(&bytes[m.start..m.end]);
            if secret.len() >= 12 {
                prop_assert!(!m.redacted.contains(secret.as_ref()));
            }
        }
        // Through the scanner, as a notebook and as a lock file.
        let scanners: Vec<Box<dyn Scanner>> = vec![Box::new(SecretsScanner)];
        let limits = Limits::default();
        let ctx = ScanContext::new(&limits, &scanners);
        for name in ["a.ipynb", "yarn.lock", "tests/x.py"] {
            let file = FileInput::on_disk(name, Path::new(name), bytes);
            SecretsScanner.scan(&file, &ctx);
        }
    }
}
