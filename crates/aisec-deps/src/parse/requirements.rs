//! pip requirements files: `requirements*.txt`, constraints files and
//! pip-compile inputs, with the option syntax pip accepts.
//!
//! The line grammar (continuations, comments, options, per-requirement
//! options) is pip's own and has no crate, so it is written here, following
//! pip's `req_file.py`; each requirement itself is parsed by `pep508_rs`.
//! `-r`/`-c` includes are read from disk relative to the including file,
//! never from the network.

use std::path::{Path, PathBuf};

use super::{Dependency, IndexKind, IndexSource, Manifest, ManifestKind, Pin, Problem};
use crate::ecosystem::normalize_pypi;

/// Includes nested deeper than this are certainly a mistake (or an attack on
/// the scanner); pip itself has no limit but recursion.
const MAX_INCLUDE_DEPTH: usize = 16;
/// Larger includes are not requirements files.
const MAX_INCLUDE_BYTES: u64 = 16 * 1024 * 1024;

/// Parses a requirements file. `path` is the file on disk, when there is one,
/// to resolve `-r`/`-c` includes; inside archives includes are not followed.
///
/// Dependencies of an included file are returned only when that file would
/// not be scanned on its own (its name is not a requirements-file name), so
/// a scan of a tree reports each dependency once, at the file that names it.
/// Includes are still followed for loops, errors, indexes and `-c` pins.
pub fn parse(text: &str, path: Option<&Path>) -> Manifest {
    let mut out = Manifest::default();
    let mut constraints = Vec::new();
    let mut stack: Vec<PathBuf> = path
        .map(|p| p.canonicalize().unwrap_or_else(|_| p.to_owned()))
        .into_iter()
        .collect();
    parse_into(
        text,
        path,
        &mut stack,
        &mut out,
        &mut constraints,
        Context::Top,
    );
    apply_constraints(&mut out.dependencies, &constraints);
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    /// The scanned file itself.
    Top,
    /// A `-r` include: its dependencies are reported (with `via`) when `report`.
    Include { report: bool },
    /// A `-c` constraints file: its pins narrow other requirements.
    Constraint,
}

fn parse_into(
    text: &str,
    path: Option<&Path>,
    stack: &mut Vec<PathBuf>,
    out: &mut Manifest,
    constraints: &mut Vec<Dependency>,
    ctx: Context,
) {
    let via = match ctx {
        Context::Top => None,
        _ => path.map(|p| p.display().to_string()),
    };
    // Problems in an include are shown at the include line of the scanned
    // file, with the included file and its line in the message.
    let problem = |out: &mut Manifest, line: u32, message: String| {
        out.problems.push(Problem {
            line: if ctx == Context::Top {
                Some(line)
            } else {
                None
            },
            message: match &via {
                Some(v) => format!("{v}:{line}: {message}"),
                None => message,
            },
        });
    };
    for (line, logical) in logical_lines(text) {
        let content = strip_comment(&logical).trim();
        if content.is_empty() {
            continue;
        }
        if content.starts_with('-') && !is_editable(content) {
            let (opt, value) = split_option(content);
            let value = value.map(str::to_owned);
            match (opt, value) {
                ("-r" | "--requirement", Some(v)) | ("-c" | "--constraint", Some(v)) => {
                    let constraint = matches!(opt, "-c" | "--constraint");
                    include(
                        &v,
                        line,
                        constraint,
                        path,
                        stack,
                        out,
                        constraints,
                        ctx,
                        &problem,
                    );
                }
                ("-i" | "--index-url", Some(v)) => out.indexes.push(IndexSource {
                    url: v,
                    line: top_line(ctx, line),
                    kind: IndexKind::Primary,
                }),
                ("--extra-index-url", Some(v)) => out.indexes.push(IndexSource {
                    url: v,
                    line: top_line(ctx, line),
                    kind: IndexKind::Extra,
                }),
                ("-f" | "--find-links", Some(v)) => out.indexes.push(IndexSource {
                    url: v,
                    line: top_line(ctx, line),
                    kind: IndexKind::FindLinks,
                }),
                ("--trusted-host", Some(v)) => out.indexes.push(IndexSource {
                    url: v,
                    line: top_line(ctx, line),
                    kind: IndexKind::TrustedHost,
                }),
                ("--require-hashes", _) => out.require_hashes = true,
                (
                    "--no-index" | "--pre" | "--prefer-binary" | "--only-binary" | "--no-binary"
                    | "--use-feature" | "-Z" | "--always-unzip",
                    _,
                ) => {}
                (
                    "-r" | "--requirement" | "-c" | "--constraint" | "-i" | "--index-url"
                    | "--extra-index-url" | "-f" | "--find-links" | "--trusted-host",
                    None,
                ) => problem(out, line, format!("option {opt} needs a value")),
                _ => problem(out, line, format!("unknown pip option {opt}")),
            }
            continue;
        }
        match requirement(content) {
            Ok(Some(mut dep)) => {
                dep.line = Some(line);
                dep.via = via.clone();
                match ctx {
                    Context::Top => out.dependencies.push(dep),
                    Context::Include { report: true } => {
                        // The include line is where the user can act.
                        dep.line = None;
                        out.dependencies.push(dep);
                    }
                    Context::Include { report: false } => {}
                    Context::Constraint => constraints.push(dep),
                }
            }
            Ok(None) => {}
            Err(message) => problem(out, line, message),
        }
    }
}

