//! ML-aware static analysis of Python code and notebooks for aisec. (work in progress).
