//! Judgements shared by several file types: secret-like variable names,
//! ML images, image pinning, and what a shell command line does.

/// Substrings of image repositories that run ML workloads: serving runtimes,
/// notebooks, training frameworks, GPU bases.
const ML_IMAGES: &[&str] = &[
    "tritonserver",
    "triton",
    "vllm",
    "text-generation-inference",
    "huggingface",
    "torchserve",
    "tensorflow",
    "pytorch",
    "ollama",
    "kserve",
    "seldon",
    "mlserver",
    "rayproject",
    "mlflow",
    "jupyter",
    "notebook",
    "nvidia/cuda",
    "nvcr.io",
    "bentoml",
    "llama",
    "sglang",
    "lmdeploy",
    "deepspeed",
    "kubeflow",
    "sagemaker",
    "onnxruntime",
    "openvino",
    "xinference",
    "localai",
    "tgi",
    "diffusers",
    "transformers",
];

/// Whether an image reference names an ML runtime.
pub fn is_ml_image(image: &str) -> bool {
    let repo = image
        .split('@')
        .next()
        .unwrap_or(image)
        .to_ascii_lowercase();
    ML_IMAGES.iter().any(|m| repo.contains(m))
}

/// `Some(reason)` when an image reference is mutable: no tag, or `latest`,
/// and no digest. `None` for pinned or unjudgeable (templated) references.
pub fn unpinned_image(image: &str) -> Option<&'static str> {
    let image = image.trim();
    if image.is_empty() || image.contains('$') || image.contains("{{") || image.contains('@') {
        return None;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        None => Some("has no tag (defaults to latest)"),
        Some((_, "latest")) => Some("uses the mutable `latest` tag"),
        Some((_, "")) => Some("has an empty tag"),
        Some(_) => None,
    }
}

/// Variable names that hold credentials. Suffix-based so that `HF_TOKEN`,
/// `MY_SERVICE_API_KEY` and `DB_PASSWORD` match while `TOKENIZER_PATH`,
/// `AWS_ACCESS_KEY_ID` and `SSH_PUBLIC_KEY` do not.
pub fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    if n.contains("PUBLIC") || n.ends_with("_ID") || n.ends_with("_PATH") || n.ends_with("_FILE") {
        return false;
    }
    const EXACT: &[&str] = &["TOKEN", "SECRET", "PASSWORD", "API_KEY", "APIKEY", "PASSWD"];
    const SUFFIX: &[&str] = &[
        "_TOKEN",
        "_KEY",
        "_SECRET",
        "PASSWORD",
        "_PASSWD",
        "_APIKEY",
        "_SECRET_KEY",
        "_ACCESS_KEY",
        "_CREDENTIALS",
    ];
    EXACT.contains(&n.as_str()) || SUFFIX.iter().any(|s| n.ends_with(s))
}

/// A value that is a real literal rather than a reference or placeholder.
pub fn is_literal_secret_value(value: &str) -> bool {
    let v = value.trim().trim_matches(['"', '\'']);
    if v.len() < 6 || v.contains('$') || v.contains("{{") || v.contains('<') {
        return false;
    }
    let lower = v.to_ascii_lowercase();
    const PLACEHOLDERS: &[&str] = &[
        "changeme",
        "change_me",
        "change-me",
        "your",
        "example",
        "placeholder",
        "dummy",
        "xxxx",
        "****",
        "....",
        "redacted",
        "replace",
        "none",
        "null",
        "false",
        "true",
        "todo",
    ];
    if PLACEHOLDERS.iter().any(|p| lower.contains(p)) {
        return false;
    }
    // One repeated character (`aaaaaa`) is a placeholder too.
    let first = v.chars().next().unwrap_or(' ');
    !v.chars().all(|c| c == first)
}

/// Describes a secret for evidence without revealing it, in the one
/// redacted form every scanner uses ([`aisec_core::redact`]): no prefix is
/// shown (an IaC value has no public prefix), only its length and a hash.
pub fn redacted(name: &str, value: &str) -> String {
    format!(
        "{name}={}",
        aisec_core::redact(value.trim().trim_matches(['"', '\'']), 0)
    )
}

/// Shell findings for one command line (a `RUN`, a `run:` line, a
/// container command). `line_offset` is the 0-based line within the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellHit {
    pub kind: ShellIssue,
    pub line_offset: usize,
    pub message: String,
    pub evidence: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShellIssue {
    CurlPipeShell,
    PipIndex,
    HttpDownload,
    NoChecksum,
    NoAuthServer,
}

/// Longest evidence excerpt, so a minified one-line script stays readable.
const EVIDENCE_LEN: usize = 160;

fn excerpt(s: &str) -> String {
    let s = s.trim();
    if s.len() <= EVIDENCE_LEN {
        return s.to_owned();
    }
    let mut end = EVIDENCE_LEN;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

const MODEL_EXTS: &[&str] = &[
    ".safetensors",
    ".bin",
    ".pt",
    ".pth",
    ".ckpt",
    ".onnx",
    ".gguf",
    ".ggml",
    ".pkl",
    ".pickle",
    ".joblib",
    ".h5",
    ".keras",
    ".pb",
    ".tflite",
    ".mar",
    ".npz",
];

fn is_model_url(url: &str) -> bool {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or(url)
        .to_ascii_lowercase();
    MODEL_EXTS.iter().any(|e| path.ends_with(e))
}

fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| c.is_whitespace() || c == ';' || c == '(' || c == ')')
        .map(|w| w.trim_matches(['"', '\'']))
        .filter(|w| !w.is_empty())
}