fn top_line(ctx: Context, line: u32) -> Option<u32> {
    (ctx == Context::Top).then_some(line)
}

#[allow(clippy::too_many_arguments)]
fn include(
    target: &str,
    line: u32,
    constraint: bool,
    path: Option<&Path>,
    stack: &mut Vec<PathBuf>,
    out: &mut Manifest,
    constraints: &mut Vec<Dependency>,
    ctx: Context,
    problem: &dyn Fn(&mut Manifest, u32, String),
) {
    let what = if constraint { "-c" } else { "-r" };
    if target.contains("://") {
        problem(
            out,
            line,
            format!(
                "{what} {target}: remote includes are not fetched; their requirements were not checked"
            ),
        );
        return;
    }
    let Some(base) = path else {
        // Archive members have no directory to resolve against.
        problem(
            out,
            line,
            format!("{what} {target}: includes are not followed inside archives"),
        );
        return;
    };
    let resolved = base.parent().unwrap_or(Path::new("")).join(target);
    let canonical = resolved.canonicalize().unwrap_or_else(|_| resolved.clone());
    if let Some(pos) = stack.iter().position(|p| *p == canonical) {
        let chain: Vec<String> = stack[pos..]
            .iter()
            .chain(std::iter::once(&canonical))
            .map(|p| {
                p.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        problem(
            out,
            line,
            format!(
                "{what} {target}: include loop ({}); not followed again",
                chain.join(" -> ")
            ),
        );
        return;
    }
    if stack.len() > MAX_INCLUDE_DEPTH {
        problem(
            out,
            line,
            format!(
                "{what} {target}: includes nested more than {MAX_INCLUDE_DEPTH} deep; not followed"
            ),
        );
        return;
    }
    let text = match read_include(&resolved) {
        Ok(t) => t,
        Err(e) => {
            problem(out, line, format!("{what} {}: {e}", resolved.display()));
            return;
        }
    };
    let child_ctx = if constraint || ctx == Context::Constraint {
        Context::Constraint
    } else {
        let scanned_alone = ManifestKind::from_path(&resolved.to_string_lossy())
            == Some(ManifestKind::Requirements);
        let parent_reports = matches!(ctx, Context::Top | Context::Include { report: true });
        Context::Include {
            report: parent_reports && !scanned_alone,
        }
    };
    stack.push(canonical);
    let mut inner = Manifest::default();
    parse_into(
        &text,
        Some(&resolved),
        stack,
        &mut inner,
        constraints,
        child_ctx,
    );
    stack.pop();
    for mut p in inner.problems {
        // Surface nested problems at this include line of the scanned file.
        if ctx == Context::Top {
            p.line = Some(line);
        }
        out.problems.push(p);
    }
    out.dependencies.extend(inner.dependencies);
    for mut i in inner.indexes {
        i.line = top_line(ctx, line);
        out.indexes.push(i);
    }
    out.require_hashes |= inner.require_hashes;
}

fn read_include(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if meta.len() > MAX_INCLUDE_BYTES {
        return Err(format!(
            "{} bytes, too large for a requirements file",
            meta.len()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_owned())
}

/// Pins from `-c` files apply to requirements that do not pin themselves,
/// as pip applies them at resolution.
fn apply_constraints(deps: &mut [Dependency], constraints: &[Dependency]) {
    for dep in deps.iter_mut() {
        if matches!(dep.pin, Pin::Exact(_) | Pin::Url { .. }) {
            continue;
        }
        let key = normalize_pypi(&dep.name);
        if let Some(c) = constraints
            .iter()
            .find(|c| c.version().is_some() && normalize_pypi(&c.name) == key)
        {
            dep.pin = c.pin.clone();
            dep.spec = format!(
                "{} (pinned by {} `{}`)",
                dep.spec,
                c.via.as_deref().unwrap_or("a constraints file"),
                c.spec
            );
        }
    }
}

/// Logical lines with the number of their first physical line: a trailing
/// backslash continues a line, as in pip.
fn logical_lines(text: &str) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut start = 0u32;
    for (i, raw) in text.lines().enumerate() {
        let n = i as u32 + 1;
        if cur.is_empty() {
            start = n;
        }
        match raw.strip_suffix('\\') {
            Some(head) => {
                cur.push_str(head);
                cur.push(' ');
            }
            None => {
                cur.push_str(raw);
                out.push((start, std::mem::take(&mut cur)));
            }
        }
    }
    if !cur.trim().is_empty() {
        out.push((start, cur));
    }
    out
}

/// pip: `#` starts a comment at the line start or after whitespace, so URL
/// fragments (`#egg=`, `#sha256=`) survive.
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            return &line[..i];
        }
    }
    line
}

