//! The symbolic pickle machine: runs one pickle stream's opcodes against a
//! model of the loader (stack, marks, memo) without importing or calling
//! anything. Values live in an arena and refer to each other by index, so
//! hostile nesting or cycles cost no recursion when they are dropped, and
//! every allocation is counted against a named limit.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::opcode::Opcode;
use crate::parse::{Arg, FrameReading, FrameViolation, Op, ParseError, Parser, parse_py_int};
use crate::policy::canonical_name;
use crate::text;

/// Symbolic values one stream may create. Real checkpoints need well under
/// 100k (tensor payloads are one value each); past this the machine stops and
/// the rest of the stream is swept for imports only.
pub const MAX_NODES: usize = 4_000_000;
/// Items on the stack (all frames together): the pickler batches containers
/// by 1000, so anything near this is hand-made.
pub const MAX_STACK_ITEMS: usize = 1_000_000;
/// Nested MARKs: each is a saved stack frame.
pub const MAX_MARK_DEPTH: usize = 100_000;
/// Memo entries: one per memoized object; a million is far beyond any model.
pub const MAX_MEMO_ENTRIES: usize = 1_000_000;
/// Imports recorded per stream (each distinct site). Protocol 4 memoizes
/// globals, so even huge checkpoints import a few hundred times.
pub const MAX_IMPORTS: usize = 200_000;
/// Largest string folded at analysis time (concatenation, base64, latin-1):
/// names and small payloads; bigger blobs are left symbolic.
pub const MAX_FOLD_BYTES: usize = 1 << 20;
/// Largest nested payload decoded for a recursive scan.
pub const MAX_NESTED_PAYLOAD: usize = 256 << 20;
/// Keys of one BUILD state examined (joblib wrappers have six, planted
/// attributes a few).
const MAX_STATE_KEYS: usize = 256;
/// Longest module or attribute name STACK_GLOBAL accepts from the stack.
pub const MAX_NAME_LEN: usize = 4096;
/// How deep name resolution follows folded calls (`getattr(getattr(...))`).
const MAX_RESOLVE_DEPTH: u32 = 32;

pub type NodeId = u32;

/// Singletons so that the commonest values allocate nothing.
pub const NONE: NodeId = 0;
pub const TRUE: NodeId = 1;
pub const FALSE: NodeId = 2;
pub const OPAQUE: NodeId = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// REDUCE: `callable(*args)`.
    Reduce,
    /// NEWOBJ: `cls.__new__(cls, *args)`.
    NewObj,
    /// NEWOBJ_EX: `cls.__new__(cls, *args, **kwargs)`.
    NewObjEx,
    /// INST: `module.name(*args)`.
    Inst,
    /// OBJ: `cls(*args)`.
    Obj,
    /// BUILD calling an instance's `__setstate__` that the pickle planted.
    SetState,
    /// A call that an allowed helper makes with a callable it was given
    /// (NumPy's `__generator_ctor(name, ctor)` calls `ctor(name)`). Recorded
    /// at the helper's call site, so the callable is judged like any other.
    Forwarded,
}

#[derive(Debug, Clone)]
pub struct Call {
    pub callee: NodeId,
    /// A Tuple node normally; anything else when hand-crafted.
    pub args: NodeId,
    pub kwargs: Option<NodeId>,
    pub kind: CallKind,
    pub offset: usize,
    /// The value this call is known to return, when it is a pure function
    /// of literals the machine knows (`getattr`, `__import__`, string ops).
    pub folded: Option<NodeId>,
}

#[derive(Debug, Clone)]
pub enum Node<'a> {
    None,
    Bool(bool),
    Int(i64),
    /// An integer beyond `i64`, kept as its decimal or byte form.
    BigInt(Cow<'a, [u8]>),
    Float(f64),
    Str(Cow<'a, [u8]>),
    Bytes(Cow<'a, [u8]>),
    ByteArray(Cow<'a, [u8]>),
    Tuple(Vec<NodeId>),
    List(Vec<NodeId>),
    Dict(Vec<(NodeId, NodeId)>),
    Set(Vec<NodeId>),
    FrozenSet(Vec<NodeId>),
    /// An imported object: index into [`Machine::imports`].
    Global(u32),
    Call(Call),
    /// `getattr(obj, attr)` on something that is not an import.
    Attr {
        obj: NodeId,
        attr: String,
    },
    PersistentLoad(NodeId),
    Buffer {
        readonly: bool,
    },
    /// A value the machine does not model (limits reached, unparseable text).
    Opaque,
}

/// How the name of an import was obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportOrigin {
    /// GLOBAL/INST text, or STACK_GLOBAL on literal strings (memo included).
    Literal,
    /// STACK_GLOBAL on strings computed by calls at load time.
    Computed,
    /// STACK_GLOBAL on values the machine could not resolve.
    Unresolved,
    /// `getattr(x, 'name')`, `__import__('m')`, `attrgetter`... folded.
    Reflected,
    /// EXT1/EXT2/EXT4: whatever the loader's copyreg registry holds.
    Extension(i64),
}

#[derive(Debug, Clone)]
pub struct Import {
    pub offset: usize,
    pub end: usize,
    pub opcode: Opcode,
    /// Canonical dotted name (aliases folded), or a placeholder for
    /// unresolved and extension imports.
    pub name: String,
    /// Module and name as written, when they differ from `name`.
    pub written: Option<String>,
    pub origin: ImportOrigin,
    /// Call sites whose callee resolves to this import.
    pub calls: Vec<NodeId>,
    /// STACK_GLOBAL's module and name operands (they are consumed by it).
    pub operands: Option<(NodeId, NodeId)>,
    /// The value this stream itself stored under this name earlier (BUILD
    /// slot state on an imported object sets its attributes), which is what
    /// the loader's `getattr` returns instead of the original.
    pub overridden_by: Option<NodeId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MutationKind {
    Append,
    Appends,
    SetItem,
    SetItems,
    AddItems,
    Build,
}

/// Things worth showing in order: calls and state changes of objects that
/// are not plain literals.
#[derive(Debug, Clone)]
pub enum Event {
    Import(u32),
    Call(NodeId),
    Mutation {
        offset: usize,
        kind: MutationKind,
        target: NodeId,
        items: Vec<NodeId>,
    },
    Stop {
        offset: usize,
        result: NodeId,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VmError {
    Parse(ParseError),
    /// The loader would raise here (stack underflow, missing mark or memo).
    Semantic {
        offset: usize,
        message: String,
    },
}

impl std::fmt::Display for VmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VmError::Parse(e) => e.fmt(f),
            VmError::Semantic { offset, message } => write!(f, "{message} at offset {offset}"),
        }
    }
}

/// A limit that stopped the machine before the end of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitHit {
    pub offset: usize,
    pub what: &'static str,
}

/// One stream's symbolic execution and everything it observed.
#[derive(Debug)]
pub struct Machine<'a> {
    data: &'a [u8],
    pub start: usize,
    /// Offset just past STOP, or where the machine stopped.
    pub end: usize,
    pub nodes: Vec<Node<'a>>,
    pub imports: Vec<Import>,
    pub events: Vec<Event>,
    /// BUILD, SETITEM(S), APPEND(S) or ADDITEMS applied to an imported object
    /// itself (a module, class or function), not to an instance.
    pub global_mutations: Vec<(usize, MutationKind, NodeId)>,
    pub protocol: Option<u8>,
    pub result: Option<NodeId>,
    pub error: Option<VmError>,
    pub limit: Option<LimitHit>,
    pub op_count: u64,
    /// Memo slots written twice: picklers never do that.
    pub memo_overwrites: u64,
    /// Offset of a PROTO opcode that is not the stream's first opcode.
    pub late_proto: Option<usize>,
    /// Stack items and open marks left when STOP popped the result.
    pub leftover_at_stop: usize,
    /// Pickle streams embedded in this one and read by the loader itself
    /// (joblib writes object arrays as a nested `pickle.load` mid-stream).
    pub inline: Vec<Machine<'a>>,
    /// Raw array bytes skipped mid-stream (joblib's NumpyArrayWrapper).
    pub skipped_payloads: Vec<(usize, usize)>,
    /// How this run read protocol 4 frames.
    pub reading: FrameReading,
    /// The first frame that an opcode crosses or that another FRAME opens
    /// inside: the stream reads differently in memory and from a file.
    pub frame_violation: Option<FrameViolation>,
    resume_at: Option<usize>,
    nesting: u32,
    attr_overrides: HashMap<String, NodeId>,
    setstate_overrides: HashMap<NodeId, NodeId>,
    /// The last BUILD state of each object (joblib reads dtype sizes there).
    build_states: HashMap<NodeId, NodeId>,
    /// One flat stack; `marks` holds the stack length at each MARK, and
    /// nothing below the last mark is visible (the loader's "fence").
    stack: Vec<NodeId>,
    marks: Vec<usize>,
    memo: Memo,
}

