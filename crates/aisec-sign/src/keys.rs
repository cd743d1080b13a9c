//! ECDSA keys from PEM: P-256 with SHA-256, P-384 with SHA-384, signatures
//! ASN.1 DER encoded, as model_signing's key mode writes and expects them.

use std::path::Path;

use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey, LineEnding};
use sha2::{Digest, Sha256};
use signature_traits::{Signer, Verifier};

use crate::Error;

// The `signature` traits, reached through the curve crates so that their
// version always matches.
mod signature_traits {
    pub use p256::ecdsa::signature::{Signer, Verifier};
}

/// A public key to verify with.
#[derive(Debug, Clone)]
pub enum PublicKey {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
}

/// A private key to sign with.
#[derive(Clone)]
pub enum PrivateKey {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.write_str(match self {
            PrivateKey::P256(_) => "PrivateKey::P256(..)",
            PrivateKey::P384(_) => "PrivateKey::P384(..)",
        })
    }
}

/// The first PEM block with one of `labels`, so that files with a text
/// preamble (certtool output) or an `EC PARAMETERS` block before the key
/// (`openssl ecparam -genkey`) still load.
fn pem_block(text: &str, labels: &[&str]) -> Option<(String, String)> {
    for label in labels {
        let begin = format!("-----BEGIN {label}-----");
        let end = format!("-----END {label}-----");
        if let Some(s) = text.find(&begin)
            && let Some(e) = text[s..].find(&end)
        {
            let block = &text[s..s + e + end.len()];
            return Some((label.to_string(), format!("{block}\n")));
        }
    }
    None
}

fn read_text(path: &Path) -> Result<String, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|_| Error::Key {
        path: path.display().to_string(),
        message: "not a PEM text file".into(),
    })
}

impl PublicKey {
    pub fn from_pem_file(path: &Path) -> Result<Self, Error> {
        Self::from_pem(&read_text(path)?).map_err(|message| Error::Key {
            path: path.display().to_string(),
            message,
        })
    }

    pub fn from_pem(text: &str) -> Result<Self, String> {
        let (_, pem) = pem_block(text, &["PUBLIC KEY"])
            .ok_or("no '-----BEGIN PUBLIC KEY-----' block (an EC SubjectPublicKeyInfo)")?;
        if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_pem(&pem) {
            return Ok(PublicKey::P256(k));
        }
        if let Ok(k) = p384::ecdsa::VerifyingKey::from_public_key_pem(&pem) {
            return Ok(PublicKey::P384(k));
        }
        Err("not an ECDSA P-256 or P-384 public key (only these curves are supported)".into())
    }

    /// PEM as `cryptography` writes it: SPKI, uncompressed point, 64-column
    /// base64, LF line ends.
    pub fn to_pem(&self) -> String {
        match self {
            PublicKey::P256(k) => k.to_public_key_pem(LineEnding::LF),
            PublicKey::P384(k) => k.to_public_key_pem(LineEnding::LF),
        }
        .unwrap_or_default()
    }

    /// The bundle's `publicKey.hint`: lowercase hex SHA-256 of [`Self::to_pem`].
    pub fn hint(&self) -> String {
        hex::encode(Sha256::digest(self.to_pem().as_bytes()))
    }

    pub fn curve(&self) -> &'static str {
        match self {
            PublicKey::P256(_) => "P-256",
            PublicKey::P384(_) => "P-384",
        }
    }

    /// Checks a DER ECDSA signature over `message`, hashed with the curve's
    /// hash.
    pub fn verify(&self, message: &[u8], der: &[u8]) -> bool {
        match self {
            PublicKey::P256(k) => p256::ecdsa::DerSignature::try_from(der)
                .is_ok_and(|s| k.verify(message, &s).is_ok()),
            PublicKey::P384(k) => p384::ecdsa::DerSignature::try_from(der)
                .is_ok_and(|s| k.verify(message, &s).is_ok()),
        }
    }
}

impl PrivateKey {
    pub fn from_pem_file(path: &Path) -> Result<Self, Error> {
        Self::from_pem(&read_text(path)?).map_err(|message| Error::Key {
            path: path.display().to_string(),
            message,
        })
    }

    /// SEC1 (`EC PRIVATE KEY`) or unencrypted PKCS#8 (`PRIVATE KEY`).
    pub fn from_pem(text: &str) -> Result<Self, String> {
        if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")
            || text.contains("Proc-Type: 4,ENCRYPTED")
        {
            return Err("encrypted private keys are not supported; decrypt it first (openssl ec -in KEY -out PLAIN)".into());
        }
        let (label, pem) = pem_block(text, &["EC PRIVATE KEY", "PRIVATE KEY"])
            .ok_or("no '-----BEGIN EC PRIVATE KEY-----' or '-----BEGIN PRIVATE KEY-----' block")?;
        if label == "EC PRIVATE KEY" {
            use p256::elliptic_curve::SecretKey;
            if let Ok(k) = SecretKey::<p256::NistP256>::from_sec1_pem(&pem) {
                return Ok(PrivateKey::P256(k.into()));
            }
            if let Ok(k) = SecretKey::<p384::NistP384>::from_sec1_pem(&pem) {
                return Ok(PrivateKey::P384(k.into()));
            }
        } else {
            if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_pem(&pem) {
                return Ok(PrivateKey::P256(k));
            }
            if let Ok(k) = p384::ecdsa::SigningKey::from_pkcs8_pem(&pem) {
                return Ok(PrivateKey::P384(k));
            }
        }
        Err("not an ECDSA P-256 or P-384 private key (only these curves are supported)".into())
    }

    pub fn public_key(&self) -> PublicKey {
        match self {
            PrivateKey::P256(k) => PublicKey::P256(*k.verifying_key()),
            PrivateKey::P384(k) => PublicKey::P384(*k.verifying_key()),
        }
    }

    /// DER ECDSA signature over `message` (RFC 6979 deterministic nonces, so
    /// signing needs no random source).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            PrivateKey::P256(k) => {
                let s: p256::ecdsa::DerSignature = k.sign(message);
                s.as_bytes().to_vec()
            }
            PrivateKey::P384(k) => {
                let s: p384::ecdsa::DerSignature = k.sign(message);
                s.as_bytes().to_vec()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_both_curves() {
        for key in [
            PrivateKey::P256(p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap()),
            PrivateKey::P384(p384::ecdsa::SigningKey::from_slice(&[9u8; 48]).unwrap()),
        ] {
            let sig = key.sign(b"hello");
            let public = key.public_key();
            assert!(public.verify(b"hello", &sig));
            assert!(!public.verify(b"hellp", &sig));
            assert!(!public.verify(b"hello", &sig[1..]));
            let again = PublicKey::from_pem(&public.to_pem()).unwrap();
            assert_eq!(again.hint(), public.hint());
        }
    }

    #[test]
    fn pem_with_preamble_loads() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/shared/model-signing/samples/upstream/signing-key-pub.pem"
        ))
        .unwrap();
        assert_eq!(PublicKey::from_pem(&text).unwrap().curve(), "P-384");
        assert!(PublicKey::from_pem("garbage").is_err());
        assert!(PrivateKey::from_pem("-----BEGIN ENCRYPTED PRIVATE KEY-----").is_err());
    }
}