fn is_editable(line: &str) -> bool {
    let (opt, _) = split_option(line);
    matches!(opt, "-e" | "--editable")
}

/// `--opt=value`, `--opt value`, `-rfile` (optparse's attached short form).
fn split_option(line: &str) -> (&str, Option<&str>) {
    let (head, rest) = match line.find(char::is_whitespace) {
        Some(i) => (&line[..i], Some(line[i..].trim())),
        None => (line, None),
    };
    let rest = rest.filter(|r| !r.is_empty());
    if let Some((opt, v)) = head.split_once('=').filter(|_| head.starts_with("--")) {
        return (opt, Some(v));
    }
    // `-rfile.txt`: the option is the dash and one character (which need
    // not be ASCII in hostile input).
    if !head.starts_with("--")
        && let Some((i, _)) = head.char_indices().nth(2)
    {
        return (&head[..i], Some(&head[i..]));
    }
    (head, rest.map(|r| r.split_whitespace().next().unwrap_or(r)))
}

/// One requirement line (options already split off by the caller's grammar).
/// `Ok(None)` for lines that install nothing nameable and carry no risk.
fn requirement(line: &str) -> Result<Option<Dependency>, String> {
    // pip: the requirement ends at the first token that starts with `-`.
    let mut req_tokens = Vec::new();
    let mut opts = Vec::new();
    let mut in_opts = false;
    let mut editable = false;
    for (i, tok) in line.split_whitespace().enumerate() {
        if i == 0 && (tok == "-e" || tok == "--editable") {
            editable = true;
            continue;
        }
        if let Some(v) = tok
            .strip_prefix("--editable=")
            .or_else(|| tok.strip_prefix("-e").filter(|v| i == 0 && !v.is_empty()))
        {
            editable = true;
            req_tokens.push(v);
            continue;
        }
        if tok.starts_with('-') {
            in_opts = true;
        }
        if in_opts {
            opts.push(tok);
        } else {
            req_tokens.push(tok);
        }
    }
    let hashes = opts
        .iter()
        .enumerate()
        .filter(|(i, o)| o.starts_with("--hash=") || (**o == "--hash" && opts.get(i + 1).is_some()))
        .count();
    let req = req_tokens.join(" ");
    if req.is_empty() {
        return Err(format!("requirement options without a requirement: {line}"));
    }
    let mut dep = if editable || looks_like_url_or_path(&req) {
        url_requirement(&req)
    } else {
        let parsed = super::pep508(&req)?;
        let pin = match &parsed.version_or_url {
            None => Pin::Any,
            Some(pep508_rs::VersionOrUrl::VersionSpecifier(s)) => super::pin_of_specifiers(s),
            Some(pep508_rs::VersionOrUrl::Url(u)) => {
                let url = u.to_string();
                Pin::Url {
                    immutable: url_is_immutable(&url),
                    url,
                }
            }
        };
        Dependency::new(parsed.name.to_string(), pin, req.clone())
    };
    dep.hashes = hashes;
    Ok(Some(dep))
}

fn looks_like_url_or_path(req: &str) -> bool {
    let scheme = req.split_once("://").is_some_and(|(s, _)| {
        !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '+')
    });
    scheme
        || req.starts_with("file:")
        || req.starts_with('.')
        || req.starts_with('/')
        || req.starts_with('~')
        || ARCHIVE_SUFFIXES.iter().any(|s| req.ends_with(s))
}

