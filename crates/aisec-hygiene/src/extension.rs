//! The extension check: names that claim an inert format over content
//! that is something else.

use aisec_core::{FileInput, FileKind, Finding, ScanContext, Scanner, Severity};

use crate::{looks_like_text, rules};

/// Reports names whose extension lies about the content.
pub struct ExtensionMismatchScanner;

impl Scanner for ExtensionMismatchScanner {
    fn name(&self) -> &'static str {
        "extension"
    }

    fn rules(&self) -> &'static [&'static aisec_core::Rule] {
        &[]
    }

    fn detect(&self, file: &FileInput<'_>) -> bool {
        aisec_core::kind_from_name(file.name()).is_some()
    }

    fn scan(&self, file: &FileInput<'_>, _ctx: &ScanContext<'_>) -> Vec<Finding> {
        let Some(claimed) = aisec_core::kind_from_name(file.name()) else {
            return Vec::new();
        };
        let Some(actual) = aisec_core::sniff_content(file.bytes) else {
            return Vec::new();
        };
        if actual == claimed || actual == FileKind::Empty {
            return Vec::new();
        }
        // Text that starts `x^` passes zlib's two-byte header check by chance.
        if actual == FileKind::Zlib && looks_like_text(file.bytes) {
            return Vec::new();
        }
        let severity = if actual == FileKind::Pickle {
            Severity::High
        } else if claims_inert_format(claimed) {
            Severity::Medium
        } else {
            // `.pkl` holding a zip is how torch.save writes; `.gz` holding a
            // tar is fine. Only inert-format claims are lies worth reporting.
            return Vec::new();
        };
        vec![
            Finding::new(
                &rules::EXTENSION_MISMATCH,
                file,
                format!(
                    "named as {} but the content is {}",
                    claimed.as_str(),
                    actual.as_str()
                ),
            )
            .severity(severity)
            .evidence(format!("{} -> {}", file.name(), actual.as_str()))
            .bytes(0, 8.min(file.bytes.len() as u64)),
        ]
    }
}

/// Formats whose name tells a reader "this cannot run code".
fn claims_inert_format(kind: FileKind) -> bool {
    matches!(
        kind,
        FileKind::Safetensors
            | FileKind::Gguf
            | FileKind::Numpy
            | FileKind::Protobuf
            | FileKind::Hdf5
            | FileKind::Text
    )
}
