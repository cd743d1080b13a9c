//! Rules the signature gate reports.

use aisec_core::{Reference, Severity, refs};

const SLSA: Reference = Reference::new("SLSA", "https://slsa.dev/spec/v1.0/");
const MODEL_SIGNING: Reference = Reference::new(
    "OpenSSF-model-signing",
    "https://github.com/sigstore/model-transparency",
);

aisec_core::rules! {
/// Every rule of this crate, for the registry.
pub static RULES;

/// A model directory that must be signed carries no signature.
pub static UNSIGNED_MODEL = Rule {
    id: "AISEC-SIG-001",
    name: "unsigned-model",
    summary: "Model is not signed although a signature is required",
    default_severity: Severity::High,
    explanation: "\
## What it finds
A model (a directory or a single model file) scanned with
`--require-signature KEY` that has no OpenSSF model-signing signature: no
`model.sig` inside the directory and no `<model>.sig` or `model.sig` beside it.

## Why it matters
Without a signature nothing ties the weights, tokenizer and configuration you
are about to load to the party that produced them. A swapped or tampered model
file (a poisoned fine-tune, a pickle with a payload) is indistinguishable from
the real one.

## Remediation
Sign the model where it is produced, with `aisec sign` or `model_signing sign
key`, publish the public key through a trusted channel, and verify before use
(`aisec verify` or `aisec scan --require-signature KEY`). If the model comes
from a publisher that does not sign, pin and verify its file digests instead.
",
    references: &[
        refs::ATLAS_SUPPLY_CHAIN,
        refs::OWASP_ML06,
        MODEL_SIGNING,
        SLSA,
    ],
};

/// A signature is present but does not verify: tampering or the wrong key.
pub static SIGNATURE_INVALID = Rule {
    id: "AISEC-SIG-002",
    name: "model-signature-invalid",
    summary: "Model signature does not verify: files changed, added, removed, or wrong key",
    default_severity: Severity::Critical,
    explanation: "\
## What it finds
A model whose OpenSSF model-signing signature fails: the bundle is malformed,
was made with another key, its ECDSA signature is wrong, or the files on disk
differ from the signed manifest. The message names each file that was changed,
added, removed or renamed.

## Why it matters
A signature that no longer matches means the model is not what was signed:
someone modified a weight file, dropped in an extra file (a pickle, a custom
code module loaded with `trust_remote_code`) or replaced the signature. Loading
it defeats the point of signing.

## Remediation
Do not load the model. Fetch it again from the publisher and verify it; if the
change is your own (a re-export, a new tokenizer), sign the model again. If the
key is wrong, obtain the publisher's current public key through a trusted
channel.
",
    references: &[
        refs::ATLAS_SUPPLY_CHAIN,
        refs::OWASP_ML06,
        refs::CWE_20,
        MODEL_SIGNING,
    ],
};

}
