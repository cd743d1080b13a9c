//! Terraform (`.tf` through hcl-edit; `.tf.json` through hcl-edit's
//! expression parser, since JSON objects are HCL object expressions) turned
//! into a small value model with line numbers, and the cloud ML rules.
//!
//! # What a file is judged with
//! Terraform evaluates a *module*: every `.tf` file of one directory. Rules
//! that depend on other resources (S3 versioning/encryption/logging as
//! separate resources since AWS provider v4, Bedrock logging) and `var.x`
//! defaults usually declared in `variables.tf` therefore look at the
//! sibling `.tf`/`.tf.json` files of the scanned file's directory: at most
//! [`MAX_SIBLINGS`] files of at most [`MAX_SIBLING_BYTES`] each, and of
//! those only the ones that can define what the file uses (see
//! `load_siblings`). Siblings are listed and read only through the
//! engine's [`ScanContext::list_siblings`] / [`ScanContext::read_sibling`],
//! which confine every read to the scanned tree; this module never opens a
//! file itself, and archive members (which have no directory) are judged
//! alone. Findings are only ever reported against resources of the
//! scanned file, so nothing is reported twice. Local `module` blocks
//! (`source = "./..."`) are followed one level: the module directory is
//! scanned on its own with its variables at their defaults, and the caller's
//! static inputs are applied to a second judgement whose *additional*
//! findings are reported at the `module` block. A local source that leaves
//! the scanned tree is not read and is itself a finding (`AISEC-GEN-007`).
//! Registry and remote modules are never fetched.

use std::collections::HashMap;
use std::sync::Arc;

use aisec_core::{Confidence, FileInput, Finding, ScanContext, Severity, SiblingError, excerpt};
use hcl_edit::Span;
use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl_edit::structure::{Body as HBody, Structure};
use hcl_edit::template::{Element, Template};

use crate::rules;

/// Sibling files read to build a module's context: a module of more files
/// than this is unusual; the limit keeps a directory of thousands of
/// generated `.tf` files from costing quadratic time.
pub const MAX_SIBLINGS: usize = 64;
/// Largest sibling file read (hand-written Terraform is far smaller).
pub const MAX_SIBLING_BYTES: u64 = 1024 * 1024;
/// `var`/`local` references followed through each other.
const MAX_EVAL_DEPTH: usize = 8;

#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    /// A string with interpolations, rendered with `${...}` kept as text.
    Tmpl(String),
    List(Vec<Val>),
    Obj(Vec<(String, Val, u32)>),
    /// A reference such as `var.x`, `local.y`, `aws_s3_bucket.b.id`.
    Ref(String),
    Call(String, Vec<Val>),
    Unknown,
}

impl Val {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) | Val::Tmpl(s) => Some(s),
            _ => None,
        }
    }
    fn truthy(&self) -> Option<bool> {
        match self {
            Val::Bool(b) => Some(*b),
            Val::Str(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Val::Str(s) if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Attr {
    pub key: String,
    pub val: Val,
    pub line: u32,
}

#[derive(Debug, Clone, Default)]
pub struct Body {
    pub attrs: Vec<Attr>,
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone)]
pub struct Block {
    pub ident: String,
    pub labels: Vec<String>,
    pub body: Body,
    pub line: u32,
}

impl Body {
    pub fn attr(&self, key: &str) -> Option<&Attr> {
        self.attrs.iter().find(|a| a.key == key)
    }

    /// Nested blocks named `name`, and (for `.tf.json`) object attributes of
    /// that name, which are how JSON spells blocks.
    pub fn blocks_named(&self, name: &str) -> Vec<Body> {
        let mut out: Vec<Body> = self
            .blocks
            .iter()
            .filter(|b| b.ident == name)
            .map(|b| b.body.clone())
            .collect();
        if let Some(a) = self.attr(name) {
            match &a.val {
                Val::Obj(o) => out.push(obj_body(o)),
                Val::List(items) => out.extend(items.iter().filter_map(|i| match i {
                    Val::Obj(o) => Some(obj_body(o)),
                    _ => None,
                })),
                _ => {}
            }
        }
        out
    }
}

fn obj_body(o: &[(String, Val, u32)]) -> Body {
    Body {
        attrs: o
            .iter()
            .map(|(k, v, l)| Attr {
                key: k.clone(),
                val: v.clone(),
                line: *l,
            })
            .collect(),
        blocks: Vec::new(),
    }
}

struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Self {
        Lines(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i)
                .collect(),
        )
    }
    fn line(&self, offset: Option<usize>) -> u32 {
        let off = offset.unwrap_or(0);
        u32::try_from(self.0.partition_point(|&nl| nl < off) + 1).unwrap_or(u32::MAX)
    }
}

/// A parse error with its line.
#[derive(Debug, Clone)]
pub struct ParseError {
    pub line: u32,
    pub message: String,
}

/// Parses HCL or, for `json`, Terraform's JSON syntax.
pub fn parse(text: &str, json: bool) -> Result<Body, ParseError> {
    let lines = Lines::new(text);
    if json {
        let expr = hcl_edit::parser::parse_expr(text.trim_end()).map_err(|e| ParseError {
            line: u32::try_from(e.location().line()).unwrap_or(0),
            message: e.message().to_owned(),
        })?;
        return match conv_expr(&expr, &lines) {
            Val::Obj(o) => Ok(json_body(&o)),
            _ => Err(ParseError {
                line: 1,
                message: "a .tf.json file must hold one JSON object".to_owned(),
            }),
        };
    }
    let body = hcl_edit::parser::parse_body(text).map_err(|e| ParseError {
        line: u32::try_from(e.location().line()).unwrap_or(0),
        message: e.message().to_owned(),
    })?;
    Ok(conv_body(&body, &lines))
}

/// `{"resource": {"type": {"name": {...}}}}` into blocks like HCL's.
fn json_body(o: &[(String, Val, u32)]) -> Body {
    let mut body = Body::default();
    for (k, v, line) in o {
        let depth = match k.as_str() {
            "resource" | "data" => 2,
            "variable" | "module" | "output" | "provider" => 1,
            "locals" => 0,
            _ => {
                body.attrs.push(Attr {
                    key: k.clone(),
                    val: v.clone(),
                    line: *line,
                });
                continue;
            }
        };
        let mut items: Vec<Val> = match v {
            Val::List(items) => items.clone(),
            other => vec![other.clone()],
        };
        for item in items.drain(..) {
            json_blocks(k, &item, depth, Vec::new(), *line, &mut body.blocks);
        }
    }
    body
}

fn json_blocks(
    ident: &str,
    v: &Val,
    depth: usize,
    labels: Vec<String>,
    line: u32,
    out: &mut Vec<Block>,
) {
    match (depth, v) {
        (0, Val::Obj(o)) => out.push(Block {
            ident: ident.to_owned(),
            labels,
            body: obj_body(o),
            line,
        }),
        (0, Val::List(items)) => {
            for i in items {
                json_blocks(ident, i, 0, labels.clone(), line, out);
            }
        }
        (d, Val::Obj(o)) if d > 0 => {
            for (k, inner, l) in o {
                let mut ls = labels.clone();
                ls.push(k.clone());
                json_blocks(ident, inner, d - 1, ls, *l, out);
            }
        }
        _ => {}
    }
}

fn conv_body(b: &HBody, lines: &Lines) -> Body {
    let mut out = Body::default();
    for s in b.iter() {
        match s {
            Structure::Attribute(a) => out.attrs.push(Attr {
                key: a.key.as_str().to_owned(),
                val: conv_expr(&a.value, lines),
                line: lines.line(a.span().map(|r| r.start)),
            }),
            Structure::Block(bl) => out.blocks.push(Block {
                ident: bl.ident.as_str().to_owned(),
                labels: bl.labels.iter().map(|l| l.as_str().to_owned()).collect(),
                body: conv_body(&bl.body, lines),
                line: lines.line(bl.span().map(|r| r.start)),
            }),
        }
    }
    out
}

