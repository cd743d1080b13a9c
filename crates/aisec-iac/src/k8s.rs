//! Kubernetes manifests (any number of documents: plain, Helm-rendered,
//! Kustomize output) and docker-compose files.
//!
//! Pod specs are found structurally, not by kind: any mapping with a
//! `containers` sequence is one, so CRDs that embed pod specs (KServe
//! predictors, Seldon componentSpecs, Ray head/worker groups, Kubeflow
//! replica specs) need no table of paths. A workload counts as ML when its
//! kind is an ML CRD, one of its images is an ML runtime, or it asks for GPUs.

use aisec_core::{Confidence, FileInput, Finding, Severity};

use crate::common::{self, ShellIssue};
use crate::rules;
use crate::yaml::{NodeId, YVal, Yaml};

const ML_KINDS: &[&str] = &[
    "InferenceService",
    "ServingRuntime",
    "ClusterServingRuntime",
    "InferenceGraph",
    "TrainedModel",
    "SeldonDeployment",
    "Model",
    "Server",
    "RayCluster",
    "RayJob",
    "RayService",
    "Notebook",
    "PyTorchJob",
    "TFJob",
    "MPIJob",
    "XGBoostJob",
    "PaddleJob",
    "TrainJob",
    "LeaderWorkerSet",
];

/// KServe predictor keys whose value is a container spec without `containers`.
const KSERVE_MODEL_KEYS: &[&str] = &[
    "model",
    "tensorflow",
    "pytorch",
    "sklearn",
    "xgboost",
    "onnx",
    "triton",
    "huggingface",
    "lightgbm",
    "pmml",
    "paddle",
];

/// Ports of services that run code for whoever reaches them, and of model servers.
const CRITICAL_PORTS: &[(u32, &str)] = &[
    (8265, "Ray dashboard / job API"),
    (10001, "Ray client"),
    (8888, "Jupyter"),
];
const ML_PORTS: &[(u32, &str)] = &[
    (5000, "MLflow"),
    (8000, "Triton/vLLM HTTP"),
    (8001, "Triton gRPC"),
    (8002, "Triton metrics"),
    (8080, "model server HTTP"),
    (8081, "model server"),
    (8085, "KServe"),
    (9000, "model server gRPC"),
    (11434, "Ollama"),
];

const SENSITIVE_HOST_PATHS: &[&str] = &[
    "/",
    "/etc",
    "/root",
    "/home",
    "/proc",
    "/sys",
    "/dev",
    "/boot",
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/var/run",
    "/run/containerd",
    "/var/lib/kubelet",
    "/var/lib/docker",
];

fn sensitive(path: &str) -> bool {
    let p = path.trim_end_matches('/');
    let p = if p.is_empty() { "/" } else { p };
    SENSITIVE_HOST_PATHS.contains(&p)
}

/// Whether a document is a Kubernetes object.
pub fn is_k8s(y: &Yaml, doc: NodeId) -> bool {
    y.get_str(doc, "apiVersion").is_some() && y.get_str(doc, "kind").is_some()
}

/// Whether a document is a compose file.
pub fn is_compose(y: &Yaml, doc: NodeId) -> bool {
    y.get(doc, "services").is_some_and(|s| y.is_map(s)) && y.get(doc, "jobs").is_none()
}

struct PodSpec {
    spec: NodeId,
    containers: Vec<NodeId>,
    /// Where each container is reported: itself, or the KServe key naming it.
    anchors: Vec<NodeId>,
}

struct Workload {
    kind: String,
    name: String,
    ml: bool,
    pods: Vec<PodSpec>,
    labels: Vec<Vec<(String, String)>>,
}

fn find_pods(y: &Yaml, doc: NodeId, kind: &str) -> Vec<PodSpec> {
    let mut pods = Vec::new();
    y.walk(doc, |key, id| {
        if !y.is_map(id) {
            return;
        }
        let mut containers = Vec::new();
        let mut anchors = Vec::new();
        for k in ["containers", "initContainers"] {
            if let Some(c) = y.get(id, k) {
                for &c in y.seq(c).iter().filter(|c| y.is_map(**c)) {
                    containers.push(c);
                    anchors.push(c);
                }
            }
        }
        if kind == "InferenceService"
            && matches!(key, Some("predictor" | "transformer" | "explainer"))
        {
            for k in KSERVE_MODEL_KEYS {
                if let Some(m) = y.get(id, k).filter(|m| y.is_map(*m)) {
                    containers.push(m);
                    anchors.push(y.key_of(id, k).unwrap_or(m));
                }
            }
        }
        if !containers.is_empty() {
            pods.push(PodSpec {
                spec: id,
                containers,
                anchors,
            });
        }
    });
    pods
}

