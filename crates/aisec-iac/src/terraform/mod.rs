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
//!
//! # Layout
//! - `value`: the value model ([`Body`], [`Val`]) and a [`Module`]'s
//!   variables, locals and resources; `parse`: HCL and JSON into it.
//! - `siblings`: which sibling files a file needs, read through the engine;
//!   `module_calls`: local `module` blocks followed one level.
//! - One file per platform, each judging the resource types of its prefix
//!   (see `PLATFORMS`): `sagemaker`, `vertex`, `azure_ml`, `s3`, `iam`,
//!   `bedrock`; `policy` normalises IAM policy statements for `s3` and `iam`.
//!   An attribute whose explicit value and whose default are both unsafe is
//!   a row of an `UnsafeDefault` table, not code.

mod azure_ml;
mod bedrock;
mod iam;
mod module_calls;
mod parse;
mod policy;
mod s3;
mod sagemaker;
mod siblings;
#[cfg(test)]
mod test_tree;
mod value;
mod vertex;

use std::collections::HashMap;
use std::sync::Arc;

use aisec_core::{FileInput, Finding, Rule, ScanContext, excerpt};

pub use parse::{ParseError, parse};
pub use siblings::{MAX_SIBLING_BYTES, MAX_SIBLINGS};
pub use value::{Attr, Block, Body, Module, Val};

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
    siblings::load_siblings(ctx, file, &body, &mut module);
    let mut out = Vec::new();
    let mut called: HashMap<String, Option<Arc<Vec<Body>>>> = HashMap::new();
    for b in &body.blocks {
        if let ("module", [name]) = (b.ident.as_str(), b.labels.as_slice()) {
            module_calls::check_module_call(file, ctx, &module, name, b, &mut called, &mut out);
        }
    }
    let mut first_bedrock: Option<u32> = None;
    for b in &body.blocks {
        match (b.ident.as_str(), b.labels.as_slice()) {
            ("resource", [ty, name]) => {
                if bedrock::is_bedrock(ty) {
                    first_bedrock.get_or_insert(b.line);
                }
                check_resource(file, &module, ty, name, &b.body, b.line, &mut out);
            }
            ("data", [ty, name]) if ty == "aws_iam_policy_document" => {
                iam::check_policy_document(file, &module, name, &b.body, &mut out);
            }
            _ => {}
        }
    }
    if let Some(line) = first_bedrock {
        bedrock::check_logging(file, &module, line, &mut out);
    }
    out
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

/// One resource being judged: the file it is in, the module it is judged
/// with, and its address (`type.name`) for messages.
struct Resource<'a> {
    file: &'a FileInput<'a>,
    module: &'a Module,
    ty: &'a str,
    name: &'a str,
    body: &'a Body,
    line: u32,
    addr: String,
}

impl Resource<'_> {
    /// An attribute's value, resolved through the module, and its line.
    fn get(&self, key: &str) -> Option<(Val, u32)> {
        self.module.get(self.body, key)
    }

    /// Whether `key` is given at all, as an attribute or a block.
    fn set(&self, key: &str) -> bool {
        self.body.attr(key).is_some() || !self.body.blocks_named(key).is_empty()
    }
}

/// A platform's rules for the resource types it owns.
type PlatformCheck = fn(&Resource<'_>, &mut Vec<Finding>);

/// Which file judges a resource type, by the type's prefix. The prefixes do
/// not overlap; a type none of them owns has no rules.
const PLATFORMS: &[(&str, PlatformCheck)] = &[
    ("aws_sagemaker_", sagemaker::check),
    ("google_", vertex::check),
    ("azurerm_machine_learning_", azure_ml::check),
    ("aws_s3_", s3::check),
    ("aws_iam_", iam::check),
    ("aws_bedrock", bedrock::check),
];

fn check_resource(
    file: &FileInput<'_>,
    m: &Module,
    ty: &str,
    name: &str,
    body: &Body,
    line: u32,
    out: &mut Vec<Finding>,
) {
    let Some((_, platform)) = PLATFORMS.iter().find(|(p, _)| ty.starts_with(p)) else {
        return;
    };
    let r = Resource {
        file,
        module: m,
        ty,
        name,
        body,
        line,
        addr: format!("{ty}.{name}"),
    };
    platform(&r, out);
}

/// A value of an attribute, as the table rows below compare it.
#[derive(Debug, Clone, Copy)]
enum Is {
    /// The string (`"Enabled"`).
    Str(&'static str),
    /// The boolean, also spelt as the string `"true"`/`"false"`.
    Bool(bool),
}

impl Is {
    fn matches(self, v: &Val) -> bool {
        match self {
            Is::Str(s) => v.as_str() == Some(s),
            Is::Bool(b) => v.truthy() == Some(b),
        }
    }
}

/// An attribute that is unsafe both when set to one explicit value and when
/// left unset (its provider default is that value): the explicit value is
/// reported at the attribute's line, the unset attribute at the resource's.
/// The safe value, and any other (one that cannot be resolved statically is
/// the module user's choice), is not reported.
struct UnsafeDefault {
    key: &'static str,
    rule: &'static Rule,
    /// The value the remediation asks for.
    safe: Is,
    /// The explicit value that is unsafe, which is also the default.
    unsafe_value: Is,
    /// The message after the resource's address when it is set so, and the
    /// evidence.
    explicit: (&'static str, &'static str),
    /// The same when it is unset.
    unset: (&'static str, &'static str),
}

/// Judges `r` by each row of `table`, in order.
fn unsafe_defaults(r: &Resource<'_>, table: &[UnsafeDefault], out: &mut Vec<Finding>) {
    for row in table {
        let (line, (msg, ev)) = match r.get(row.key) {
            Some((v, _)) if row.safe.matches(&v) => continue,
            Some((v, l)) if row.unsafe_value.matches(&v) => (l, row.explicit),
            Some(_) => continue,
            None => (r.line, row.unset),
        };
        out.push(missing(
            r.file,
            row.rule,
            line,
            format!("{} {msg}", r.addr),
            ev,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aisec_core::Limits;

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
}