fn conv_expr(e: &Expression, lines: &Lines) -> Val {
    match e {
        Expression::Null(_) => Val::Null,
        Expression::Bool(b) => Val::Bool(*b.value()),
        Expression::Number(n) => n.value().as_f64().map_or(Val::Unknown, Val::Num),
        Expression::String(s) => Val::Str(s.value().clone()),
        Expression::Array(a) => Val::List(a.iter().map(|x| conv_expr(x, lines)).collect()),
        Expression::Object(o) => Val::Obj(
            o.iter()
                .map(|(k, v)| {
                    let key = match k {
                        ObjectKey::Ident(i) => i.as_str().to_owned(),
                        ObjectKey::Expression(Expression::String(s)) => s.value().clone(),
                        ObjectKey::Expression(other) => ref_text(other).unwrap_or_default(),
                    };
                    let line = lines.line(k.span().map(|r| r.start));
                    (key, conv_expr(v.expr(), lines), line)
                })
                .collect(),
        ),
        Expression::StringTemplate(t) => template(t, lines),
        Expression::HeredocTemplate(h) => template(&h.template, lines),
        Expression::Parenthesis(p) => conv_expr(p.inner(), lines),
        Expression::Variable(_) | Expression::Traversal(_) => {
            ref_text(e).map_or(Val::Unknown, Val::Ref)
        }
        Expression::FuncCall(f) => Val::Call(
            f.name.name.as_str().to_owned(),
            f.args.iter().map(|a| conv_expr(a, lines)).collect(),
        ),
        _ => Val::Unknown,
    }
}

fn template(t: &Template, lines: &Lines) -> Val {
    let mut s = String::new();
    let mut literal = true;
    for el in t.iter() {
        match el {
            Element::Literal(l) => s.push_str(l.value()),
            Element::Interpolation(i) => {
                literal = false;
                let inner = ref_text(&i.expr).unwrap_or_else(|| "...".to_owned());
                let _ = lines;
                s.push_str("${");
                s.push_str(&inner);
                s.push('}');
            }
            Element::Directive(_) => {
                literal = false;
                s.push_str("%{...}");
            }
        }
    }
    if literal { Val::Str(s) } else { Val::Tmpl(s) }
}

/// `var.x`, `aws_s3_bucket.b.id` as dotted text; `None` for other shapes.
fn ref_text(e: &Expression) -> Option<String> {
    match e {
        Expression::Variable(v) => Some(v.as_str().to_owned()),
        Expression::Traversal(t) => {
            let mut s = ref_text(&t.expr)?;
            for op in &t.operators {
                match op.value() {
                    TraversalOperator::GetAttr(i) => {
                        s.push('.');
                        s.push_str(i.as_str());
                    }
                    TraversalOperator::LegacyIndex(n) => {
                        s.push('.');
                        s.push_str(&n.to_string());
                    }
                    TraversalOperator::Index(Expression::Number(n)) => {
                        s.push_str(&format!("[{}]", n.value()));
                    }
                    TraversalOperator::Index(Expression::String(k)) => {
                        s.push('.');
                        s.push_str(k.value());
                    }
                    _ => s.push_str("[*]"),
                }
            }
            Some(s)
        }
        _ => None,
    }
}

/// Variables, locals and resources of a module (this file plus siblings).
#[derive(Default)]
pub struct Module {
    vars: HashMap<String, Val>,
    locals: HashMap<String, Val>,
    /// `(type, name, body)` of every resource in the module.
    resources: Vec<(String, String, Body)>,
}

impl Module {
    fn add(&mut self, body: &Body) {
        for b in &body.blocks {
            match (b.ident.as_str(), b.labels.as_slice()) {
                ("variable", [name]) => {
                    if let Some(d) = b.body.attr("default") {
                        self.vars.insert(name.clone(), d.val.clone());
                    }
                }
                ("locals", []) => {
                    for a in &b.body.attrs {
                        self.locals.insert(a.key.clone(), a.val.clone());
                    }
                }
                ("resource", [ty, name]) => {
                    self.resources
                        .push((ty.clone(), name.clone(), b.body.clone()))
                }
                _ => {}
            }
        }
    }

    /// Follows `var.`/`local.` references to static values.
    pub fn eval(&self, v: &Val) -> Val {
        let mut cur = v.clone();
        for _ in 0..MAX_EVAL_DEPTH {
            let next = match &cur {
                Val::Ref(r) => {
                    if let Some(n) = r.strip_prefix("var.") {
                        self.vars.get(n).cloned()
                    } else if let Some(n) = r.strip_prefix("local.") {
                        self.locals.get(n).cloned()
                    } else {
                        None
                    }
                }
                _ => None,
            };
            match next {
                Some(n) => cur = n,
                None => break,
            }
        }
        cur
    }

    fn get(&self, body: &Body, key: &str) -> Option<(Val, u32)> {
        body.attr(key).map(|a| (self.eval(&a.val), a.line))
    }
}

/// Resource types whose rules consult other resources of the module, and the
/// companion types they look for there. A sibling file is only parsed when it
/// can hold one of these (or a variable or local the file uses).
const COMPANIONS: &[(&str, &[&str])] =
    &[("aws_s3_bucket", &[S3_VERSIONING, S3_ENCRYPTION, S3_LOGGING])];
const S3_VERSIONING: &str = "aws_s3_bucket_versioning";
const S3_ENCRYPTION: &str = "aws_s3_bucket_server_side_encryption_configuration";
const S3_LOGGING: &str = "aws_s3_bucket_logging";
const BEDROCK_LOGGING: &str = "aws_bedrock_model_invocation_logging_configuration";

fn is_bedrock(ty: &str) -> bool {
    ty.starts_with("aws_bedrock") && ty != BEDROCK_LOGGING
}

fn is_terraform_name(name: &str) -> bool {
    name.ends_with(".tf") || name.ends_with(".tf.json")
}

/// Something a file's rules look up elsewhere in its module.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Want {
    /// The default of `var.<name>`.
    Var(String),
    /// The value of `local.<name>`.
    Local(String),
    /// Resources of a companion type (versioning of a bucket...).
    Resource(&'static str),
}

/// Adds to `wants` what `body` needs from the rest of its module: the
/// variables and locals it refers to (but does not define itself), and the
/// companion resource types its resources' rules look up.
fn needs(body: &Body, own: &Body, wants: &mut Vec<Want>) {
    let mut add = |w: Want| {
        if !wants.contains(&w) {
            wants.push(w);
        }
    };
    for b in &body.blocks {
        if let ("resource", [ty, _]) = (b.ident.as_str(), b.labels.as_slice()) {
            for (owner, companions) in COMPANIONS {
                if ty == owner {
                    companions.iter().for_each(|c| add(Want::Resource(c)));
                }
            }
            if is_bedrock(ty) {
                add(Want::Resource(BEDROCK_LOGGING));
            }
        }
    }
    // A name the scanned file defines itself is looked up there (a second
    // definition in a sibling is a Terraform error).
    let defined = |w: &Want| {
        own.blocks
            .iter()
            .any(|b| match (w, b.ident.as_str(), b.labels.as_slice()) {
                (Want::Var(n), "variable", [label]) => label == n,
                (Want::Local(n), "locals", []) => b.body.attr(n).is_some(),
                _ => false,
            })
    };
    refs_in_body(body, &mut |w| {
        if !defined(&w) {
            add(w);
        }
    });
}

fn refs_in_body(body: &Body, add: &mut impl FnMut(Want)) {
    for a in &body.attrs {
        refs_in_val(&a.val, add);
    }
    for b in &body.blocks {
        refs_in_body(&b.body, add);
    }
}

fn refs_in_val(v: &Val, add: &mut impl FnMut(Want)) {
    match v {
        Val::Ref(r) | Val::Tmpl(r) => {
            // `var.x`, `local.y`, also inside `${...}` of a template.
            for prefix in ["var.", "local."] {
                let mut rest = r.as_str();
                while let Some(i) = rest.find(prefix) {
                    let after = &rest[i + prefix.len()..];
                    let end = after
                        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
                        .unwrap_or(after.len());
                    let name = after[..end].to_owned();
                    if !name.is_empty() {
                        add(if prefix == "var." {
                            Want::Var(name)
                        } else {
                            Want::Local(name)
                        });
                    }
                    rest = &after[end..];
                }
            }
        }
        Val::List(items) | Val::Call(_, items) => items.iter().for_each(|i| refs_in_val(i, add)),
        Val::Obj(o) => o.iter().for_each(|(_, v, _)| refs_in_val(v, add)),
        Val::Null | Val::Bool(_) | Val::Num(_) | Val::Str(_) | Val::Unknown => {}
    }
}

