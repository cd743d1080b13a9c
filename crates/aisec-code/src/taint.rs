//! Intra-procedural taint: model output to code/command/SQL sinks
//! (AISEC-CODE-009) and request input to prompt templates (AISEC-CODE-010).
//!
//! Each function body (and the module body) is walked once, in statement
//! order. An assignment whose right side carries taint taints its targets; an
//! assignment of something clean clears them. Loops are not iterated to a fixed
//! point and values do not cross function boundaries: the rule stays cheap and
//! its findings are explainable line by line, at the cost of missing flows
//! through helpers and containers (documented in the rule).

use std::collections::HashMap;

use aisec_core::Confidence;
use tree_sitter::Node;

use crate::checks::{FileFacts, Hit, check_call};
use crate::python::{MAX_EXPR_DEPTH, Module, descendants};
use crate::rules::{LLM_OUTPUT_TO_SINK, PROMPT_FROM_REQUEST};

/// Text a model produced.
const LLM: u8 = 1;
/// Raw input of an HTTP request.
const REQ: u8 = 2;
/// A string built from a template and request input.
const PROMPT: u8 = 4;

/// Libraries whose calls talk to a model.
const LLM_LIBS: &[&str] = &[
    "openai",
    "anthropic",
    "langchain",
    "langchain_core",
    "langchain_community",
    "langchain_openai",
    "langchain_anthropic",
    "langchain_google_genai",
    "langchain_ollama",
    "langchain_mistralai",
    "langchain_groq",
    "langchain_experimental",
    "llama_index",
    "google.generativeai",
    "google.genai",
    "vertexai",
    "ollama",
    "cohere",
    "mistralai",
    "groq",
    "litellm",
    "together",
    "replicate",
    "huggingface_hub",
    "transformers",
    "vllm",
];

/// Methods and functions of those libraries that return generated text.
const GEN_METHODS: &[&str] = &[
    "create",
    "invoke",
    "ainvoke",
    "predict",
    "apredict",
    "generate",
    "agenerate",
    "generate_content",
    "complete",
    "acomplete",
    "chat",
    "achat",
    "stream",
    "run",
    "arun",
    "query",
    "aquery",
    "text_generation",
    "chat_completion",
    "completion",
    "acompletion",
    "batch",
];

/// Request attributes that carry client input (Flask, Django, Starlette).
const REQ_ATTRS: &[&str] = &[
    "args",
    "form",
    "values",
    "json",
    "get_json",
    "data",
    "get_data",
    "GET",
    "POST",
    "body",
    "query_params",
    "path_params",
    "cookies",
    "headers",
    "files",
];

const CODE_SINKS: &[&str] = &[
    "eval",
    "exec",
    "compile",
    "builtins.eval",
    "builtins.exec",
    "os.system",
    "os.popen",
    "os.execv",
    "os.execvp",
    "os.execl",
    "os.execlp",
    "os.spawnv",
    "os.spawnl",
    "subprocess.run",
    "subprocess.call",
    "subprocess.check_call",
    "subprocess.check_output",
    "subprocess.Popen",
    "subprocess.getoutput",
    "subprocess.getstatusoutput",
    "commands.getoutput",
    "pty.spawn",
    "asyncio.create_subprocess_shell",
    "asyncio.create_subprocess_exec",
];

const SQL_METHODS: &[&str] = &["execute", "executemany", "executescript", "exec_driver_sql"];
const SQL_FUNCS: &[&str] = &[
    "sqlalchemy.text",
    "sqlalchemy.sql.text",
    "pandas.read_sql",
    "pandas.read_sql_query",
];

/// Calls whose result no longer carries the text (a number, a length).
const SANITIZERS: &[&str] = &[
    "int",
    "float",
    "len",
    "bool",
    "abs",
    "round",
    "isinstance",
    "hash",
];

/// Decorator callees that make a function an HTTP route handler.
const ROUTE_DECORATORS: &[&str] = &[
    "route",
    "get",
    "post",
    "put",
    "patch",
    "delete",
    "websocket",
    "api_route",
    "api_view",
];

pub fn is_llm_call(q: &str) -> bool {
    let in_lib = q.starts_with("langchain")
        || LLM_LIBS.iter().any(|lib| {
            q.strip_prefix(lib)
                .is_some_and(|rest| rest.starts_with(['.', '(']))
        });
    if !in_lib {
        return false;
    }
    // A model object called directly: `pipe(x)` after `pipe = pipeline(...)`.
    if q.ends_with("()") {
        return true;
    }
    let last = q.rsplit('.').next().unwrap_or("");
    GEN_METHODS.contains(&last)
}

struct Scope<'m, 's> {
    m: &'m Module<'s>,
    state: HashMap<String, u8>,
}

