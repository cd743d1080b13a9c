//! Model signing and verification for aisec, compatible with the OpenSSF model-signing v1.0 format. (work in progress).