type Step<T> = Result<T, Stop>;

enum Stop {
    Error(VmError),
    Limit(&'static str),
}

impl<'a> Machine<'a> {
    /// Runs the stream that starts at `start` until STOP, an error, or a
    /// limit. Never panics; the result says which of the three happened.
    pub fn run(data: &'a [u8], start: usize) -> Machine<'a> {
        Self::run_nested(data, start, 0, FrameReading::ReadThrough)
    }

    /// Runs the stream as CPython's unpickler does when it reads a file in
    /// chunks (see [`FrameReading::Chunked`]).
    pub fn run_chunked(data: &'a [u8], start: usize) -> Machine<'a> {
        Self::run_nested(data, start, 0, FrameReading::Chunked)
    }

    fn run_nested(
        data: &'a [u8],
        start: usize,
        nesting: u32,
        reading: FrameReading,
    ) -> Machine<'a> {
        let mut m = Machine {
            reading,
            frame_violation: None,
            inline: Vec::new(),
            skipped_payloads: Vec::new(),
            resume_at: None,
            nesting,
            attr_overrides: HashMap::new(),
            setstate_overrides: HashMap::new(),
            build_states: HashMap::new(),
            data,
            start,
            end: start,
            nodes: vec![
                Node::None,
                Node::Bool(true),
                Node::Bool(false),
                Node::Opaque,
            ],
            imports: Vec::new(),
            events: Vec::new(),
            global_mutations: Vec::new(),
            protocol: None,
            result: None,
            error: None,
            limit: None,
            op_count: 0,
            memo_overwrites: 0,
            late_proto: None,
            leftover_at_stop: 0,
            stack: Vec::new(),
            marks: Vec::new(),
            memo: Memo::default(),
        };
        let mut parser = Parser::with_frames(data, start, reading);
        while let Some(item) = parser.next() {
            let op = match item {
                Ok(op) => op,
                Err(e) => {
                    m.end = e.offset;
                    m.error = Some(VmError::Parse(e));
                    break;
                }
            };
            m.op_count += 1;
            m.end = op.end;
            match m.step(&op) {
                Ok(()) => {}
                Err(Stop::Error(e)) => {
                    m.error = Some(e);
                    break;
                }
                Err(Stop::Limit(what)) => {
                    m.limit = Some(LimitHit {
                        offset: op.offset,
                        what,
                    });
                    break;
                }
            }
            if let Some(resume) = m.resume_at.take() {
                m.end = resume;
                m.frame_violation = m.frame_violation.or(parser.frame_violation());
                parser = Parser::with_frames(data, resume, reading);
            }
        }
        m.frame_violation = m.frame_violation.or(parser.frame_violation());
        m.end = m.end.max(parser.position().min(data.len())).min(data.len());
        if m.result.is_some() {
            m.end = m.end.min(data.len());
        }
        m.stack = Vec::new();
        m.marks = Vec::new();
        m.memo = Memo::default();
        m
    }

    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    pub fn node(&self, id: NodeId) -> &Node<'a> {
        self.nodes.get(id as usize).unwrap_or(&Node::Opaque)
    }

    fn alloc(&mut self, node: Node<'a>) -> Step<NodeId> {
        if self.nodes.len() >= MAX_NODES {
            return Err(Stop::Limit("symbolic values"));
        }
        self.nodes.push(node);
        Ok((self.nodes.len() - 1) as NodeId)
    }

    fn semantic(offset: usize, message: impl Into<String>) -> Stop {
        Stop::Error(VmError::Semantic {
            offset,
            message: message.into(),
        })
    }

    fn push(&mut self, id: NodeId) -> Step<()> {
        if self.stack.len() >= MAX_STACK_ITEMS {
            return Err(Stop::Limit("stack items"));
        }
        self.stack.push(id);
        Ok(())
    }

    /// Items above the last mark.
    fn visible(&self) -> usize {
        self.stack.len() - self.marks.last().copied().unwrap_or(0)
    }

    fn pop(&mut self, offset: usize) -> Step<NodeId> {
        if self.visible() == 0 {
            return Err(Self::semantic(offset, "unpickling stack underflow"));
        }
        self.stack
            .pop()
            .ok_or_else(|| Self::semantic(offset, "unpickling stack underflow"))
    }

    fn top(&self, offset: usize) -> Step<NodeId> {
        if self.visible() == 0 {
            return Err(Self::semantic(offset, "unpickling stack underflow"));
        }
        self.stack
            .last()
            .copied()
            .ok_or_else(|| Self::semantic(offset, "unpickling stack underflow"))
    }

    fn pop_mark(&mut self, offset: usize) -> Step<Vec<NodeId>> {
        let Some(mark) = self.marks.pop() else {
            return Err(Self::semantic(offset, "could not find MARK"));
        };
        Ok(self.stack.split_off(mark.min(self.stack.len())))
    }

    fn add_import(
        &mut self,
        op: &Op<'_>,
        name: String,
        written: Option<String>,
        origin: ImportOrigin,
    ) -> Step<NodeId> {
        if self.imports.len() >= MAX_IMPORTS {
            return Err(Stop::Limit("imports"));
        }
        let index = self.imports.len() as u32;
        self.imports.push(Import {
            offset: op.offset,
            end: op.end,
            opcode: op.opcode,
            name,
            written,
            origin,
            calls: Vec::new(),
            operands: None,
            overridden_by: None,
        });
        self.events.push(Event::Import(index));
        self.alloc(Node::Global(index))
    }

    fn literal_import(
        &mut self,
        op: &Op<'_>,
        module: &str,
        name: &str,
        origin: ImportOrigin,
    ) -> Step<NodeId> {
        let canonical = canonical_name(module, name);
        let as_written = format!("{module}.{name}");
        let written = (as_written != canonical).then_some(as_written);
        let overridden_by = self.attr_overrides.get(&canonical).copied();
        let id = self.add_import(op, canonical, written, origin)?;
        if let Some(last) = self.imports.last_mut() {
            last.overridden_by = overridden_by;
        }
        Ok(id)
    }

    /// `BUILD` with `{'__setstate__': f}` (dict or slot state) sets an
    /// instance attribute that the next BUILD on the instance calls.
    fn record_setstate_override(&mut self, target: NodeId, state: NodeId) {
        let mut dicts = vec![state];
        if let Node::Tuple(items) = self.node(state) {
            dicts = items.iter().take(2).copied().collect();
        }
        for dict in dicts {
            if let Some(f) = self.dict_get(dict, "__setstate__") {
                if self.setstate_overrides.len() < MAX_MEMO_ENTRIES {
                    self.setstate_overrides.insert(target, f);
                }
            }
        }
    }

    /// BUILD on an imported object sets attributes on the live module, class
    /// or function (`__dict__` update, or `setattr` for slot state); later
    /// imports of those attributes get the stored values.
    fn record_attr_overrides(&mut self, target: NodeId, state: NodeId) {
        let Some(base) = self.resolve_name(target, 0) else {
            return;
        };
        let mut dicts = vec![state];
        if let Node::Tuple(items) = self.node(state) {
            dicts = items.iter().take(2).copied().collect();
        }
        for dict in dicts {
            let Node::Dict(pairs) = self.node(dict) else {
                continue;
            };
            let pairs: Vec<_> = pairs.iter().take(MAX_STATE_KEYS).copied().collect();
            for (k, v) in pairs {
                if self.attr_overrides.len() >= MAX_MEMO_ENTRIES {
                    return;
                }
                if let Some(key) = self.as_text(k, 0) {
                    let name = format!("{base}.{key}");
                    self.attr_overrides.insert(name, v);
                }
            }
        }
    }

    fn memo_get(&self, offset: usize, key: i128) -> Step<NodeId> {
        u64::try_from(key)
            .ok()
            .and_then(|k| self.memo.get(k))
            .ok_or_else(|| Self::semantic(offset, format!("memo value {key} not found")))
    }

    fn memo_put(&mut self, offset: usize, key: i128) -> Step<()> {
        let value = self.top(offset)?;
        let Ok(key) = u64::try_from(key) else {
            return Err(Self::semantic(offset, "negative PUT argument"));
        };
        if self.memo.len() >= MAX_MEMO_ENTRIES && self.memo.get(key).is_none() {
            return Err(Stop::Limit("memo entries"));
        }
        if self.memo.insert(key, value) {
            self.memo_overwrites += 1;
        }
        Ok(())
    }

