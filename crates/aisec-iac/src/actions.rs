//! GitHub Actions workflows.

use aisec_core::{Confidence, FileInput, Finding, Severity};

use crate::common::{self, ShellIssue};
use crate::rules;
use crate::yaml::{NodeId, YVal, Yaml};

/// Whether a document is a workflow: `on` and a `jobs` mapping.
pub fn is_workflow(y: &Yaml, doc: NodeId) -> bool {
    y.get(doc, "jobs").is_some_and(|j| y.is_map(j)) && y.get(doc, "on").is_some()
}

/// Contexts an outside contributor controls (GitHub's own list of untrusted
/// input, plus `github.head_ref`).
const UNTRUSTED: &[&str] = &[
    "github.head_ref",
    "github.event.issue.title",
    "github.event.issue.body",
    "github.event.pull_request.title",
    "github.event.pull_request.body",
    "github.event.pull_request.head.ref",
    "github.event.pull_request.head.label",
    "github.event.pull_request.head.repo.default_branch",
    "github.event.comment.body",
    "github.event.review.body",
    "github.event.review_comment.body",
    "github.event.discussion.title",
    "github.event.discussion.body",
    "github.event.head_commit.message",
    "github.event.head_commit.author.email",
    "github.event.head_commit.author.name",
    "github.event.workflow_run.head_branch",
    "github.event.workflow_run.head_commit.message",
    "github.event.workflow_run.head_commit.author",
    "github.event.workflow_run.pull_requests",
    "github.event.pages",
];

fn untrusted_in(expr: &str) -> Option<&'static str> {
    let e: String = expr.chars().filter(|c| !c.is_whitespace()).collect();
    if let Some(u) = UNTRUSTED.iter().find(|u| e.contains(*u)) {
        return Some(u);
    }
    // github.event.commits[*].message, github.event.commits.*.author.name
    if e.contains("github.event.commits") && (e.contains("message") || e.contains("author")) {
        return Some("github.event.commits.*.message");
    }
    None
}

/// `${{ ... }}` expressions of a text, with the 0-based line they are on.
fn expressions(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(p) = rest.find("${{") {
            let after = &rest[p + 3..];
            let end = after.find("}}").unwrap_or(after.len());
            out.push((i, &after[..end]));
            rest = &after[end..];
        }
    }
    out
}

const PUBLISH: &[&str] = &[
    "huggingface-cli upload",
    "hf upload",
    "push_to_hub",
    "upload_folder(",
    "upload_file(",
    "upload_large_folder",
    "log_model",
    "mlflow models",
    "dvc push",
    "wandb artifact put",
    "modal volume put",
];
pub(crate) const GATES: &[&str] = &[
    "aisec scan",
    "aisec sign",
    "aisec verify",
    "modelscan",
    "picklescan",
    "model_signing",
    "model-signing",
    "cosign sign-blob",
    "sigstore sign",
];
const DATA_WORDS: &[&str] = &[
    "model",
    "dataset",
    "checkpoint",
    "weights",
    "artifact",
    "data",
    ".safetensors",
    ".gguf",
    ".onnx",
    ".pt",
];

pub(crate) fn publishes(line: &str) -> Option<String> {
    let line = common::strip_comment(line);
    if let Some(p) = PUBLISH.iter().find(|p| line.contains(*p)) {
        return Some((*p).trim_end_matches('(').to_owned());
    }
    let ws: Vec<&str> = line.split_whitespace().collect();
    let copy = ws.windows(3).any(|w| {
        (w[0] == "aws" && w[1] == "s3" && (w[2] == "cp" || w[2] == "sync"))
            || (w[0] == "gcloud" && w[1] == "storage" && (w[2] == "cp" || w[2] == "rsync"))
    }) || ws
        .windows(2)
        .any(|w| w[0].ends_with("gsutil") && (w[1] == "cp" || w[1] == "rsync"))
        || ws.windows(2).any(|w| w[0] == "gsutil" && w[1] == "-m");
    if copy {
        // Uploads end in a bucket; downloads start from one.
        let last = ws
            .iter()
            .rev()
            .find(|w| !w.starts_with('-'))
            .copied()
            .unwrap_or("");
        let lower = line.to_ascii_lowercase();
        if (last.starts_with("s3://") || last.starts_with("gs://"))
            && DATA_WORDS.iter().any(|d| lower.contains(d))
        {
            return Some(format!("upload to {last}"));
        }
    }
    None
}

