//! Dockerfiles: a small line-based parser and the image rules.
//!
//! Why our own parser: the Rust Dockerfile crates are either unmaintained
//! (`dockerfile-parser`, last release 2021, no heredocs) or pull in a
//! grammar runtime for what is a line format: instructions, `\` (or the
//! `# escape=` character) continuations, comment lines (also inside
//! continuations), exec (`["a","b"]`) versus shell form, and heredocs
//! (`RUN <<EOF ... EOF`). That is all the checks need, in ~150 lines.

use aisec_core::{FileInput, Finding};

use crate::common::{self, ShellIssue};
use crate::rules;

/// Heredocs read per instruction; more is not a Dockerfile anyone wrote.
const MAX_HEREDOCS: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// Upper-cased keyword: `RUN`, `FROM`...
    pub keyword: String,
    /// Arguments with continuations joined into one line and heredoc bodies
    /// appended as lines of their own.
    pub args: String,
    /// 1-based line of the keyword.
    pub line: u32,
    /// The exec form's argv, when the arguments are a JSON array.
    pub exec: Option<Vec<String>>,
}

/// Parses a Dockerfile. Never fails: lines that are not instructions are
/// kept as instructions with an unknown keyword, as BuildKit would reject
/// them and the rules ignore them.
pub fn parse(text: &str) -> Vec<Instruction> {
    let lines: Vec<&str> = text.lines().collect();
    let mut escape = '\\';
    // Parser directives: only comment lines at the very top.
    for l in &lines {
        let t = l.trim();
        let Some(d) = t.strip_prefix('#') else { break };
        let d = d.trim().to_ascii_lowercase();
        if let Some(v) = d.strip_prefix("escape=") {
            if v.trim() == "`" {
                escape = '`';
            }
        } else if !d.starts_with("syntax=") && !d.starts_with("check=") {
            break;
        }
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let start = i;
        let first = lines[i].trim();
        i += 1;
        if first.is_empty() || first.starts_with('#') {
            continue;
        }
        let mut logical = String::new();
        let mut cur = first.to_owned();
        loop {
            let t = cur.trim_end();
            if let Some(body) = t.strip_suffix(escape) {
                // One logical shell line, as the shell sees it.
                logical.push_str(body);
                logical.push(' ');
                // Comment lines and blank lines inside a continuation are dropped.
                while i < lines.len() {
                    let n = lines[i].trim();
                    if n.starts_with('#') || n.is_empty() {
                        i += 1;
                    } else {
                        break;
                    }
                }
                if i >= lines.len() {
                    break;
                }
                cur = lines[i].to_owned();
                i += 1;
            } else {
                logical.push_str(t);
                break;
            }
        }
        let (kw, args) = match logical.split_once(char::is_whitespace) {
            Some((k, a)) => (k.to_ascii_uppercase(), a.trim().to_owned()),
            None => (logical.to_ascii_uppercase(), String::new()),
        };
        let mut args = args;
        // Heredocs: `<<EOF`, `<<-EOF`, `<<"EOF"`; bodies follow the instruction.
        let delims: Vec<String> = heredoc_delimiters(&args);
        for d in delims.into_iter().take(MAX_HEREDOCS) {
            args.push('\n');
            while i < lines.len() {
                let l = lines[i];
                i += 1;
                if l.trim() == d {
                    break;
                }
                args.push_str(l);
                args.push('\n');
            }
        }
        let exec = if args.starts_with('[') {
            serde_json::from_str::<Vec<String>>(&args).ok()
        } else {
            None
        };
        out.push(Instruction {
            keyword: kw,
            args,
            line: u32::try_from(start + 1).unwrap_or(u32::MAX),
            exec,
        });
    }
    out
}

fn heredoc_delimiters(args: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = args;
    while let Some(p) = rest.find("<<") {
        let after = rest[p + 2..].trim_start_matches('-');
        let word: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '"' | '\''))
            .collect();
        let word = word.trim_matches(['"', '\'']).to_owned();
        if !word.is_empty() && word.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
            out.push(word);
        }
        rest = &rest[p + 2..];
    }
    out
}

/// Whether `text` looks like a Dockerfile: its first instruction is `FROM`
/// or `ARG` (upper case, as written in practice) and another instruction
/// follows.
pub fn sniff(head: &str) -> bool {
    let mut lines = head
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let Some(first) = lines.next() else {
        return false;
    };
    if !(first.starts_with("FROM ") || first.starts_with("ARG ")) {
        return false;
    }
    const OTHERS: &[&str] = &[
        "FROM ",
        "RUN ",
        "COPY ",
        "ADD ",
        "CMD ",
        "ENTRYPOINT ",
        "USER ",
        "ENV ",
        "WORKDIR ",
        "EXPOSE ",
        "LABEL ",
    ];
    lines.any(|l| OTHERS.iter().any(|o| l.starts_with(o)))
}