fn label_sets(y: &Yaml, doc: NodeId) -> Vec<Vec<(String, String)>> {
    let mut out = Vec::new();
    y.walk(doc, |key, id| {
        if key == Some("labels") {
            let pairs: Vec<(String, String)> = y
                .pairs(id)
                .iter()
                .filter_map(|(k, v)| Some((y.str(*k)?.to_owned(), y.str(*v)?.to_owned())))
                .collect();
            if !pairs.is_empty() {
                out.push(pairs);
            }
        }
    });
    out
}

fn wants_gpu(y: &Yaml, c: NodeId) -> bool {
    let Some(res) = y.get(c, "resources") else {
        return false;
    };
    let mut gpu = false;
    y.walk(res, |key, _| {
        if key.is_some_and(|k| k.contains("gpu") || k.starts_with("habana.ai")) {
            gpu = true;
        }
    });
    gpu
}

/// Environment variables that only model code reads.
const ML_ENV_PREFIXES: &[&str] = &[
    "HF_",
    "HUGGING_FACE",
    "TRANSFORMERS_",
    "VLLM_",
    "TORCH_HOME",
];

/// A container that handles models without an ML image: it mounts a model
/// directory, sets model-library environment, or its command fetches or
/// serves models (the download and conversion pods beside a server).
fn handles_models(y: &Yaml, c: NodeId) -> bool {
    let mounts_models = y.get(c, "volumeMounts").is_some_and(|m| {
        y.seq(m).iter().any(|v| {
            y.get_str(*v, "mountPath").is_some_and(|p| {
                p.trim_end_matches('/')
                    .rsplit('/')
                    .next()
                    .is_some_and(|last| last == "models" || last == "model")
            })
        })
    });
    let ml_env = y.get(c, "env").is_some_and(|e| {
        y.seq(e).iter().any(|v| {
            y.get_str(*v, "name")
                .is_some_and(|n| ML_ENV_PREFIXES.iter().any(|p| n.starts_with(p)))
        })
    });
    let mut ml_command = false;
    for key in ["command", "args"] {
        if let Some(cmd) = y.get(c, key) {
            y.walk(cmd, |_, id| {
                if y.str(id).is_some_and(|s| {
                    s.contains("huggingface_hub")
                        || s.contains("snapshot_download")
                        || s.contains("huggingface-cli")
                        || s.contains("torchrun")
                }) {
                    ml_command = true;
                }
            });
        }
    }
    mounts_models || ml_env || ml_command
}

pub fn check_k8s(file: &FileInput<'_>, y: &Yaml, docs: &[NodeId], out: &mut Vec<Finding>) {
    let mut workloads = Vec::new();
    for &doc in docs {
        let kind = y.get_str(doc, "kind").unwrap_or("").to_owned();
        let name = y
            .path(doc, &["metadata", "name"])
            .and_then(|n| y.str(n))
            .unwrap_or("?")
            .to_owned();
        let pods = find_pods(y, doc, &kind);
        let ml = ML_KINDS.contains(&kind.as_str())
            || pods.iter().flat_map(|p| &p.containers).any(|c| {
                y.get_str(*c, "image").is_some_and(common::is_ml_image)
                    || wants_gpu(y, *c)
                    || handles_models(y, *c)
            });
        let labels = if ml { label_sets(y, doc) } else { Vec::new() };
        workloads.push(Workload {
            kind,
            name,
            ml,
            pods,
            labels,
        });
        check_model_uris(file, y, doc, out);
    }
    let ml_labels: Vec<&Vec<(String, String)>> = workloads
        .iter()
        .filter(|w| w.ml)
        .flat_map(|w| &w.labels)
        .collect();
    for (w, &doc) in workloads.iter().zip(docs) {
        let what = format!("{} `{}`", w.kind, w.name);
        for pod in &w.pods {
            for &c in &pod.containers {
                check_env(file, y, c, &what, out);
            }
            if w.ml {
                check_pod(file, y, pod, &what, out);
            }
        }
        if w.kind == "Service" {
            check_service(file, y, doc, &w.name, &ml_labels, out);
        }
        if w.kind.starts_with("Ray") {
            y.walk(doc, |key, id| {
                if key == Some("headGroupSpec")
                    && let Some(t) = y.get(id, "serviceType")
                    && matches!(y.str(t), Some("LoadBalancer" | "NodePort"))
                {
                    out.push(
                        Finding::new(
                            &rules::SERVER_EXPOSED,
                            file,
                            format!(
                                "{what} exposes its head (dashboard/job API, client) through a {} service: anyone who reaches it runs code on the cluster",
                                y.str(t).unwrap_or("")
                            ),
                        )
                        .severity(Severity::Critical)
                        .evidence(format!("serviceType: {}", y.str(t).unwrap_or("")))
                        .line(y.node(t).line, Some(y.node(t).col)),
                    );
                }
            });
        }
    }
}

