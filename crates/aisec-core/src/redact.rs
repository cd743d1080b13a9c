//! Redaction: the one form in which a secret leaves any scanner (secrets,
//! IaC): a public prefix, the length and a short SHA-256 prefix.

use sha2::{Digest, Sha256};

/// Never show more than this share of a secret, whatever its public prefix.
const MAX_SHOWN_FRACTION: usize = 4;
/// Hex digits of SHA-256 shown: enough to tell two secrets apart and to match
/// a finding to a known key, too few to test guesses of a strong secret.
const HASH_HEX: usize = 8;

/// `sk-proj-…[redacted 164 chars, sha256:1a2b3c4d]`: the public prefix (at
/// most a quarter of the secret), its length and a short hash.
pub fn redact(secret: &str, shown: usize) -> String {
    let mut n = shown.min(secret.len() / MAX_SHOWN_FRACTION);
    while !secret.is_char_boundary(n) {
        n -= 1;
    }
    let digest = Sha256::digest(secret.as_bytes());
    let hex: String = digest
        .iter()
        .take(HASH_HEX / 2)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "{}…[redacted {} chars, sha256:{hex}]",
        &secret[..n],
        secret.chars().count()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_prefix_and_hash_only() {
        let s = "ghp_0123456789abcdefghijABCDEFGHIJ012345";
        let r = redact(s, 4);
        assert!(r.starts_with("ghp_…[redacted 40 chars, sha256:"));
        assert!(!r.contains("0123456789"));
        // A long claimed prefix is capped at a quarter of the secret.
        assert_eq!(redact("abcdefgh", 8).split('…').next(), Some("ab"));
        assert!(redact("é", 1).starts_with('…'));
    }
}
