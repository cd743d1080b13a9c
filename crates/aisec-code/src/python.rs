//! A parsed Python module and the name resolution every rule shares: which
//! module an identifier came from (`import torch as t` makes `t.load` mean
//! `torch.load`), and which constructor made an object (`tar = tarfile.open(p)`
//! makes `tar.extractall` mean `tarfile.open().extractall`).
//!
//! Resolution is flow-insensitive and per file: one binding per name, the last
//! one seen wins. That is what makes it cheap and predictable; the price is
//! that a name rebound to two different things in one file is resolved to one
//! of them. Rules say so in their confidence, not by guessing harder.

use std::collections::HashMap;

use tree_sitter::{Node, Parser, Tree};

/// Deeper expression nesting than this is not followed. Real code nests a few
/// levels; hostile input nests until the stack breaks, and we must not.
pub const MAX_EXPR_DEPTH: usize = 64;

/// Attribute chains (`a.b.c.d`) longer than this are not resolved.
const MAX_CHAIN: usize = 32;

pub struct Module<'s> {
    pub src: &'s [u8],
    pub tree: Tree,
    /// Bound name -> fully qualified name (`t` -> `torch`, `l` -> `pickle.loads`).
    aliases: HashMap<String, String>,
    /// Bound name -> qualified name of what made it, with `()` for a call
    /// result (`tar` -> `tarfile.open()`).
    instances: HashMap<String, String>,
    /// Module-level names bound once to a string literal (`URL = "http://..."`).
    constants: HashMap<String, String>,
    /// First segments of every imported module, for file-level heuristics.
    pub imported_roots: Vec<String>,
}

/// Parses `src` with tree-sitter-python. Returns `None` only when the parser
/// itself gives up (it is error-tolerant: syntax errors become ERROR nodes and
/// the rest of the file is still analysed).
pub fn parse(src: &[u8]) -> Option<Tree> {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_python::LANGUAGE.into())
        .ok()?;
    parser.parse(src, None)
}

impl<'s> Module<'s> {
    pub fn new(src: &'s [u8]) -> Option<Self> {
        let tree = parse(src)?;
        let mut m = Module {
            src,
            tree,
            aliases: HashMap::new(),
            instances: HashMap::new(),
            constants: HashMap::new(),
            imported_roots: Vec::new(),
        };
        m.collect_imports();
        m.collect_bindings();
        Some(m)
    }

    pub fn text(&self, node: Node<'_>) -> &'s str {
        std::str::from_utf8(&self.src[node.byte_range()]).unwrap_or("")
    }

    /// Every node in document order, without recursion (hostile files nest
    /// deeply enough to overflow a recursive walk).
    pub fn nodes(&self) -> Vec<Node<'_>> {
        descendants(self.tree.root_node())
    }

    fn collect_imports(&mut self) {
        // A clone of the tree (reference-counted, cheap) so that the maps
        // can be filled while its nodes are borrowed.
        let tree = self.tree.clone();
        let root = tree.root_node();
        for node in descendants(root) {
            match node.kind() {
                "import_statement" => {
                    let mut c = node.walk();
                    for name in node.children_by_field_name("name", &mut c) {
                        match name.kind() {
                            "dotted_name" => {
                                let full = self.text(name).to_owned();
                                let root_seg = full.split('.').next().unwrap_or("").to_owned();
                                self.note_root(&full);
                                self.aliases.insert(root_seg.clone(), root_seg);
                            }
                            "aliased_import" => {
                                let (Some(n), Some(a)) = (
                                    name.child_by_field_name("name"),
                                    name.child_by_field_name("alias"),
                                ) else {
                                    continue;
                                };
                                let full = self.text(n).to_owned();
                                self.note_root(&full);
                                self.aliases.insert(self.text(a).to_owned(), full);
                            }
                            _ => {}
                        }
                    }
                }
                "import_from_statement" => {
                    let Some(module) = node.child_by_field_name("module_name") else {
                        continue;
                    };
                    // Relative imports name our own package, never a library
                    // we have rules for; a leading dot keeps them from matching.
                    let module_name = self.text(module).to_owned();
                    self.note_root(&module_name);
                    let mut c = node.walk();
                    for name in node.children_by_field_name("name", &mut c) {
                        let (imported, bound) = match name.kind() {
                            "dotted_name" => (self.text(name), self.text(name)),
                            "aliased_import" => {
                                let (Some(n), Some(a)) = (
                                    name.child_by_field_name("name"),
                                    name.child_by_field_name("alias"),
                                ) else {
                                    continue;
                                };
                                (self.text(n), self.text(a))
                            }
                            _ => continue,
                        };
                        self.aliases
                            .insert(bound.to_owned(), format!("{module_name}.{imported}"));
                    }
                }
                _ => {}
            }
        }
    }

    fn note_root(&mut self, module: &str) {
        let root = module.split('.').next().unwrap_or("").to_owned();
        if !root.is_empty() && !self.imported_roots.contains(&root) {
            self.imported_roots.push(root);
        }
    }