struct Step {
    node: NodeId,
    uses: Option<(String, NodeId)>,
    run: Option<(String, NodeId)>,
    with: Option<NodeId>,
}

pub fn check(file: &FileInput<'_>, y: &Yaml, doc: NodeId, out: &mut Vec<Finding>) {
    let Some(jobs) = y.get(doc, "jobs") else {
        return;
    };
    let on = y.get(doc, "on");
    let mut triggers: Vec<String> = Vec::new();
    if let Some(on) = on {
        match &y.node(on).val {
            YVal::Str(s) => triggers.push(s.clone()),
            YVal::Seq(items) => {
                triggers.extend(items.iter().filter_map(|i| y.str(*i).map(str::to_owned)))
            }
            YVal::Map(pairs) => triggers.extend(
                pairs
                    .iter()
                    .filter_map(|(k, _)| y.str(*k).map(str::to_owned)),
            ),
            _ => {}
        }
    }
    let privileged_trigger = triggers
        .iter()
        .find(|t| *t == "pull_request_target" || *t == "workflow_run")
        .cloned();

    let top_perm = y.get(doc, "permissions");
    if let Some(p) = top_perm
        && y.str(p) == Some("write-all")
    {
        out.push(
            Finding::new(
                &rules::GHA_PERMISSIONS,
                file,
                "the workflow grants `permissions: write-all` to every job",
            )
            .evidence("permissions: write-all")
            .line(y.node(p).line, Some(y.node(p).col)),
        );
    }

    let mut all_steps: Vec<Step> = Vec::new();
    let mut jobs_without_perm = Vec::new();
    for &(jk, job) in y.pairs(jobs) {
        let jname = y.str(jk).unwrap_or("?");
        match y.get(job, "permissions") {
            Some(p) if y.str(p) == Some("write-all") => out.push(
                Finding::new(
                    &rules::GHA_PERMISSIONS,
                    file,
                    format!("job `{jname}` grants `permissions: write-all`"),
                )
                .evidence("permissions: write-all")
                .line(y.node(p).line, Some(y.node(p).col)),
            ),
            Some(_) => {}
            None => jobs_without_perm.push(jk),
        }
        // A job that calls a reusable workflow has `uses` at job level.
        if let Some(u) = y.get(job, "uses") {
            all_steps.push(Step {
                node: job,
                uses: y.str(u).map(|s| (s.to_owned(), u)),
                run: None,
                with: y.get(job, "with"),
            });
        }
        if let Some(steps) = y.get(job, "steps") {
            for &s in y.seq(steps) {
                all_steps.push(Step {
                    node: s,
                    uses: y
                        .get(s, "uses")
                        .and_then(|u| y.str(u).map(|t| (t.to_owned(), u))),
                    run: y
                        .get(s, "run")
                        .and_then(|r| y.str(r).map(|t| (t.to_owned(), r))),
                    with: y.get(s, "with"),
                });
            }
        }
    }
    if top_perm.is_none() && !jobs_without_perm.is_empty() {
        let jk = jobs_without_perm[0];
        let names: Vec<&str> = jobs_without_perm.iter().filter_map(|j| y.str(*j)).collect();
        out.push(
            Finding::new(
                &rules::GHA_PERMISSIONS,
                file,
                format!(
                    "no top-level `permissions`, and job(s) {} declare none: their token gets the repository default (write on older repositories)",
                    names.join(", ")
                ),
            )
            .severity(Severity::Low)
            .confidence(Confidence::Medium)
            .evidence("no permissions block")
            .line(y.node(jk).line, Some(y.node(jk).col)),
        );
    }

    let mut gated = false;
    let mut publish_sites: Vec<(String, u32, u32)> = Vec::new();
    for step in &all_steps {
        if let Some((uses, u)) = &step.uses {
            check_uses(file, y, uses, *u, out);
            let lower = uses.to_ascii_lowercase();
            if lower.contains("aisec")
                || lower.contains("modelscan")
                || lower.starts_with("sigstore/")
            {
                gated = true;
            }
            let base = lower.split('@').next().unwrap_or("");
            if let (Some(trigger), "actions/checkout") = (&privileged_trigger, base)
                && let Some(r) = step.with.and_then(|w| y.get(w, "ref"))
                && let Some(rs) = y.str(r)
                && is_pr_head(rs)
            {
                out.push(
                    Finding::new(
                        &rules::GHA_UNTRUSTED_CHECKOUT,
                        file,
                        format!("a `{trigger}` workflow checks out the pull request's code (`ref: {rs}`) with the base repository's secrets and token"),
                    )
                    .evidence(format!("ref: {rs}"))
                    .line(y.node(r).line, Some(y.node(r).col)),
                );
            }
            if base == "actions/github-script"
                && let Some(sc) = step.with.and_then(|w| y.get(w, "script"))
                && let Some(text) = y.str(sc)
            {
                for (i, e) in expressions(text) {
                    if let Some(u) = untrusted_in(e) {
                        out.push(
                            Finding::new(&rules::GHA_INJECTION, file, format!("`{u}` is pasted into a github-script: attacker-controlled text becomes JavaScript"))
                                .evidence(format!("${{{{{e}}}}}"))
                                .line(y.text_line(sc, i), None),
                        );
                    }
                }
            }
        }
        if let Some((run, r)) = &step.run {
            for (i, e) in expressions(run) {
                if let Some(u) = untrusted_in(e) {
                    out.push(
                        Finding::new(&rules::GHA_INJECTION, file, format!("`{u}` is pasted into a run script: attacker-controlled text becomes shell code"))
                            .evidence(format!("${{{{{e}}}}}"))
                            .line(y.text_line(*r, i), None),
                    );
                }
            }
            for (i, line) in run.lines().enumerate() {
                let t = line.trim_start();
                if GATES.iter().any(|g| line.contains(g)) {
                    gated = true;
                }
                if let Some(what) = publishes(line) {
                    publish_sites.push((what, y.text_line(*r, i), y.node(step.node).col));
                }
                if (t.starts_with("echo") || t.starts_with("printf"))
                    && line.contains("secrets.")
                    && expressions(line)
                        .iter()
                        .any(|(_, e)| e.contains("secrets."))
                    && !line.contains("::add-mask::")
                    && !line.contains('|')
                    && !line.contains('>')
                {
                    out.push(
                        Finding::new(
                            &rules::GHA_SECRET_ECHO,
                            file,
                            "a secret is printed to the job log",
                        )
                        .evidence(
                            t.split("${{").next().unwrap_or("").trim().to_owned()
                                + " ${{ secrets.* }}",
                        )
                        .line(y.text_line(*r, i), None),
                    );
                }
                if privileged_trigger.is_some()
                    && (line.contains("gh pr checkout")
                        || (line.contains("git fetch") && line.contains("pull/"))
                        || (line.contains("git checkout")
                            && expressions(line).iter().any(|(_, e)| is_pr_head(e))))
                {
                    out.push(
                        Finding::new(
                            &rules::GHA_UNTRUSTED_CHECKOUT,
                            file,
                            format!(
                                "a `{}` workflow fetches the pull request's code in a run step",
                                privileged_trigger.as_deref().unwrap_or("")
                            ),
                        )
                        .evidence(t.to_owned())
                        .line(y.text_line(*r, i), None),
                    );
                }
            }
            for h in common::check_script(run) {
                if h.kind == ShellIssue::PipIndex {
                    out.push(
                        Finding::new(&rules::PIP_UNTRUSTED_INDEX, file, h.message)
                            .evidence(h.evidence)
                            .line(y.text_line(*r, h.line_offset), None),
                    );
                }
            }
        }
    }
    // Workflow-level env and step env: literal secrets.
    let mut envs = vec![y.get(doc, "env")];
    for &(_, job) in y.pairs(jobs) {
        envs.push(y.get(job, "env"));
        if let Some(steps) = y.get(job, "steps") {
            envs.extend(y.seq(steps).iter().map(|s| y.get(*s, "env")));
        }
    }
    for env in envs.into_iter().flatten() {
        for &(k, v) in y.pairs(env) {
            if let (Some(n), Some(val)) = (y.str(k), y.str(v))
                && common::is_secret_name(n)
                && common::is_literal_secret_value(val)
            {
                out.push(
                    Finding::new(&rules::SECRET_IN_ENV, file, format!("workflow `env` sets `{n}` to a literal value; use `${{{{ secrets.{n} }}}}`"))
                        .evidence(common::redacted(n, val))
                        .line(y.node(v).line, Some(y.node(v).col)),
                );
            }
        }
    }
    if !gated {
        for (what, line, col) in publish_sites {
            out.push(
                Finding::new(
                    &rules::PUBLISH_WITHOUT_GATE,
                    file,
                    format!("the workflow publishes a model or dataset (`{what}`) but no step scans or signs it; add `aisec scan` before and `aisec sign` after the upload"),
                )
                .evidence(what)
                .line(line, Some(col)),
            );
        }
    }
}