const ARCHIVE_SUFFIXES: &[&str] = &[".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz"];

/// A bare URL, path or VCS reference. The name comes from `#egg=`, else from
/// a wheel or sdist file name, which also gives an exact version.
fn url_requirement(req: &str) -> Dependency {
    let (url, fragment) = req.split_once('#').unwrap_or((req, ""));
    let egg = fragment
        .split('&')
        .find_map(|kv| kv.strip_prefix("egg="))
        .map(|e| e.to_owned());
    let file = url.rsplit('/').next().unwrap_or(url);
    let local = req.starts_with("file:") || !req.contains("://");
    let vcs = ["git+", "hg+", "svn+", "bzr+"]
        .iter()
        .any(|p| req.starts_with(p));
    let from_file = archive_name_version(file).filter(|_| !vcs);
    let name = egg
        .clone()
        .or_else(|| from_file.as_ref().map(|(n, _)| n.clone()))
        .unwrap_or_default();
    let pin = match from_file {
        Some((_, v)) => Pin::Exact(v),
        None => Pin::Url {
            url: req.to_owned(),
            // Local paths are the project's own code: nothing is fetched.
            immutable: local || url_is_immutable(req),
        },
    };
    Dependency::new(name, pin, req.to_owned())
}

/// `torch-2.0.1-cp311-...whl` → (torch, 2.0.1); `pkg-1.0.tar.gz` → (pkg, 1.0).
fn archive_name_version(file: &str) -> Option<(String, String)> {
    if let Some(stem) = file.strip_suffix(".whl") {
        let mut parts = stem.split('-');
        let name = parts.next()?;
        let version = parts.next()?;
        return Some((name.to_owned(), version.to_owned()));
    }
    let stem = [".tar.gz", ".zip", ".tar.bz2", ".tgz"]
        .iter()
        .find_map(|s| file.strip_suffix(s))?;
    // The version starts at the last `-` followed by a digit.
    let idx = stem
        .char_indices()
        .filter(|(i, c)| *c == '-' && stem[i + 1..].starts_with(|d: char| d.is_ascii_digit()))
        .map(|(i, _)| i)
        .next_back()?;
    Some((stem[..idx].to_owned(), stem[idx + 1..].to_owned()))
}

