//! GitLab CI pipelines (`.gitlab-ci.yml` and the files it includes).
//!
//! The same judgements as for GitHub workflows where GitLab has the same
//! hazard: models published without a scan or signing gate, secrets printed
//! to the job log or written into `variables`, pip pointed at extra or
//! insecure indexes, mutable job images, and includes of other projects'
//! or remote pipeline code that is not pinned.

use aisec_core::{FileInput, Finding, Severity};

use crate::actions::{GATES, publishes};
use crate::common::{self, ShellIssue};
use crate::rules;
use crate::yaml::{NodeId, YVal, Yaml};

/// Top-level keys that configure the pipeline rather than name a job.
const GLOBAL_KEYS: &[&str] = &[
    "stages",
    "variables",
    "default",
    "include",
    "workflow",
    "image",
    "services",
    "before_script",
    "after_script",
    "cache",
    "spec",
];

/// Keys of a job whose value is shell.
const SCRIPT_KEYS: &[&str] = &["script", "before_script", "after_script"];

/// Whether a document is a GitLab pipeline: named so, or shaped so (a
/// `stages` list, or a job mapping with a `script` and GitLab job keys).
pub fn is_pipeline(file: &FileInput<'_>, y: &Yaml, doc: NodeId) -> bool {
    if !y.is_map(doc) || y.get(doc, "jobs").is_some() {
        return false;
    }
    let named = file.name().to_ascii_lowercase().ends_with(".gitlab-ci.yml")
        || file.path.contains(".gitlab/ci/");
    let staged = y.get(doc, "stages").is_some_and(|s| !y.seq(s).is_empty());
    let has_job = jobs(y, doc).next().is_some();
    (named || staged) && has_job
}

/// `(name, job)` of every job: a top-level mapping with a `script` (or a
/// hidden `.template` job that others extend).
fn jobs<'y>(y: &'y Yaml, doc: NodeId) -> impl Iterator<Item = (&'y str, NodeId)> + 'y {
    y.pairs(doc).iter().filter_map(move |&(k, v)| {
        let name = y.str(k)?;
        if GLOBAL_KEYS.contains(&name) || !y.is_map(v) {
            return None;
        }
        SCRIPT_KEYS
            .iter()
            .any(|s| y.get(v, s).is_some())
            .then_some((name, v))
    })
}

/// The lines of a script value (a string or a list of strings), each with
/// the source line it is on.
fn script_lines(y: &Yaml, script: NodeId) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    let mut push = |id: NodeId| {
        if let Some(text) = y.str(id) {
            for (i, line) in text.lines().enumerate() {
                out.push((line.to_owned(), y.text_line(id, i)));
            }
        }
    };
    match &y.node(script).val {
        YVal::Seq(items) => items.iter().copied().for_each(&mut push),
        _ => push(script),
    }
    out
}

/// `$NAME` / `${NAME}` variables a line expands.
fn expanded_vars(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(p) = rest.find('$') {
        let after = rest[p + 1..].trim_start_matches('{');
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        if end > 0 {
            out.push(&after[..end]);
        }
        rest = &after[end..];
    }
    out
}

