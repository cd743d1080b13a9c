//! CycloneDX 1.6 AI bill of materials for aisec. (work in progress).
