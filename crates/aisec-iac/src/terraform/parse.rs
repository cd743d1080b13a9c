//! HCL (through hcl-edit) and Terraform's JSON syntax (through hcl-edit's
//! expression parser, since JSON objects are HCL object expressions) turned
//! into the value model of [`super::value`], with line numbers.

use hcl_edit::Span;
use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl_edit::structure::{Body as HBody, Structure};
use hcl_edit::template::{Element, Template};

use super::value::{Attr, Block, Body, Val, obj_body};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terraform::Module;

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
