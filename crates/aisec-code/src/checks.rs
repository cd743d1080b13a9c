//! Per-call rules: each looks at one resolved call and its arguments.
//! Deserialization (001-005), remote code and pinning (006-007), LLM framework
//! options (008) and web/transport hygiene (011-014).

use aisec_core::{Confidence, Rule, Severity};
use tree_sitter::Node;

use crate::python::{Args, Module, literal_bool};
use crate::rules::*;

/// One result of a rule, before it becomes a [`aisec_core::Finding`].
#[derive(Debug, Clone)]
pub struct Hit {
    pub rule: &'static Rule,
    /// 0-based row and column of the node in the analysed source.
    pub row: usize,
    pub column: usize,
    pub end_row: usize,
    pub message: String,
    pub evidence: String,
    pub severity: Severity,
    pub confidence: Confidence,
}

impl Hit {
    pub fn at(rule: &'static Rule, node: Node<'_>, message: String, evidence: String) -> Self {
        Hit {
            rule,
            row: node.start_position().row,
            column: node.start_position().column,
            end_row: node.end_position().row,
            message,
            evidence,
            severity: rule.default_severity,
            confidence: Confidence::High,
        }
    }

    pub fn severity(mut self, s: Severity) -> Self {
        self.severity = s;
        self
    }

    pub fn confidence(mut self, c: Confidence) -> Self {
        self.confidence = c;
        self
    }
}

/// Unpickling callables, matched on the resolved name. `cPickle`/`_pickle`
/// are pickle's C halves; `sklearn.externals.joblib` is the old vendored copy.
const PICKLE_LOADERS: &[&str] = &[
    "pickle.load",
    "pickle.loads",
    "pickle.Unpickler",
    "pickle._load",
    "pickle._loads",
    "cPickle.load",
    "cPickle.loads",
    "cPickle.Unpickler",
    "_pickle.load",
    "_pickle.loads",
    "_pickle.Unpickler",
    "cloudpickle.load",
    "cloudpickle.loads",
    "dill.load",
    "dill.loads",
    "dill.Unpickler",
    "joblib.load",
    "sklearn.externals.joblib.load",
    "pandas.read_pickle",
    "shelve.open",
    "marshal.load",
    "marshal.loads",
    "jsonpickle.decode",
    "jsonpickle.unpickler.decode",
];

const SAFE_YAML_LOADERS: &[&str] = &["SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader"];

/// Libraries whose `load_model` is Keras's.
fn is_keras_load_model(q: &str) -> bool {
    (q.starts_with("keras.") || q.starts_with("tensorflow.keras.") || q.starts_with("tf_keras."))
        && q.ends_with(".load_model")
}

/// Hub fetchers whose first argument (or `repo_id`) names a repository.
fn hub_fetch_id_param(q: &str) -> Option<(&'static str, usize)> {
    if q.ends_with(".from_pretrained") || q == "from_pretrained" {
        return Some(("pretrained_model_name_or_path", 0));
    }
    match q {
        "datasets.load_dataset" => Some(("path", 0)),
        "huggingface_hub.hf_hub_download" | "huggingface_hub.snapshot_download" => {
            Some(("repo_id", 0))
        }
        "transformers.pipeline" => Some(("model", usize::MAX)),
        "sentence_transformers.SentenceTransformer" => Some(("model_name_or_path", 0)),
        _ => None,
    }
}

const LLM_DANGEROUS_KWARGS: &[(&str, &str, Severity)] = &[
    (
        "allow_dangerous_deserialization",
        "allow_dangerous_deserialization=True unpickles the index files: whoever can write them runs code",
        Severity::High,
    ),
    (
        "allow_dangerous_code",
        "allow_dangerous_code=True lets the agent execute Python the model writes",
        Severity::High,
    ),
    (
        "allow_dangerous_requests",
        "allow_dangerous_requests=True lets the model make arbitrary HTTP requests (SSRF)",
        Severity::Medium,
    ),
];