    fn step(&mut self, op: &Op<'a>) -> Step<()> {
        use Opcode::*;
        let at = op.offset;
        match (op.opcode, op.arg) {
            (PROTO, Arg::Int(p)) => {
                if p > 5 {
                    return Err(Self::semantic(
                        at,
                        format!("unsupported pickle protocol: {p}"),
                    ));
                }
                if self.op_count > 1 && self.late_proto.is_none() {
                    self.late_proto = Some(at);
                }
                self.protocol = Some(p as u8);
            }
            (FRAME, _) => {}
            (STOP, _) => {
                let result = self.pop(at)?;
                self.result = Some(result);
                self.leftover_at_stop = self.stack.len() + self.marks.len();
                self.events.push(Event::Stop { offset: at, result });
            }
            (MARK, _) => {
                if self.marks.len() >= MAX_MARK_DEPTH {
                    return Err(Stop::Limit("nested marks"));
                }
                self.marks.push(self.stack.len());
            }
            (POP, _) => {
                // Like the C loader: a mark at the top is popped before any
                // value below it.
                if self.visible() > 0 {
                    self.stack.pop();
                } else {
                    self.pop_mark(at)?;
                }
            }
            (POP_MARK, _) => {
                self.pop_mark(at)?;
            }
            (DUP, _) => {
                let top = self.top(at)?;
                self.push(top)?;
            }
            (Opcode::NONE, _) => self.push(self::NONE)?,
            (NEWTRUE, _) => self.push(TRUE)?,
            (NEWFALSE, _) => self.push(FALSE)?,
            (INT, Arg::Line(line)) => {
                let id = match line {
                    b"00" => FALSE,
                    b"01" => TRUE,
                    _ => match parse_py_int(line, true) {
                        Some(v) => self.int_node(v, line)?,
                        None => OPAQUE,
                    },
                };
                self.push(id)?;
            }
            (LONG, Arg::Line(line)) => {
                let id = match parse_py_int(line, false) {
                    Some(v) => self.int_node(v, line)?,
                    None => OPAQUE,
                };
                self.push(id)?;
            }
            (BININT | BININT1 | BININT2, Arg::Int(v)) => {
                let id = self.alloc(Node::Int(v))?;
                self.push(id)?;
            }
            (LONG1 | LONG4, Arg::Bytes(b)) => {
                let id = if b.len() <= 8 {
                    let mut buf = if b.last().is_some_and(|x| x & 0x80 != 0) {
                        [0xffu8; 8]
                    } else {
                        [0u8; 8]
                    };
                    buf[..b.len()].copy_from_slice(b);
                    self.alloc(Node::Int(i64::from_le_bytes(buf)))?
                } else {
                    self.alloc(Node::BigInt(Cow::Borrowed(b)))?
                };
                self.push(id)?;
            }
            (FLOAT, Arg::Line(line)) => {
                let v = std::str::from_utf8(line)
                    .ok()
                    .and_then(|s| s.trim().parse::<f64>().ok());
                let id = match v {
                    Some(v) => self.alloc(Node::Float(v))?,
                    None => OPAQUE,
                };
                self.push(id)?;
            }
            (BINFLOAT, Arg::Float(v)) => {
                let id = self.alloc(Node::Float(v))?;
                self.push(id)?;
            }
            (STRING, Arg::Line(line)) => {
                let Some(decoded) = text::decode_quoted_string(line) else {
                    return Err(Self::semantic(
                        at,
                        "the STRING opcode argument must be quoted",
                    ));
                };
                let id = self.alloc(Node::Str(Cow::Owned(decoded)))?;
                self.push(id)?;
            }
            (
                BINSTRING | SHORT_BINSTRING | BINUNICODE | SHORT_BINUNICODE | BINUNICODE8,
                Arg::Bytes(b),
            ) => {
                let id = self.alloc(Node::Str(Cow::Borrowed(b)))?;
                self.push(id)?;
            }
            (UNICODE, Arg::Line(line)) => {
                let s = text::decode_raw_unicode_escape(line);
                let id = self.alloc(Node::Str(Cow::Owned(s.into_bytes())))?;
                self.push(id)?;
            }
            (BINBYTES | SHORT_BINBYTES | BINBYTES8, Arg::Bytes(b)) => {
                let id = self.alloc(Node::Bytes(Cow::Borrowed(b)))?;
                self.push(id)?;
            }
            (BYTEARRAY8, Arg::Bytes(b)) => {
                let id = self.alloc(Node::ByteArray(Cow::Borrowed(b)))?;
                self.push(id)?;
            }
            (NEXT_BUFFER, _) => {
                let id = self.alloc(Node::Buffer { readonly: false })?;
                self.push(id)?;
            }
            (READONLY_BUFFER, _) => {
                self.top(at)?;
            }
            (EMPTY_DICT, _) => {
                let id = self.alloc(Node::Dict(Vec::new()))?;
                self.push(id)?;
            }
            (EMPTY_LIST, _) => {
                let id = self.alloc(Node::List(Vec::new()))?;
                self.push(id)?;
            }
            (EMPTY_TUPLE, _) => {
                let id = self.alloc(Node::Tuple(Vec::new()))?;
                self.push(id)?;
            }
            (EMPTY_SET, _) => {
                let id = self.alloc(Node::Set(Vec::new()))?;
                self.push(id)?;
            }
            (TUPLE, _) => {
                let items = self.pop_mark(at)?;
                let id = self.alloc(Node::Tuple(items))?;
                self.push(id)?;
            }
            (TUPLE1 | TUPLE2 | TUPLE3, _) => {
                let n = match op.opcode {
                    TUPLE1 => 1,
                    TUPLE2 => 2,
                    _ => 3,
                };
                if self.visible() < n {
                    return Err(Self::semantic(at, "unpickling stack underflow"));
                }
                let items = self.stack.split_off(self.stack.len() - n);
                let id = self.alloc(Node::Tuple(items))?;
                self.push(id)?;
            }
            (LIST, _) => {
                let items = self.pop_mark(at)?;
                let id = self.alloc(Node::List(items))?;
                self.push(id)?;
            }
            (DICT, _) => {
                let items = self.pop_mark(at)?;
                let pairs = items.chunks_exact(2).map(|p| (p[0], p[1])).collect();
                let id = self.alloc(Node::Dict(pairs))?;
                self.push(id)?;
            }
            (FROZENSET, _) => {
                let items = self.pop_mark(at)?;
                let id = self.alloc(Node::FrozenSet(items))?;
                self.push(id)?;
            }
            (APPEND, _) => {
                let v = self.pop(at)?;
                let target = self.top(at)?;
                self.mutate(at, MutationKind::Append, target, vec![v]);
            }
            (APPENDS, _) => {
                let items = self.pop_mark(at)?;
                let target = self.top(at)?;
                self.mutate(at, MutationKind::Appends, target, items);
            }
            (SETITEM, _) => {
                let v = self.pop(at)?;
                let k = self.pop(at)?;
                let target = self.top(at)?;
                self.mutate(at, MutationKind::SetItem, target, vec![k, v]);
            }
            (SETITEMS, _) => {
                let mut items = self.pop_mark(at)?;
                if items.len() % 2 != 0 {
                    return Err(Self::semantic(at, "odd number of items for SETITEMS"));
                }
                let target = self.top(at)?;
                items.truncate(items.len() & !1);
                self.mutate(at, MutationKind::SetItems, target, items);
            }
            (ADDITEMS, _) => {
                let items = self.pop_mark(at)?;
                let target = self.top(at)?;
                self.mutate(at, MutationKind::AddItems, target, items);
            }
            (BUILD, _) => {
                let state = self.pop(at)?;
                let target = self.top(at)?;
                if let Some(&setstate) = self.setstate_overrides.get(&target) {
                    // An earlier BUILD stored `__setstate__` on this very
                    // instance: the loader now calls it with the state.
                    let args = self.alloc(Node::Tuple(vec![state]))?;
                    self.call(at, setstate, args, None, CallKind::SetState)?;
                }
                self.mutate(at, MutationKind::Build, target, vec![state]);
                if self.build_states.len() < MAX_MEMO_ENTRIES {
                    self.build_states.insert(target, state);
                }
                if matches!(self.node(target), Node::Global(_)) {
                    self.record_attr_overrides(target, state);
                } else {
                    self.record_setstate_override(target, state);
                }
                if self.is_joblib_array_wrapper(target) {
                    self.skip_joblib_array(op.end, state)?;
                }
            }
            (GLOBAL, Arg::TwoLines(module, name)) => {
                let module = String::from_utf8_lossy(module);
                let name = String::from_utf8_lossy(name);
                let id = self.literal_import(op, &module, &name, ImportOrigin::Literal)?;
                self.push(id)?;
            }
            (STACK_GLOBAL, _) => {
                let name = self.pop(at)?;
                let module = self.pop(at)?;
                let id = self.stack_global(op, module, name)?;
                if let Some(Node::Global(i)) = self.nodes.get(id as usize) {
                    let i = *i as usize;
                    self.imports[i].operands = Some((module, name));
                }
                self.push(id)?;
            }
            (INST, Arg::TwoLines(module, name)) => {
                let args = self.pop_mark(at)?;
                let module = String::from_utf8_lossy(module);
                let name = String::from_utf8_lossy(name);
                let callee = self.literal_import(op, &module, &name, ImportOrigin::Literal)?;
                let args = self.alloc(Node::Tuple(args))?;
                let id = self.call(at, callee, args, None, CallKind::Inst)?;
                self.push(id)?;
            }
            (OBJ, _) => {
                let mut items = self.pop_mark(at)?;
                if items.is_empty() {
                    return Err(Self::semantic(at, "OBJ without a class"));
                }
                let callee = items.remove(0);
                let args = self.alloc(Node::Tuple(items))?;
                let id = self.call(at, callee, args, None, CallKind::Obj)?;
                self.push(id)?;
            }
            (REDUCE, _) => {
                let args = self.pop(at)?;
                let callee = self.pop(at)?;
                let id = self.call(at, callee, args, None, CallKind::Reduce)?;
                self.push(id)?;
            }
            (NEWOBJ, _) => {
                let args = self.pop(at)?;
                let cls = self.pop(at)?;
                let id = self.call(at, cls, args, None, CallKind::NewObj)?;
                self.push(id)?;
            }
            (NEWOBJ_EX, _) => {
                let kwargs = self.pop(at)?;
                let args = self.pop(at)?;
                let cls = self.pop(at)?;
                let id = self.call(at, cls, args, Some(kwargs), CallKind::NewObjEx)?;
                self.push(id)?;
            }
            (EXT1 | EXT2 | EXT4, Arg::Int(code)) => {
                if code <= 0 {
                    return Err(Self::semantic(at, "EXT specifies code <= 0"));
                }
                let id = self.add_import(
                    op,
                    format!("copyreg._extension_registry[{code}]"),
                    None,
                    ImportOrigin::Extension(code),
                )?;
                self.push(id)?;
            }
            (PERSID, Arg::Line(line)) => {
                let pid = self.alloc(Node::Str(Cow::Borrowed(line)))?;
                let id = self.alloc(Node::PersistentLoad(pid))?;
                self.push(id)?;
            }
            (BINPERSID, _) => {
                let pid = self.pop(at)?;
                let id = self.alloc(Node::PersistentLoad(pid))?;
                self.push(id)?;
            }
            (GET, Arg::Line(line)) => {
                let key = parse_py_int(line, false)
                    .ok_or_else(|| Self::semantic(at, "invalid GET argument"))?;
                let id = self.memo_get(at, key)?;
                self.push(id)?;
            }
            (BINGET | LONG_BINGET, Arg::Int(key)) => {
                let id = self.memo_get(at, key as i128)?;
                self.push(id)?;
            }
            (PUT, Arg::Line(line)) => {
                let key = parse_py_int(line, false)
                    .ok_or_else(|| Self::semantic(at, "invalid PUT argument"))?;
                self.memo_put(at, key)?;
            }
            (BINPUT | LONG_BINPUT, Arg::Int(key)) => self.memo_put(at, key as i128)?,
            (MEMOIZE, _) => {
                let key = self.memo.len() as i128;
                self.memo_put(at, key)?;
            }
            (opcode, arg) => {
                // The parser guarantees each opcode's argument shape; reaching
                // here would be a table bug, reported rather than panicking.
                return Err(Self::semantic(
                    at,
                    format!(
                        "internal: {} with unexpected argument {arg:?}",
                        opcode.name()
                    ),
                ));
            }
        }
        Ok(())
    }