/// What a sibling may define, from its block headers, without parsing it.
/// HCL starts every block on a line of its own (`variable "acl" {`,
/// `resource "aws_s3_bucket_logging" "l" {`, `locals {`), so a file whose
/// lines start no such header cannot define what is wanted. The index errs
/// one way only: a header-like line in a heredoc or comment just costs a
/// parse. JSON files, and labels with escapes, fall back to "may define
/// anything" checks on the raw text.
struct Headers<'a> {
    text: &'a str,
    json: bool,
    /// A label that could not be read plainly: parse whatever is wanted.
    opaque: bool,
    vars: Vec<&'a str>,
    types: Vec<&'a str>,
    locals: bool,
}

impl<'a> Headers<'a> {
    fn of(name: &str, bytes: &'a [u8]) -> Headers<'a> {
        let text = std::str::from_utf8(bytes).unwrap_or("");
        let json = name.ends_with(".json");
        let mut h = Headers {
            text,
            json,
            opaque: json && text.contains("\\u"),
            vars: Vec::new(),
            types: Vec::new(),
            locals: false,
        };
        if json {
            return h;
        }
        for line in text.lines() {
            let t = line.trim_start();
            let (ident, rest) = match t.as_bytes().first() {
                Some(b'v') => ("variable", t.strip_prefix("variable")),
                Some(b'r') => ("resource", t.strip_prefix("resource")),
                Some(b'l') => ("locals", t.strip_prefix("locals")),
                _ => continue,
            };
            let Some(rest) = rest else { continue };
            // The identifier must end here (`variables_x = 1` is no header).
            if !rest.starts_with(|c: char| c.is_whitespace() || c == '"' || c == '{') {
                continue;
            }
            if ident == "locals" {
                h.locals = true;
                continue;
            }
            match first_label(rest) {
                Some(label) if ident == "variable" => h.vars.push(label),
                Some(label) => h.types.push(label),
                None => h.opaque = true,
            }
        }
        h
    }

    fn may_define(&self, want: &Want) -> bool {
        if self.opaque {
            return true;
        }
        if self.json {
            let quoted = |n: &str| {
                self.text.match_indices(n).any(|(i, _)| {
                    self.text[..i].ends_with('"') && self.text[i + n.len()..].starts_with('"')
                })
            };
            return match want {
                Want::Var(n) | Want::Local(n) => quoted(n),
                Want::Resource(t) => quoted(t),
            };
        }
        match want {
            Want::Var(n) => self.vars.iter().any(|v| v == n),
            Want::Local(n) => self.locals && self.text.contains(n.as_str()),
            Want::Resource(t) => self.types.iter().any(|v| v == t),
        }
    }
}

/// The first label after a block identifier: `"name"` or a bare identifier.
/// `None` when it is quoted with escapes (or missing), which the caller
/// treats as "could be anything".
fn first_label(rest: &str) -> Option<&str> {
    let rest = rest.trim_start();
    if let Some(quoted) = rest.strip_prefix('"') {
        let end = quoted.find('"')?;
        let label = &quoted[..end];
        return (!label.contains('\\')).then_some(label);
    }
    let end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(rest.len());
    (end > 0).then_some(&rest[..end])
}

/// A Terraform file of a module directory: its name and bytes.
type ModuleFile = (String, Arc<[u8]>);

/// The Terraform files of a directory that `file` references (`"."` for its
/// own), read through the engine's confined reader: names in order, at most
/// [`MAX_SIBLINGS`] besides `skip`, each at most [`MAX_SIBLING_BYTES`] and
/// UTF-8 (others are left out, as Terraform would reject them).
fn module_files(
    ctx: &ScanContext<'_>,
    file: &FileInput<'_>,
    dir: &str,
    skip: Option<&str>,
) -> Result<Vec<ModuleFile>, SiblingError> {
    let names = ctx.list_siblings(file, dir)?;
    let mut out = Vec::new();
    for name in names
        .iter()
        .filter(|n| is_terraform_name(n) && Some(n.as_str()) != skip)
        .take(MAX_SIBLINGS)
    {
        let reference = if dir == "." {
            name.clone()
        } else {
            format!("{}/{name}", dir.trim_end_matches('/'))
        };
        match ctx.read_sibling(file, &reference) {
            Ok(s) if s.bytes.len() as u64 <= MAX_SIBLING_BYTES => {
                if std::str::from_utf8(&s.bytes).is_ok() {
                    out.push((name.clone(), s.bytes));
                }
            }
            Ok(_) => {}
            // A listed file that escapes (a race with the listing) is not
            // read; nothing else about it matters here.
            Err(_) => {}
        }
    }
    Ok(out)
}

fn parse_sibling(name: &str, bytes: &[u8]) -> Option<Body> {
    let text = std::str::from_utf8(bytes).ok()?;
    parse(text, name.ends_with(".json")).ok()
}

/// Adds to `module` what the sibling files of `file` contribute to judging
/// `body`. Every file of the directory is judged with all its siblings, so
/// parsing them all for every file costs n² parses in an n-file module
/// (measured on 3,000 files in 60-file directories, one thread: 6.4 s
/// against 0.3 s for the same files one per directory). Only what `body`
/// needs is parsed: the variables and locals it uses and the companion
/// resources its rules look up ([`Want`]). A sibling whose block headers
/// cannot define any of them ([`Headers`]) is skipped unparsed, and each
/// sibling that is parsed adds what it refers to in turn, until nothing new
/// is wanted. A file that needs nothing reads no sibling at all. The bytes
/// come from the engine, which reads each file once per scan; nothing is
/// kept here between files or scans.
fn load_siblings(ctx: &ScanContext<'_>, file: &FileInput<'_>, body: &Body, module: &mut Module) {
    let mut wants = Vec::new();
    needs(body, body, &mut wants);
    if wants.is_empty() {
        return;
    }
    let Ok(siblings) = module_files(ctx, file, ".", Some(file.name())) else {
        return;
    };
    let headers: Vec<Headers<'_>> = siblings
        .iter()
        .map(|(name, bytes)| Headers::of(name, bytes))
        .collect();
    let mut parsed: Vec<Option<Body>> = vec![None; siblings.len()];
    let mut tried = vec![false; siblings.len()];
    let mut searched = 0;
    // Each round looks for what was added to `wants` since the last one in
    // the siblings not parsed yet; a parsed sibling is never looked at again.
    while searched < wants.len() {
        let fresh = wants[searched..].to_vec();
        searched = wants.len();
        for (i, (name, bytes)) in siblings.iter().enumerate() {
            if tried[i] || !fresh.iter().any(|w| headers[i].may_define(w)) {
                continue;
            }
            tried[i] = true;
            if let Some(b) = parse_sibling(name, bytes) {
                needs(&b, body, &mut wants);
                parsed[i] = Some(b);
            }
        }
    }
    // In name order, as Terraform reads a module (and as before), whatever
    // round found them.
    for b in parsed.iter().flatten() {
        module.add(b);
    }
}

pub fn check(file: &FileInput<'_>, text: &str, json: bool, ctx: &ScanContext<'_>) -> Vec<Finding> {
    let body = match parse(text, json) {
        Ok(b) => b,
        Err(e) => {
            let message = excerpt(&e.message);
            return vec![
                Finding::new(
                    &aisec_core::generic::MALFORMED,
                    file,
                    format!(
                        "not valid Terraform {}: {message}; the file was not checked",
                        if json { "JSON" } else { "HCL" },
                    ),
                )
                .evidence(message)
                .line(e.line.max(1), None),
            ];
        }
    };
    let mut module = Module::default();
    module.add(&body);
    load_siblings(ctx, file, &body, &mut module);
    let mut out = Vec::new();
    let mut called: HashMap<String, Option<Arc<Vec<Body>>>> = HashMap::new();
    for b in &body.blocks {
        if let ("module", [name]) = (b.ident.as_str(), b.labels.as_slice()) {
            check_module_call(file, ctx, &module, name, b, &mut called, &mut out);
        }
    }
    let mut first_bedrock: Option<u32> = None;
    for b in &body.blocks {
        match (b.ident.as_str(), b.labels.as_slice()) {
            ("resource", [ty, name]) => {
                if is_bedrock(ty) {
                    first_bedrock.get_or_insert(b.line);
                }
                check_resource(file, &module, ty, name, &b.body, b.line, &mut out);
            }
            ("data", [ty, name]) if ty == "aws_iam_policy_document" => {
                check_policy_document(file, &module, name, &b.body, &mut out);
            }
            _ => {}
        }
    }
    if let Some(line) = first_bedrock {
        let logging: Vec<&Body> = module
            .resources
            .iter()
            .filter(|(t, _, _)| t == BEDROCK_LOGGING)
            .map(|(_, _, b)| b)
            .collect();
        let delivering = logging.iter().any(|b| {
            b.blocks_named("logging_config").iter().any(|lc| {
                [
                    "text_data_delivery_enabled",
                    "image_data_delivery_enabled",
                    "embedding_data_delivery_enabled",
                    "video_data_delivery_enabled",
                ]
                .iter()
                .any(|k| {
                    module
                        .get(lc, k)
                        .is_none_or(|(v, _)| v.truthy() != Some(false))
                })
            })
        });
        if !delivering {
            let what = if logging.is_empty() {
                "no aws_bedrock_model_invocation_logging_configuration in this module"
            } else {
                "the invocation logging configuration delivers nothing (all data delivery disabled)"
            };
            out.push(
                Finding::new(
                    &rules::BEDROCK_NO_LOGGING,
                    file,
                    format!("Bedrock is used but {what}: prompts and responses leave no record"),
                )
                .confidence(Confidence::Medium)
                .evidence(BEDROCK_LOGGING)
                .line(line, None),
            );
        }
    }
    out
}

/// Arguments of a `module` block that are Terraform's, not the module's inputs.
const MODULE_META_ARGS: &[&str] = &[
    "source",
    "version",
    "count",
    "for_each",
    "providers",
    "depends_on",
];

/// A module `source` that names a directory on this machine rather than a
/// registry or remote address. Terraform calls `./` and `../` local paths;
/// an absolute path is handed to go-getter's file getter, which copies that
/// directory: still a read of the local file system.
fn is_local_source(source: &str) -> bool {
    source.starts_with("./")
        || source.starts_with("../")
        || source.starts_with('/')
        || source.starts_with('\\')
        || source.starts_with(".\\")
        || source.starts_with("..\\")
        || source
            .as_bytes()
            .get(1..3)
            .is_some_and(|d| d == b":\\" || d == b":/")
            && source.as_bytes()[0].is_ascii_alphabetic()
}

/// Follows a `module` block with a local source one level down. The module's
/// own files are scanned on their own with its variables at their defaults;
/// here the same resources are judged again with the caller's static inputs,
/// and only what those inputs *add* is reported, at the `module` block, so a
/// misconfiguration passed in from outside is found and nothing is reported
/// twice. The module directory is read through the engine, so a source that
/// leaves the scanned tree (`../../outside`, `/etc`, a link out) is never
/// read and is reported as such (`AISEC-GEN-007`) at the block. `called`
/// keeps each source's parsed files for the other blocks of this file.
fn check_module_call(
    file: &FileInput<'_>,
    ctx: &ScanContext<'_>,
    caller: &Module,
    name: &str,
    block: &Block,
    called: &mut HashMap<String, Option<Arc<Vec<Body>>>>,
    out: &mut Vec<Finding>,
) {
    let Some(source) = block.body.attr("source").and_then(|a| a.val.as_str()) else {
        return;
    };
    if !is_local_source(source) {
        return; // registry and remote modules are not fetched
    }
    let parsed = match called.get(source) {
        Some(p) => p.clone(),
        None => {
            let p = match module_files(ctx, file, source, None) {
                Ok(files) => Some(Arc::new(
                    files
                        .iter()
                        .filter_map(|(n, bytes)| parse_sibling(n, bytes))
                        .collect(),
                )),
                Err(SiblingError::OutsideRoot) => None,
                // Missing, excluded, behind a link that is not followed, an
                // archive member: nothing to judge with here (a module
                // directory inside the tree is scanned on its own).
                Err(_) => Some(Arc::new(Vec::new())),
            };
            called.insert(source.to_owned(), p.clone());
            p
        }
    };
    let Some(parsed) = parsed else {
        out.push(ScanContext::escape_finding(file, source).line(block.line, None));
        return;
    };
    if parsed.is_empty() {
        return;
    }
    let mut defaults = Module::default();
    for body in parsed.iter() {
        defaults.add(body);
    }
    let mut called = Module {
        vars: defaults.vars.clone(),
        locals: defaults.locals.clone(),
        resources: defaults.resources.clone(),
    };
    let mut passed = 0;
    for a in &block.body.attrs {
        if MODULE_META_ARGS.contains(&a.key.as_str()) {
            continue;
        }
        let v = caller.eval(&a.val);
        if matches!(
            v,
            Val::Str(_) | Val::Num(_) | Val::Bool(_) | Val::List(_) | Val::Obj(_)
        ) {
            called.vars.insert(a.key.clone(), v);
            passed += 1;
        }
    }
    if passed == 0 {
        return;
    }
    let judge = |m: &Module| {
        let mut found = Vec::new();
        for body in parsed.iter() {
            for r in &body.blocks {
                if let ("resource", [ty, rname]) = (r.ident.as_str(), r.labels.as_slice()) {
                    check_resource(file, m, ty, rname, &r.body, r.line, &mut found);
                }
            }
        }
        found
    };
    let standalone: Vec<(String, String)> = judge(&defaults)
        .into_iter()
        .map(|f| (f.rule_id, f.message))
        .collect();
    for f in judge(&called) {
        if standalone
            .iter()
            .any(|(r, m)| *r == f.rule_id && *m == f.message)
        {
            continue;
        }
        let message = format!(
            "module.{name} ({}): {} with the inputs given here",
            excerpt(source),
            f.message
        );
        let mut moved = f.line(block.line, None);
        moved.message = message;
        out.push(moved);
    }
}

fn missing(
    file: &FileInput<'_>,
    rule: &'static aisec_core::Rule,
    line: u32,
    msg: String,
    ev: impl Into<String>,
) -> Finding {
    Finding::new(rule, file, msg)
        .evidence(ev.into())
        .line(line, None)
}

fn check_resource(
    file: &FileInput<'_>,
    m: &Module,
    ty: &str,
    name: &str,
    body: &Body,
    line: u32,
    out: &mut Vec<Finding>,
) {
    let addr = format!("{ty}.{name}");
    let s = |k: &str| m.get(body, k);
    let set = |k: &str| body.attr(k).is_some() || !body.blocks_named(k).is_empty();
    match ty {
        "aws_sagemaker_notebook_instance" => {
            match s("direct_internet_access") {
                Some((v, _)) if v.as_str() == Some("Disabled") => {}
                Some((v, l)) if v.as_str() == Some("Enabled") => out.push(missing(
                    file,
                    &rules::ML_COMPUTE_PUBLIC,
                    l,
                    format!("{addr} has direct internet access enabled"),
                    "direct_internet_access = \"Enabled\"",
                )),
                Some(_) => {}
                None => out.push(missing(
                    file,
                    &rules::ML_COMPUTE_PUBLIC,
                    line,
                    format!(
                        "{addr} does not set direct_internet_access, which defaults to \"Enabled\""
                    ),
                    "direct_internet_access unset (default Enabled)",
                )),
            }
            match s("root_access") {
                Some((v, _)) if v.as_str() == Some("Disabled") => {}
                Some((v, l)) if v.as_str() == Some("Enabled") => out.push(missing(
                    file,
                    &rules::ML_NOTEBOOK_ROOT,
                    l,
                    format!("{addr} gives notebook users root"),
                    "root_access = \"Enabled\"",
                )),
                Some(_) => {}
                None => out.push(missing(
                    file,
                    &rules::ML_NOTEBOOK_ROOT,
                    line,
                    format!("{addr} does not set root_access, which defaults to \"Enabled\""),
                    "root_access unset (default Enabled)",
                )),
            }
            if !set("kms_key_id") {
                out.push(missing(
                    file,
                    &rules::ML_NO_CMK,
                    line,
                    format!("{addr} has no kms_key_id: its storage volume uses an AWS-managed key"),
                    "kms_key_id unset",
                ));
            }
            let imds = body
                .blocks_named("instance_metadata_service_configuration")
                .into_iter()
                .find_map(|b| m.get(&b, "minimum_instance_metadata_service_version"));
            let allows_v1 = |v: &Val| match v {
                Val::Str(s) => s != "2",
                Val::Num(n) => *n != 2.0,
                // A template or variable we cannot resolve is the module user's choice.
                _ => false,
            };
            match imds {
                Some((v, l)) if allows_v1(&v) => out.push(missing(
                    file,
                    &rules::NOTEBOOK_IMDS_V1,
                    l,
                    format!(
                        "{addr} allows IMDSv1 (minimum_instance_metadata_service_version is not 2)"
                    ),
                    "minimum_instance_metadata_service_version != \"2\"",
                )),
                Some(_) => {}
                None => out.push(missing(
                    file,
                    &rules::NOTEBOOK_IMDS_V1,
                    line,
                    format!("{addr} does not require IMDSv2: the default minimum version is 1"),
                    "instance_metadata_service_configuration unset",
                )),
            }
        }
        "aws_sagemaker_domain" => {
            match s("app_network_access_type") {
                Some((v, _)) if v.as_str() == Some("VpcOnly") => {}
                Some((v, l)) if v.as_str() == Some("PublicInternetOnly") => out.push(missing(file, &rules::ML_COMPUTE_PUBLIC, l, format!("{addr} gives Studio apps direct internet access (PublicInternetOnly)"), "app_network_access_type = \"PublicInternetOnly\"")),
                Some(_) => {}
                None => out.push(missing(file, &rules::ML_COMPUTE_PUBLIC, line, format!("{addr} does not set app_network_access_type, which defaults to PublicInternetOnly"), "app_network_access_type unset")),
            }
            if !set("kms_key_id") {
                out.push(missing(
                    file,
                    &rules::ML_NO_CMK,
                    line,
                    format!("{addr} has no kms_key_id for its EFS volume"),
                    "kms_key_id unset",
                ));
            }
        }
        "aws_sagemaker_endpoint_configuration" if !set("kms_key_arn") => {
            out.push(missing(file, &rules::ML_NO_CMK, line, format!("{addr} has no kms_key_arn: the endpoint's ML storage volume is not encrypted with your key"), "kms_key_arn unset"));
        }
        "aws_sagemaker_model" => {
            let iso = s("enable_network_isolation").and_then(|(v, _)| v.truthy());
            if iso != Some(true) {
                let vpc = if set("vpc_config") {
                    "; it has a vpc_config"
                } else {
                    " and has no vpc_config either"
                };
                let l = s("enable_network_isolation").map_or(line, |(_, l)| l);
                out.push(missing(
                    file,
                    &rules::SAGEMAKER_MODEL_NETWORK,
                    l,
                    format!("{addr} does not enable network isolation{vpc}"),
                    "enable_network_isolation != true",
                ));
            }
        }
        "google_workbench_instance" => {
            let gce = body.blocks_named("gce_setup");
            let g = gce.first();
            let public = g.and_then(|g| m.get(g, "disable_public_ip"));
            if public.as_ref().and_then(|(v, _)| v.truthy()) != Some(true) {
                let l = public.map_or(line, |(_, l)| l);
                out.push(missing(file, &rules::ML_COMPUTE_PUBLIC, l, format!("{addr} does not set gce_setup.disable_public_ip = true: the instance gets a public IP"), "disable_public_ip != true"));
            }
            let meta = g.and_then(|g| m.get(g, "metadata"));
            check_disable_root(file, &addr, meta, line, out);
        }
        "google_notebooks_instance" => {
            let public = s("no_public_ip");
            if public.as_ref().and_then(|(v, _)| v.truthy()) != Some(true) {
                let l = public.map_or(line, |(_, l)| l);
                out.push(missing(
                    file,
                    &rules::ML_COMPUTE_PUBLIC,
                    l,
                    format!(
                        "{addr} does not set no_public_ip = true: the instance gets a public IP"
                    ),
                    "no_public_ip != true",
                ));
            }
            check_disable_root(file, &addr, s("metadata"), line, out);
            if !set("kms_key") {
                out.push(missing(
                    file,
                    &rules::ML_NO_CMK,
                    line,
                    format!("{addr} has no kms_key: its disks use Google-managed keys"),
                    "kms_key unset",
                ));
            }
        }
        "google_vertex_ai_dataset"
        | "google_vertex_ai_endpoint"
        | "google_vertex_ai_featurestore"
        | "google_vertex_ai_metadata_store"
        | "google_vertex_ai_index"
        | "google_vertex_ai_tensorboard" => {
            let has_key = body
                .blocks_named("encryption_spec")
                .iter()
                .any(|e| e.attr("kms_key_name").is_some());
            if !has_key {
                out.push(missing(
                    file,
                    &rules::ML_NO_CMK,
                    line,
                    format!("{addr} has no encryption_spec.kms_key_name: Google-managed keys only"),
                    "encryption_spec unset",
                ));
            }
            if ty == "google_vertex_ai_endpoint"
                && !set("network")
                && !set("private_service_connect_config")
            {
                out.push(missing(file, &rules::ML_WORKSPACE_PUBLIC, line, format!("{addr} has neither a private `network` nor Private Service Connect: it is served on a public endpoint"), "network unset").severity(Severity::Medium));
            }
        }
        "azurerm_machine_learning_workspace" => {
            match s("public_network_access_enabled") {
                Some((v, _)) if v.truthy() == Some(false) => {}
                Some((v, l)) if v.truthy() == Some(true) => out.push(missing(file, &rules::ML_WORKSPACE_PUBLIC, l, format!("{addr} enables public network access"), "public_network_access_enabled = true")),
                Some(_) => {}
                None => out.push(missing(file, &rules::ML_WORKSPACE_PUBLIC, line, format!("{addr} does not set public_network_access_enabled = false (public access is the default)"), "public_network_access_enabled unset")),
            }
            if body.blocks_named("encryption").is_empty() {
                out.push(missing(
                    file,
                    &rules::ML_NO_CMK,
                    line,
                    format!(
                        "{addr} has no encryption block: workspace data uses Microsoft-managed keys"
                    ),
                    "encryption unset",
                ));
            }
        }
        "azurerm_machine_learning_compute_instance"
        | "azurerm_machine_learning_compute_cluster" => {
            match s("node_public_ip_enabled") {
                Some((v, _)) if v.truthy() == Some(false) => {}
                Some((v, l)) if v.truthy() == Some(true) => out.push(missing(file, &rules::ML_COMPUTE_PUBLIC, l, format!("{addr} gives its nodes public IPs"), "node_public_ip_enabled = true")),
                Some(_) => {}
                None => out.push(missing(file, &rules::ML_COMPUTE_PUBLIC, line, format!("{addr} does not set node_public_ip_enabled = false (public IPs are the default)"), "node_public_ip_enabled unset")),
            }
            if ty.ends_with("instance") {
                if let Some(b) = body.blocks.iter().find(|b| b.ident == "ssh") {
                    out.push(missing(
                        file,
                        &rules::ML_NOTEBOOK_ROOT,
                        b.line,
                        format!("{addr} enables SSH access to the compute instance"),
                        "ssh { ... }",
                    ));
                }
            } else if let Some((v, l)) = s("ssh_public_access_enabled")
                && v.truthy() == Some(true)
            {
                out.push(missing(
                    file,
                    &rules::ML_NOTEBOOK_ROOT,
                    l,
                    format!("{addr} enables public SSH access to its nodes"),
                    "ssh_public_access_enabled = true",
                ));
            }
        }
        "aws_s3_bucket" => check_bucket(file, m, name, body, line, out),
        "aws_s3_bucket_acl" => {
            if let Some((v, l)) = s("acl") {
                public_acl(file, &addr, &v, l, out);
            }
            for acp in body.blocks_named("access_control_policy") {
                for g in acp.blocks_named("grant") {
                    for gr in g.blocks_named("grantee") {
                        if let Some((v, l)) = m.get(&gr, "uri")
                            && v.as_str().is_some_and(|u| {
                                u.ends_with("/AllUsers") || u.ends_with("/AuthenticatedUsers")
                            })
                        {
                            out.push(missing(
                                file,
                                &rules::S3_PUBLIC,
                                l,
                                format!("{addr} grants access to {}", v.as_str().unwrap_or("")),
                                v.as_str().unwrap_or("").to_owned(),
                            ));
                        }
                    }
                }
            }
        }
        "aws_s3_bucket_public_access_block" => {
            let off: Vec<&str> = [
                "block_public_acls",
                "block_public_policy",
                "ignore_public_acls",
                "restrict_public_buckets",
            ]
            .into_iter()
            .filter(|k| s(k).and_then(|(v, _)| v.truthy()) != Some(true))
            .collect();
            if !off.is_empty() {
                let l = off
                    .iter()
                    .find_map(|k| s(k).map(|(_, l)| l))
                    .unwrap_or(line);
                out.push(missing(file, &rules::S3_PUBLIC, l, format!("{addr} leaves {} off (unset means false): the bucket can be made public", off.join(", ")), off.join(", ")).severity(Severity::Medium));
            }
        }
        "aws_s3_bucket_policy" => {
            if let Some(a) = body.attr("policy") {
                let v = m.eval(&a.val);
                for st in statements(m, &v) {
                    public_statement(file, &addr, &st, a.line, out);
                }
            }
        }
        "aws_iam_policy"
        | "aws_iam_role_policy"
        | "aws_iam_user_policy"
        | "aws_iam_group_policy" => {
            if let Some(a) = body.attr("policy") {
                let v = m.eval(&a.val);
                for st in statements(m, &v) {
                    wildcard_statement(file, &addr, &st, a.line, out);
                }
            }
        }
        "aws_iam_role_policy_attachment"
        | "aws_iam_user_policy_attachment"
        | "aws_iam_group_policy_attachment"
        | "aws_iam_policy_attachment" => {
            if let Some((v, l)) = s("policy_arn") {
                managed_policy(file, &addr, &v, l, out);
            }
        }
        "aws_iam_role" => {
            if let Some((Val::List(arns), l)) = s("managed_policy_arns") {
                for a in arns {
                    managed_policy(file, &addr, &m.eval(&a), l, out);
                }
            }
            for ip in body.blocks_named("inline_policy") {
                if let Some(a) = ip.attr("policy") {
                    for st in statements(m, &m.eval(&a.val)) {
                        wildcard_statement(file, &addr, &st, a.line, out);
                    }
                }
            }
        }
        "aws_bedrockagent_agent" if body.blocks_named("guardrail_configuration").is_empty() => {
            out.push(missing(
                file,
                &rules::BEDROCK_NO_GUARDRAIL,
                line,
                format!("{addr} has no guardrail_configuration"),
                "guardrail_configuration unset",
            ));
        }
        _ => {}
    }
}

fn check_disable_root(
    file: &FileInput<'_>,
    addr: &str,
    meta: Option<(Val, u32)>,
    line: u32,
    out: &mut Vec<Finding>,
) {
    let disabled = match &meta {
        Some((Val::Obj(o), _)) => o
            .iter()
            .any(|(k, v, _)| k == "notebook-disable-root" && v.truthy() == Some(true)),
        _ => false,
    };
    if !disabled {
        let l = meta.map_or(line, |(_, l)| l);
        out.push(missing(file, &rules::ML_NOTEBOOK_ROOT, l, format!("{addr} does not set metadata notebook-disable-root = \"true\": notebook users can become root"), "notebook-disable-root unset"));
    }
}

fn public_acl(file: &FileInput<'_>, addr: &str, v: &Val, l: u32, out: &mut Vec<Finding>) {
    let Some(acl) = v.as_str() else { return };
    let sev = match acl {
        "public-read-write" => Severity::Critical,
        "public-read" | "authenticated-read" => Severity::High,
        _ => return,
    };
    out.push(
        missing(
            file,
            &rules::S3_PUBLIC,
            l,
            format!("{addr} has the canned ACL `{acl}`"),
            format!("acl = \"{acl}\""),
        )
        .severity(sev),
    );
}

fn managed_policy(file: &FileInput<'_>, addr: &str, v: &Val, l: u32, out: &mut Vec<Finding>) {
    let Some(arn) = v.as_str() else { return };
    let name = arn.rsplit('/').next().unwrap_or("");
    let sev = match name {
        "AdministratorAccess" => Severity::High,
        "AmazonSageMakerFullAccess" | "AmazonS3FullAccess" | "AmazonBedrockFullAccess" => {
            Severity::Medium
        }
        _ => return,
    };
    if !arn.contains(":iam::aws:policy/") {
        return;
    }
    out.push(
        missing(
            file,
            &rules::IAM_WILDCARD,
            l,
            format!("{addr} attaches the AWS managed policy {name}"),
            arn.to_owned(),
        )
        .severity(sev),
    );
}

fn check_bucket(
    file: &FileInput<'_>,
    m: &Module,
    name: &str,
    body: &Body,
    line: u32,
    out: &mut Vec<Finding>,
) {
    let addr = format!("aws_s3_bucket.{name}");
    if let Some((v, l)) = m.get(body, "acl") {
        public_acl(file, &addr, &v, l, out);
    }
    if let Some(a) = body.attr("policy") {
        for st in statements(m, &m.eval(&a.val)) {
            public_statement(file, &addr, &st, a.line, out);
        }
    }
    let bucket_name = m
        .get(body, "bucket")
        .and_then(|(v, _)| v.as_str().map(str::to_owned));
    let companion = |ty: &str| -> Vec<&Body> {
        m.resources
            .iter()
            .filter(|(t, _, _)| t == ty)
            .filter(|(_, _, b)| {
                b.attr("bucket").is_some_and(|a| match &a.val {
                    Val::Ref(r) | Val::Tmpl(r) => r.contains(&format!("aws_s3_bucket.{name}.")),
                    other => m
                        .eval(other)
                        .as_str()
                        .is_some_and(|s| Some(s) == bucket_name.as_deref()),
                })
            })
            .map(|(_, _, b)| b)
            .collect()
    };
    // Versioning: inline (v3) or aws_s3_bucket_versioning (v4+).
    let inline_v = body
        .blocks_named("versioning")
        .iter()
        .any(|v| m.get(v, "enabled").and_then(|(x, _)| x.truthy()) == Some(true));
    let split_v = companion(S3_VERSIONING).iter().any(|b| {
        b.blocks_named("versioning_configuration").iter().any(|vc| {
            m.get(vc, "status")
                .and_then(|(x, _)| x.as_str().map(|s| s == "Enabled"))
                == Some(true)
        })
    });
    if !inline_v && !split_v {
        out.push(missing(file, &rules::S3_UNVERSIONED, line, format!("{addr} has no enabled versioning in this module (neither a versioning block nor an aws_s3_bucket_versioning)"), "versioning not enabled"));
    }
    let enc = !body
        .blocks_named("server_side_encryption_configuration")
        .is_empty()
        || !companion(S3_ENCRYPTION).is_empty();
    if !enc {
        out.push(missing(file, &rules::S3_UNENCRYPTED, line, format!("{addr} has no server-side encryption configuration in this module (SSE-S3 default only, no customer key)"), "no encryption configuration"));
    }
    let is_log_bucket = name.contains("log")
        || bucket_name.as_deref().is_some_and(|b| b.contains("log"))
        || m.get(body, "acl")
            .is_some_and(|(v, _)| v.as_str() == Some("log-delivery-write"));
    let logged = !body.blocks_named("logging").is_empty() || !companion(S3_LOGGING).is_empty();
    if !logged && !is_log_bucket {
        out.push(missing(file, &rules::S3_NO_LOGGING, line, format!("{addr} has no access logging in this module (neither a logging block nor an aws_s3_bucket_logging)"), "no access logging"));
    }
}

/// A policy statement, normalised from JSON, `jsonencode` or a policy document block.
#[derive(Debug, Default)]
struct Statement {
    allow: bool,
    actions: Vec<String>,
    resources: Vec<String>,
    public_principal: bool,
    conditioned: bool,
    line: Option<u32>,
}

fn to_json(v: &Val) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Val::Null | Val::Unknown | Val::Ref(_) | Val::Call(..) => J::Null,
        Val::Bool(b) => J::Bool(*b),
        Val::Num(n) => serde_json::Number::from_f64(*n).map_or(J::Null, J::Number),
        Val::Str(s) | Val::Tmpl(s) => J::String(s.clone()),
        Val::List(items) => J::Array(items.iter().map(to_json).collect()),
        Val::Obj(o) => J::Object(o.iter().map(|(k, v, _)| (k.clone(), to_json(v))).collect()),
    }
}

