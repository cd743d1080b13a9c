//! pip requirements files: `requirements*.txt`, constraints files and
//! pip-compile inputs, with the option syntax pip accepts.
//!
//! The line grammar (continuations, comments, options, per-requirement
//! options) is pip's own and has no crate, so it is written here, following
//! pip's `req_file.py`; each requirement itself is parsed by `pep508_rs`.
//! `-r`/`-c` includes are never opened here: they are read through the
//! [`Includes`] reader the caller passes, which for a scan is the engine's
//! confined [`aisec_core::ScanContext::read_sibling`] (inside the scanned
//! tree only, regular files only, bounded). An include that leaves the tree
//! is recorded in [`Manifest::escapes`] and nothing of it is read; nothing
//! is ever fetched from the network.

use aisec_core::{Sibling, SiblingError, excerpt};

use super::{Dependency, Escape, IndexKind, IndexSource, Manifest, ManifestKind, Pin, Problem};
use crate::ecosystem::normalize_pypi;

/// Includes nested deeper than this are certainly a mistake (or an attack on
/// the scanner); pip itself has no limit but recursion.
const MAX_INCLUDE_DEPTH: usize = 16;

/// How a requirements file reads the files it includes.
pub struct Includes<'a> {
    /// The scanned file as `read` names files ([`Sibling::display`]), so an
    /// include loop back to it is recognised.
    pub from: &'a str,
    /// Reads a file named relative to the scanned file's directory (pip
    /// resolves a nested include against its own file's directory; the
    /// parser composes that path). For a scan this is
    /// `|r| ctx.read_sibling(file, r)`; it must refuse anything outside the
    /// scanned tree with [`SiblingError::OutsideRoot`].
    pub read: &'a (dyn Fn(&str) -> Result<Sibling, SiblingError> + 'a),
}

/// Parses a requirements file. `includes` reads its `-r`/`-c` includes;
/// without one they are reported as not followed.
///
/// Dependencies of an included file are returned only when that file would
/// not be scanned on its own (its name is not a requirements-file name), so
/// a scan of a tree reports each dependency once, at the file that names it.
/// Includes are still followed for loops, errors, indexes and `-c` pins.
pub fn parse(text: &str, includes: Option<&Includes<'_>>) -> Manifest {
    let mut out = Manifest::default();
    let mut constraints = Vec::new();
    let mut walk = Walk {
        includes,
        stack: includes.map(|i| i.from.to_owned()).into_iter().collect(),
    };
    let top = Node {
        via: None,
        dir: String::new(),
    };
    parse_into(
        text,
        &top,
        &mut walk,
        &mut out,
        &mut constraints,
        Context::Top,
    );
    apply_constraints(&mut out.dependencies, &constraints);
    out
}

/// The state of following includes from one scanned file.
struct Walk<'a> {
    includes: Option<&'a Includes<'a>>,
    /// The files being parsed, outermost first, as the reader names them.
    stack: Vec<String>,
}

