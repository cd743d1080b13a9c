//! Pseudo-Python for humans: one-line call expressions for finding evidence,
//! and whole-stream listings for `aisec pickle decompile`. Every rendering
//! is bounded in depth and length, since values may be cyclic or enormous.

use std::collections::HashMap;
use std::fmt::Write;

use crate::text::{py_repr_bytes, py_repr_str};
use crate::vm::{CallKind, Event, ImportOrigin, Machine, MutationKind, Node, NodeId};

/// Nesting shown before `...`.
const MAX_RENDER_DEPTH: u32 = 8;
/// Items of one container shown before `...`.
const MAX_ITEMS: usize = 16;
/// Characters of one string literal shown.
const MAX_LITERAL: usize = 120;

pub struct Renderer<'m, 'a> {
    m: &'m Machine<'a>,
    /// Names of calls already bound to variables (decompile mode).
    vars: HashMap<NodeId, String>,
    max_len: usize,
}

impl<'m, 'a> Renderer<'m, 'a> {
    /// Inline rendering, at most `max_len` characters per expression.
    pub fn inline(m: &'m Machine<'a>, max_len: usize) -> Self {
        Renderer {
            m,
            vars: HashMap::new(),
            max_len,
        }
    }

    pub fn expr(&self, id: NodeId) -> String {
        let mut out = String::new();
        self.write(id, 0, &mut out);
        if out.len() > self.max_len {
            let mut cut = self.max_len;
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            out.truncate(cut);
            out.push_str("...");
        }
        out
    }

    /// `callee` as written in a call: the resolved dotted name when known.
    pub fn callee(&self, id: NodeId) -> String {
        let mut out = String::new();
        self.write_callee(id, 0, &mut out);
        out
    }

    fn write_callee(&self, id: NodeId, depth: u32, out: &mut String) {
        match self.m.resolve_name(id, 0) {
            Some(name) => out.push_str(&name),
            None => self.write(id, depth + 1, out),
        }
    }

    fn full(&self, out: &str) -> bool {
        out.len() > self.max_len
    }

    fn write_items(&self, items: &[NodeId], depth: u32, out: &mut String) {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            if i >= MAX_ITEMS || self.full(out) {
                let _ = write!(out, "...<{} more>", items.len() - i);
                return;
            }
            self.write(*item, depth + 1, out);
        }
    }

    fn write(&self, id: NodeId, depth: u32, out: &mut String) {
        if let Some(var) = self.vars.get(&id) {
            out.push_str(var);
            return;
        }
        if depth > MAX_RENDER_DEPTH || self.full(out) {
            out.push_str("...");
            return;
        }
        match self.m.node(id) {
            Node::None => out.push_str("None"),
            Node::Bool(true) => out.push_str("True"),
            Node::Bool(false) => out.push_str("False"),
            Node::Int(v) => {
                let _ = write!(out, "{v}");
            }
            Node::BigInt(b) => {
                if b.iter()
                    .all(|c| c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'L' | b' '))
                {
                    out.push_str(String::from_utf8_lossy(b).trim_end_matches('L').trim());
                } else {
                    let _ = write!(out, "<int of {} bytes>", b.len());
                }
            }
            Node::Float(v) => {
                let _ = write!(out, "{v:?}");
            }
            Node::Str(b) => out.push_str(&py_repr_str(
                &String::from_utf8_lossy(&b[..b.len().min(4 * MAX_LITERAL)]),
                MAX_LITERAL,
            )),
            Node::Bytes(b) => out.push_str(&py_repr_bytes(b, MAX_LITERAL / 2)),
            Node::ByteArray(b) => {
                let _ = write!(out, "bytearray({})", py_repr_bytes(b, MAX_LITERAL / 2));
            }
            Node::Tuple(items) => {
                out.push('(');
                self.write_items(items, depth, out);
                if items.len() == 1 {
                    out.push(',');
                }
                out.push(')');
            }
            Node::List(items) => {
                out.push('[');
                self.write_items(items, depth, out);
                out.push(']');
            }
            Node::Set(items) if items.is_empty() => out.push_str("set()"),
            Node::Set(items) => {
                out.push('{');
                self.write_items(items, depth, out);
                out.push('}');
            }
            Node::FrozenSet(items) => {
                out.push_str("frozenset({");
                self.write_items(items, depth, out);
                out.push_str("})");
            }
            Node::Dict(pairs) => {
                out.push('{');
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    if i >= MAX_ITEMS || self.full(out) {
                        let _ = write!(out, "...<{} more>", pairs.len() - i);
                        break;
                    }
                    self.write(*k, depth + 1, out);
                    out.push_str(": ");
                    self.write(*v, depth + 1, out);
                }
                out.push('}');
            }
            Node::Global(i) => {
                let import = &self.m.imports[*i as usize];
                match import.origin {
                    ImportOrigin::Unresolved => out.push_str("<import of a computed name>"),
                    _ => out.push_str(&import.name),
                }
            }
            Node::Call(call) => {
                let mut callee = String::new();
                self.write_callee(call.callee, depth, &mut callee);
                match call.kind {
                    CallKind::NewObj | CallKind::NewObjEx => {
                        let _ = write!(out, "{callee}.__new__({callee}");
                        if let Some(items) = self.m.tuple_items(call.args) {
                            if !items.is_empty() {
                                out.push_str(", ");
                            }
                            self.write_items(items, depth, out);
                        } else {
                            out.push_str(", *");
                            self.write(call.args, depth + 1, out);
                        }
                    }
                    CallKind::SetState => {
                        let _ = write!(out, "<planted __setstate__ {callee}>(");
                        if let Some(items) = self.m.tuple_items(call.args) {
                            self.write_items(items, depth, out);
                        }
                    }
                    _ => {
                        out.push_str(&callee);
                        out.push('(');
                        match self.m.tuple_items(call.args) {
                            Some(items) => self.write_items(items, depth, out),
                            None => {
                                out.push('*');
                                self.write(call.args, depth + 1, out);
                            }
                        }
                    }
                }
                if let Some(kw) = call.kwargs {
                    match self.m.node(kw) {
                        Node::Dict(pairs) => {
                            for (k, v) in pairs.iter().take(MAX_ITEMS) {
                                out.push_str(", ");
                                match self.m.as_text(*k, 0) {
                                    Some(name) => out.push_str(&name),
                                    None => self.write(*k, depth + 1, out),
                                }
                                out.push('=');
                                self.write(*v, depth + 1, out);
                            }
                        }
                        _ => {
                            out.push_str(", **");
                            self.write(kw, depth + 1, out);
                        }
                    }
                }
                out.push(')');
            }
            Node::Attr { obj, attr } => {
                self.write(*obj, depth + 1, out);
                out.push('.');
                out.push_str(attr);
            }
            Node::PersistentLoad(pid) => {
                out.push_str("persistent_load(");
                self.write(*pid, depth + 1, out);
                out.push(')');
            }
            Node::Buffer { .. } => out.push_str("<out-of-band buffer>"),
            Node::Opaque => out.push_str("<?>"),
        }
    }
}