    fn int_node(&mut self, v: i128, line: &'a [u8]) -> Step<NodeId> {
        match i64::try_from(v) {
            Ok(v) => self.alloc(Node::Int(v)),
            Err(_) => self.alloc(Node::BigInt(Cow::Borrowed(line))),
        }
    }

    fn mutate(&mut self, offset: usize, kind: MutationKind, target: NodeId, items: Vec<NodeId>) {
        let literal = match (self.nodes.get_mut(target as usize), kind) {
            (Some(Node::List(list)), MutationKind::Append | MutationKind::Appends) => {
                list.extend_from_slice(&items);
                true
            }
            (Some(Node::Dict(dict)), MutationKind::SetItem | MutationKind::SetItems) => {
                dict.extend(items.chunks_exact(2).map(|p| (p[0], p[1])));
                true
            }
            (Some(Node::Set(set)), MutationKind::AddItems) => {
                set.extend_from_slice(&items);
                true
            }
            (Some(Node::Opaque), _) => true,
            _ => false,
        };
        if literal {
            return;
        }
        if matches!(self.node(target), Node::Global(_)) {
            self.global_mutations.push((offset, kind, target));
        }
        self.events.push(Event::Mutation {
            offset,
            kind,
            target,
            items,
        });
    }

    fn stack_global(&mut self, op: &Op<'_>, module: NodeId, name: NodeId) -> Step<NodeId> {
        let literal = |m: &Self, id| matches!(m.node(id), Node::Str(_));
        let too_long = |m: &Self, id| m.text_len(id, 0).is_some_and(|n| n > MAX_NAME_LEN);
        if too_long(self, module) || too_long(self, name) {
            // No module or attribute is named by a megabyte of text; the
            // loader's import fails, and decoding it on every use would not.
            return Err(Self::semantic(
                op.offset,
                "STACK_GLOBAL name too long to import",
            ));
        }
        let module_text = self.as_text(module, 0);
        let name_text = self.as_text(name, 0);
        match (module_text, name_text) {
            (Some(m), Some(n)) => {
                let origin = if literal(self, module) && literal(self, name) {
                    ImportOrigin::Literal
                } else {
                    ImportOrigin::Computed
                };
                let (m, n) = (m.into_owned(), n.into_owned());
                self.literal_import(op, &m, &n, origin)
            }
            _ => {
                let plain = |m: &Self, id| {
                    matches!(
                        m.node(id),
                        Node::None
                            | Node::Bool(_)
                            | Node::Int(_)
                            | Node::Float(_)
                            | Node::Bytes(_)
                            | Node::Tuple(_)
                            | Node::List(_)
                            | Node::Dict(_)
                    )
                };
                if plain(self, module) || plain(self, name) {
                    return Err(Self::semantic(op.offset, "STACK_GLOBAL requires str"));
                }
                self.add_import(op, "<computed>".to_owned(), None, ImportOrigin::Unresolved)
            }
        }
    }

    fn call(
        &mut self,
        offset: usize,
        callee: NodeId,
        args: NodeId,
        kwargs: Option<NodeId>,
        kind: CallKind,
    ) -> Step<NodeId> {
        let id = self.alloc(Node::Call(Call {
            callee,
            args,
            kwargs,
            kind,
            offset,
            folded: None,
        }))?;
        if let Some(import) = self.resolve_import(callee, 0) {
            self.imports[import as usize].calls.push(id);
        }
        self.events.push(Event::Call(id));
        if kind != CallKind::Forwarded {
            self.forward(offset, callee, args)?;
        }
        if let Some(folded) = self.fold(id, callee, args)? {
            if let Some(Node::Call(c)) = self.nodes.get_mut(id as usize) {
                c.folded = Some(folded);
            }
        }
        Ok(id)
    }