fn check_model_uris(file: &FileInput<'_>, y: &Yaml, doc: NodeId, out: &mut Vec<Finding>) {
    y.walk(doc, |key, id| {
        let Some(k) = key else { return };
        if !matches!(
            k,
            "storageUri" | "modelUri" | "storage_uri" | "model_uri" | "storageUris"
        ) {
            return;
        }
        let mut uris: Vec<NodeId> = vec![id];
        uris.extend_from_slice(y.seq(id));
        for u in uris {
            if let Some(s) = y.str(u)
                && s.starts_with("http://")
            {
                let n = y.node(u);
                out.push(
                    Finding::new(
                        &rules::MODEL_HTTP,
                        file,
                        format!("`{k}` loads the model over plain http: anyone on the path can replace it"),
                    )
                    .evidence(format!("{k}: {s}"))
                    .line(n.line, Some(n.col)),
                );
            }
        }
    });
}

fn check_env(file: &FileInput<'_>, y: &Yaml, c: NodeId, what: &str, out: &mut Vec<Finding>) {
    let Some(env) = y.get(c, "env") else { return };
    for &e in y.seq(env) {
        let Some(name) = y.get_str(e, "name") else {
            continue;
        };
        let Some(v) = y.get(e, "value") else { continue };
        let Some(value) = y.str(v) else { continue };
        if common::is_secret_name(name) && common::is_literal_secret_value(value) {
            let n = y.node(v);
            out.push(
                Finding::new(
                    &rules::SECRET_IN_ENV,
                    file,
                    format!("{what} sets `{name}` to a literal value; use valueFrom.secretKeyRef"),
                )
                .evidence(common::redacted(name, value))
                .line(n.line, Some(n.col)),
            );
        }
    }
}

fn at(y: &Yaml, id: NodeId) -> (u32, Option<u32>) {
    let n = y.node(id);
    (n.line, Some(n.col))
}

