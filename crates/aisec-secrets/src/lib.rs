//! Secret detection for aisec: AI and cloud provider keys, private keys, tokens, with redaction. (work in progress).