/// A file being parsed.
struct Node {
    /// The included file as the reader names it; `None` for the scanned file.
    via: Option<String>,
    /// Its directory, as a path relative to the scanned file's directory
    /// (`""` for the scanned file): what its own includes are joined to.
    dir: String,
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
    node: &Node,
    walk: &mut Walk<'_>,
    out: &mut Manifest,
    constraints: &mut Vec<Dependency>,
    ctx: Context,
) {
    let via = node.via.clone();
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
                        node,
                        walk,
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
                _ => problem(out, line, format!("unknown pip option {}", excerpt(opt))),
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
    node: &Node,
    walk: &mut Walk<'_>,
    out: &mut Manifest,
    constraints: &mut Vec<Dependency>,
    ctx: Context,
    problem: &dyn Fn(&mut Manifest, u32, String),
) {
    let what = if constraint { "-c" } else { "-r" };
    // The reference as written is the scanned file's content: quoted only
    // as an excerpt (a URL may carry a token).
    let shown = excerpt(target);
    if target.contains("://") {
        problem(
            out,
            line,
            format!(
                "{what} {shown}: remote includes are not fetched; their requirements were not checked"
            ),
        );
        return;
    }
    let Some(includes) = walk.includes else {
        problem(
            out,
            line,
            format!(
                "{what} {shown}: includes are not followed here; their requirements were not checked"
            ),
        );
        return;
    };
    if walk.stack.len() > MAX_INCLUDE_DEPTH {
        problem(
            out,
            line,
            format!(
                "{what} {shown}: includes nested more than {MAX_INCLUDE_DEPTH} deep; not followed"
            ),
        );
        return;
    }
    // pip joins a relative include to the directory of the file that names
    // it; the reader resolves against the scanned file's directory, so the
    // path is composed here. An absolute one goes as is (and is refused).
    let absolute = target.starts_with(['/', '\\'])
        || target
            .as_bytes()
            .get(1..3)
            .is_some_and(|d| d == b":\\" || d == b":/");
    let reference = if node.dir.is_empty() || absolute {
        target.to_owned()
    } else {
        format!("{}/{target}", node.dir)
    };
    let sibling = match (includes.read)(&reference) {
        Ok(s) => s,
        Err(SiblingError::OutsideRoot) => {
            // Not read, and not quoted beyond the reference: a finding of
            // its own at the include line of the scanned file.
            out.escapes.push(Escape {
                reference: target.to_owned(),
                line: top_line(ctx, line),
            });
            return;
        }
        Err(e) => {
            problem(out, line, format!("{what} {shown}: {e}"));
            return;
        }
    };
    if let Some(pos) = walk.stack.iter().position(|p| *p == sibling.display) {
        let chain: Vec<&str> = walk.stack[pos..]
            .iter()
            .map(String::as_str)
            .chain(std::iter::once(sibling.display.as_str()))
            .map(|p| p.rsplit(['/', '\\']).next().unwrap_or(p))
            .collect();
        problem(
            out,
            line,
            format!(
                "{what} {shown}: include loop ({}); not followed again",
                chain.join(" -> ")
            ),
        );
        return;
    }
    let Ok(text) = std::str::from_utf8(&sibling.bytes) else {
        problem(out, line, format!("{what} {shown}: not UTF-8 text"));
        return;
    };
    let child_ctx = if constraint || ctx == Context::Constraint {
        Context::Constraint
    } else {
        let scanned_alone =
            ManifestKind::from_path(&sibling.display) == Some(ManifestKind::Requirements);
        let parent_reports = matches!(ctx, Context::Top | Context::Include { report: true });
        Context::Include {
            report: parent_reports && !scanned_alone,
        }
    };
    let child = Node {
        via: Some(sibling.display.clone()),
        dir: reference
            .rsplit_once(['/', '\\'])
            .map_or(String::new(), |(d, _)| d.to_owned()),
    };
    walk.stack.push(sibling.display.clone());
    let mut inner = Manifest::default();
    parse_into(text, &child, walk, &mut inner, constraints, child_ctx);
    walk.stack.pop();
    for mut p in inner.problems {
        // Surface nested problems at this include line of the scanned file.
        if ctx == Context::Top {
            p.line = Some(line);
        }
        out.problems.push(p);
    }
    for mut e in inner.escapes {
        e.line = top_line(ctx, line);
        out.escapes.push(e);
    }
    out.dependencies.extend(inner.dependencies);
    for mut i in inner.indexes {
        i.line = top_line(ctx, line);
        out.indexes.push(i);
    }
    out.require_hashes |= inner.require_hashes;
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
        return Err(format!(
            "requirement options without a requirement: {}",
            excerpt(line)
        ));
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

    /// An in-memory tree read the way the engine reads one (core's
    /// [`aisec_core::MemorySiblings`]: paths relative to the scanned file's
    /// directory, `..` above the root and absolute paths refused as outside
    /// the tree), with the references asked for logged.
    fn tree_parse(files: &[(&str, &str)], top: &str) -> (Manifest, Vec<String>) {
        use aisec_core::SiblingSource;
        let tree = aisec_core::MemorySiblings::new(files.iter().copied());
        let read_log = std::cell::RefCell::new(Vec::new());
        let read = |reference: &str| -> Result<Sibling, SiblingError> {
            read_log.borrow_mut().push(reference.to_owned());
            tree.read(top, reference)
        };
        let text = files.iter().find(|(n, _)| *n == top).unwrap().1;
        let includes = Includes {
            from: top,
            read: &read,
        };
        let m = parse(text, Some(&includes));
        (m, read_log.into_inner())
    }

    #[test]
    fn includes_constraints_and_loops() {
        let files = [
            (
                "requirements.txt",
                "-r base.pip\n-c pins.pip\n-r requirements-dev.txt\ntransformers\n",
            ),
            ("base.pip", "gradio==3.0\n-r requirements.txt\n"),
            ("pins.pip", "transformers==4.30.0\n"),
            ("requirements-dev.txt", "pytest==7.0\n-r missing.txt\n"),
        ];
        let (m, _) = tree_parse(&files, "requirements.txt");
        let names: Vec<_> = m
            .dependencies
            .iter()
            .map(|d| (d.name.as_str(), d.version(), d.via.as_deref()))
            .collect();
        // pytest is in a file scanned on its own, so it is not repeated here.
        assert_eq!(
            names,
            vec![
                ("gradio", Some("3.0"), Some("base.pip")),
                ("transformers", Some("4.30.0"), None)
            ]
        );
        assert!(
            m.dependencies[1].spec.contains("pinned by pins.pip"),
            "{}",
            m.dependencies[1].spec
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
        assert!(
            m.problems[1]
                .message
                .starts_with("requirements-dev.txt:2: -r missing.txt: no such file"),
            "{}",
            m.problems[1].message
        );
        assert_eq!(m.problems[1].line, Some(3));
        assert!(m.escapes.is_empty());
    }

    #[test]
    fn nested_includes_resolve_against_their_own_directory() {
        let files = [
            ("repo/requirements.txt", "-r reqs/base.pip\n"),
            (
                "repo/reqs/base.pip",
                "-r common.pip\n-c ../../../etc/x.txt\n",
            ),
            ("repo/reqs/common.pip", "numpy\n"),
        ];
        let (m, reads) = tree_parse(&files, "repo/requirements.txt");
        assert_eq!(
            reads,
            [
                "reqs/base.pip",
                "reqs/common.pip",
                "reqs/../../../etc/x.txt"
            ]
        );
        assert_eq!(m.dependencies[0].name, "numpy");
        assert_eq!(
            m.dependencies[0].via.as_deref(),
            Some("repo/reqs/common.pip")
        );
        // The escape is shown at the include line of the scanned file, by
        // the reference as written.
        assert_eq!(
            m.escapes,
            vec![Escape {
                reference: "../../../etc/x.txt".into(),
                line: Some(1)
            }]
        );
    }

    #[test]
    fn escapes_are_not_read_and_other_refusals_are_problems() {
        let files = [(
            "requirements.txt",
            "-r /proc/self/environ\n-c /proc/self/environ\n--requirement=../outside/private.txt\n--constraint ../x.txt\n-rhttps://user:ghp_1234567890abcdefghijABCDEFGHIJ0123@host/r.txt\n",
        )];
        let (m, _) = tree_parse(&files, "requirements.txt");
        let escapes: Vec<_> = m
            .escapes
            .iter()
            .map(|e| (e.reference.as_str(), e.line))
            .collect();
        assert_eq!(
            escapes,
            vec![
                ("/proc/self/environ", Some(1)),
                ("/proc/self/environ", Some(2)),
                ("../outside/private.txt", Some(3)),
                ("../x.txt", Some(4)),
            ]
        );
        assert_eq!(m.problems.len(), 1, "{:?}", m.problems);
        assert!(
            m.problems[0]
                .message
                .contains("remote includes are not fetched")
        );
        assert!(
            !m.problems[0].message.contains("1234567890abcdef"),
            "{}",
            m.problems[0].message
        );
        // Without a reader nothing is followed, and it says so.
        let m = parse("-r base.txt\n", None);
        assert!(
            m.problems[0].message.contains("not followed"),
            "{:?}",
            m.problems
        );
        assert!(m.escapes.is_empty());
    }

    #[test]
    fn broken_lines_are_quoted_as_redacted_excerpts() {
        let token = "ghp_1234567890abcdefghijABCDEFGHIJ0123";
        let long = "x".repeat(500);
        let m = parse(
            &format!(
                "torch== {token}\n--{token}\n--hash=sha256:{token}\nfoo @@ {long}\npkg[a. ]==1 {token}\n"
            ),
            None,
        );
        assert_eq!(m.problems.len(), 5, "{:?}", m.problems);
        for p in &m.problems {
            assert!(!p.message.contains("1234567890abcdef"), "{}", p.message);
            assert!(p.message.chars().count() < 400, "{}", p.message);
        }
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