/// Lines of pseudo-Python for one stream: imports as comments, each call as
/// an assignment in load order, state changes of non-literal objects as
/// statements, and the result. `max_lines` bounds the listing.
pub fn decompile_stream(m: &Machine<'_>, out: &mut String, max_lines: usize) {
    let mut r = Renderer {
        m,
        vars: HashMap::new(),
        max_len: 2000,
    };
    let mut lines = 0usize;
    for event in &m.events {
        if lines >= max_lines {
            let _ = writeln!(out, "# ... listing cut at {max_lines} lines");
            return;
        }
        lines += 1;
        match event {
            Event::Import(i) => {
                let import = &m.imports[*i as usize];
                let how = match &import.origin {
                    ImportOrigin::Literal => String::new(),
                    ImportOrigin::Computed => "  # name computed at load time".to_owned(),
                    ImportOrigin::Unresolved => "  # name could not be resolved".to_owned(),
                    ImportOrigin::Reflected => "  # reached by reflection".to_owned(),
                    ImportOrigin::Extension(code) => format!("  # copyreg extension code {code}"),
                };
                let written = import
                    .written
                    .as_deref()
                    .map(|w| format!("  # written as {w}"))
                    .unwrap_or_default();
                match import.origin {
                    ImportOrigin::Reflected => lines -= 1,
                    _ => {
                        let _ = writeln!(
                            out,
                            "# @{} import {}{how}{written}",
                            import.offset, import.name
                        );
                    }
                }
            }
            Event::Call(id) => {
                let text = r.expr(*id);
                let var = format!("_var{}", r.vars.len());
                let offset = match m.node(*id) {
                    Node::Call(c) => c.offset,
                    _ => 0,
                };
                let _ = writeln!(out, "{var} = {text}  # @{offset}");
                r.vars.insert(*id, var);
            }
            Event::Mutation {
                offset,
                kind,
                target,
                items,
            } => {
                let target_text = r.expr(*target);
                let rendered: Vec<String> =
                    items.iter().take(MAX_ITEMS).map(|i| r.expr(*i)).collect();
                let more = if items.len() > MAX_ITEMS { ", ..." } else { "" };
                let line = match kind {
                    MutationKind::Append => {
                        format!("{target_text}.append({})", rendered.join(", "))
                    }
                    MutationKind::Appends => {
                        format!("{target_text}.extend([{}{more}])", rendered.join(", "))
                    }
                    MutationKind::AddItems => {
                        format!("{target_text}.update({{{}{more}}})", rendered.join(", "))
                    }
                    MutationKind::SetItem | MutationKind::SetItems => {
                        let mut s = String::new();
                        for pair in rendered.chunks(2) {
                            if let [k, v] = pair {
                                if !s.is_empty() {
                                    s.push_str("; ");
                                }
                                let _ = write!(s, "{target_text}[{k}] = {v}");
                            }
                        }
                        if items.len() > MAX_ITEMS {
                            s.push_str("; ...");
                        }
                        s
                    }
                    MutationKind::Build => {
                        format!("{target_text}.__setstate__({})", rendered.join(", "))
                    }
                };
                let _ = writeln!(out, "{line}  # @{offset}");
            }
            Event::Stop { offset, result } => {
                let _ = writeln!(out, "result = {}  # STOP @{offset}", r.expr(*result));
            }
        }
    }
}
