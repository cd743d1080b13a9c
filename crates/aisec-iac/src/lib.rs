//! Infrastructure-as-code and CI/CD checks for ML platforms: Terraform,
//! Kubernetes, docker-compose, Dockerfiles and GitHub Actions workflows.
//!
//! # What it finds
//! The `AISEC-IAC-*` rules (see [`RULES`]): SageMaker, Vertex AI and
//! Azure ML notebooks and compute with public network paths or root, ML
//! resources without customer-managed keys, SageMaker models without network
//! isolation, public/unversioned/unencrypted/unlogged S3 buckets, IAM
//! wildcards on ML and data services, Bedrock without guardrails or
//! invocation logging; model-serving workloads on Kubernetes (KServe,
//! Seldon, Ray, Kubeflow, Triton/vLLM/TGI images) that run privileged, as
//! root, without limits, with host mounts, mutable images, http model URIs,
//! public LoadBalancers or literal secrets; Dockerfiles that pipe downloads
//! into shells, use mutable bases, run as root, install from extra or
//! insecure indexes, bake secrets in or fetch models without checksums; and
//! workflows with unpinned actions, pwn-request checkouts, script
//! injection, echoed secrets, broad token permissions, or model uploads
//! without an `aisec scan`/`aisec sign` gate; GitLab CI pipelines with the
//! same publishing, secret, index and image hazards and unpinned includes.
//!
//! # How
//! The content decides: a YAML document with `apiVersion` and `kind` is a
//! Kubernetes object whatever the file is called, `on` + `jobs` is a
//! workflow, `services` is compose, `stages` + jobs with `script` (or the
//! name `.gitlab-ci.yml`) is a GitLab pipeline. Terraform is recognised by name (`.tf`,
//! `.tf.json`: HCL has no magic) and parsed with hcl-edit; YAML with
//! saphyr-parser's events into a bounded tree ([`yaml`]); Dockerfiles by
//! name or by a first `FROM`/`ARG` instruction, with a small parser of our
//! own ([`docker`]). Every finding carries the file and a line.
//!
//! # What it never does
//! It never executes or renders anything it scans (no Helm, no Terraform
//! plan, no shell), never reaches the network, and never panics on hostile
//! input: YAML aliases are pointers, never copies (billion laughs costs
//! nothing), nodes and depth are capped, HCL nesting is capped by hcl-edit.
//! A file that does not parse is one `AISEC-GEN-002` finding and the scan
//! goes on. The only reads beyond the file's bytes are the sibling `.tf`
//! files and local modules of a Terraform file on disk, always through the
//! engine's confined reader in [`ScanContext`] (never `std::fs`; a test
//! keeps it so), bounded as documented in [`terraform`].
//!
//! # Measured
//! `bench/iac_peers.py` on five public ML infrastructure repositories
//! (SageMaker Terraform modules and examples, KServe's documentation
//! manifests and workflows; 1,552 files): the whole `aisec scan` 0.13-0.14 s,
//! checkov 3.3 10-13 s (83-92x), trivy 0.76 9.2 s (66x). On the
//! misconfiguration classes both tools check, aisec found 97% of the union
//! of both tools' findings and checkov 89%; against trivy 92% and 87%. On a
//! generated tree of 3,000 IaC files (50 per directory): aisec 0.21 s,
//! checkov 52 s (245x).

pub mod actions;
pub mod common;
pub mod docker;
pub mod gitlab;
pub mod k8s;
pub mod rules;
pub mod terraform;
pub mod yaml;

use aisec_core::{FileInput, FileKind, Finding, ScanContext, Scanner, generic};

pub use rules::RULES;

/// Bytes of the head that `detect` looks at.
const HEAD: usize = 4096;

/// The IaC scanner. Stateless; construct with `IacScanner`.
#[derive(Debug, Default, Clone, Copy)]
pub struct IacScanner;

/// What a file is, as far as this scanner cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IacKind {
    Terraform,
    TerraformJson,
    Dockerfile,
    Yaml,
}

/// ASCII case-insensitive `ends_with`, without lower-casing a copy: the
/// classifier runs on every text file and member.
fn ends_with_ci(name: &str, suffix: &str) -> bool {
    let (n, s) = (name.as_bytes(), suffix.as_bytes());
    n.len() >= s.len() && n[n.len() - s.len()..].eq_ignore_ascii_case(s)
}

/// ASCII case-insensitive `starts_with`.
fn starts_with_ci(name: &str, prefix: &str) -> bool {
    let (n, p) = (name.as_bytes(), prefix.as_bytes());
    n.len() >= p.len() && n[..p.len()].eq_ignore_ascii_case(p)
}