    fn collect_bindings(&mut self) {
        // A clone of the tree (reference-counted, cheap) so that the maps
        // can be filled while its nodes are borrowed.
        let tree = self.tree.clone();
        let root = tree.root_node();
        for node in descendants(root) {
            let (target, value) = match node.kind() {
                "assignment" => (
                    node.child_by_field_name("left"),
                    node.child_by_field_name("right"),
                ),
                // `with tarfile.open(p) as tar:` binds like `tar = tarfile.open(p)`.
                "as_pattern" if node.parent().is_some_and(|p| p.kind() == "with_item") => {
                    let target = node
                        .child_by_field_name("alias")
                        .and_then(|a| a.named_child(0));
                    (target, node.named_child(0))
                }
                _ => continue,
            };
            let (Some(target), Some(value)) = (target, value) else {
                continue;
            };
            if target.kind() != "identifier" {
                continue;
            }
            let name = self.text(target).to_owned();
            match value.kind() {
                "call" => {
                    if let Some(q) = self.qualname(value) {
                        self.instances.insert(name, q);
                    }
                }
                // `loader = pickle.loads` is an alias of the function.
                "identifier" | "attribute" => {
                    if let Some(q) = self.qualname(value)
                        && q != name
                        && self.is_imported_path(&q)
                    {
                        self.aliases.insert(name, q);
                    }
                }
                "string" | "concatenated_string"
                    if node.parent().is_some_and(|p| p.parent() == Some(root)) =>
                {
                    if let Some(s) = self.string_literal(value) {
                        self.constants.insert(name, s);
                    }
                }
                _ => {}
            }
        }
    }

    fn is_imported_path(&self, q: &str) -> bool {
        let root = q.split('.').next().unwrap_or("");
        self.imported_roots.iter().any(|r| r == root)
    }

    /// The qualified name of an expression: `torch.load` for `t.load` after
    /// `import torch as t`; `tarfile.open()` for a call of `tarfile.open`;
    /// `tarfile.open().extractall` for `tar.extractall` after
    /// `tar = tarfile.open(p)`. Names that were never imported resolve to
    /// themselves (`eval`, or `pickle.loads` when the import is hidden).
    pub fn qualname(&self, node: Node<'_>) -> Option<String> {
        self.qualname_at(node, 0)
    }

    fn qualname_at(&self, node: Node<'_>, depth: usize) -> Option<String> {
        if depth > MAX_EXPR_DEPTH {
            return None;
        }
        // Trailing attribute names, innermost last.
        let mut segments: Vec<&str> = Vec::new();
        let mut cur = node;
        let base = loop {
            if segments.len() > MAX_CHAIN {
                return None;
            }
            match cur.kind() {
                "identifier" => {
                    let name = self.text(cur);
                    break self
                        .aliases
                        .get(name)
                        .or_else(|| self.instances.get(name))
                        .cloned()
                        .unwrap_or_else(|| name.to_owned());
                }
                "attribute" => {
                    segments.push(self.text(cur.child_by_field_name("attribute")?));
                    cur = cur.child_by_field_name("object")?;
                }
                // A call result: `f(x).g` -> `f().g`. The `()` keeps "calls a
                // function" apart from "calls a method on what it returned".
                "call" => {
                    let inner =
                        self.qualname_at(cur.child_by_field_name("function")?, depth + 1)?;
                    break format!("{inner}()");
                }
                "parenthesized_expression" => cur = cur.named_child(0)?,
                _ => return None,
            }
        };
        let mut out = base;
        for s in segments.iter().rev() {
            out.push('.');
            out.push_str(s);
        }
        Some(out)
    }

    /// The callee of a call node, resolved.
    pub fn callee(&self, call: Node<'_>) -> Option<String> {
        self.qualname(call.child_by_field_name("function")?)
    }

    /// The value of a string literal without prefix or quotes, when it has no
    /// interpolation (an f-string with `{}` is not a constant).
    pub fn string_literal(&self, node: Node<'_>) -> Option<String> {
        let node = unparen(node)?;
        match node.kind() {
            "string" => {
                let mut out = String::new();
                let mut c = node.walk();
                for child in node.named_children(&mut c) {
                    match child.kind() {
                        "string_content" | "escape_sequence" => out.push_str(self.text(child)),
                        "string_start" | "string_end" => {}
                        _ => return None,
                    }
                }
                Some(out)
            }
            "concatenated_string" => {
                let mut out = String::new();
                let mut c = node.walk();
                for child in node.named_children(&mut c) {
                    out.push_str(&self.string_literal(child)?);
                }
                Some(out)
            }
            "identifier" => self.constants.get(self.text(node)).cloned(),
            _ => None,
        }
    }
}

/// What a call was given, by keyword and by position.
pub struct Args<'t> {
    pub positional: Vec<Node<'t>>,
    pub keywords: Vec<(String, Node<'t>)>,
    /// `**kwargs` was passed: any keyword may be hidden in it.
    pub has_kwargs_splat: bool,
    /// `*args` was passed: positions after it are unknown.
    pub has_args_splat: bool,
}

