//! aisec's pickle engine: finds what a Python pickle would import and call
//! when loaded, without loading it.
//!
//! A pickle is a program for a small stack machine; `pickle.load`,
//! `torch.load(weights_only=False)` and `joblib.load` run it, and its
//! `REDUCE`/`INST`/`OBJ`/`NEWOBJ`/`BUILD` opcodes call whatever it imported.
//! This crate parses every opcode of protocols 0 to 5 ([`parse`]), executes
//! the stream *symbolically* ([`vm`]): stack, marks and memo are modelled
//! so that names built through the memo, at load time or by reflection
//! resolve to the real `module.qualname`, and judges every import and call
//! against a deny list and an allow list ([`policy`]). What is on neither
//! list is reported too, at lower severity: nothing unknown is trusted.
//!
//! It also reports hand-crafted structure (computed imports, calls made only
//! for their side effects, mutated modules, concatenated streams, trailing
//! bytes, malformed or truncated streams, after reporting what came before
//! the error), and scans pickles nested in literal payloads through the
//! scan context.
//!
//! What it never does: import, execute or unpickle anything; run Python;
//! copy bulk payloads (tensor bytes are skipped by length over the memory
//! map); grow without bound (every table has a named limit, and a stream
//! past a limit is still swept for imports); or panic on hostile input.

pub mod disasm;
pub mod opcode;
pub mod parse;
pub mod policy;
pub mod render;
pub mod rules;
mod scan;
pub mod text;
pub mod vm;

use aisec_core::{FileInput, Finding, Rule, ScanContext, Scanner};

pub use disasm::{decompile, disasm};
pub use rules::RULES;
pub use scan::{MAX_STREAMS, looks_like_pickle, reaches_execution, scan_pickle};

/// The [`Scanner`] for pickle files: any file sniffed as a pickle by its
/// protocol header, and files with a pickle-like extension (`.pkl`, `.pt`,
/// `.bin`, `.joblib`...) whose first opcodes parse as a pickle.
#[derive(Debug, Default, Clone, Copy)]
pub struct PickleScanner;

impl Scanner for PickleScanner {
    fn name(&self) -> &'static str {
        "pickle"
    }

    fn rules(&self) -> &'static [&'static Rule] {
        RULES
    }

    fn detect(&self, file: &FileInput<'_>) -> bool {
        scan::detect(file)
    }

    fn scan(&self, file: &FileInput<'_>, ctx: &ScanContext<'_>) -> Vec<Finding> {
        scan_pickle(file.bytes, file, ctx)
    }
}
