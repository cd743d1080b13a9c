//! What a file is judged with beyond itself: the sibling `.tf`/`.tf.json`
//! files of its module directory, read through the engine's confined
//! [`ScanContext`] sibling API, and parsed only when their block headers can
//! define what the file needs.

use std::sync::Arc;

use aisec_core::{FileInput, ScanContext, SiblingError};

use super::bedrock::{self, BEDROCK_LOGGING};
use super::parse::parse;
use super::s3::{S3_ENCRYPTION, S3_LOGGING, S3_VERSIONING};
use super::value::{Body, Module, Val};

/// Sibling files read to build a module's context: a module of more files
/// than this is unusual; the limit keeps a directory of thousands of
/// generated `.tf` files from costing quadratic time.
pub const MAX_SIBLINGS: usize = 64;
/// Largest sibling file read (hand-written Terraform is far smaller).
pub const MAX_SIBLING_BYTES: u64 = 1024 * 1024;

/// Resource types whose rules consult other resources of the module, and the
/// companion types they look for there. A sibling file is only parsed when it
/// can hold one of these (or a variable or local the file uses).
const COMPANIONS: &[(&str, &[&str])] =
    &[("aws_s3_bucket", &[S3_VERSIONING, S3_ENCRYPTION, S3_LOGGING])];

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
            if bedrock::is_bedrock(ty) {
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
pub(super) type ModuleFile = (String, Arc<[u8]>);

/// The Terraform files of a directory that `file` references (`"."` for its
/// own), read through the engine's confined reader: names in order, at most
/// [`MAX_SIBLINGS`] besides `skip`, each at most [`MAX_SIBLING_BYTES`] and
/// UTF-8 (others are left out, as Terraform would reject them).
pub(super) fn module_files(
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

pub(super) fn parse_sibling(name: &str, bytes: &[u8]) -> Option<Body> {
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
pub(super) fn load_siblings(
    ctx: &ScanContext<'_>,
    file: &FileInput<'_>,
    body: &Body,
    module: &mut Module,
) {
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

#[cfg(test)]
mod tests {
    use super::super::test_tree::{check_in, has};
    use crate::rules;
    use crate::terraform::check;
    use aisec_core::MemorySiblings;
    use aisec_core::{FileInput, Limits, ScanContext};

    const BUCKET: &str = "resource \"aws_s3_bucket\" \"data\" {\n  bucket = \"training-data\"\n}\n";
    const VERSIONING: &str = "resource \"aws_s3_bucket_versioning\" \"v\" {\n  bucket = aws_s3_bucket.data.id\n  versioning_configuration {\n    status = var.status\n  }\n}\n";

    #[test]
    fn siblings_come_through_the_context_and_edits_are_seen() {
        let mut tree = MemorySiblings::default();
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
        let mut tree = MemorySiblings::default();
        tree.put(
            "m/main.tf",
            "resource \"aws_sagemaker_notebook_instance\" \"n\" {\n  root_access = \"Disabled\"\n  direct_internet_access = \"Disabled\"\n}\n",
        );
        for i in 0..10 {
            tree.put(&format!("m/f{i}.tf"), BUCKET);
        }
        let _ = check_in(&tree, "m/main.tf");
        assert_eq!(tree.reads(), 0);
        let _ = check_in(&tree, "m/f0.tf");
        assert_eq!(tree.reads(), 10, "main.tf and f1..f9");
    }
}