pub fn check(file: &FileInput<'_>, y: &Yaml, doc: NodeId, out: &mut Vec<Finding>) {
    check_includes(file, y, doc, out);
    check_variables(file, y, y.get(doc, "variables"), "the pipeline", out);
    if let Some(image) = y.get(doc, "image") {
        check_image(file, y, image, "the pipeline's default", out);
    }
    if let Some(default) = y.get(doc, "default")
        && let Some(image) = y.get(default, "image")
    {
        check_image(file, y, image, "the pipeline's default", out);
    }

    let mut gated = false;
    let mut publish_sites: Vec<(String, u32)> = Vec::new();
    let mut scripts: Vec<NodeId> = SCRIPT_KEYS.iter().filter_map(|k| y.get(doc, k)).collect();
    for (name, job) in jobs(y, doc) {
        check_variables(
            file,
            y,
            y.get(job, "variables"),
            &format!("job `{name}`"),
            out,
        );
        if let Some(image) = y.get(job, "image") {
            check_image(file, y, image, &format!("job `{name}`"), out);
        }
        scripts.extend(SCRIPT_KEYS.iter().filter_map(|k| y.get(job, k)));
    }
    for script in scripts {
        let lines = script_lines(y, script);
        let joined: String = lines
            .iter()
            .map(|(l, _)| l.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        for (line, at) in &lines {
            let t = line.trim_start();
            if GATES.iter().any(|g| line.contains(g)) {
                gated = true;
            }
            if let Some(what) = publishes(line) {
                publish_sites.push((what, *at));
            }
            if (t.starts_with("echo") || t.starts_with("printf"))
                && !line.contains('|')
                && !line.contains('>')
                && let Some(v) = expanded_vars(line)
                    .into_iter()
                    .find(|v| *v == "CI_JOB_TOKEN" || common::is_secret_name(v))
            {
                out.push(
                    Finding::new(
                        &rules::GHA_SECRET_ECHO,
                        file,
                        format!("`${v}` is printed to the job log"),
                    )
                    .evidence(format!("echo ${v}"))
                    .line(*at, None),
                );
            }
        }
        let first_line = lines.first().map_or(y.node(script).line, |(_, l)| *l);
        for h in common::check_script(&joined) {
            if h.kind == ShellIssue::PipIndex {
                let at = lines.get(h.line_offset).map_or(first_line, |(_, l)| *l);
                out.push(
                    Finding::new(&rules::PIP_UNTRUSTED_INDEX, file, h.message)
                        .evidence(h.evidence)
                        .line(at, None),
                );
            }
        }
    }
    if !gated {
        for (what, line) in publish_sites {
            out.push(
                Finding::new(
                    &rules::PUBLISH_WITHOUT_GATE,
                    file,
                    format!("the pipeline publishes a model or dataset (`{what}`) but no job scans or signs it; add `aisec scan` before and `aisec sign` after the upload"),
                )
                .evidence(what)
                .line(line, None),
            );
        }
    }
}

fn check_image(file: &FileInput<'_>, y: &Yaml, image: NodeId, whose: &str, out: &mut Vec<Finding>) {
    // `image: name` or `image: { name: ..., entrypoint: ... }`.
    let node = y.get(image, "name").unwrap_or(image);
    let Some(reference) = y.str(node) else { return };
    if let Some(why) = common::unpinned_image(reference) {
        let n = y.node(node);
        out.push(
            Finding::new(
                &rules::MUTABLE_IMAGE,
                file,
                format!(
                    "{whose} image `{reference}` {why}: every run may execute a different image"
                ),
            )
            .evidence(format!("image: {reference}"))
            .line(n.line, Some(n.col)),
        );
    }
}

fn check_variables(
    file: &FileInput<'_>,
    y: &Yaml,
    vars: Option<NodeId>,
    whose: &str,
    out: &mut Vec<Finding>,
) {
    let Some(vars) = vars else { return };
    for &(k, v) in y.pairs(vars) {
        // `NAME: value` or `NAME: { value: ..., description: ... }`.
        let v = y.get(v, "value").unwrap_or(v);
        if let (Some(n), Some(val)) = (y.str(k), y.str(v))
            && common::is_secret_name(n)
            && common::is_literal_secret_value(val)
        {
            out.push(
                Finding::new(
                    &rules::SECRET_IN_ENV,
                    file,
                    format!("{whose} sets `{n}` to a literal value in `variables`; use a masked CI/CD variable"),
                )
                .evidence(common::redacted(n, val))
                .line(y.node(v).line, Some(y.node(v).col)),
            );
        }
    }
}

/// `include:` of remote URLs (never pinnable) and of other projects' files
/// at a branch or tag rather than a commit SHA.
fn check_includes(file: &FileInput<'_>, y: &Yaml, doc: NodeId, out: &mut Vec<Finding>) {
    let Some(include) = y.get(doc, "include") else {
        return;
    };
    let items: Vec<NodeId> = match &y.node(include).val {
        YVal::Seq(items) => items.clone(),
        _ => vec![include],
    };
    for item in items {
        let n = y.node(item);
        // A bare string is a local path or, with a scheme, a remote URL.
        let remote = y
            .str(item)
            .filter(|s| s.starts_with("http://") || s.starts_with("https://"))
            .or_else(|| y.get(item, "remote").and_then(|r| y.str(r)));
        if let Some(url) = remote {
            out.push(
                Finding::new(
                    &rules::GHA_UNPINNED,
                    file,
                    format!("the pipeline includes `{url}`: whoever controls that URL changes what runs, with this project's variables"),
                )
                .evidence(format!("include: {url}"))
                .line(n.line, Some(n.col)),
            );
            continue;
        }
        if let Some(project) = y.get(item, "project").and_then(|p| y.str(p)) {
            let reference = y.get(item, "ref").and_then(|r| y.str(r)).unwrap_or("");
            let pinned = reference.len() == 40 && reference.bytes().all(|b| b.is_ascii_hexdigit());
            if !pinned {
                let what = if reference.is_empty() {
                    "no `ref` (the default branch)".to_owned()
                } else {
                    format!("`{reference}`")
                };
                out.push(
                    Finding::new(
                        &rules::GHA_UNPINNED,
                        file,
                        format!(
                            "the pipeline includes files of `{project}` at {what}, not a commit SHA"
                        ),
                    )
                    .evidence(format!("include: project: {project}"))
                    .line(n.line, Some(n.col))
                    .severity(Severity::Low),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_in_a_line() {
        assert_eq!(
            expanded_vars("echo $HF_TOKEN and ${CI_JOB_TOKEN}."),
            vec!["HF_TOKEN", "CI_JOB_TOKEN"]
        );
        assert!(expanded_vars("echo $ 5").is_empty());
    }
}