fn check_pod(file: &FileInput<'_>, y: &Yaml, pod: &PodSpec, what: &str, out: &mut Vec<Finding>) {
    let push = |out: &mut Vec<Finding>, rule, id: NodeId, msg: String, ev: String| {
        let (l, c) = at(y, id);
        out.push(Finding::new(rule, file, msg).evidence(ev).line(l, c));
    };
    for k in ["hostNetwork", "hostPID", "hostIPC"] {
        if let Some(v) = y.get(pod.spec, k)
            && y.is_true(Some(v))
        {
            push(
                out,
                &rules::K8S_PRIVILEGED,
                v,
                format!("{what} shares the host's namespace (`{k}: true`)"),
                format!("{k}: true"),
            );
        }
    }
    if let Some(vols) = y.get(pod.spec, "volumes") {
        for &v in y.seq(vols) {
            if let Some(hp) = y.get(v, "hostPath") {
                let path = y.get_str(hp, "path").unwrap_or("?");
                let hp = y.key_of(v, "hostPath").unwrap_or(hp);
                let sev = if sensitive(path) {
                    Severity::High
                } else {
                    Severity::Medium
                };
                let (l, c) = at(y, hp);
                out.push(
                    Finding::new(
                        &rules::HOST_MOUNT,
                        file,
                        format!("{what} mounts the host path `{path}`"),
                    )
                    .severity(sev)
                    .evidence(format!("hostPath: {path}"))
                    .line(l, c),
                );
            }
        }
    }
    let pod_sc = y.get(pod.spec, "securityContext");
    let pod_nonroot = pod_sc.is_some_and(|sc| y.is_true(y.get(sc, "runAsNonRoot")));
    let pod_user = pod_sc.and_then(|sc| y.get(sc, "runAsUser"));
    for (&c, &anchor) in pod.containers.iter().zip(&pod.anchors) {
        // KServe's `predictor: {model: ...}` containers have no name: the
        // key that holds them names them.
        let cname = y
            .get_str(c, "name")
            .or_else(|| y.str(anchor))
            .unwrap_or("(unnamed)");
        let who = format!("container `{cname}` of {what}");
        let sc = y.get(c, "securityContext");
        if let Some(sc) = sc {
            for (k, msg) in [
                ("privileged", "runs privileged"),
                ("allowPrivilegeEscalation", "allows privilege escalation"),
            ] {
                if let Some(v) = y.get(sc, k)
                    && y.is_true(Some(v))
                {
                    push(
                        out,
                        &rules::K8S_PRIVILEGED,
                        v,
                        format!("{who} {msg}"),
                        format!("{k}: true"),
                    );
                }
            }
            if let Some(add) = y.path(sc, &["capabilities", "add"]) {
                for &cap in y.seq(add) {
                    let s = y.str(cap).unwrap_or("");
                    let s = s.trim_start_matches("CAP_");
                    if matches!(
                        s,
                        "SYS_ADMIN" | "ALL" | "SYS_PTRACE" | "NET_ADMIN" | "SYS_MODULE"
                    ) {
                        push(
                            out,
                            &rules::K8S_PRIVILEGED,
                            cap,
                            format!("{who} adds the capability `{s}`"),
                            format!("capabilities.add: {s}"),
                        );
                    }
                }
            }
        }
        // Root: explicit 0 anywhere is high; otherwise neither level says non-root.
        let c_user = sc.and_then(|s| y.get(s, "runAsUser"));
        let user = c_user.or(pod_user);
        let c_nonroot = sc.and_then(|s| y.get(s, "runAsNonRoot"));
        let nonroot = match c_nonroot.and_then(|v| y.str(v)) {
            Some(v) => v.eq_ignore_ascii_case("true"),
            None => pod_nonroot,
        };
        match user.and_then(|u| y.str(u)) {
            Some("0") => push(
                out,
                &rules::RUNS_AS_ROOT,
                user.unwrap_or(c),
                format!("{who} runs as root (`runAsUser: 0`)"),
                "runAsUser: 0".to_owned(),
            ),
            Some(u) if !u.is_empty() => {}
            _ if !nonroot => {
                let (l, col) = at(y, anchor);
                out.push(
                    Finding::new(
                        &rules::RUNS_AS_ROOT,
                        file,
                        format!("{who} sets neither runAsNonRoot nor a non-zero runAsUser: it runs as the image's user, usually root"),
                    )
                    .confidence(Confidence::Medium)
                    .evidence("no runAsNonRoot")
                    .line(l, col),
                );
            }
            _ => {}
        }
        let limits = y.path(c, &["resources", "limits"]);
        let has = |k: &str| limits.is_some_and(|l| y.get(l, k).is_some());
        if !has("memory") || !has("cpu") {
            let missing = match (has("memory"), has("cpu")) {
                (false, false) => "no CPU or memory limits",
                (false, true) => "no memory limit",
                _ => "no CPU limit",
            };
            let anchor = y.key_of(c, "resources").unwrap_or(anchor);
            let gpu = if wants_gpu(y, c) {
                " on a GPU node"
            } else {
                ""
            };
            let (l, col) = at(y, anchor);
            out.push(
                Finding::new(
                    &rules::NO_LIMITS,
                    file,
                    format!("{who} has {missing}{gpu}: one runaway request can starve the node"),
                )
                .evidence(format!("resources.limits: {missing}"))
                .line(l, col),
            );
        }
        if let Some(img) = y.get(c, "image")
            && let Some(s) = y.str(img)
            && let Some(why) = common::unpinned_image(s)
        {
            push(
                out,
                &rules::MUTABLE_IMAGE,
                img,
                format!("{who} image `{s}` {why}"),
                format!("image: {s}"),
            );
        }
        let mut argv = Vec::new();
        for k in ["command", "args"] {
            if let Some(v) = y.get(c, k) {
                match &y.node(v).val {
                    YVal::Str(s) => argv.push(s.clone()),
                    YVal::Seq(items) => {
                        argv.extend(items.iter().filter_map(|i| y.str(*i).map(str::to_owned)))
                    }
                    _ => {}
                }
            }
        }
        if !argv.is_empty() {
            let script = argv.join(" ");
            for h in common::check_script(&script) {
                if h.kind == ShellIssue::NoAuthServer {
                    let anchor = y.get(c, "args").or(y.get(c, "command")).unwrap_or(anchor);
                    let (l, col) = at(y, anchor);
                    out.push(
                        Finding::new(
                            &rules::SERVER_NO_AUTH,
                            file,
                            format!("{who}: {}", h.message),
                        )
                        .evidence(h.evidence)
                        .line(l, col),
                    );
                }
            }
        }
    }
}