const SHELLS: &[&str] = &[
    "sh", "bash", "zsh", "dash", "ksh", "python", "python3", "perl", "ruby", "node",
];

fn is_fetcher(w: &str) -> bool {
    let base = w.rsplit('/').next().unwrap_or(w);
    base == "curl" || base == "wget"
}

/// Judges a whole script (lines joined by the shell's rules are checked per
/// logical line; checksums are looked for anywhere in the script).
pub fn check_script(script: &str) -> Vec<ShellHit> {
    let mut out = Vec::new();
    let has_checksum = [
        "sha256sum",
        "sha512sum",
        "shasum",
        "md5sum",
        "--checksum",
        "b3sum",
    ]
    .iter()
    .any(|c| script.contains(c));
    for (i, line) in script.lines().enumerate() {
        check_line(line, i, has_checksum, &mut out);
    }
    out
}

/// The line without a trailing shell comment (a word starting with `#`).
pub fn strip_comment(line: &str) -> &str {
    if line.trim_start().starts_with('#') {
        return "";
    }
    match line.find(" #").or_else(|| line.find("\t#")) {
        Some(p) => &line[..p],
        None => line,
    }
}

fn check_line(raw: &str, offset: usize, has_checksum: bool, out: &mut Vec<ShellHit>) {
    let line = strip_comment(raw);
    if line.trim().is_empty() {
        return;
    }
    let mut hit = |kind, message: String| {
        out.push(ShellHit {
            kind,
            line_offset: offset,
            message,
            evidence: excerpt(line),
        })
    };
    // One pipeline at a time: `a && b | c` pipes only b.
    for cmd in line
        .split("&&")
        .flat_map(|c| c.split("||"))
        .flat_map(|c| c.split(';'))
    {
        let stages: Vec<&str> = cmd.split('|').collect();
        if stages.len() >= 2 && words(stages[0]).any(is_fetcher) {
            for stage in &stages[1..] {
                let mut ws = words(stage).skip_while(|w| *w == "sudo" || w.starts_with('-'));
                if let Some(first) = ws.next() {
                    let base = first.rsplit('/').next().unwrap_or(first);
                    if SHELLS.contains(&base) {
                        hit(
                            ShellIssue::CurlPipeShell,
                            format!("a download is piped straight into `{base}`"),
                        );
                        break;
                    }
                }
            }
        }
        let ws: Vec<&str> = words(cmd).collect();
        if let Some(pip) = ws.iter().position(|w| {
            let b = w.rsplit('/').next().unwrap_or(w);
            b == "pip" || b == "pip3" || b.starts_with("pip3.") || *w == "uv"
        }) && ws.get(pip + 1..).is_some_and(|r| r.contains(&"install"))
        {
            for (j, w) in ws.iter().enumerate().skip(pip) {
                let next = ws.get(j + 1).copied().unwrap_or("");
                let (flag, value) = match w.split_once('=') {
                    Some((f, v)) => (f, v),
                    None => (*w, next),
                };
                match flag {
                    "--extra-index-url" => hit(
                        ShellIssue::PipIndex,
                        format!(
                            "pip install with `--extra-index-url {value}`: packages are taken from whichever index has the higher version (dependency confusion)"
                        ),
                    ),
                    "--index-url" | "-i" if value.starts_with("http://") => hit(
                        ShellIssue::PipIndex,
                        format!("pip installs from an index over plain http ({value})"),
                    ),
                    "--trusted-host" => hit(
                        ShellIssue::PipIndex,
                        format!(
                            "pip install with `--trusted-host {value}` turns off TLS verification for that host"
                        ),
                    ),
                    _ => {}
                }
            }
        }
        if ws.iter().any(|w| is_fetcher(w)) {
            for w in &ws {
                if w.starts_with("http://") && !is_local_url(w) {
                    hit(
                        ShellIssue::HttpDownload,
                        format!("downloads {w} over plain http"),
                    );
                } else if w.starts_with("https://") && is_model_url(w) && !has_checksum {
                    hit(
                        ShellIssue::NoChecksum,
                        format!("downloads the model file {w} without verifying a checksum"),
                    );
                }
            }
        }
        check_server(&ws, &mut hit);
    }
}

fn is_local_url(url: &str) -> bool {
    let host = url.trim_start_matches("http://");
    host.starts_with("localhost") || host.starts_with("127.") || host.starts_with("[::1]")
}