fn strings(v: Option<&serde_json::Value>) -> Vec<String> {
    match v {
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

fn statements(m: &Module, v: &Val) -> Vec<Statement> {
    let json = match v {
        Val::Str(s) | Val::Tmpl(s) => serde_json::from_str::<serde_json::Value>(s).ok(),
        Val::Call(f, args) if f == "jsonencode" => {
            args.first().map(|a| to_json(&resolve_deep(m, a, 0)))
        }
        _ => None,
    };
    let Some(json) = json else { return Vec::new() };
    let sts = match json.get("Statement") {
        Some(serde_json::Value::Array(a)) => a.clone(),
        Some(o @ serde_json::Value::Object(_)) => vec![o.clone()],
        _ => return Vec::new(),
    };
    sts.iter()
        .map(|st| {
            let principal = st.get("Principal");
            let public_principal = match principal {
                Some(serde_json::Value::String(s)) => s == "*",
                Some(serde_json::Value::Object(o)) => o
                    .values()
                    .any(|v| strings(Some(v)).iter().any(|s| s == "*")),
                _ => false,
            };
            Statement {
                allow: st.get("Effect").and_then(|e| e.as_str()) == Some("Allow"),
                actions: strings(st.get("Action")),
                resources: strings(st.get("Resource")),
                public_principal,
                conditioned: st.get("Condition").is_some(),
                line: None,
            }
        })
        .collect()
}

/// Resolves var/local references inside a `jsonencode` argument.
fn resolve_deep(m: &Module, v: &Val, depth: usize) -> Val {
    if depth > 32 {
        return Val::Unknown;
    }
    match m.eval(v) {
        Val::List(items) => Val::List(
            items
                .iter()
                .map(|i| resolve_deep(m, i, depth + 1))
                .collect(),
        ),
        Val::Obj(o) => Val::Obj(
            o.iter()
                .map(|(k, v, l)| (k.clone(), resolve_deep(m, v, depth + 1), *l))
                .collect(),
        ),
        other => other,
    }
}

fn public_statement(
    file: &FileInput<'_>,
    addr: &str,
    st: &Statement,
    line: u32,
    out: &mut Vec<Finding>,
) {
    if st.allow && st.public_principal && !st.conditioned {
        let write = st.actions.iter().any(|a| {
            let a = a.to_ascii_lowercase();
            a == "*" || a == "s3:*" || a.starts_with("s3:put") || a.starts_with("s3:delete")
        });
        let sev = if write {
            Severity::Critical
        } else {
            Severity::High
        };
        out.push(
            missing(
                file,
                &rules::S3_PUBLIC,
                st.line.unwrap_or(line),
                format!(
                    "{addr} allows Principal \"*\" ({}) without a condition",
                    st.actions.join(", ")
                ),
                "Principal: \"*\"",
            )
            .severity(sev),
        );
    }
}

fn wildcard_statement(
    file: &FileInput<'_>,
    addr: &str,
    st: &Statement,
    line: u32,
    out: &mut Vec<Finding>,
) {
    if !st.allow {
        return;
    }
    const SERVICES: &[&str] = &["sagemaker:*", "s3:*", "bedrock:*", "iam:*", "kms:*"];
    let mut worst: Option<(Severity, String)> = None;
    for a in &st.actions {
        let lower = a.to_ascii_lowercase();
        let sev = if lower == "*" || lower == "*:*" {
            Severity::High
        } else if SERVICES.contains(&lower.as_str()) {
            Severity::Medium
        } else {
            continue;
        };
        if worst.as_ref().is_none_or(|(s, _)| sev > *s) {
            worst = Some((sev, a.clone()));
        }
    }
    if let Some((sev, action)) = worst {
        out.push(
            missing(
                file,
                &rules::IAM_WILDCARD,
                st.line.unwrap_or(line),
                format!("{addr} allows the action `{action}`"),
                format!("Action: {action}"),
            )
            .severity(sev),
        );
        return;
    }
    // Not a wildcard action, but writes to every bucket or model in the
    // account: one poisoned job can overwrite any dataset or model artifact.
    if !st.resources.iter().any(|r| r == "*") {
        return;
    }
    let write = st.actions.iter().find(|a| {
        let lower = a.to_ascii_lowercase();
        DATA_PLANE_WRITES
            .iter()
            .any(|w| lower == *w || (w.ends_with('*') && lower.starts_with(&w[..w.len() - 1])))
    });
    if let Some(action) = write {
        out.push(
            missing(
                file,
                &rules::IAM_WILDCARD,
                st.line.unwrap_or(line),
                format!("{addr} allows `{action}` on every resource (`Resource: \"*\"`)"),
                format!("Action: {action}; Resource: *"),
            )
            .severity(Severity::Low),
        );
    }
}

/// Actions that change training data or model artifacts, or deploy models,
/// as IAM spells them (lower case; a trailing `*` is a prefix).
const DATA_PLANE_WRITES: &[&str] = &[
    "s3:putobject",
    "s3:deleteobject",
    "s3:deleteobjectversion",
    "s3:put*",
    "s3:delete*",
    "sagemaker:createmodel",
    "sagemaker:createendpoint",
    "sagemaker:createendpointconfig",
    "sagemaker:updateendpoint",
    "sagemaker:createtrainingjob",
    "sagemaker:create*",
    "sagemaker:update*",
    "bedrock:createmodelcustomizationjob",
    "bedrock:create*",
];

fn check_policy_document(
    file: &FileInput<'_>,
    m: &Module,
    name: &str,
    body: &Body,
    out: &mut Vec<Finding>,
) {
    let addr = format!("data.aws_iam_policy_document.{name}");
    let real: Vec<(Body, u32)> = body
        .blocks
        .iter()
        .filter(|b| b.ident == "statement")
        .map(|b| (b.body.clone(), b.line))
        .collect();
    let all = if real.is_empty() {
        body.blocks_named("statement")
            .into_iter()
            .map(|b| {
                let l = b.attrs.first().map_or(1, |a| a.line);
                (b, l)
            })
            .collect()
    } else {
        real
    };
    for (st_body, st_line) in all {
        let effect = m
            .get(&st_body, "effect")
            .and_then(|(v, _)| v.as_str().map(str::to_owned));
        let actions: Vec<String> = match m.get(&st_body, "actions") {
            Some((Val::List(items), _)) => items
                .iter()
                .filter_map(|i| m.eval(i).as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        let resources: Vec<String> = match m.get(&st_body, "resources") {
            Some((Val::List(items), _)) => items
                .iter()
                .filter_map(|i| m.eval(i).as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        let line = st_body.attr("actions").map_or(st_line, |a| a.line);
        let st = Statement {
            allow: effect.as_deref().is_none_or(|e| e == "Allow"),
            actions,
            resources,
            public_principal: false,
            conditioned: false,
            line: Some(line),
        };
        wildcard_statement(file, &addr, &st, line, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aisec_core::{Limits, Scanner, Sibling, SiblingMeta, SiblingSource};
    use std::collections::BTreeMap;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// An in-memory tree behind the `SiblingSource` interface, confined the
    /// way the engine's is (lexically: `..` above the root and absolute
    /// paths are `OutsideRoot`), counting reads.
    #[derive(Default)]
    struct MemTree {
        files: Mutex<BTreeMap<String, String>>,
        reads: AtomicUsize,
    }

    impl MemTree {
        fn put(&self, path: &str, text: &str) {
            self.files
                .lock()
                .unwrap()
                .insert(path.to_owned(), text.to_owned());
        }
        fn resolve(from: &str, reference: &str) -> Result<String, SiblingError> {
            if reference.starts_with('/') {
                return Err(SiblingError::OutsideRoot);
            }
            let mut parts: Vec<&str> = from.split('/').collect();
            parts.pop();
            for c in reference.split('/') {
                match c {
                    "" | "." => {}
                    ".." => {
                        parts.pop().ok_or(SiblingError::OutsideRoot)?;
                    }
                    c => parts.push(c),
                }
            }
            Ok(parts.join("/"))
        }
    }

    impl SiblingSource for MemTree {
        fn read(&self, from: &str, reference: &str) -> Result<Sibling, SiblingError> {
            let path = Self::resolve(from, reference)?;
            self.reads.fetch_add(1, Ordering::Relaxed);
            let files = self.files.lock().unwrap();
            let text = files.get(&path).ok_or(SiblingError::Missing)?;
            Ok(Sibling {
                display: path,
                bytes: text.as_bytes().into(),
            })
        }
        fn stat(&self, _: &str, _: &str) -> Result<SiblingMeta, SiblingError> {
            Err(SiblingError::Missing)
        }
        fn list(&self, from: &str, reference: &str) -> Result<Vec<String>, SiblingError> {
            let dir = Self::resolve(from, reference)?;
            let prefix = if dir.is_empty() {
                String::new()
            } else {
                format!("{dir}/")
            };
            let files = self.files.lock().unwrap();
            let names: Vec<String> = files
                .keys()
                .filter_map(|k| k.strip_prefix(&prefix))
                .filter(|rest| !rest.contains('/'))
                .map(str::to_owned)
                .collect();
            if names.is_empty() {
                return Err(SiblingError::Missing);
            }
            Ok(names)
        }
    }

    fn check_in(tree: &MemTree, path: &str) -> Vec<Finding> {
        let text = tree.files.lock().unwrap()[path].clone();
        let limits = Limits::default();
        let scanners: Vec<Box<dyn Scanner>> = Vec::new();
        let ctx = ScanContext::with_siblings(&limits, &scanners, tree);
        let file = FileInput::on_disk(path, std::path::Path::new(path), text.as_bytes());
        check(&file, &text, path.ends_with(".json"), &ctx)
    }

    fn has(findings: &[Finding], rule: &aisec_core::Rule) -> bool {
        findings.iter().any(|f| f.rule_id == rule.id)
    }

    const BUCKET: &str = "resource \"aws_s3_bucket\" \"data\" {\n  bucket = \"training-data\"\n}\n";
    const VERSIONING: &str = "resource \"aws_s3_bucket_versioning\" \"v\" {\n  bucket = aws_s3_bucket.data.id\n  versioning_configuration {\n    status = var.status\n  }\n}\n";

    #[test]
    fn siblings_come_through_the_context_and_edits_are_seen() {
        let tree = MemTree::default();
        tree.put("m/main.tf", BUCKET);
        tree.put("m/versioning.tf", "# nothing yet\n");
        assert!(has(&check_in(&tree, "m/main.tf"), &rules::S3_UNVERSIONED));
        // The companion's status comes from a variable whose default comes
        // from a local in a third file: followed through both.
        tree.put("m/versioning.tf", VERSIONING);
        tree.put(
            "m/variables.tf",
            "variable \"status\" {\n  default = local.on\n}\n",
        );
        tree.put("m/z_locals.tf", "locals {\n  on = \"Enabled\"\n}\n");
        assert!(!has(&check_in(&tree, "m/main.tf"), &rules::S3_UNVERSIONED));
        tree.put("m/z_locals.tf", "locals {\n  on = \"Suspended\"\n}\n");
        assert!(has(&check_in(&tree, "m/main.tf"), &rules::S3_UNVERSIONED));
        // Without a tree (an archive member, a test input) the file is
        // judged alone.
        let limits = Limits::default();
        let ctx = ScanContext::new(&limits, &[]);
        let file = FileInput::on_disk(
            "m/main.tf",
            std::path::Path::new("m/main.tf"),
            BUCKET.as_bytes(),
        );
        assert!(has(
            &check(&file, BUCKET, false, &ctx),
            &rules::S3_UNVERSIONED
        ));
    }

    #[test]
    fn a_file_that_needs_nothing_reads_no_sibling() {
        let tree = MemTree::default();
        tree.put(
            "m/main.tf",
            "resource \"aws_sagemaker_notebook_instance\" \"n\" {\n  root_access = \"Disabled\"\n  direct_internet_access = \"Disabled\"\n}\n",
        );
        for i in 0..10 {
            tree.put(&format!("m/f{i}.tf"), BUCKET);
        }
        let _ = check_in(&tree, "m/main.tf");
        assert_eq!(tree.reads.load(Ordering::Relaxed), 0);
        let _ = check_in(&tree, "m/f0.tf");
        assert_eq!(tree.reads.load(Ordering::Relaxed), 10, "main.tf and f1..f9");
    }

    #[test]
    fn module_sources_that_leave_the_tree_are_findings_and_not_read() {
        let tree = MemTree::default();
        tree.put(
            "repo/main.tf",
            "module \"a\" {\n  source = \"../../outside\"\n  root_access = \"Enabled\"\n}\n\nmodule \"b\" {\n  source = \"/etc\"\n}\n\nmodule \"c\" {\n  source = \"./modules/ok\"\n}\n\nmodule \"d\" {\n  source = \"acme/notebook/aws\"\n}\n",
        );
        tree.put("repo/modules/ok/main.tf", "variable \"x\" {}\n");
        let found = check_in(&tree, "repo/main.tf");
        let escapes: Vec<(u32, &str)> = found
            .iter()
            .filter(|f| f.rule_id == aisec_core::generic::REFERENCE_ESCAPES.id)
            .map(|f| (f.location.line.unwrap(), f.evidence.as_deref().unwrap()))
            .collect();
        assert_eq!(escapes, vec![(1, "../../outside"), (6, "/etc")]);
        assert_eq!(found.len(), 2, "{found:?}");
    }

    #[test]
    fn parse_errors_are_quoted_as_excerpts() {
        let limits = Limits::default();
        let ctx = ScanContext::new(&limits, &[]);
        let text = "resource \"x\" \"y\" {\n  a = ghp_1234567890abcdefghijABCDEFGHIJ0123 ghp_1234567890abcdefghijABCDEFGHIJ0123\n";
        let file = FileInput::on_disk("bad.tf", std::path::Path::new("bad.tf"), text.as_bytes());
        let found = check(&file, text, false, &ctx);
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.rule_id, aisec_core::generic::MALFORMED.id);
        assert!(!f.message.contains("1234567890abcdef"), "{}", f.message);
        assert!(f.evidence.as_deref().unwrap().chars().count() <= aisec_core::EXCERPT_CHARS + 1);
    }

    #[test]
    fn parses_hcl_and_json_with_lines() {
        let hcl = "variable \"acc\" {\n  default = \"Enabled\"\n}\nresource \"aws_sagemaker_notebook_instance\" \"n\" {\n  root_access = var.acc\n}\n";
        let b = parse(hcl, false).unwrap();
        let mut m = Module::default();
        m.add(&b);
        let r = &b.blocks[1];
        assert_eq!(r.line, 4);
        let (v, l) = m.get(&r.body, "root_access").unwrap();
        assert_eq!(v, Val::Str("Enabled".into()));
        assert_eq!(l, 5);
        let json = "{\n \"resource\": {\n  \"aws_s3_bucket\": {\n   \"b\": {\n    \"acl\": \"public-read\"\n   }\n  }\n }\n}\n";
        let b = parse(json, true).unwrap();
        assert_eq!(b.blocks[0].labels, ["aws_s3_bucket", "b"]);
        assert_eq!(b.blocks[0].body.attr("acl").unwrap().line, 5);
        assert!(parse("resource \"x\" {", false).is_err());
    }
}