    /// Helpers on the allow list that call a callable taken from their
    /// arguments: the call they make is recorded as a [`CallKind::Forwarded`]
    /// call, judged by the callable's own name. NumPy's random pickles
    /// (`numpy/random/_pickle.py`): `__generator_ctor(name, ctor)` and
    /// `__randomstate_ctor(name, ctor)` return `ctor(name)` unless `name` is
    /// already a bit generator; `__bit_generator_ctor(cls)` returns `cls()`
    /// when `cls` is a type. Real pickles pass the bit-generator constructor,
    /// a bit-generator class or a name; an import of anything else is the
    /// gadget.
    fn forward(&mut self, offset: usize, callee: NodeId, args: NodeId) -> Step<()> {
        let Some(name) = self.resolve_name(callee, 0) else {
            return Ok(());
        };
        let Some(items) = self.tuple_items(args).map(<[NodeId]>::to_vec) else {
            return Ok(());
        };
        let (target, forwarded_args) = match name.as_str() {
            "numpy.random._pickle.__generator_ctor" | "numpy.random._pickle.__randomstate_ctor" => {
                let (Some(&first), Some(&ctor)) = (items.first(), items.get(1)) else {
                    return Ok(());
                };
                (ctor, vec![first])
            }
            "numpy.random._pickle.__bit_generator_ctor" => {
                let Some(&cls) = items.first() else {
                    return Ok(());
                };
                (cls, Vec::new())
            }
            _ => return Ok(()),
        };
        // Only something the loader could call: an import, or a value
        // computed at load time. Literals make NumPy raise, not call.
        let callable = self.resolve_import(target, 0).is_some()
            || matches!(
                self.node(self.deref_folded(target)),
                Node::Call(_) | Node::Attr { .. }
            );
        if !callable {
            return Ok(());
        }
        let args = self.alloc(Node::Tuple(forwarded_args))?;
        self.call(offset, target, args, None, CallKind::Forwarded)?;
        Ok(())
    }

    /// The value a folded call is known to return, or the node itself.
    pub fn deref_folded(&self, mut id: NodeId) -> NodeId {
        for _ in 0..MAX_RESOLVE_DEPTH {
            match self.node(id) {
                Node::Call(Call {
                    folded: Some(f), ..
                }) => id = *f,
                _ => break,
            }
        }
        id
    }

    /// The import a callable resolves to, looking through folded calls.
    pub fn resolve_import(&self, id: NodeId, depth: u32) -> Option<u32> {
        if depth > MAX_RESOLVE_DEPTH {
            return None;
        }
        match self.node(id) {
            Node::Global(i) => match self.imports[*i as usize].overridden_by {
                Some(v) => self.resolve_import(v, depth + 1),
                None => Some(*i),
            },
            Node::Call(Call {
                folded: Some(f), ..
            }) => self.resolve_import(*f, depth + 1),
            // Calling `functools.partial(f, ...)` calls `f`.
            Node::Call(c) if self.is_partial(c.callee) => {
                let f = *self.tuple_items(c.args)?.first()?;
                self.resolve_import(f, depth + 1)
            }
            _ => None,
        }
    }

    fn is_partial(&self, callee: NodeId) -> bool {
        matches!(
            self.resolve_name(callee, 0).as_deref(),
            Some("functools.partial" | "functools.partialmethod")
        )
    }

    /// Dotted name of a callable or module value, where it has one.
    pub fn resolve_name(&self, id: NodeId, depth: u32) -> Option<String> {
        if depth > MAX_RESOLVE_DEPTH {
            return None;
        }
        match self.node(id) {
            Node::Global(i) => {
                let import = &self.imports[*i as usize];
                (!matches!(
                    import.origin,
                    ImportOrigin::Unresolved | ImportOrigin::Extension(_)
                ))
                .then(|| import.name.clone())
            }
            Node::Call(Call {
                folded: Some(f), ..
            }) => self.resolve_name(*f, depth + 1),
            Node::Attr { obj, attr } => self
                .resolve_name(*obj, depth + 1)
                .map(|b| format!("{b}.{attr}")),
            _ => None,
        }
    }

    /// Text value of a node: a literal string or a folded call returning one.
    pub fn as_text(&self, id: NodeId, depth: u32) -> Option<Cow<'a, str>> {
        if depth > MAX_RESOLVE_DEPTH {
            return None;
        }
        match self.node(id) {
            Node::Str(Cow::Borrowed(b)) => Some(String::from_utf8_lossy(b)),
            Node::Str(Cow::Owned(b)) => Some(Cow::Owned(String::from_utf8_lossy(b).into_owned())),
            Node::Call(Call {
                folded: Some(f), ..
            }) => self.as_text(*f, depth + 1),
            Node::Global(i) => self.imports[*i as usize]
                .overridden_by
                .and_then(|v| self.as_text(v, depth + 1)),
            _ => None,
        }
    }