fn is_pr_head(s: &str) -> bool {
    s.contains("github.event.pull_request.head")
        || s.contains("github.head_ref")
        || s.contains("github.event.workflow_run.head")
        || s.contains("refs/pull/")
}

fn check_uses(file: &FileInput<'_>, y: &Yaml, uses: &str, node: NodeId, out: &mut Vec<Finding>) {
    let u = uses.trim();
    if u.starts_with("./") || u.starts_with(".\\") || u.contains("${{") {
        return;
    }
    let n = y.node(node);
    if let Some(img) = u.strip_prefix("docker://") {
        if !img.contains("@sha256:") {
            out.push(
                Finding::new(
                    &rules::GHA_UNPINNED,
                    file,
                    format!("the docker action `{img}` is not pinned to a digest"),
                )
                .evidence(format!("uses: {u}"))
                .line(n.line, Some(n.col)),
            );
        }
        return;
    }
    let (path, r) = match u.rsplit_once('@') {
        Some((p, r)) => (p, r),
        None => (u, ""),
    };
    if r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit()) {
        return;
    }
    let owner = path.split('/').next().unwrap_or("").to_ascii_lowercase();
    let first_party = owner == "actions" || owner == "github";
    let what = if r.is_empty() {
        "no ref".to_owned()
    } else {
        format!("`{r}`")
    };
    let mut f = Finding::new(
        &rules::GHA_UNPINNED,
        file,
        format!("`{path}` is referenced by {what}, not a commit SHA: whoever controls the repository can change what runs"),
    )
    .evidence(format!("uses: {u}"))
    .line(n.line, Some(n.col));
    if first_party {
        f = f.severity(Severity::Low);
    }
    out.push(f);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_contexts_and_publishing() {
        assert!(untrusted_in(" github.event.issue.title ").is_some());
        assert!(untrusted_in("github.event.commits[0].message").is_some());
        assert!(untrusted_in("github.event.pull_request.number").is_none());
        assert!(publishes("huggingface-cli upload org/m ./out").is_some());
        assert!(publishes("aws s3 cp ./model.tar.gz s3://ml-bucket/models/").is_some());
        assert!(publishes("aws s3 cp s3://ml-bucket/models/m.tar.gz ./").is_none());
        assert!(publishes("aws s3 sync ./site s3://www-bucket/").is_none());
        assert_eq!(expressions("a ${{ x }} b ${{y}}\nc").len(), 2);
    }
}