/// Interpreter tools: the last segment of the constructor, and the libraries it
/// must come from (so that a user's own `ShellTool` class is not reported).
const LLM_EXEC_TOOLS: &[&str] = &[
    "PythonREPLTool",
    "PythonREPL",
    "PythonAstREPLTool",
    "ShellTool",
    "BashProcess",
    "PandasQueryEngine",
    "CodeInterpreterToolSpec",
];
const LLM_LIB_PREFIXES: &[&str] = &["langchain", "llama_index", "langchain_experimental"];
const LOAD_TOOLS_EXEC: &[&str] = &["terminal", "python_repl", "shell", "bash"];

/// Fetchers of remote files; `true` when only a keyword names the URL.
const DOWNLOADERS: &[&str] = &[
    "urllib.request.urlretrieve",
    "urllib.request.urlopen",
    "urllib.urlretrieve",
    "urllib.urlopen",
    "urllib2.urlopen",
    "wget.download",
    "torch.hub.load_state_dict_from_url",
    "torch.hub.download_url_to_file",
    "torch.utils.model_zoo.load_url",
    "torchvision.datasets.utils.download_url",
    "torchvision.datasets.utils.download_and_extract_archive",
    "keras.utils.get_file",
    "tensorflow.keras.utils.get_file",
    "gdown.download",
    "datasets.load_dataset",
    "huggingface_hub.hf_hub_download",
];

fn is_http_client(q: &str) -> bool {
    let root = q.split('.').next().unwrap_or("");
    matches!(root, "requests" | "httpx")
}

/// Request methods of HTTP clients; constructors (`httpx.Client(base_url=...)`)
/// fetch nothing themselves.
const HTTP_VERBS: &[&str] = &[
    "get", "post", "put", "patch", "delete", "head", "request", "stream", "options",
];

fn is_downloader(q: &str) -> bool {
    DOWNLOADERS.contains(&q)
        || (is_http_client(q) && HTTP_VERBS.contains(&q.rsplit('.').next().unwrap_or("")))
        || (q.starts_with("pandas.read_") && !q.ends_with("read_pickle"))
}

/// `http://` to somewhere other than this machine or the local network name
/// space: those are the cases a network attacker can reach.
pub fn is_remote_plain_http(url: &str) -> bool {
    let Some(rest) = url
        .get(..7)
        .filter(|p| p.eq_ignore_ascii_case("http://"))
        .map(|_| &url[7..])
    else {
        return false;
    };
    let host = rest
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("")
        .rsplit('@')
        .next()
        .unwrap_or("");
    let host = host.split(':').next().unwrap_or("").to_ascii_lowercase();
    !(host.is_empty()
        || host == "localhost"
        || host.starts_with("127.")
        || host == "0.0.0.0"
        || host.starts_with('[')
        || host.ends_with(".local")
        || host.ends_with(".localhost")
        || host.contains('{'))
}

fn short(s: &str) -> String {
    const MAX: usize = 120;
    let one_line = s.split('\n').next().unwrap_or("");
    if one_line.len() <= MAX && !s.contains('\n') {
        return one_line.to_owned();
    }
    let mut end = one_line.len().min(MAX);
    while !one_line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &one_line[..end])
}

/// Facts about the whole file that some rules weigh.
pub struct FileFacts {
    pub imports_tarfile: bool,
    pub imports_zipfile: bool,
    /// Any import or name that suggests the app authenticates requests.
    pub has_auth_signals: bool,
}

impl FileFacts {
    pub fn of(m: &Module<'_>) -> Self {
        let has = |r: &str| m.imported_roots.iter().any(|x| x == r);
        let auth_words = [
            "auth",
            "login",
            "jwt",
            "security",
            "oauth",
            "keycloak",
            "firebase_admin",
        ];
        let has_auth_import = m.imported_roots.iter().any(|r| {
            let r = r.to_ascii_lowercase();
            auth_words.iter().any(|w| r.contains(w))
        });
        let has_auth_names = m.nodes().into_iter().any(|n| {
            n.kind() == "identifier" && {
                let t = m.text(n);
                matches!(
                    t,
                    "Depends"
                        | "Security"
                        | "HTTPBearer"
                        | "HTTPBasic"
                        | "APIKeyHeader"
                        | "OAuth2PasswordBearer"
                        | "login_required"
                        | "requires_auth"
                        | "auth_required"
                )
            }
        });
        FileFacts {
            imports_tarfile: has("tarfile"),
            imports_zipfile: has("zipfile"),
            has_auth_signals: has_auth_import || has_auth_names,
        }
    }
}