    /// Byte value of a node, for payloads handed to nested loaders:
    /// literal bytes or text, folded calls, and protocol 2's
    /// `_codecs.encode(text, 'latin1')` (decoded here, lazily, since it can
    /// be large).
    pub fn literal_bytes(&self, id: NodeId, depth: u32) -> Option<Cow<'a, [u8]>> {
        if depth > MAX_RESOLVE_DEPTH {
            return None;
        }
        match self.node(id) {
            Node::Bytes(b) | Node::ByteArray(b) | Node::Str(b) => Some(b.clone()),
            Node::Call(c) => {
                if let Some(f) = c.folded {
                    return self.literal_bytes(f, depth + 1);
                }
                let name = self.resolve_name(c.callee, 0)?;
                if name == "io.BytesIO" || name == "io.StringIO" {
                    // torch.load(io.BytesIO(payload)) and the like.
                    let first = *self.tuple_items(c.args)?.first()?;
                    return self.literal_bytes(first, depth + 1);
                }
                if name != "_codecs.encode" && name != "codecs.encode" {
                    return None;
                }
                let args = self.tuple_items(c.args)?;
                let s = self.as_text(*args.first()?, depth + 1)?;
                let encoding = args.get(1).and_then(|e| self.as_text(*e, depth + 1));
                let latin1 = encoding.is_some_and(|e| is_latin1(&e));
                if !latin1 {
                    return Some(Cow::Owned(s.into_owned().into_bytes()));
                }
                text::encode_latin1(&s, MAX_NESTED_PAYLOAD).map(Cow::Owned)
            }
            _ => None,
        }
    }

    pub fn tuple_items(&self, id: NodeId) -> Option<&[NodeId]> {
        match self.node(id) {
            Node::Tuple(items) => Some(items),
            _ => None,
        }
    }

    /// Byte length of a text value, without decoding or copying it.
    fn text_len(&self, id: NodeId, depth: u32) -> Option<usize> {
        if depth > MAX_RESOLVE_DEPTH {
            return None;
        }
        match self.node(id) {
            Node::Str(b) => Some(b.len()),
            Node::Call(Call {
                folded: Some(f), ..
            }) => self.text_len(*f, depth + 1),
            Node::Global(i) => self.imports[*i as usize]
                .overridden_by
                .and_then(|v| self.text_len(v, depth + 1)),
            _ => None,
        }
    }

    fn small_text(&self, id: NodeId) -> Option<String> {
        if self.text_len(id, 0)? > MAX_FOLD_BYTES {
            return None;
        }
        Some(self.as_text(id, 0)?.into_owned())
    }

    fn small_bytes(&self, id: NodeId) -> Option<Vec<u8>> {
        if let Node::Bytes(b) | Node::ByteArray(b) | Node::Str(b) = self.node(id) {
            if b.len() > MAX_FOLD_BYTES {
                return None;
            }
        }
        let b = match self.node(id) {
            Node::Call(_) => self.literal_bytes(id, 0)?,
            Node::Bytes(b) | Node::ByteArray(b) | Node::Str(b) => b.clone(),
            _ => return None,
        };
        (b.len() <= MAX_FOLD_BYTES).then(|| b.into_owned())
    }

    fn text_node(&mut self, s: String) -> Step<Option<NodeId>> {
        Ok(Some(self.alloc(Node::Str(Cow::Owned(s.into_bytes())))?))
    }

    fn bytes_node(&mut self, b: Vec<u8>) -> Step<Option<NodeId>> {
        Ok(Some(self.alloc(Node::Bytes(Cow::Owned(b)))?))
    }

    /// Evaluates the handful of pure functions that obfuscated pickles use to
    /// build names and payloads, so the names resolve. The call itself is
    /// still recorded and judged by the policy like any other.
    fn fold(&mut self, call: NodeId, callee: NodeId, args: NodeId) -> Step<Option<NodeId>> {
        // Folded functions take at most three arguments; copying more would
        // make a REDUCE on a huge memoized tuple cost its length every time.
        let Some(items) = self.tuple_items(args).map(|a| a[..a.len().min(4)].to_vec()) else {
            return Ok(None);
        };
        let offset = match self.node(call) {
            Node::Call(c) => c.offset,
            _ => 0,
        };
        let op = Op {
            offset,
            end: offset + 1,
            opcode: Opcode::REDUCE,
            arg: Arg::None,
        };
        let callee_value = self.deref_folded(callee);
        // Methods reached through getattr on a literal: ''.join, 'x'.replace...
        if let Node::Attr { obj, attr } = self.node(callee_value).clone() {
            let mut all = vec![obj];
            all.extend_from_slice(&items);
            return self.fold_method(&attr, &all);
        }
        // attrgetter('a')(obj) and methodcaller('m', ...)(obj).
        if let Node::Call(inner) = self.node(callee).clone() {
            let inner_name = self.resolve_name(inner.callee, 0);
            let inner_args = self.tuple_items(inner.args).map(<[NodeId]>::to_vec);
            if let (Some(n), Some(inner_args), Some(&obj)) = (inner_name, inner_args, items.first())
            {
                if n == "operator.attrgetter" {
                    if let (Some(attr), Some(base)) = (
                        inner_args.first().and_then(|a| self.small_text(*a)),
                        self.resolve_name(obj, 0),
                    ) {
                        let id = self.add_import(
                            &op,
                            format!("{base}.{attr}"),
                            None,
                            ImportOrigin::Reflected,
                        )?;
                        return Ok(Some(id));
                    }
                }
            }
        }
        let Some(name) = self.resolve_name(callee, 0) else {
            return Ok(None);
        };
        let arg_text = |m: &Self, i: usize| items.get(i).and_then(|a| m.small_text(*a));
        match name.as_str() {
            "builtins.getattr" => {
                let (Some(&obj), Some(attr)) = (items.first(), arg_text(self, 1)) else {
                    return Ok(None);
                };
                if let Some(base) = self.resolve_name(obj, 0) {
                    let id = self.add_import(
                        &op,
                        format!("{base}.{attr}"),
                        None,
                        ImportOrigin::Reflected,
                    )?;
                    return Ok(Some(id));
                }
                Ok(Some(self.alloc(Node::Attr { obj, attr })?))
            }
            "pkgutil.resolve_name" => {
                let Some(target) = arg_text(self, 0) else {
                    return Ok(None);
                };
                let (module, name) = match target.split_once(':') {
                    Some((m, n)) => (m.to_owned(), n.to_owned()),
                    None => (target.clone(), String::new()),
                };
                let id = self.add_import(
                    &op,
                    canonical_name(&module, &name),
                    None,
                    ImportOrigin::Reflected,
                )?;
                Ok(Some(id))
            }
            "numpy.core._ufunc_reconstruct" | "numpy._core._ufunc_reconstruct" => {
                // `__import__(module)` then `getattr(name)`: NumPy 1.x pickles
                // ufuncs this way, so the target is judged, not the helper.
                let (Some(module), Some(attr)) = (arg_text(self, 0), arg_text(self, 1)) else {
                    return Ok(None);
                };
                let id = self.add_import(
                    &op,
                    canonical_name(&module, &attr),
                    None,
                    ImportOrigin::Reflected,
                )?;
                Ok(Some(id))
            }
            "builtins.__import__" | "importlib.import_module" | "importlib.__import__" => {
                let Some(module) = arg_text(self, 0) else {
                    return Ok(None);
                };
                let id = self.add_import(
                    &op,
                    canonical_name(&module, ""),
                    None,
                    ImportOrigin::Reflected,
                )?;
                Ok(Some(id))
            }
            "operator.add" | "operator.concat" | "operator.iadd" | "builtins.str.__add__" => {
                if let (Some(a), Some(b)) = (arg_text(self, 0), arg_text(self, 1)) {
                    return self.text_node(a + &b);
                }
                Ok(None)
            }
            "builtins.str.join"
            | "builtins.str.replace"
            | "builtins.str.lower"
            | "builtins.str.upper"
            | "builtins.str.strip"
            | "builtins.bytes.decode"
            | "builtins.str.encode" => {
                let method = name.rsplit('.').next().unwrap_or_default().to_owned();
                self.fold_method(&method, &items)
            }
            "builtins.str" => {
                if items.len() >= 2 {
                    if let Some(b) = items.first().and_then(|a| self.small_bytes(*a)) {
                        return self.text_node(String::from_utf8_lossy(&b).into_owned());
                    }
                }
                match arg_text(self, 0) {
                    Some(t) => self.text_node(t),
                    None => Ok(None),
                }
            }
            "builtins.chr" => match items.first().map(|a| self.node(*a).clone()) {
                Some(Node::Int(v)) => match u32::try_from(v).ok().and_then(char::from_u32) {
                    Some(c) => self.text_node(c.to_string()),
                    None => Ok(None),
                },
                _ => Ok(None),
            },
            "builtins.map" => {
                // map(chr, [111, 115]) feeding ''.join: fold into a list of text.
                let is_chr = items
                    .first()
                    .and_then(|f| self.resolve_name(*f, 0))
                    .as_deref()
                    == Some("builtins.chr");
                let Some(Node::List(values) | Node::Tuple(values)) =
                    items.get(1).map(|l| self.node(*l).clone())
                else {
                    return Ok(None);
                };
                if !is_chr || values.len() > MAX_FOLD_BYTES {
                    return Ok(None);
                }
                let mut out = Vec::with_capacity(values.len());
                for v in values {
                    let Node::Int(i) = self.node(v) else {
                        return Ok(None);
                    };
                    let Some(c) = u32::try_from(*i).ok().and_then(char::from_u32) else {
                        return Ok(None);
                    };
                    out.push(self.alloc(Node::Str(Cow::Owned(c.to_string().into_bytes())))?);
                }
                Ok(Some(self.alloc(Node::List(out))?))
            }
            "builtins.bytes" | "builtins.bytearray" => {
                let Some(Node::List(values) | Node::Tuple(values)) =
                    items.first().map(|l| self.node(*l).clone())
                else {
                    return match items.first().and_then(|a| self.small_bytes(*a)) {
                        Some(b) => self.bytes_node(b),
                        None => Ok(None),
                    };
                };
                let mut out = Vec::with_capacity(values.len().min(MAX_FOLD_BYTES));
                for v in values.iter().take(MAX_FOLD_BYTES + 1) {
                    match self.node(*v) {
                        Node::Int(i) if (0..=255).contains(i) => out.push(*i as u8),
                        _ => return Ok(None),
                    }
                }
                if out.len() > MAX_FOLD_BYTES {
                    return Ok(None);
                }
                self.bytes_node(out)
            }
            "builtins.bytes.fromhex" | "binascii.unhexlify" | "binascii.a2b_hex" => {
                match items.first().and_then(|a| self.small_bytes(*a)) {
                    Some(b) => match text::decode_hex(&b, MAX_FOLD_BYTES) {
                        Some(d) => self.bytes_node(d),
                        None => Ok(None),
                    },
                    None => Ok(None),
                }
            }
            "base64.b64decode"
            | "base64.standard_b64decode"
            | "base64.urlsafe_b64decode"
            | "base64.decodebytes"
            | "binascii.a2b_base64" => match items.first().and_then(|a| self.small_bytes(*a)) {
                Some(b) => match text::decode_base64(&b, MAX_FOLD_BYTES) {
                    Some(d) => self.bytes_node(d),
                    None => Ok(None),
                },
                None => Ok(None),
            },
            "codecs.decode" | "_codecs.decode" => {
                let encoding = arg_text(self, 1)
                    .unwrap_or_default()
                    .to_ascii_lowercase()
                    .replace('-', "_");
                let Some(input) = items.first().and_then(|a| self.small_bytes(*a)) else {
                    return Ok(None);
                };
                match encoding.as_str() {
                    "rot13" | "rot_13" => {
                        self.text_node(text::rot13(&String::from_utf8_lossy(&input)))
                    }
                    "base64" | "base64_codec" => {
                        match text::decode_base64(&input, MAX_FOLD_BYTES) {
                            Some(d) => self.bytes_node(d),
                            None => Ok(None),
                        }
                    }
                    "hex" | "hex_codec" => match text::decode_hex(&input, MAX_FOLD_BYTES) {
                        Some(d) => self.bytes_node(d),
                        None => Ok(None),
                    },
                    "" | "utf8" | "utf_8" | "ascii" | "latin1" | "latin_1" => {
                        self.text_node(String::from_utf8_lossy(&input).into_owned())
                    }
                    _ => Ok(None),
                }
            }
            "operator.getitem" => {
                // s[::-1]: getitem(s, slice(None, None, -1)).
                let (Some(s), Some(&slice)) = (arg_text(self, 0), items.get(1)) else {
                    return Ok(None);
                };
                let reversed = match self.node(slice) {
                    Node::Call(c) => {
                        self.resolve_name(c.callee, 0).as_deref() == Some("builtins.slice")
                            && matches!(self.tuple_items(c.args), Some([a, b, step])
                                if *a == NONE && *b == NONE && matches!(self.node(*step), Node::Int(-1)))
                    }
                    _ => false,
                };
                if reversed {
                    return self.text_node(s.chars().rev().collect());
                }
                Ok(None)
            }
            _ => Ok(None),
        }
    }

    /// `obj.method(*rest)` on literal text, for the string methods names are
    /// commonly assembled with.
    fn fold_method(&mut self, method: &str, all: &[NodeId]) -> Step<Option<NodeId>> {
        let Some(&obj) = all.first() else {
            return Ok(None);
        };
        let text_at = |m: &Self, i: usize| all.get(i).and_then(|a| m.small_text(*a));
        match method {
            "join" => {
                let Some(sep) = text_at(self, 0) else {
                    return Ok(None);
                };
                let Some(&seq) = all.get(1) else {
                    return Ok(None);
                };
                let parts = match self.node(seq).clone() {
                    Node::List(v) | Node::Tuple(v) => v,
                    Node::Call(Call {
                        folded: Some(f), ..
                    }) => match self.node(f).clone() {
                        Node::List(v) | Node::Tuple(v) => v,
                        _ => return Ok(None),
                    },
                    _ => return Ok(None),
                };
                let mut texts = Vec::with_capacity(parts.len());
                let mut total = 0;
                for p in parts {
                    let Some(t) = self.small_text(p) else {
                        return Ok(None);
                    };
                    total += t.len();
                    if total > MAX_FOLD_BYTES {
                        return Ok(None);
                    }
                    texts.push(t);
                }
                self.text_node(texts.join(&sep))
            }
            "replace" => match (text_at(self, 0), text_at(self, 1), text_at(self, 2)) {
                (Some(s), Some(a), Some(b)) if !a.is_empty() => self.text_node(s.replace(&a, &b)),
                _ => Ok(None),
            },
            "lower" => match text_at(self, 0) {
                Some(s) => self.text_node(s.to_lowercase()),
                None => Ok(None),
            },
            "upper" => match text_at(self, 0) {
                Some(s) => self.text_node(s.to_uppercase()),
                None => Ok(None),
            },
            "strip" => match text_at(self, 0) {
                Some(s) => self.text_node(s.trim().to_owned()),
                None => Ok(None),
            },
            "__add__" => match (text_at(self, 0), text_at(self, 1)) {
                (Some(a), Some(b)) => self.text_node(a + &b),
                _ => Ok(None),
            },
            "decode" => match self.small_bytes(obj) {
                Some(b) => self.text_node(String::from_utf8_lossy(&b).into_owned()),
                None => Ok(None),
            },
            "encode" => match text_at(self, 0) {
                Some(s) => self.bytes_node(s.into_bytes()),
                None => Ok(None),
            },
            _ => Ok(None),
        }
    }
}