/// Base images known to switch to an unprivileged user themselves.
const NONROOT_BASES: &[&str] = &[
    "jupyter/",
    "quay.io/jupyter/",
    "rayproject/ray",
    "bitnami/",
    "gcr.io/distroless/",
    "cgr.dev/chainguard/",
];

struct Stage {
    name: Option<String>,
    /// Whether the stage runs as root: `None` = unknown (USER never set).
    user_root: Option<bool>,
    user_line: u32,
    from_line: u32,
}

pub fn check(file: &FileInput<'_>, text: &str) -> Vec<Finding> {
    let instrs = parse(text);
    let mut out = Vec::new();
    let mut global_args: Vec<(String, String)> = Vec::new();
    let mut stages: Vec<Stage> = Vec::new();
    for ins in &instrs {
        match ins.keyword.as_str() {
            "ARG" | "ENV" => {
                for (name, value) in env_pairs(&ins.args, ins.keyword == "ENV") {
                    if stages.is_empty() && ins.keyword == "ARG" {
                        global_args.push((name.clone(), value.clone()));
                    }
                    if common::is_secret_name(&name) && common::is_literal_secret_value(&value) {
                        out.push(
                            Finding::new(
                                &rules::SECRET_IN_ENV,
                                file,
                                format!(
                                    "`{} {name}` has a literal value: it is stored in the image history for anyone who pulls it",
                                    ins.keyword
                                ),
                            )
                            .evidence(common::redacted(&name, &value))
                            .line(ins.line, None),
                        );
                    }
                }
            }
            "FROM" => {
                let mut parts = ins.args.split_whitespace().filter(|w| !w.starts_with("--"));
                let image = parts.next().unwrap_or("");
                let alias = match (parts.next(), parts.next()) {
                    (Some(a), Some(n)) if a.eq_ignore_ascii_case("as") => Some(n.to_owned()),
                    _ => None,
                };
                let image = substitute(image, &global_args);
                let parent = stages.iter().find(|s| {
                    s.name
                        .as_deref()
                        .is_some_and(|n| n.eq_ignore_ascii_case(&image))
                });
                let inherited = parent.map(|p| p.user_root);
                if parent.is_none() && !image.eq_ignore_ascii_case("scratch") {
                    if let Some(why) = common::unpinned_image(&image) {
                        out.push(
                            Finding::new(
                                &rules::MUTABLE_IMAGE,
                                file,
                                format!("base image `{image}` {why}; pin a digest"),
                            )
                            .evidence(format!("FROM {}", ins.args))
                            .line(ins.line, None),
                        );
                    }
                }
                let known_nonroot = NONROOT_BASES.iter().any(|b| image.starts_with(b))
                    || image.contains(":nonroot");
                stages.push(Stage {
                    name: alias,
                    user_root: match inherited {
                        Some(u) => u,
                        None if known_nonroot => Some(false),
                        None => None,
                    },
                    user_line: ins.line,
                    from_line: ins.line,
                });
            }
            "USER" => {
                let user = ins.args.split(':').next().unwrap_or("").trim();
                if let Some(s) = stages.last_mut() {
                    s.user_root = Some(user == "root" || user == "0");
                    s.user_line = ins.line;
                }
            }
            "RUN" | "CMD" | "ENTRYPOINT" => {
                let script = match &ins.exec {
                    Some(argv) => argv.join(" "),
                    None => ins.args.clone(),
                };
                shell_findings(file, &script, ins.line, ins.keyword == "RUN", &mut out);
            }
            "ADD" => {
                let checksum = ins.args.contains("--checksum=");
                for w in ins.args.split_whitespace() {
                    if w.starts_with("http://") {
                        out.push(
                            Finding::new(
                                &rules::MODEL_HTTP,
                                file,
                                format!("`ADD {w}` downloads over plain http"),
                            )
                            .evidence(format!("ADD {}", ins.args))
                            .line(ins.line, None),
                        );
                    } else if w.starts_with("https://") && !checksum && is_model_path(w) {
                        out.push(
                            Finding::new(
                                &rules::MODEL_NO_CHECKSUM,
                                file,
                                format!("`ADD {w}` fetches a model file without `--checksum=`"),
                            )
                            .evidence(format!("ADD {}", ins.args))
                            .line(ins.line, None),
                        );
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(last) = stages.last() {
        match last.user_root {
            Some(true) => out.push(
                Finding::new(
                    &rules::DOCKER_ROOT,
                    file,
                    "the final stage switches to `USER root` and never back",
                )
                .evidence("USER root")
                .line(last.user_line, None),
            ),
            None => out.push(
                Finding::new(
                    &rules::DOCKER_ROOT,
                    file,
                    "the final stage never sets USER: the container runs as root",
                )
                .evidence("no USER instruction")
                .line(last.from_line, None),
            ),
            Some(false) => {}
        }
    }
    out
}

fn is_model_path(url: &str) -> bool {
    let p = url.to_ascii_lowercase();
    [
        ".safetensors",
        ".bin",
        ".pt",
        ".pth",
        ".ckpt",
        ".onnx",
        ".gguf",
        ".pkl",
        ".h5",
        ".keras",
    ]
    .iter()
    .any(|e| p.ends_with(e))
}

/// Reports the shell issues of one script; `line` is the instruction's line.
pub fn shell_findings(
    file: &FileInput<'_>,
    script: &str,
    line: u32,
    is_run: bool,
    out: &mut Vec<Finding>,
) {
    for h in common::check_script(script) {
        let rule = match h.kind {
            ShellIssue::CurlPipeShell => &rules::CURL_PIPE_SHELL,
            ShellIssue::PipIndex => &rules::PIP_UNTRUSTED_INDEX,
            ShellIssue::HttpDownload => &rules::MODEL_HTTP,
            ShellIssue::NoChecksum => &rules::MODEL_NO_CHECKSUM,
            ShellIssue::NoAuthServer => &rules::SERVER_NO_AUTH,
        };
        if !is_run && h.kind != ShellIssue::NoAuthServer {
            continue;
        }
        let l = line.saturating_add(u32::try_from(h.line_offset).unwrap_or(u32::MAX));
        out.push(
            Finding::new(rule, file, h.message)
                .evidence(h.evidence)
                .line(l, None),
        );
    }
}

/// `KEY=value` pairs of `ENV`/`ARG` (and the legacy `ENV KEY value`).
fn env_pairs(args: &str, legacy_ok: bool) -> Vec<(String, String)> {
    let a = args.trim();
    let first = a.split_whitespace().next().unwrap_or("");
    if legacy_ok && !first.contains('=') {
        return match a.split_once(char::is_whitespace) {
            Some((k, v)) => vec![(k.to_owned(), v.trim().to_owned())],
            None => Vec::new(),
        };
    }
    let mut out = Vec::new();
    for tok in split_quoted(a) {
        if let Some((k, v)) = tok.split_once('=') {
            out.push((k.to_owned(), v.to_owned()));
        }
    }
    out
}

/// Splits on whitespace outside quotes, removing the quotes.
fn split_quoted(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (_, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            (None, c) if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            (_, c) => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `${VAR}`, `${VAR:-default}` and `$VAR` from global ARG defaults, one pass.
fn substitute(s: &str, args: &[(String, String)]) -> String {
    if !s.contains('$') {
        return s.to_owned();
    }
    let mut out = String::new();
    let mut rest = s;
    while let Some(p) = rest.find('$') {
        out.push_str(&rest[..p]);
        let after = &rest[p + 1..];
        let (name, default, consumed) = if let Some(inner) = after.strip_prefix('{') {
            match inner.find('}') {
                Some(e) => {
                    let body = &inner[..e];
                    let (n, d) = match body.split_once(":-") {
                        Some((n, d)) => (n, Some(d)),
                        None => (body, None),
                    };
                    (n.to_owned(), d.map(str::to_owned), e + 2)
                }
                None => return s.to_owned(),
            }
        } else {
            let n: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let len = n.len();
            (n, None, len)
        };
        match args.iter().rev().find(|(k, _)| *k == name) {
            Some((_, v)) if !v.is_empty() => out.push_str(v),
            _ => match default {
                Some(d) => out.push_str(&d),
                // Unknown at build time: leave it to the unjudgeable check.
                None => return s.to_owned(),
            },
        }
        rest = &after[consumed.min(after.len())..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuations_comments_heredocs_exec() {
        let src = "# syntax=docker/dockerfile:1\nFROM python:3.11 AS base\nRUN apt-get update && \\\n# a comment\n    apt-get install -y curl\nRUN <<EOF\ncurl https://x | sh\nEOF\nCMD [\"python\", \"serve.py\"]\n";
        let ins = parse(src);
        assert_eq!(ins.len(), 4);
        assert_eq!(ins[1].line, 3);
        assert!(ins[1].args.contains("apt-get install"));
        assert!(ins[2].args.contains("curl https://x | sh"));
        assert_eq!(ins[3].exec.as_deref().unwrap()[0], "python");
        assert!(sniff(src));
        assert!(!sniff("From here on\nwe talk"));
    }

    #[test]
    fn substitution() {
        let args = vec![("TAG".to_owned(), "2.1".to_owned())];
        assert_eq!(
            substitute("pytorch/pytorch:${TAG}", &args),
            "pytorch/pytorch:2.1"
        );
        assert_eq!(substitute("x:${V:-latest}", &args), "x:latest");
        assert_eq!(substitute("x:$NOPE", &args), "x:$NOPE");
    }
}