impl<'m, 's> Scope<'m, 's> {
    fn is_request_source(&self, node: Node<'_>) -> bool {
        let Some(q) = self.m.qualname(node) else {
            return false;
        };
        let rest = [
            "flask.request.",
            "quart.request.",
            "request.",
            "self.request.",
            "req.",
        ]
        .iter()
        .find_map(|p| q.strip_prefix(p));
        rest.and_then(|r| r.split(['.', '(']).next())
            .is_some_and(|a| REQ_ATTRS.contains(&a))
    }

    fn taint(&self, node: Node<'_>, depth: usize) -> u8 {
        if depth > MAX_EXPR_DEPTH {
            return self.flat_taint(node);
        }
        match node.kind() {
            "identifier" => self.state.get(self.m.text(node)).copied().unwrap_or(0),
            "lambda" | "string_content" | "integer" | "float" | "true" | "false" | "none" => 0,
            "attribute" => {
                let mut t = node
                    .child_by_field_name("object")
                    .map_or(0, |o| self.taint(o, depth + 1));
                if self.is_request_source(node) {
                    t |= REQ;
                }
                t
            }
            "call" => {
                let q = self.m.callee(node).unwrap_or_default();
                if SANITIZERS.contains(&q.as_str()) {
                    return 0;
                }
                let mut t = self.children_taint(node, depth);
                if is_llm_call(&q) {
                    t |= LLM;
                }
                if node
                    .child_by_field_name("function")
                    .is_some_and(|f| self.is_request_source(f))
                {
                    t |= REQ;
                }
                // "...{}".format(user) builds a prompt from a template.
                if q.ends_with(".format") && t & REQ != 0 {
                    t |= PROMPT;
                }
                t
            }
            "string" => {
                let mut t = 0;
                let mut c = node.walk();
                for child in node.named_children(&mut c) {
                    if child.kind() == "interpolation" {
                        t |= self.taint(child, depth + 1);
                    }
                }
                if t & REQ != 0 {
                    t |= PROMPT;
                }
                t
            }
            "binary_operator" => {
                let t = self.children_taint(node, depth);
                let has_literal = ["left", "right"].iter().any(|f| {
                    node.child_by_field_name(f)
                        .is_some_and(|s| matches!(s.kind(), "string" | "concatenated_string"))
                });
                if has_literal && t & REQ != 0 {
                    t | PROMPT
                } else {
                    t
                }
            }
            _ => self.children_taint(node, depth),
        }
    }

    fn children_taint(&self, node: Node<'_>, depth: usize) -> u8 {
        let mut t = 0;
        let mut c = node.walk();
        for (i, child) in node.named_children(&mut c).enumerate() {
            // The name in `k=v` is not a variable.
            if node.kind() == "keyword_argument" && i == 0 {
                continue;
            }
            t |= self.taint(child, depth + 1);
        }
        t
    }

    /// Past the depth limit: any tainted name or model call anywhere below.
    fn flat_taint(&self, node: Node<'_>) -> u8 {
        let mut t = 0;
        for d in descendants(node) {
            match d.kind() {
                "identifier" => t |= self.state.get(self.m.text(d)).copied().unwrap_or(0),
                "call" if self.m.callee(d).is_some_and(|q| is_llm_call(&q)) => t |= LLM,
                _ => {}
            }
        }
        t
    }

    fn bind(&mut self, target: Node<'_>, taint: u8) {
        for d in descendants(target) {
            if d.kind() != "identifier" {
                continue;
            }
            // In `a.b = x` or `a[i] = x` only `a` is touched, and only
            // weakly: it may hold other, clean values too.
            let weak = target.kind() != "identifier"
                && !matches!(
                    target.kind(),
                    "pattern_list" | "tuple_pattern" | "list_pattern"
                );
            let name = self.m.text(d).to_owned();
            if weak {
                if taint != 0 {
                    *self.state.entry(name).or_insert(0) |= taint;
                }
                break;
            } else if taint == 0 {
                self.state.remove(&name);
            } else {
                self.state.insert(name, taint);
            }
        }
    }

    fn check_sinks(&self, call: Node<'_>, out: &mut Vec<Hit>) {
        let Some(q) = self.m.callee(call) else {
            return;
        };
        let Some(args) = call.child_by_field_name("arguments") else {
            return;
        };
        let last = q.rsplit('.').next().unwrap_or("");
        let sql =
            SQL_FUNCS.contains(&q.as_str()) || (q.contains('.') && SQL_METHODS.contains(&last));
        let code = CODE_SINKS.contains(&q.as_str());
        if code || sql {
            let mut c = args.walk();
            for (i, arg) in args.named_children(&mut c).enumerate() {
                if sql && i > 0 {
                    break;
                }
                if arg.kind() == "keyword_argument" && !code {
                    continue;
                }
                if self.taint(arg, 0) & LLM != 0 {
                    let kind = if sql {
                        "an SQL query"
                    } else {
                        "code or a command"
                    };
                    out.push(
                        Hit::at(
                            &LLM_OUTPUT_TO_SINK,
                            call,
                            format!("model output reaches `{q}` and runs as {kind}"),
                            short_text(self.m, call),
                        )
                        .confidence(Confidence::Medium),
                    );
                    break;
                }
            }
        }
        if is_llm_call(&q) {
            let mut c = args.walk();
            for arg in args.named_children(&mut c) {
                if self.taint(arg, 0) & PROMPT != 0 {
                    out.push(
                        Hit::at(
                            &PROMPT_FROM_REQUEST,
                            call,
                            format!("`{q}` receives a prompt built from raw request input"),
                            short_text(self.m, call),
                        )
                        .confidence(Confidence::Medium),
                    );
                    break;
                }
            }
        }
    }
}

