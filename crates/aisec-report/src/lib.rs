//! Report writers: [`write_table`] for humans, [`write_json`] for machines
//! (schema in `docs/json-report.md`), [`write_sarif`] for code hosts.
//!
//! Invariants: writers only format; they never filter or re-order findings
//! (the engine did that), so all three formats show the same findings, and
//! they never open a file: the table's source snippets come through a
//! [`SourceLines`] the caller passes ([`DiskLines`] for a scan on disk).

mod sarif;
mod source;
mod table;

use std::io::{self, Write};

use aisec_core::Report;

pub use sarif::sarif_value;
pub use source::{DiskLines, MAX_SOURCE_BYTES, NoSource, SourceLines};
pub use table::write_table;

pub fn write_json(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    out.write_all(b"\n")
}

pub fn write_sarif(
    report: &Report,
    registry: &aisec_core::RuleRegistry,
    out: &mut dyn Write,
) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &sarif_value(report, registry))?;
    out.write_all(b"\n")
}
