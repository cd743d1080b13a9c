//! The Sigstore bundle v0.3 (JSON) holding a DSSE envelope.
//!
//! Parsing is as strict as the reference reader (sigstore-models with
//! `extra="forbid"`): unknown fields are refused, except the legacy
//! `publicKey.rawBytes`/`keyDetails` written by model_signing 1.0.x.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::Error;

pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Bundle {
    pub media_type: String,
    pub verification_material: VerificationMaterial,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsse_envelope: Option<Envelope>,
    /// Bundles that sign a digest instead of an envelope; model signing never
    /// writes one, kept so that such a bundle is named, not misparsed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_signature: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VerificationMaterial {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<PublicKeyIdentifier>,
    /// Certificate mode (a chain, or one leaf certificate): parsed so that the
    /// bundle format stays general; verification reports it as unsupported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x509_certificate_chain: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<serde_json::Value>,
    #[serde(default)]
    pub tlog_entries: Vec<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_verification_data: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PublicKeyIdentifier {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Legacy (model_signing 1.0.x): base64 of the PEM public key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_bytes: Option<String>,
    /// Legacy: e.g. `PKIX_ECDSA_P384_SHA_384`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_details: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Envelope {
    pub payload: String,
    pub payload_type: String,
    pub signatures: Vec<EnvelopeSignature>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeSignature {
    pub sig: String,
    #[serde(default)]
    pub keyid: Option<String>,
}

/// DSSE pre-authentication encoding: what the signature covers.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

pub fn b64encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Standard alphabet; missing padding is tolerated, URL-safe characters are
/// not (the reference would silently corrupt them, we refuse them).
pub fn b64decode(text: &str, what: &str) -> Result<Vec<u8>, Error> {
    let trimmed = text.trim_end_matches('=');
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(trimmed)
        .map_err(|e| Error::Bundle(format!("{what} is not standard base64: {e}")))
}

impl Bundle {
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        let bundle: Bundle = serde_json::from_slice(bytes)
            .map_err(|e| Error::Bundle(format!("not a Sigstore bundle: {e}")))?;
        if bundle.media_type != BUNDLE_MEDIA_TYPE {
            return Err(Error::Bundle(format!(
                "mediaType is '{}', expected '{BUNDLE_MEDIA_TYPE}'",
                bundle.media_type
            )));
        }
        Ok(bundle)
    }

    /// A key-mode bundle over `payload`, with `sig` a DER ECDSA signature of
    /// its PAE.
    pub fn new_key_mode(hint: String, payload: &[u8], sig: &[u8]) -> Self {
        Bundle {
            media_type: BUNDLE_MEDIA_TYPE.into(),
            verification_material: VerificationMaterial {
                public_key: Some(PublicKeyIdentifier {
                    hint: Some(hint),
                    raw_bytes: None,
                    key_details: None,
                }),
                x509_certificate_chain: None,
                certificate: None,
                tlog_entries: Vec::new(),
                timestamp_verification_data: None,
            },
            dsse_envelope: Some(Envelope {
                payload: b64encode(payload),
                payload_type: PAYLOAD_TYPE.into(),
                signatures: vec![EnvelopeSignature {
                    sig: b64encode(sig),
                    keyid: Some(String::new()),
                }],
            }),
            message_signature: None,
        }
    }

    /// Compact JSON in the reference's key order.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_dsse_spec() {
        assert_eq!(
            pae(PAYLOAD_TYPE, b"{}"),
            b"DSSEv1 28 application/vnd.in-toto+json 2 {}".to_vec()
        );
    }

    #[test]
    fn written_bundle_has_reference_shape() {
        let json = Bundle::new_key_mode("ab".into(), b"{}", b"\x30\x00").to_json();
        assert_eq!(
            json,
            r#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":"ab"},"tlogEntries":[]},"dsseEnvelope":{"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"MAA=","keyid":""}]}}"#
        );
    }

    #[test]
    fn unknown_fields_and_wrong_media_type_are_refused() {
        let json = Bundle::new_key_mode("ab".into(), b"{}", b"\x30\x00").to_json();
        assert!(Bundle::parse(json.as_bytes()).is_ok());
        let extra = json.replacen("{\"mediaType\"", "{\"x\":1,\"mediaType\"", 1);
        assert!(Bundle::parse(extra.as_bytes()).is_err());
        let other = json.replace("v0.3", "v0.2");
        assert!(Bundle::parse(other.as_bytes()).is_err());
    }
}