fn check_server(ws: &[&str], hit: &mut impl FnMut(ShellIssue, String)) {
    let jupyter = ws.iter().any(|w| {
        w.contains("jupyter") || w.contains("start-notebook") || w.contains("start-singleuser")
    });
    if jupyter {
        for (j, w) in ws.iter().enumerate() {
            for opt in [
                "--NotebookApp.token",
                "--ServerApp.token",
                "--IdentityProvider.token",
                "--NotebookApp.password",
                "--ServerApp.password",
            ] {
                let empty = match w.strip_prefix(opt) {
                    Some(rest) => {
                        let v = rest.strip_prefix('=').map(|v| v.trim_matches(['"', '\'']));
                        match v {
                            Some(v) => v.is_empty(),
                            // `--ServerApp.token ''`: the value is the next word.
                            None if rest.is_empty() => ws
                                .get(j + 1)
                                .is_none_or(|n| n.trim_matches(['"', '\'']).is_empty()),
                            None => false,
                        }
                    }
                    None => false,
                };
                if empty {
                    hit(
                        ShellIssue::NoAuthServer,
                        format!("Jupyter is started with an empty `{opt}`: no authentication"),
                    );
                }
            }
        }
    }
    if ws.iter().any(|w| *w == "ray" || w.ends_with("/ray")) {
        for (j, w) in ws.iter().enumerate() {
            let v = match w.strip_prefix("--dashboard-host") {
                Some(rest) if rest.starts_with('=') => &rest[1..],
                Some("") => ws.get(j + 1).copied().unwrap_or(""),
                _ => continue,
            };
            if v == "0.0.0.0" || v == "::" {
                hit(
                    ShellIssue::NoAuthServer,
                    "the Ray dashboard (job submission: remote code execution) listens on all interfaces; Ray has no authentication".to_owned(),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_is_the_one_every_scanner_uses() {
        let secret = "hunter2-but-longer";
        let r = redacted("DB_PASSWORD", &format!("\"{secret}\""));
        assert_eq!(r, format!("DB_PASSWORD={}", aisec_core::redact(secret, 0)));
        assert!(
            r.starts_with("DB_PASSWORD=…[redacted 18 chars, sha256:"),
            "{r}"
        );
        assert!(!r.contains("hunter2"));
    }

    fn kinds(s: &str) -> Vec<ShellIssue> {
        check_script(s).into_iter().map(|h| h.kind).collect()
    }

    #[test]
    fn shell_judgements() {
        assert_eq!(
            kinds("curl -fsSL https://x.sh | bash"),
            [ShellIssue::CurlPipeShell]
        );
        assert_eq!(
            kinds("wget -qO- https://x | sudo sh -"),
            [ShellIssue::CurlPipeShell]
        );
        assert!(kinds("curl -o x.sh https://x.sh && sh x.sh").is_empty());
        assert!(kinds("curl https://api | jq .").is_empty());
        assert_eq!(
            kinds("pip install --extra-index-url https://download.pytorch.org/whl/cu121 torch"),
            [ShellIssue::PipIndex]
        );
        assert!(kinds("pip install --index-url https://pypi.internal/simple torch").is_empty());
        assert_eq!(
            kinds("pip install -i http://pypi.local/simple x"),
            [ShellIssue::PipIndex]
        );
        assert_eq!(
            kinds("wget http://models.example.com/m.bin"),
            [ShellIssue::HttpDownload]
        );
        assert_eq!(
            kinds("wget https://m.example.com/m.safetensors"),
            [ShellIssue::NoChecksum]
        );
        assert!(kinds("wget https://m.example.com/m.safetensors && sha256sum -c m.sha").is_empty());
        assert_eq!(
            kinds("jupyter lab --ip=0.0.0.0 --ServerApp.token='' --allow-root"),
            [ShellIssue::NoAuthServer]
        );
        assert!(kinds("jupyter lab --ip=0.0.0.0").is_empty());
        assert_eq!(
            kinds("ray start --head --dashboard-host=0.0.0.0"),
            [ShellIssue::NoAuthServer]
        );
        assert!(kinds("ray start --head --dashboard-host=127.0.0.1").is_empty());
    }

    #[test]
    fn names_images_values() {
        assert!(is_secret_name("HF_TOKEN"));
        assert!(is_secret_name("OPENAI_API_KEY"));
        assert!(is_secret_name("DB_PASSWORD"));
        assert!(!is_secret_name("AWS_ACCESS_KEY_ID"));
        assert!(!is_secret_name("TOKENIZER_NAME"));
        assert!(!is_secret_name("HF_TOKEN_PATH"));
        assert!(is_literal_secret_value("hf_abcdefghijklmnop"));
        assert!(!is_literal_secret_value("${HF_TOKEN}"));
        assert!(!is_literal_secret_value("changeme"));
        assert!(!is_literal_secret_value(""));
        assert_eq!(
            unpinned_image("vllm/vllm-openai"),
            Some("has no tag (defaults to latest)")
        );
        assert!(unpinned_image("vllm/vllm-openai:latest").is_some());
        assert!(unpinned_image("localhost:5000/vllm").is_some());
        assert!(unpinned_image("localhost:5000/vllm:v1").is_none());
        assert!(unpinned_image("vllm/vllm-openai@sha256:abc").is_none());
        assert!(is_ml_image("nvcr.io/nvidia/tritonserver:24.01-py3"));
        assert!(!is_ml_image("nginx:1.25"));
    }
}
