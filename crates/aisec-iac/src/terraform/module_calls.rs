//! Local `module` blocks followed one level down: the module's resources
//! judged again with the caller's static inputs, and what those inputs add
//! reported at the `module` block.

use std::collections::HashMap;
use std::sync::Arc;

use aisec_core::{FileInput, Finding, ScanContext, SiblingError, excerpt};

use super::check_resource;
use super::siblings::{module_files, parse_sibling};
use super::value::{Block, Body, Module, Val};

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
pub(super) fn check_module_call(
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

#[cfg(test)]
mod tests {
    use super::super::test_tree::check_in;
    use aisec_core::MemorySiblings;

    #[test]
    fn module_sources_that_leave_the_tree_are_findings_and_not_read() {
        let mut tree = MemorySiblings::default();
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
}