/// A URL that always yields the same bytes: a VCS reference to a full commit
/// hash, or an archive URL with a hash fragment (pip verifies it).
fn url_is_immutable(url: &str) -> bool {
    let (base, fragment) = url.split_once('#').unwrap_or((url, ""));
    if ["sha256=", "sha384=", "sha512=", "sha1=", "md5="]
        .iter()
        .any(|h| fragment.contains(h))
    {
        return true;
    }
    let is_vcs = ["git+", "hg+", "svn+", "bzr+"]
        .iter()
        .any(|p| base.starts_with(p));
    if is_vcs {
        // The revision follows the last `@` of the path (not the userinfo).
        let path = base.split_once("://").map_or(base, |(_, p)| p);
        let path = path.split_once('/').map_or("", |(_, p)| p);
        return path
            .rsplit_once('@')
            .is_some_and(|(_, rev)| rev.len() >= 40 && rev.chars().all(|c| c.is_ascii_hexdigit()));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deps(text: &str) -> Vec<(String, Pin, usize, Option<u32>)> {
        let m = parse(text, None);
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        m.dependencies
            .into_iter()
            .map(|d| (d.name, d.pin, d.hashes, d.line))
            .collect()
    }
    fn exact(v: &str) -> Pin {
        Pin::Exact(v.into())
    }

    #[test]
    fn pip_syntax() {
        let text = "\
# comment
mlflow==1.23.1  # trailing comment
torch[cuda] >= 1.0 ; python_version >= \"3.8\"
numpy
requests==2.31.0 \\
    --hash=sha256:aaaa \\
    --hash sha256:bbbb
Jinja2 === 2.10
";
        assert_eq!(
            deps(text),
            vec![
                ("mlflow".into(), exact("1.23.1"), 0, Some(2)),
                ("torch".into(), Pin::Range(">=1.0".into()), 0, Some(3)),
                ("numpy".into(), Pin::Any, 0, Some(4)),
                ("requests".into(), exact("2.31.0"), 2, Some(5)),
                ("jinja2".into(), exact("2.10"), 0, Some(8)),
            ]
        );
    }

    #[test]
    fn urls_vcs_and_editables() {
        let d = deps(
            "\
-e git+https://github.com/org/proj.git@v1.0#egg=proj
git+https://github.com/org/lib.git@0123456789abcdef0123456789abcdef01234567#egg=lib
https://files.example/torch-2.0.1-cp311-cp311-linux_x86_64.whl
./vendor/gradio-3.0.tar.gz
-e .
fastapi @ https://example.com/fastapi.tar.gz#sha256=abcd
",
        );
        assert_eq!(d[0].0, "proj");
        assert!(matches!(
            &d[0].1,
            Pin::Url {
                immutable: false,
                ..
            }
        ));
        assert!(matches!(
            &d[1].1,
            Pin::Url {
                immutable: true,
                ..
            }
        ));
        assert_eq!((d[2].0.as_str(), &d[2].1), ("torch", &exact("2.0.1")));
        assert_eq!((d[3].0.as_str(), &d[3].1), ("gradio", &exact("3.0")));
        assert!(matches!(
            &d[4].1,
            Pin::Url {
                immutable: true,
                ..
            }
        ));
        assert_eq!(d[5].0, "fastapi");
        assert!(matches!(
            &d[5].1,
            Pin::Url {
                immutable: true,
                ..
            }
        ));
    }

    #[test]
    fn options_and_indexes() {
        let m = parse(
            "--index-url https://pypi.internal/simple\n--extra-index-url=http://mirror.local/simple\n-f ./wheels\n--trusted-host mirror.local\n--require-hashes\n--frobnicate\n",
            None,
        );
        let kinds: Vec<_> = m
            .indexes
            .iter()
            .map(|i| (i.kind, i.url.as_str(), i.line))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (IndexKind::Primary, "https://pypi.internal/simple", Some(1)),
                (IndexKind::Extra, "http://mirror.local/simple", Some(2)),
                (IndexKind::FindLinks, "./wheels", Some(3)),
                (IndexKind::TrustedHost, "mirror.local", Some(4)),
            ]
        );
        assert!(m.require_hashes);
        assert_eq!(m.problems.len(), 1);
        assert_eq!(m.problems[0].message, "unknown pip option --frobnicate");
        assert_eq!(m.problems[0].line, Some(6));
    }

    #[test]
    fn bad_lines_are_problems_and_the_rest_parses() {
        let m = parse("torch==\nnumpy==1.0\n", None);
        assert_eq!(m.dependencies.len(), 1);
        assert_eq!(m.problems.len(), 1);
        assert_eq!(m.problems[0].line, Some(1));
        assert!(
            m.problems[0]
                .message
                .starts_with("invalid requirement `torch==`"),
            "{}",
            m.problems[0].message
        );
    }

    #[test]
    fn includes_constraints_and_loops() {
        let dir = tempfile::tempdir().unwrap();
        let w = |n: &str, t: &str| std::fs::write(dir.path().join(n), t).unwrap();
        w(
            "requirements.txt",
            "-r base.pip\n-c pins.pip\n-r requirements-dev.txt\ntransformers\n",
        );
        w("base.pip", "gradio==3.0\n-r requirements.txt\n");
        w("pins.pip", "transformers==4.30.0\n");
        w("requirements-dev.txt", "pytest==7.0\n-r missing.txt\n");
        let top = dir.path().join("requirements.txt");
        let m = parse(&std::fs::read_to_string(&top).unwrap(), Some(&top));
        let names: Vec<_> = m
            .dependencies
            .iter()
            .map(|d| (d.name.as_str(), d.version(), d.via.is_some()))
            .collect();
        // pytest is in a file scanned on its own, so it is not repeated here.
        assert_eq!(
            names,
            vec![
                ("gradio", Some("3.0"), true),
                ("transformers", Some("4.30.0"), false)
            ]
        );
        assert_eq!(m.problems.len(), 2, "{:?}", m.problems);
        assert!(
            m.problems[0]
                .message
                .contains("include loop (requirements.txt -> base.pip -> requirements.txt)"),
            "{}",
            m.problems[0].message
        );
        assert_eq!(m.problems[0].line, Some(1));
        assert!(m.problems[1].message.contains("missing.txt"));
        assert_eq!(m.problems[1].line, Some(3));
    }

    #[test]
    fn no_panic_on_odd_input() {
        for t in [
            "-",
            "--",
            "-e",
            "\\",
            "#",
            "-r",
            "a @",
            "[x]",
            "@",
            "-e=",
            "x==1 --hash",
            "descriptio. \ndescription ",
            "-\u{396}nd-xeurl https://x",
            "\u{0}",
        ] {
            let _ = parse(t, None);
        }
    }
}
