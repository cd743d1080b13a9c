//! Dataset protection for aisec: masking, tokenisation, encryption at rest, k-anonymity and poisoning signals.