/// Runs every per-call rule on one call node.
pub fn check_call(m: &Module<'_>, facts: &FileFacts, call: Node<'_>, out: &mut Vec<Hit>) {
    let Some(q) = m.callee(call) else {
        return;
    };
    let args = Args::of(m, call);
    let callee_text = call
        .child_by_field_name("function")
        .map(|f| short(m.text(f)))
        .unwrap_or_default();
    let evidence = short(m.text(call));

    // 001 torch.load
    if q == "torch.load" || q == "torch.serialization.load" {
        match args.keyword("weights_only").map(|v| (v, literal_bool(v))) {
            Some((_, Some(true))) => {}
            Some((_, Some(false))) => out.push(Hit::at(
                &TORCH_LOAD,
                call,
                format!("`{callee_text}` with weights_only=False unpickles the checkpoint: a malicious file runs code when loaded"),
                evidence.clone(),
            )),
            Some((_, None)) => out.push(
                Hit::at(
                    &TORCH_LOAD,
                    call,
                    format!("`{callee_text}` takes weights_only from an expression; unless it is always True the checkpoint is unpickled"),
                    evidence.clone(),
                )
                .severity(Severity::Medium)
                .confidence(Confidence::Low),
            ),
            None => out.push(
                Hit::at(
                    &TORCH_LOAD,
                    call,
                    format!("`{callee_text}` without weights_only=True unpickles the checkpoint on PyTorch < 2.6"),
                    evidence.clone(),
                )
                .severity(Severity::Medium)
                .confidence(if args.has_kwargs_splat { Confidence::Low } else { Confidence::Medium }),
            ),
        }
    }

    // 002 pickle family
    if PICKLE_LOADERS.contains(&q.as_str()) {
        let what = if q.starts_with("marshal.") {
            "unmarshals code objects"
        } else if q == "shelve.open" {
            "opens a shelf, which unpickles every value read"
        } else {
            "unpickles its input"
        };
        let shown = if callee_text == q {
            format!("`{q}`")
        } else {
            format!("`{callee_text}` ({q})")
        };
        out.push(Hit::at(
            &PICKLE_LOAD,
            call,
            format!("{shown} {what}: untrusted data runs code when loaded"),
            evidence.clone(),
        ));
    }

    // 003 numpy allow_pickle
    if q == "numpy.load" && args.get("allow_pickle", 2).and_then(literal_bool) == Some(true) {
        out.push(Hit::at(
            &NUMPY_ALLOW_PICKLE,
            call,
            format!("`{callee_text}` with allow_pickle=True unpickles object arrays from the file"),
            evidence.clone(),
        ));
    }

    // 004 yaml
    check_yaml(m, &q, &args, call, &callee_text, &evidence, out);

    // 005 keras
    if is_keras_load_model(&q) && args.keyword("safe_mode").and_then(literal_bool) == Some(false) {
        out.push(Hit::at(
            &KERAS_UNSAFE,
            call,
            format!("`{callee_text}` with safe_mode=False deserializes Lambda layers: the model file runs code"),
            evidence.clone(),
        ));
    }
    if q.ends_with("enable_unsafe_deserialization")
        && (q.starts_with("keras.") || q.starts_with("tensorflow.keras."))
    {
        out.push(Hit::at(
            &KERAS_UNSAFE,
            call,
            "unsafe Keras deserialization enabled for the whole process".to_owned(),
            evidence.clone(),
        ));
    }

    // 006 trust_remote_code / torch.hub.load
    let trusts_remote = args.keyword("trust_remote_code").and_then(literal_bool) == Some(true);
    if trusts_remote {
        out.push(Hit::at(
            &TRUST_REMOTE_CODE,
            call,
            format!("`{callee_text}` with trust_remote_code=True imports Python code from the model or dataset repository"),
            evidence.clone(),
        ));
    }
    if q == "torch.hub.load" {
        let repo = args.get("repo_or_dir", 0).and_then(|n| m.string_literal(n));
        let local = args
            .keyword("source")
            .and_then(|n| m.string_literal(n))
            .is_some_and(|s| s == "local");
        if !local {
            out.push(
                Hit::at(
                    &TRUST_REMOTE_CODE,
                    call,
                    format!(
                        "`{callee_text}` imports hubconf.py from the repository {}",
                        repo.as_deref()
                            .map(|r| format!("`{r}`"))
                            .unwrap_or_else(|| "given at run time".into())
                    ),
                    evidence.clone(),
                )
                .severity(Severity::Medium),
            );
        }
    }

    // 007 unpinned hub revision
    if let Some((param, pos)) = hub_fetch_id_param(&q) {
        check_revision(
            m,
            &args,
            param,
            pos,
            trusts_remote,
            call,
            &callee_text,
            &evidence,
            out,
        );
    }

    // 008 LLM framework dangerous options and tools
    for (kw, msg, sev) in LLM_DANGEROUS_KWARGS {
        if args.keyword(kw).and_then(literal_bool) == Some(true) {
            out.push(
                Hit::at(
                    &LLM_DANGEROUS_OPTION,
                    call,
                    format!("`{callee_text}`: {msg}"),
                    evidence.clone(),
                )
                .severity(*sev),
            );
        }
    }
    let last = q.rsplit('.').next().unwrap_or("");
    if LLM_EXEC_TOOLS.contains(&last) && LLM_LIB_PREFIXES.iter().any(|p| q.starts_with(p)) {
        out.push(Hit::at(
            &LLM_DANGEROUS_OPTION,
            call,
            format!(
                "`{last}` gives the model an interpreter: a prompt injection becomes code execution"
            ),
            evidence.clone(),
        ));
    }
    if last == "load_tools"
        && LLM_LIB_PREFIXES.iter().any(|p| q.starts_with(p))
        && let Some(list) = args.get("tool_names", 0)
    {
        for item in crate::python::descendants(list) {
            if let Some(s) = m
                .string_literal(item)
                .filter(|s| LOAD_TOOLS_EXEC.contains(&s.as_str()))
            {
                out.push(Hit::at(
                    &LLM_DANGEROUS_OPTION,
                    item,
                    format!("load_tools enables the `{s}` tool: the model can run commands"),
                    evidence.clone(),
                ));
            }
        }
    }

    // 011 TLS verification
    if (is_http_client(&q)
        || q.contains("requests.Session()")
        || q.contains("httpx.Client()")
        || q.contains("httpx.AsyncClient()"))
        && args.keyword("verify").and_then(literal_bool) == Some(false)
    {
        out.push(Hit::at(
            &TLS_VERIFY_DISABLED,
            call,
            format!("`{callee_text}` with verify=False accepts any certificate"),
            evidence.clone(),
        ));
    }
    if q == "ssl._create_unverified_context" {
        out.push(Hit::at(
            &TLS_VERIFY_DISABLED,
            call,
            "ssl._create_unverified_context() disables certificate and host name checks".to_owned(),
            evidence.clone(),
        ));
    }

    // 012 http downloads
    if is_downloader(&q) {
        for arg in args.all() {
            if let Some(url) = m.string_literal(arg).filter(|u| is_remote_plain_http(u)) {
                out.push(Hit::at(
                    &HTTP_DOWNLOAD,
                    arg,
                    format!("`{callee_text}` fetches `{}` over plain http", short(&url)),
                    short(&url),
                ));
                break;
            }
        }
    }

    // 013 tar extraction
    check_tar(&q, &args, facts, m, call, &callee_text, &evidence, out);

    // 014 exposed apps
    check_app(m, &q, &args, facts, call, &callee_text, &evidence, out);
}