fn is_dockerfile_name(name: &str) -> bool {
    name.eq_ignore_ascii_case("dockerfile")
        || name.eq_ignore_ascii_case("containerfile")
        || ends_with_ci(name, ".dockerfile")
        || ends_with_ci(name, ".containerfile")
        || (starts_with_ci(name, "dockerfile.")
            && !ends_with_ci(name, ".md")
            && !ends_with_ci(name, ".txt"))
}

/// YAML keys that mark a document this scanner checks.
const YAML_MARKERS: &[&[u8]] = &[b"apiVersion", b"jobs:", b"services:", b"script:"];

/// Extensions that are never Dockerfiles, so content sniffing skips them.
const NOT_DOCKERFILE: &[&str] = &[
    "py", "md", "txt", "rst", "json", "yml", "yaml", "toml", "cfg", "ini", "sh", "js", "ts", "go",
    "rs", "java", "c", "h", "cpp", "html", "ipynb", "csv", "sql", "r", "tf", "hcl",
];

/// Classifies a file from its kind, name and head. Cheap: no parsing.
pub fn classify(file: &FileInput<'_>) -> Option<IacKind> {
    if file.kind != FileKind::Text {
        return None;
    }
    let name = file.name();
    if ends_with_ci(name, ".tf") {
        return Some(IacKind::Terraform);
    }
    if ends_with_ci(name, ".tf.json") {
        return Some(IacKind::TerraformJson);
    }
    if is_dockerfile_name(name) {
        return Some(IacKind::Dockerfile);
    }
    let head = &file.bytes[..file.bytes.len().min(HEAD)];
    if file.has_extension_in(&["yml", "yaml"]) {
        let marked = YAML_MARKERS
            .iter()
            .any(|m| memchr::memmem::find(head, m).is_some());
        return marked.then_some(IacKind::Yaml);
    }
    if file.has_extension_in(NOT_DOCKERFILE) {
        return None;
    }
    let first = head.iter().find(|b| !b.is_ascii_whitespace()).copied();
    if matches!(first, Some(b'F' | b'A' | b'#')) && docker::sniff(&String::from_utf8_lossy(head)) {
        return Some(IacKind::Dockerfile);
    }
    None
}

impl Scanner for IacScanner {
    fn name(&self) -> &'static str {
        "iac"
    }

    fn rules(&self) -> &'static [&'static aisec_core::Rule] {
        RULES
    }

    fn detect(&self, file: &FileInput<'_>) -> bool {
        classify(file).is_some()
    }

    fn scan(&self, file: &FileInput<'_>, ctx: &ScanContext<'_>) -> Vec<Finding> {
        // Classified again rather than remembered from `detect`: it costs
        // 0.03-0.07 % of a whole-tree scan (perf, issue 15 item 8), and a
        // cache keyed on buffer addresses across the two calls is state
        // that a future caller could make wrong.
        let Some(kind) = classify(file) else {
            return Vec::new();
        };
        let (bytes, capped) = ctx.full_read(file, self.name());
        let mut out: Vec<Finding> = capped.into_iter().collect();
        let text = String::from_utf8_lossy(bytes);
        match kind {
            IacKind::Terraform => out.extend(terraform::check(file, &text, false, ctx)),
            IacKind::TerraformJson => out.extend(terraform::check(file, &text, true, ctx)),
            IacKind::Dockerfile => out.extend(docker::check(file, &text)),
            IacKind::Yaml => scan_yaml(file, &text, &mut out),
        }
        out
    }
}

/// Helm chart templates and other unrendered YAML hold `{{ }}` that is not
/// YAML; GitHub's `${{ }}` is fine.
fn is_template(text: &str) -> bool {
    let b = text.as_bytes();
    b.windows(2)
        .enumerate()
        .any(|(i, w)| w == b"{{" && (i == 0 || b[i - 1] != b'$'))
}