impl<'t> Args<'t> {
    pub fn of(m: &Module<'_>, call: Node<'t>) -> Self {
        let mut a = Args {
            positional: Vec::new(),
            keywords: Vec::new(),
            has_kwargs_splat: false,
            has_args_splat: false,
        };
        let Some(list) = call.child_by_field_name("arguments") else {
            return a;
        };
        let mut c = list.walk();
        for arg in list.named_children(&mut c) {
            match arg.kind() {
                "keyword_argument" => {
                    if let (Some(n), Some(v)) = (
                        arg.child_by_field_name("name"),
                        arg.child_by_field_name("value"),
                    ) {
                        a.keywords.push((m.text(n).to_owned(), v));
                    }
                }
                "dictionary_splat" => a.has_kwargs_splat = true,
                "list_splat" => a.has_args_splat = true,
                "comment" => {}
                _ if !a.has_args_splat => a.positional.push(arg),
                _ => {}
            }
        }
        a
    }

    pub fn keyword(&self, name: &str) -> Option<Node<'t>> {
        self.keywords
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| *v)
    }

    /// The argument a parameter received, by keyword or by position.
    pub fn get(&self, name: &str, position: usize) -> Option<Node<'t>> {
        self.keyword(name)
            .or_else(|| self.positional.get(position).copied())
    }

    /// Every argument node, positional then keyword values.
    pub fn all(&self) -> impl Iterator<Item = Node<'t>> + '_ {
        self.positional
            .iter()
            .copied()
            .chain(self.keywords.iter().map(|(_, v)| *v))
    }
}

/// A literal `True`/`False`, or `None` for anything else (a variable, an
/// expression): rules treat the unknown as unknown, not as either.
pub fn literal_bool(node: Node<'_>) -> Option<bool> {
    match unparen(node)?.kind() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// `((x))` -> `x`, iteratively.
pub fn unparen(mut node: Node<'_>) -> Option<Node<'_>> {
    while node.kind() == "parenthesized_expression" {
        node = node.named_child(0)?;
    }
    Some(node)
}

/// All descendants of `root` (itself first) in document order, iteratively.
pub fn descendants(root: Node<'_>) -> Vec<Node<'_>> {
    let mut out = Vec::new();
    let mut cursor = root.walk();
    loop {
        out.push(cursor.node());
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.node() == root {
                return out;
            }
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return out;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calls(src: &str) -> Vec<String> {
        let m = Module::new(src.as_bytes()).unwrap();
        m.nodes()
            .into_iter()
            .filter(|n| n.kind() == "call")
            .filter_map(|n| m.callee(n))
            .collect()
    }

    #[test]
    fn resolves_import_aliases() {
        assert_eq!(calls("import torch as t\nt.load(p)"), ["torch.load"]);
        assert_eq!(
            calls("from pickle import loads as l\nl(b)"),
            ["pickle.loads"]
        );
        assert_eq!(calls("import os.path\nos.path.join(a)"), ["os.path.join"]);
        assert_eq!(calls("import a.b as c\nc.d()"), ["a.b.d"]);
        assert_eq!(calls("eval(x)"), ["eval"]);
    }

    #[test]
    fn resolves_instances_and_function_aliases() {
        assert_eq!(
            calls("import tarfile\ntar = tarfile.open(p)\ntar.extractall()"),
            ["tarfile.open", "tarfile.open().extractall"]
        );
        assert_eq!(
            calls("import tarfile\nwith tarfile.open(p) as t:\n    t.extractall(d)"),
            ["tarfile.open", "tarfile.open().extractall"]
        );
        assert_eq!(
            calls("import pickle\nload = pickle.loads\nload(b)"),
            ["pickle.loads"]
        );
        assert_eq!(
            calls("from openai import OpenAI\nc = OpenAI()\nc.chat.completions.create(m)"),
            ["openai.OpenAI", "openai.OpenAI().chat.completions.create"]
        );
    }

    #[test]
    fn string_constants_and_args() {
        let src = "U = 'http://x' 'y'\nf(1, *a, k=2, **kw)";
        let m = Module::new(src.as_bytes()).unwrap();
        let nodes = m.nodes();
        let call = nodes.iter().find(|n| n.kind() == "call").unwrap();
        let args = Args::of(&m, *call);
        assert_eq!(args.positional.len(), 1);
        assert!(args.has_args_splat && args.has_kwargs_splat);
        assert_eq!(m.text(args.keyword("k").unwrap()), "2");
        let id = nodes
            .iter()
            .find(|n| n.kind() == "identifier" && m.text(**n) == "U")
            .unwrap();
        assert_eq!(m.string_literal(*id).as_deref(), Some("http://xy"));
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let src = format!("{}x{}", "(".repeat(50_000), ")".repeat(50_000));
        let m = Module::new(src.as_bytes()).unwrap();
        assert!(!m.nodes().is_empty());
        let attr = format!("a{}", ".b".repeat(10_000));
        let m = Module::new(attr.as_bytes()).unwrap();
        for n in m.nodes() {
            let _ = m.qualname(n);
        }
    }
}