fn check_yaml(
    m: &Module<'_>,
    q: &str,
    args: &Args<'_>,
    call: Node<'_>,
    callee_text: &str,
    evidence: &str,
    out: &mut Vec<Hit>,
) {
    match q {
        "yaml.unsafe_load" | "yaml.unsafe_load_all" => out.push(Hit::at(
            &YAML_UNSAFE,
            call,
            format!("`{callee_text}` constructs arbitrary Python objects from the document"),
            evidence.to_owned(),
        )),
        "yaml.load" | "yaml.load_all" => {
            let loader = args.get("Loader", 1);
            match loader.and_then(|l| m.qualname(l)) {
                Some(l) if SAFE_YAML_LOADERS.iter().any(|s| l.rsplit('.').next() == Some(s)) => {}
                Some(l) => out.push(
                    Hit::at(
                        &YAML_UNSAFE,
                        call,
                        format!("`{callee_text}` with Loader={} can construct arbitrary Python objects", short(&l)),
                        evidence.to_owned(),
                    )
                    .confidence(if l.ends_with("Loader") { Confidence::High } else { Confidence::Medium }),
                ),
                None if loader.is_some() => {}
                None => out.push(
                    Hit::at(
                        &YAML_UNSAFE,
                        call,
                        format!("`{callee_text}` without a safe Loader: unsafe on PyYAML < 5.1 and an error on 6"),
                        evidence.to_owned(),
                    )
                    .confidence(if args.has_kwargs_splat { Confidence::Low } else { Confidence::Medium }),
                ),
            }
        }
        _ if (q == "ruamel.yaml.YAML" || q == "ruamel.yaml.main.YAML")
            && args
                .keyword("typ")
                .and_then(|t| m.string_literal(t))
                .as_deref()
                == Some("unsafe") =>
        {
            out.push(Hit::at(
                &YAML_UNSAFE,
                call,
                "ruamel YAML(typ=\"unsafe\") constructs arbitrary Python objects".to_owned(),
                evidence.to_owned(),
            ))
        }
        _ => {}
    }
}

