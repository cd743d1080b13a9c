//! The value model: a Terraform file as blocks, attributes and values with
//! line numbers ([`Body`], [`Val`]), and a [`Module`]'s variables, locals
//! and resources, through which `var.`/`local.` references resolve to
//! static values.

use std::collections::HashMap;

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
    pub(super) fn truthy(&self) -> Option<bool> {
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

pub(super) fn obj_body(o: &[(String, Val, u32)]) -> Body {
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

/// Variables, locals and resources of a module (this file plus siblings).
#[derive(Default)]
pub struct Module {
    pub(super) vars: HashMap<String, Val>,
    pub(super) locals: HashMap<String, Val>,
    /// `(type, name, body)` of every resource in the module.
    pub(super) resources: Vec<(String, String, Body)>,
}

impl Module {
    pub(super) fn add(&mut self, body: &Body) {
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

    pub(super) fn get(&self, body: &Body, key: &str) -> Option<(Val, u32)> {
        body.attr(key).map(|a| (self.eval(&a.val), a.line))
    }
}