/// Memo slots below this index live in a vector (picklers number them
/// 0, 1, 2...); others, which only hand-made pickles use, in a map.
const DENSE_MEMO_SLOTS: u64 = 1 << 22;

/// The loader's memo: slot number to value. `len` counts filled slots,
/// which is what MEMOIZE uses as the next slot (in the C and Python loaders).
#[derive(Debug, Default)]
struct Memo {
    dense: Vec<NodeId>,
    sparse: HashMap<u64, NodeId>,
    len: usize,
}

const EMPTY_SLOT: NodeId = NodeId::MAX;

impl Memo {
    fn get(&self, key: u64) -> Option<NodeId> {
        if key < DENSE_MEMO_SLOTS {
            self.dense
                .get(key as usize)
                .copied()
                .filter(|&v| v != EMPTY_SLOT)
        } else {
            self.sparse.get(&key).copied()
        }
    }

    /// Stores `value`; true when the slot was already filled.
    fn insert(&mut self, key: u64, value: NodeId) -> bool {
        let old = if key < DENSE_MEMO_SLOTS {
            let i = key as usize;
            if i >= self.dense.len() {
                self.dense.resize(i + 1, EMPTY_SLOT);
            }
            std::mem::replace(&mut self.dense[i], value)
        } else {
            self.sparse.insert(key, value).unwrap_or(EMPTY_SLOT)
        };
        if old == EMPTY_SLOT {
            self.len += 1;
            false
        } else {
            true
        }
    }

    fn len(&self) -> usize {
        self.len
    }
}

/// Nested `pickle.load` calls inside one stream followed (joblib object
/// arrays inside object arrays); each level is a new machine on the stack.
pub const MAX_INLINE_NESTING: u32 = 8;
/// Inline streams per stream (one per joblib object array).
pub const MAX_INLINE_STREAMS: usize = 10_000;

impl<'a> Machine<'a> {
    fn is_joblib_array_wrapper(&self, target: NodeId) -> bool {
        let Node::Call(c) = self.node(target) else {
            return false;
        };
        self.resolve_name(c.callee, 0).is_some_and(|n| {
            n == "joblib.numpy_pickle.NumpyArrayWrapper"
                || n == "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper"
        })
    }

    fn dict_get(&self, dict: NodeId, key: &str) -> Option<NodeId> {
        let Node::Dict(pairs) = self.node(dict) else {
            return None;
        };
        pairs
            .iter()
            .rev()
            .take(MAX_STATE_KEYS)
            .find(|(k, _)| {
                self.text_len(*k, 0).is_some_and(|n| n == key.len())
                    && self.as_text(*k, 0).as_deref() == Some(key)
            })
            .map(|(_, v)| *v)
    }

    /// joblib writes an array's raw bytes right after the BUILD of its
    /// NumpyArrayWrapper (and loads them with its own unpickler subclass);
    /// object arrays are a complete nested pickle instead. Both are stepped
    /// over here so the stream goes on where joblib's loader goes on.
    fn skip_joblib_array(&mut self, at: usize, state: NodeId) -> Step<()> {
        let bad = |what: &str| Self::semantic(at, format!("joblib array {what}"));
        let dtype = self
            .dict_get(state, "dtype")
            .ok_or_else(|| bad("without dtype"))?;
        let (itemsize, object) = self
            .dtype_itemsize(dtype)
            .ok_or_else(|| bad("of unknown dtype"))?;
        if object {
            if self.nesting >= MAX_INLINE_NESTING || self.inline.len() >= MAX_INLINE_STREAMS {
                return Err(Stop::Limit("nested joblib object arrays"));
            }
            let inner = Machine::run_nested(self.data, at, self.nesting + 1, self.reading);
            let end = inner.end;
            let complete = inner.result.is_some();
            self.inline.push(inner);
            if !complete {
                return Err(bad("object payload is not a complete pickle"));
            }
            self.resume_at = Some(end);
            return Ok(());
        }
        let shape = self
            .dict_get(state, "shape")
            .ok_or_else(|| bad("without shape"))?;
        let mut count: u64 = 1;
        for dim in self
            .tuple_items(shape)
            .ok_or_else(|| bad("with a non-tuple shape"))?
        {
            let Node::Int(d) = self.node(*dim) else {
                return Err(bad("with a non-integer dimension"));
            };
            let d = u64::try_from(*d).map_err(|_| bad("with a negative dimension"))?;
            count = count.checked_mul(d).ok_or_else(|| bad("too large"))?;
        }
        let mut pos = at;
        if self
            .dict_get(state, "numpy_array_alignment_bytes")
            .is_some()
        {
            let pad = *self.data.get(pos).ok_or_else(|| bad("truncated"))? as usize;
            pos += 1 + pad;
        }
        let len = count
            .checked_mul(itemsize)
            .ok_or_else(|| bad("too large"))?;
        let end = (pos as u64)
            .checked_add(len)
            .ok_or_else(|| bad("too large"))?;
        if end > self.data.len() as u64 {
            return Err(bad("truncated"));
        }
        self.skipped_payloads.push((pos, end as usize));
        self.resume_at = Some(end as usize);
        Ok(())
    }

    /// Item size of a `numpy.dtype('f8', ...)` value, and whether it holds
    /// Python objects.
    fn dtype_itemsize(&self, dtype: NodeId) -> Option<(u64, bool)> {
        let Node::Call(c) = self.node(dtype) else {
            return None;
        };
        let args = self.tuple_items(c.args)?;
        let spec = self.as_text(*args.first()?, 0)?;
        let spec = spec.trim_start_matches(['<', '>', '|', '=']);
        let kind = spec.chars().next()?;
        if kind == 'O' {
            return Some((8, true));
        }
        let digits: String = spec
            .chars()
            .skip(1)
            .take_while(char::is_ascii_digit)
            .collect();
        let n: u64 = digits.parse().ok()?;
        let size = match kind {
            'U' => n.checked_mul(4)?,
            _ => n,
        };
        // Structured dtypes carry their element size in the BUILD state.
        let elsize = self.build_states.get(&dtype).and_then(|&state| {
            let state = self.tuple_items(state)?;
            match self.node(*state.get(5)?) {
                Node::Int(v) if *v > 0 => Some(*v as u64),
                _ => None,
            }
        });
        Some((elsize.unwrap_or(size), false))
    }
}