fn port_numbers(y: &Yaml, port: NodeId) -> Vec<u32> {
    ["port", "targetPort", "nodePort"]
        .iter()
        .filter_map(|k| y.get_str(port, k)?.parse().ok())
        .collect()
}

fn check_service(
    file: &FileInput<'_>,
    y: &Yaml,
    doc: NodeId,
    name: &str,
    ml_labels: &[&Vec<(String, String)>],
    out: &mut Vec<Finding>,
) {
    let Some(spec) = y.get(doc, "spec") else {
        return;
    };
    let Some(t) = y.get(spec, "type") else { return };
    let ty = y.str(t).unwrap_or("");
    if ty != "LoadBalancer" && ty != "NodePort" {
        return;
    }
    if y.get(spec, "loadBalancerSourceRanges")
        .is_some_and(|r| !y.seq(r).is_empty())
    {
        return;
    }
    if let Some(ann) = y.path(doc, &["metadata", "annotations"]) {
        let internal = y.pairs(ann).iter().any(|(k, v)| {
            let k = y.str(*k).unwrap_or("");
            let v = y.str(*v).unwrap_or("").to_ascii_lowercase();
            (k.contains("internal")
                && (v == "true" || v.starts_with("0.0.0.0/0") || v == "internal"))
                || (k.contains("load-balancer-type") && v == "internal")
                || (k.contains("aws-load-balancer-scheme") && v == "internal")
        });
        if internal {
            return;
        }
    }
    let selector: Vec<(String, String)> = y
        .get(spec, "selector")
        .map(|s| {
            y.pairs(s)
                .iter()
                .filter_map(|(k, v)| Some((y.str(*k)?.to_owned(), y.str(*v)?.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    let selects_ml = !selector.is_empty()
        && (ml_labels
            .iter()
            .any(|set| selector.iter().all(|p| set.contains(p)))
            || selector.iter().any(|(k, _)| {
                k.contains("kserve") || k.contains("seldon") || k.starts_with("ray.io")
            }));
    let ports: Vec<u32> = y
        .get(spec, "ports")
        .map(|p| y.seq(p).iter().flat_map(|p| port_numbers(y, *p)).collect())
        .unwrap_or_default();
    let critical = ports
        .iter()
        .find_map(|p| CRITICAL_PORTS.iter().find(|(n, _)| n == p));
    let known = ports
        .iter()
        .find_map(|p| ML_PORTS.iter().find(|(n, _)| n == p));
    let (sev, what) = match (critical, selects_ml, known) {
        (Some((p, what)), _, _) => (Severity::Critical, format!("the {what} port {p}")),
        (None, true, _) => (Severity::High, "an ML workload of this file".to_owned()),
        (None, false, Some((p, what))) => (Severity::Medium, format!("the {what} port {p}")),
        _ => return,
    };
    let (l, c) = at(y, t);
    out.push(
        Finding::new(
            &rules::SERVER_EXPOSED,
            file,
            format!("Service `{name}` of type {ty} exposes {what} with no source ranges or internal annotation"),
        )
        .severity(sev)
        .evidence(format!("type: {ty}"))
        .line(l, c),
    );
}

pub fn check_compose(file: &FileInput<'_>, y: &Yaml, doc: NodeId, out: &mut Vec<Finding>) {
    let Some(services) = y.get(doc, "services") else {
        return;
    };
    for &(k, svc) in y.pairs(services) {
        let name = y.str(k).unwrap_or("?");
        let who = format!("compose service `{name}`");
        let image = y.get_str(svc, "image");
        let mut gpu = y.get_str(svc, "runtime") == Some("nvidia");
        if let Some(d) = y.get(svc, "deploy") {
            y.walk(d, |_, id| {
                if y.str(id).is_some_and(|s| s == "gpu" || s == "nvidia") {
                    gpu = true;
                }
            });
        }
        let ml = gpu || image.is_some_and(common::is_ml_image);
        // Secrets: in every service.
        if let Some(env) = y.get(svc, "environment") {
            let mut pairs: Vec<(String, String, NodeId)> = Vec::new();
            for &(ek, ev) in y.pairs(env) {
                if let (Some(n), Some(v)) = (y.str(ek), y.str(ev)) {
                    pairs.push((n.to_owned(), v.to_owned(), ev));
                }
            }
            for &item in y.seq(env) {
                if let Some((n, v)) = y.str(item).and_then(|s| s.split_once('=')) {
                    pairs.push((n.to_owned(), v.to_owned(), item));
                }
            }
            for (n, v, id) in pairs {
                if common::is_secret_name(&n) && common::is_literal_secret_value(&v) {
                    let (l, c) = at(y, id);
                    out.push(
                        Finding::new(
                            &rules::SECRET_IN_ENV,
                            file,
                            format!("{who} sets `{n}` to a literal value; use compose `secrets:` or an env file kept out of the repository"),
                        )
                        .evidence(common::redacted(&n, &v))
                        .line(l, c),
                    );
                }
            }
        }
        if !ml {
            continue;
        }
        let mut push = |rule, id: NodeId, msg: String, ev: String, sev: Option<Severity>| {
            let (l, c) = at(y, id);
            let mut f = Finding::new(rule, file, msg).evidence(ev).line(l, c);
            if let Some(s) = sev {
                f = f.severity(s);
            }
            out.push(f);
        };
        if let Some(v) = y.get(svc, "privileged")
            && y.is_true(Some(v))
        {
            push(
                &rules::K8S_PRIVILEGED,
                v,
                format!("{who} runs privileged"),
                "privileged: true".into(),
                None,
            );
        }
        for k in ["network_mode", "pid", "ipc"] {
            if let Some(v) = y.get(svc, k)
                && y.str(v) == Some("host")
            {
                push(
                    &rules::K8S_PRIVILEGED,
                    v,
                    format!("{who} shares the host's namespace (`{k}: host`)"),
                    format!("{k}: host"),
                    None,
                );
            }
        }
        if let Some(vols) = y.get(svc, "volumes") {
            for &v in y.seq(vols) {
                let src = match y.str(v) {
                    Some(s) => s.split(':').next().map(str::to_owned),
                    None => y.get_str(v, "source").map(str::to_owned),
                };
                if let Some(src) = src
                    && src.starts_with('/')
                    && sensitive(&src)
                {
                    push(
                        &rules::HOST_MOUNT,
                        v,
                        format!("{who} bind-mounts the host path `{src}`"),
                        format!("volume: {src}"),
                        None,
                    );
                }
            }
        }
        if let Some(img) = y.get(svc, "image")
            && let Some(s) = y.str(img)
            && let Some(why) = common::unpinned_image(s)
        {
            push(
                &rules::MUTABLE_IMAGE,
                img,
                format!("{who} image `{s}` {why}"),
                format!("image: {s}"),
                None,
            );
        }
        if let Some(ports) = y.get(svc, "ports") {
            for &p in y.seq(ports) {
                let spec = y.str(p).map(str::to_owned).or_else(|| {
                    y.get_str(p, "published").map(|pub_| {
                        format!("{}:{pub_}", y.get_str(p, "host_ip").unwrap_or("0.0.0.0"))
                    })
                });
                let Some(spec) = spec else { continue };
                let parts: Vec<&str> = spec.split(':').collect();
                let loopback = parts.len() >= 3
                    && (parts[0].starts_with("127.")
                        || parts[0] == "localhost"
                        || parts[0] == "[::1]");
                let target: Option<u32> = parts
                    .last()
                    .and_then(|t| t.split('/').next())
                    .and_then(|t| t.parse().ok());
                if loopback {
                    continue;
                }
                if let Some(t) = target
                    && let Some((_, what)) = CRITICAL_PORTS.iter().find(|(n, _)| *n == t)
                {
                    push(
                        &rules::SERVER_EXPOSED,
                        p,
                        format!("{who} publishes the {what} port {t} on all interfaces"),
                        format!("ports: {spec}"),
                        Some(Severity::Critical),
                    );
                }
            }
        }
        if let Some(cmd) = y.get(svc, "command") {
            let script = match &y.node(cmd).val {
                YVal::Str(s) => s.clone(),
                YVal::Seq(items) => items
                    .iter()
                    .filter_map(|i| y.str(*i))
                    .collect::<Vec<_>>()
                    .join(" "),
                _ => String::new(),
            };
            for h in common::check_script(&script) {
                if h.kind == ShellIssue::NoAuthServer {
                    push(
                        &rules::SERVER_NO_AUTH,
                        cmd,
                        format!("{who}: {}", h.message),
                        h.evidence,
                        None,
                    );
                }
            }
        }
    }
}