/// A hub repository id: `org/name` (one slash, no scheme, not a path that
/// starts at `.`, `/` or `~`, no file extension of a local file).
fn looks_like_hub_id(s: &str) -> bool {
    let mut parts = s.split('/');
    let (Some(org), Some(name), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let ok = |p: &str| {
        !p.is_empty()
            && p.len() <= 96
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            && !p.starts_with('.')
    };
    let local_ext = [
        ".json",
        ".bin",
        ".pt",
        ".safetensors",
        ".txt",
        ".csv",
        ".py",
    ];
    ok(org) && ok(name) && !local_ext.iter().any(|e| name.ends_with(e))
}

fn is_commit_hash(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[allow(clippy::too_many_arguments)]
fn check_revision(
    m: &Module<'_>,
    args: &Args<'_>,
    param: &str,
    pos: usize,
    trusts_remote: bool,
    call: Node<'_>,
    callee_text: &str,
    evidence: &str,
    out: &mut Vec<Hit>,
) {
    let Some(id) = args
        .get(param, pos)
        .or_else(|| args.keyword("repo_id"))
        .and_then(|n| m.string_literal(n))
        .filter(|s| looks_like_hub_id(s))
    else {
        return;
    };
    let severity = if trusts_remote {
        Severity::Medium
    } else {
        Severity::Low
    };
    match args.keyword("revision") {
        None => out.push(
            Hit::at(
                &UNPINNED_REVISION,
                call,
                format!(
                    "`{callee_text}` fetches `{id}` at whatever its default branch points to now"
                ),
                evidence.to_owned(),
            )
            .severity(severity)
            .confidence(if args.has_kwargs_splat {
                Confidence::Low
            } else {
                Confidence::Medium
            }),
        ),
        Some(rev) => {
            if let Some(r) = m.string_literal(rev).filter(|r| !is_commit_hash(r)) {
                out.push(
                    Hit::at(
                        &UNPINNED_REVISION,
                        call,
                        format!("`{callee_text}` pins `{id}` to `{}`, a branch or tag that can move; use a full commit hash", short(&r)),
                        evidence.to_owned(),
                    )
                    .severity(severity),
                );
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn check_tar(
    q: &str,
    args: &Args<'_>,
    facts: &FileFacts,
    m: &Module<'_>,
    call: Node<'_>,
    callee_text: &str,
    evidence: &str,
    out: &mut Vec<Hit>,
) {
    let last = q.rsplit('.').next().unwrap_or("");
    let is_unpack = q == "shutil.unpack_archive";
    if !(is_unpack || last == "extractall" || last == "extract") {
        return;
    }
    let receiver_is_tar = q.starts_with("tarfile.");
    // An unresolved receiver (`def f(tf): tf.extractall()`) is a tar only
    // when the file deals in tar and not in zip, whose extraction is safe.
    let receiver_unknown = !q.contains("()") && q.split('.').count() == 2;
    let confidence = if receiver_is_tar || is_unpack {
        Confidence::High
    } else if receiver_unknown && facts.imports_tarfile && !facts.imports_zipfile {
        Confidence::Low
    } else {
        return;
    };
    let filter = args.keyword("filter");
    let unsafe_filter = filter
        .and_then(|f| m.string_literal(f))
        .is_some_and(|f| f == "fully_trusted");
    if filter.is_some() && !unsafe_filter {
        return;
    }
    let what = if unsafe_filter {
        "with filter=\"fully_trusted\""
    } else {
        "without filter="
    };
    out.push(
        Hit::at(
            &TAR_EXTRACTALL,
            call,
            format!("`{callee_text}` {what}: archive members named `../` or absolute paths, and links, are written outside the target"),
            evidence.to_owned(),
        )
        .confidence(confidence),
    );
}

fn is_all_interfaces(s: &str) -> bool {
    matches!(s, "0.0.0.0" | "::" | "[::]")
}

#[allow(clippy::too_many_arguments)]
fn check_app(
    m: &Module<'_>,
    q: &str,
    args: &Args<'_>,
    facts: &FileFacts,
    call: Node<'_>,
    callee_text: &str,
    evidence: &str,
    out: &mut Vec<Hit>,
) {
    let flask_run = q.starts_with("flask.Flask()") && q.ends_with(".run")
        || (q.ends_with("app.run") && m.imported_roots.iter().any(|r| r == "flask"));
    let gradio_launch = q.starts_with("gradio.") && q.ends_with(".launch");
    let uvicorn_run = q == "uvicorn.run";
    if !(flask_run || gradio_launch || uvicorn_run) {
        return;
    }
    let host_param = if gradio_launch { "server_name" } else { "host" };
    // Flask takes the host first; uvicorn and Gradio take it by keyword.
    let host_pos = if flask_run { 0 } else { usize::MAX };
    let all_ifaces = args
        .get(host_param, host_pos)
        .and_then(|h| m.string_literal(h))
        .is_some_and(|h| is_all_interfaces(&h));
    if flask_run {
        let debug = args.get("debug", 2).and_then(literal_bool) == Some(true);
        if debug {
            let sev = if all_ifaces {
                Severity::High
            } else {
                Severity::Medium
            };
            out.push(
                Hit::at(
                    &EXPOSED_APP,
                    call,
                    format!("`{callee_text}` with debug=True{}: the Werkzeug debugger is a Python console", if all_ifaces { " on all interfaces" } else { "" }),
                    evidence.to_owned(),
                )
                .severity(sev),
            );
            return;
        }
    }
    if gradio_launch {
        let has_auth = args.keyword("auth").is_some() || args.keyword("auth_dependency").is_some();
        let share = args.keyword("share").and_then(literal_bool) == Some(true);
        if !has_auth && (share || all_ifaces) {
            out.push(Hit::at(
                &EXPOSED_APP,
                call,
                format!(
                    "`{callee_text}` {} without auth=: anyone who finds it can use the model",
                    if share {
                        "publishes a share link"
                    } else {
                        "listens on all interfaces"
                    }
                ),
                evidence.to_owned(),
            ));
        }
        return;
    }
    if all_ifaces && !facts.has_auth_signals {
        out.push(
            Hit::at(
                &EXPOSED_APP,
                call,
                format!(
                    "`{callee_text}` listens on all interfaces and the file shows no authentication"
                ),
                evidence.to_owned(),
            )
            .confidence(Confidence::Low),
        );
    }
}