fn is_latin1(encoding: &str) -> bool {
    matches!(
        encoding
            .to_ascii_lowercase()
            .replace(['-', '_'], "")
            .as_str(),
        "latin1" | "iso88591" | "l1" | "8859" | "cp819"
    )
}

/// An import seen by the linear sweep that follows a stopped machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweptImport {
    pub offset: usize,
    pub name: String,
}

/// Bound on the strings the sweep keeps for STACK_GLOBAL operands.
const SWEEP_MEMO_LIMIT: usize = 100_000;

/// After the machine stopped (a limit, or an error the loader might not
/// share), walks the remaining opcodes of the stream and lists every import
/// whose name is literal: GLOBAL/INST text, and STACK_GLOBAL on the two most
/// recent strings (memo included). Cheap and stateless enough to run on any
/// size; less precise than the machine, never silent.
///
/// Strings are borrowed from `data` where they are valid UTF-8 (every binary
/// string opcode of a normal pickle), so the sweep allocates per import, not
/// per string: a stopped multi-gigabyte checkpoint is mostly strings.
pub fn sweep_imports(data: &[u8], from: usize, max_imports: usize) -> (Vec<SweptImport>, usize) {
    let mut out = Vec::new();
    let mut recent: [Option<Cow<'_, str>>; 2] = [None, None];
    let mut memo: HashMap<u64, Cow<'_, str>> = HashMap::new();
    // Whether the last opcode other than a memo store pushed a string; that
    // string is then `recent[1]`, the one BINPUT/PUT/MEMOIZE store.
    let mut last_was_text = false;
    let mut parser = Parser::new(data, from);
    for op in parser.by_ref() {
        let Ok(op) = op else { break };
        let mut pushed_text: Option<Cow<'_, str>> = None;
        match (op.opcode, op.arg) {
            (Opcode::GLOBAL | Opcode::INST, Arg::TwoLines(m, n)) => {
                out.push(SweptImport {
                    offset: op.offset,
                    name: canonical_name(&String::from_utf8_lossy(m), &String::from_utf8_lossy(n)),
                });
            }
            (Opcode::STACK_GLOBAL, _) => {
                if let [Some(m), Some(n)] = &recent {
                    out.push(SweptImport {
                        offset: op.offset,
                        name: canonical_name(m, n),
                    });
                }
            }
            (
                Opcode::SHORT_BINUNICODE
                | Opcode::BINUNICODE
                | Opcode::BINUNICODE8
                | Opcode::SHORT_BINSTRING
                | Opcode::BINSTRING,
                Arg::Bytes(b),
            ) if b.len() <= 4096 => pushed_text = Some(String::from_utf8_lossy(b)),
            (Opcode::STRING, Arg::Line(l)) => {
                pushed_text = text::decode_quoted_string(l).map(|b| {
                    Cow::Owned(
                        String::from_utf8(b)
                            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
                    )
                })
            }
            (Opcode::UNICODE, Arg::Line(l)) => {
                pushed_text = Some(Cow::Owned(text::decode_raw_unicode_escape(l)))
            }
            (Opcode::BINPUT | Opcode::LONG_BINPUT, Arg::Int(k)) => {
                if let (true, Some(t)) = (last_was_text, &recent[1]) {
                    if memo.len() < SWEEP_MEMO_LIMIT {
                        memo.insert(k as u64, t.clone());
                    }
                }
            }
            (Opcode::MEMOIZE, _) => {
                if let (true, Some(t)) = (last_was_text, &recent[1]) {
                    if memo.len() < SWEEP_MEMO_LIMIT {
                        memo.insert(memo.len() as u64, t.clone());
                    }
                }
            }
            (Opcode::PUT, Arg::Line(l)) => {
                if let (true, Some(t), Some(k)) =
                    (last_was_text, &recent[1], parse_py_int(l, false))
                {
                    if memo.len() < SWEEP_MEMO_LIMIT {
                        memo.insert(k as u64, t.clone());
                    }
                }
            }
            (Opcode::BINGET | Opcode::LONG_BINGET, Arg::Int(k)) => {
                pushed_text = memo.get(&(k as u64)).cloned()
            }
            (Opcode::GET, Arg::Line(l)) => {
                pushed_text = parse_py_int(l, false).and_then(|k| memo.get(&(k as u64)).cloned())
            }
            (Opcode::FRAME | Opcode::PROTO, _) => {}
            _ => {}
        }
        let is_memo_op = matches!(
            op.opcode,
            Opcode::BINPUT | Opcode::LONG_BINPUT | Opcode::PUT | Opcode::MEMOIZE | Opcode::FRAME
        );
        if let Some(t) = pushed_text {
            recent[0] = recent[1].take();
            recent[1] = Some(t);
            last_was_text = true;
        } else if !is_memo_op {
            last_was_text = false;
            if op.opcode != Opcode::STACK_GLOBAL {
                recent[0] = recent[1].take();
                recent[1] = None;
            } else {
                recent = [None, None];
            }
        }
        if out.len() >= max_imports {
            break;
        }
    }
    (out, parser.position())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(p: &[u8]) -> Machine<'_> {
        Machine::run(p, 0)
    }

    fn semantic_error(m: &Machine<'_>) -> bool {
        matches!(m.error, Some(VmError::Semantic { .. }))
    }

    #[test]
    fn nothing_below_a_mark_is_visible() {
        assert!(semantic_error(&run(b"N(R.")));
        assert!(semantic_error(&run(b"N(\x85.")));
        assert!(semantic_error(&run(b"N(p0\n.")));
        // POP with a mark on top removes the mark, as the C loader does.
        let m = run(b"N(0.");
        assert!(m.result.is_some() && m.error.is_none());
        assert_eq!(m.leftover_at_stop, 0);
    }

    #[test]
    fn memoize_uses_the_number_of_filled_slots() {
        // PUT 5 fills one slot, so MEMOIZE writes slot 1, not 6.
        let m = run(b"\x80\x04\x8c\x01ap5\n\x8c\x01b\x94h\x01.");
        let result = m.result.unwrap();
        assert_eq!(m.as_text(result, 0).as_deref(), Some("b"));
        assert_eq!(m.memo_overwrites, 0);
    }

    #[test]
    fn protocol_0_scalars() {
        let m = run(b"I01\n.");
        assert!(matches!(m.node(m.result.unwrap()), Node::Bool(true)));
        let m = run(b"I0x10\n.");
        assert!(matches!(m.node(m.result.unwrap()), Node::Int(16)));
        let m = run(b"L123456789012345678901234567890L\n.");
        assert!(matches!(m.node(m.result.unwrap()), Node::BigInt(_)));
        assert!(semantic_error(&run(b"Sunquoted\n.")));
        assert!(semantic_error(&run(b"\x80\x09N.")));
    }

    #[test]
    fn concatenated_names_fold() {
        let p =
            b"\x80\x04\x8c\x08operator\x8c\x03add\x93\x8c\x01o\x8c\x01s\x86R\x8c\x06system\x93.";
        let m = run(p);
        let last = m.imports.last().unwrap();
        assert_eq!(last.name, "os.system");
        assert_eq!(last.origin, ImportOrigin::Computed);
    }

    #[test]
    fn sweep_finds_literal_imports_after_a_stop() {
        let p = b"\x80\x04\x8c\x02os\x94\x8c\x06system\x94h\x00h\x01\x93cposix\nsystem\n.";
        let (found, _) = sweep_imports(p, 0, 10);
        let names: Vec<_> = found.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["os.system", "os.system"]);
    }

    #[test]
    fn sweep_follows_text_memo_and_lossy_strings() {
        // Protocol-0 strings stored with PUT and fetched with GET; a memo
        // store after a non-string drops nothing into the memo.
        let p =
            b"S'os'\np0\nS'system'\np1\nNp2\ng0\ng1\n\x93g0\ng2\n\x93\x8c\x03o\xffs\x8c\x01x\x93.";
        let (found, _) = sweep_imports(p, 0, 10);
        let names: Vec<_> = found.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["os.system", "o\u{fffd}s.x"]);
    }
}