fn short_text(m: &Module<'_>, n: Node<'_>) -> String {
    let t = m.text(n);
    let line = t.split('\n').next().unwrap_or("");
    let mut end = line.len().min(120);
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    if end < t.len() {
        format!("{}…", &line[..end])
    } else {
        t.to_owned()
    }
}

fn is_route_handler(m: &Module<'_>, func: Node<'_>) -> bool {
    let Some(parent) = func.parent().filter(|p| p.kind() == "decorated_definition") else {
        return false;
    };
    let mut c = parent.walk();
    parent.named_children(&mut c).any(|d| {
        if d.kind() != "decorator" {
            return false;
        }
        let Some(expr) = d.named_child(0) else {
            return false;
        };
        let callee = if expr.kind() == "call" {
            expr.child_by_field_name("function")
        } else {
            Some(expr)
        };
        callee
            .and_then(|c| m.qualname(c))
            .and_then(|q| q.rsplit('.').next().map(str::to_owned))
            .is_some_and(|l| ROUTE_DECORATORS.contains(&l.as_str()))
    })
}

/// Runs every rule over the module: per-call rules and both taint rules, one
/// scope (module body or function) at a time.
pub fn analyse(m: &Module<'_>) -> Vec<Hit> {
    let facts = FileFacts::of(m);
    let root = m.tree.root_node();
    let mut out = Vec::new();
    let scopes: Vec<Node<'_>> = std::iter::once(root)
        .chain(
            m.nodes()
                .into_iter()
                .filter(|n| n.kind() == "function_definition"),
        )
        .collect();
    for scope_root in scopes {
        let mut scope = Scope {
            m,
            state: HashMap::new(),
        };
        if scope_root.kind() == "function_definition"
            && is_route_handler(m, scope_root)
            && let Some(params) = scope_root.child_by_field_name("parameters")
        {
            let mut c = params.walk();
            for p in params.named_children(&mut c) {
                let name_node = if p.kind() == "identifier" {
                    Some(p)
                } else {
                    p.named_child(0).filter(|n| n.kind() == "identifier")
                };
                if let Some(n) = name_node {
                    let name = m.text(n);
                    if name != "self" && name != "cls" {
                        scope.state.insert(name.to_owned(), REQ);
                    }
                }
            }
        }
        walk_scope(&mut scope, &facts, scope_root, &mut out);
    }
    out
}

fn walk_scope(
    scope: &mut Scope<'_, '_>,
    facts: &FileFacts,
    scope_root: Node<'_>,
    out: &mut Vec<Hit>,
) {
    // (node, leaving): assignments bind on the way out, so that the calls on
    // their right side are judged with the state before the assignment.
    let mut stack = vec![(scope_root, false)];
    while let Some((node, leaving)) = stack.pop() {
        if leaving {
            match node.kind() {
                "assignment" => {
                    if let (Some(l), Some(r)) = (
                        node.child_by_field_name("left"),
                        node.child_by_field_name("right"),
                    ) {
                        let t = scope.taint(r, 0);
                        scope.bind(l, t);
                    }
                }
                "augmented_assignment" => {
                    if let (Some(l), Some(r)) = (
                        node.child_by_field_name("left"),
                        node.child_by_field_name("right"),
                    ) {
                        let t = scope.taint(r, 0) | scope.taint(l, 0);
                        scope.bind(l, t);
                    }
                }
                _ => {}
            }
            continue;
        }
        if node != scope_root && matches!(node.kind(), "function_definition") {
            continue;
        }
        match node.kind() {
            "call" => {
                check_call(scope.m, facts, node, out);
                scope.check_sinks(node, out);
            }
            "for_statement" => {
                if let (Some(l), Some(r)) = (
                    node.child_by_field_name("left"),
                    node.child_by_field_name("right"),
                ) {
                    let t = scope.taint(r, 0);
                    scope.bind(l, t);
                }
            }
            "as_pattern" if node.parent().is_some_and(|p| p.kind() == "with_item") => {
                if let (Some(v), Some(target)) = (
                    node.named_child(0),
                    node.child_by_field_name("alias")
                        .and_then(|a| a.named_child(0)),
                ) {
                    let t = scope.taint(v, 0);
                    scope.bind(target, t);
                }
            }
            _ => {}
        }
        stack.push((node, true));
        let mut c = node.walk();
        let children: Vec<Node<'_>> = node.children(&mut c).collect();
        for child in children.into_iter().rev() {
            stack.push((child, false));
        }
    }
}