fn scan_yaml(file: &FileInput<'_>, text: &str, out: &mut Vec<Finding>) {
    let (y, err) = yaml::Yaml::parse(text);
    let mut k8s_docs = Vec::new();
    let mut recognised = false;
    for &doc in &y.docs {
        if actions::is_workflow(&y, doc) {
            recognised = true;
            actions::check(file, &y, doc, out);
        } else if k8s::is_k8s(&y, doc) {
            recognised = true;
            k8s_docs.push(doc);
        } else if gitlab::is_pipeline(file, &y, doc) {
            recognised = true;
            gitlab::check(file, &y, doc, out);
        } else if k8s::is_compose(&y, doc) {
            recognised = true;
            k8s::check_compose(file, &y, doc, out);
        }
    }
    if !k8s_docs.is_empty() {
        k8s::check_k8s(file, &y, &k8s_docs, out);
    }
    if let Some(e) = err {
        // Unrendered templates are not YAML yet: say nothing rather than
        // flag every Helm chart. Other YAML that merely mentions a marker
        // word is not ours to judge unless some document was recognised or
        // the head looks like an object we check.
        let head = &text[..text.len().min(HEAD)];
        let looks_iac = recognised
            || (head.contains("apiVersion") && head.contains("kind"))
            || (head.contains("jobs:") && (head.contains("on:") || head.contains("\"on\":")))
            || (head.contains("stages:") && head.contains("script:"));
        if !is_template(text) && looks_iac {
            // The parser's words, never more than a redacted excerpt.
            let message = aisec_core::excerpt(&e.message);
            out.push(
                Finding::new(
                    &generic::MALFORMED,
                    file,
                    format!(
                        "not valid YAML at line {}: {message}; documents after this point were not checked",
                        e.line
                    ),
                )
                .evidence(message)
                .line(e.line.max(1), Some(e.col)),
            );
        }
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use aisec_core::{Limits, detect_kind};
    use proptest::prelude::*;

    /// Names that route to each parser; YAML goes by content once named so.
    const NAMES: &[&str] = &[
        "main.tf",
        "main.tf.json",
        "Dockerfile",
        "deploy.yaml",
        ".github/workflows/ci.yml",
        ".gitlab-ci.yml",
        "noext",
    ];

    fn scan_as(name: &str, bytes: &[u8]) -> Vec<Finding> {
        let scanners: Vec<Box<dyn Scanner>> = vec![Box::new(IacScanner)];
        let limits = Limits::default();
        let ctx = ScanContext::new(&limits, &scanners);
        let file = FileInput {
            path: name,
            member: None,
            fs_path: None,
            bytes,
            kind: detect_kind(bytes, name),
            depth: 0,
        };
        // Straight to the scanner: `ctx.run` would hide a panic as a finding.
        if IacScanner.detect(&file) {
            IacScanner.scan(&file, &ctx)
        } else {
            Vec::new()
        }
    }

    /// Fragments of every language the scanner reads, so random inputs reach
    /// deep into the parsers rather than failing on the first byte.
    fn iac_text() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "resource \"aws_s3_bucket\" \"b\" {\n",
            "resource \"aws_sagemaker_notebook_instance\" \"n\" {\n",
            "  root_access = \"Enabled\"\n",
            "  acl = var.acl\n",
            "variable \"acl\" { default = \"public-read\" }\n",
            "locals { x = \"${local.x}\" }\n",
            "}\n",
            "{",
            "apiVersion: v1\nkind: Pod\n",
            "spec:\n  containers:\n  - image: vllm/vllm-openai:latest\n",
            "    securityContext: {privileged: true}\n",
            "&a [*a, *a]\n",
            "---\n",
            "on: pull_request_target\njobs:\n  j:\n    steps:\n",
            "      - uses: actions/checkout@v4\n        with: {ref: ${{ github.event.pull_request.head.sha }}}\n",
            "      - run: echo ${{ secrets.TOKEN }}\n",
            "services:\n  api:\n    image: x\n",
            "stages: [a]\ninclude:\n  - remote: https://x\n",
            "job:\n  image: {name: x}\n  script:\n    - echo $HF_TOKEN\n    - huggingface-cli upload a b\n",
            "FROM python:3\n",
            "RUN curl -sSL http://x | sh\n",
            "ARG HF_TOKEN=hf_abc\n",
            "\\\n",
            "\"",
            "\n",
            "  - ",
            "é\u{0}",
        ]);
        prop::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
    }

    #[test]
    fn the_harness_reaches_the_rules() {
        let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: vllm/vllm-openai:latest\n    securityContext: {privileged: true}\n";
        assert!(!scan_as("deploy.yaml", pod.as_bytes()).is_empty());
        let tf = "resource \"aws_sagemaker_notebook_instance\" \"n\" {\n  root_access = \"Enabled\"\n}\n";
        assert!(!scan_as("main.tf", tf.as_bytes()).is_empty());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
            for name in NAMES {
                let _ = scan_as(name, &bytes);
            }
        }

        #[test]
        fn iac_shaped_text_never_panics_and_every_finding_has_a_line(text in iac_text()) {
            for name in NAMES {
                for f in scan_as(name, text.as_bytes()) {
                    prop_assert!(f.location.line.is_some_and(|l| l >= 1), "{f:?}");
                }
            }
        }
    }
}
