//! Listings for analysts: `aisec pickle disasm` and `aisec pickle decompile`.

use std::fmt::Write;

use crate::opcode::Opcode;
use crate::parse::{Arg, Parser};
use crate::render::decompile_stream;
use crate::text::{py_repr_bytes, py_repr_str};
use crate::vm::Machine;

/// Opcode lines listed before the listing is cut (a pickle of a large list
/// has one opcode per element).
pub const MAX_LISTING_LINES: usize = 1_000_000;

/// One line per opcode, `pickletools.dis` style: offset, opcode byte, name,
/// argument (payloads shown by length and a short prefix), indented by mark
/// depth. Concatenated streams follow each other; a parse error ends the
/// listing with the error.
pub fn disasm(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut pos = 0;
    let mut lines = 0;
    let mut stream = 0;
    while pos < bytes.len() {
        if stream > 0 {
            let _ = writeln!(
                out,
                "# --- pickle stream {} at offset {pos} ---",
                stream + 1
            );
        }
        let mut depth = 0usize;
        // Filled memo slots, so MEMOIZE lines can say which slot they fill.
        let mut memo_slots: std::collections::HashSet<i64> = std::collections::HashSet::new();
        let mut parser = Parser::new(bytes, pos);
        let mut stopped = false;
        for item in parser.by_ref() {
            if lines >= MAX_LISTING_LINES {
                let _ = writeln!(out, "# ... listing cut at {MAX_LISTING_LINES} opcodes");
                return out;
            }
            lines += 1;
            match item {
                Ok(op) => {
                    if matches!(
                        op.opcode,
                        Opcode::TUPLE
                            | Opcode::LIST
                            | Opcode::DICT
                            | Opcode::FROZENSET
                            | Opcode::POP_MARK
                            | Opcode::APPENDS
                            | Opcode::SETITEMS
                            | Opcode::ADDITEMS
                            | Opcode::OBJ
                            | Opcode::INST
                    ) {
                        depth = depth.saturating_sub(1);
                    }
                    let arg = match op.arg {
                        Arg::None if op.opcode == Opcode::MEMOIZE => {
                            let slot = memo_slots.len() as i64;
                            memo_slots.insert(slot);
                            format!("(as {slot})")
                        }
                        Arg::Int(k)
                            if matches!(op.opcode, Opcode::BINPUT | Opcode::LONG_BINPUT) =>
                        {
                            memo_slots.insert(k);
                            k.to_string()
                        }
                        Arg::None => String::new(),
                        Arg::Int(v) => v.to_string(),
                        Arg::UInt(v) => v.to_string(),
                        Arg::Float(v) => format!("{v:?}"),
                        Arg::Line(l) => py_repr_str(&String::from_utf8_lossy(l), 200),
                        Arg::TwoLines(m, n) => {
                            format!(
                                "{} {}",
                                String::from_utf8_lossy(m),
                                String::from_utf8_lossy(n)
                            )
                        }
                        Arg::Bytes(b) => match op.opcode {
                            Opcode::BINUNICODE
                            | Opcode::SHORT_BINUNICODE
                            | Opcode::BINUNICODE8
                            | Opcode::BINSTRING
                            | Opcode::SHORT_BINSTRING => {
                                let s = String::from_utf8_lossy(&b[..b.len().min(800)]);
                                let more = if b.len() > 200 {
                                    format!(" <{} bytes>", b.len())
                                } else {
                                    String::new()
                                };
                                format!("{}{more}", py_repr_str(&s, 200))
                            }
                            _ => py_repr_bytes(b, 64),
                        },
                    };
                    let _ = writeln!(
                        out,
                        "{:>8}: {:02x} {}{:<16} {arg}",
                        op.offset,
                        op.opcode as u8,
                        "  ".repeat(depth.min(40)),
                        op.opcode.name()
                    );
                    if op.opcode == Opcode::MARK {
                        depth += 1;
                    }
                    if op.opcode == Opcode::STOP {
                        stopped = true;
                    }
                }
                Err(e) => {
                    let _ = writeln!(out, "# error: {e}");
                    return out;
                }
            }
        }
        if !stopped {
            break;
        }
        pos = parser.position();
        stream += 1;
        if pos < bytes.len() && Machine::run(bytes, pos).result.is_none() {
            let _ = writeln!(out, "# {} bytes after the last STOP", bytes.len() - pos);
            break;
        }
    }
    out
}

/// Pseudo-Python for every stream: imports, each call in load order bound to
/// a variable, state changes of created objects, and the result. Errors and
/// limits are stated where the analysis stopped.
pub fn decompile(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut pos = 0;
    for stream in 0..crate::MAX_STREAMS {
        if pos >= bytes.len() {
            break;
        }
        let m = Machine::run(bytes, pos);
        if stream > 0 {
            if m.result.is_none() && m.imports.is_empty() {
                let _ = writeln!(out, "# {} bytes after the last STOP", bytes.len() - pos);
                break;
            }
            let _ = writeln!(
                out,
                "\n# --- pickle stream {} at offset {pos} ---",
                stream + 1
            );
        }
        if let Some(p) = m.protocol {
            let _ = writeln!(out, "# protocol {p}");
        }
        decompile_stream(&m, &mut out, MAX_LISTING_LINES);
        if let Some(e) = &m.error {
            let _ = writeln!(out, "# error: {e}");
        }
        if let Some(l) = &m.limit {
            let _ = writeln!(
                out,
                "# analysis stopped: limit on {} reached at offset {}",
                l.what, l.offset
            );
        }
        if m.result.is_none() || m.end <= pos {
            break;
        }
        pos = m.end;
    }
    out
}
