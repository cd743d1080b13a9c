//! `pyproject.toml`: PEP 621 `[project]` dependencies and optional
//! dependencies, PEP 735 `[dependency-groups]` (uv), uv's and PDM's dev
//! dependencies, Poetry's `[tool.poetry]` tables, and the package indexes
//! uv and Poetry are told to use.
//!
//! These are declared ranges, so only exact pins (`==`, Poetry's bare
//! version) are matched against advisories; loose ranges are not a finding
//! here (the lockfile pins them).

use std::str::FromStr;

use toml::{Table, Value};

use super::{Dependency, IndexKind, IndexSource, Manifest, ParseError, Pin, Problem};

pub fn parse(text: &str) -> Result<Manifest, ParseError> {
    let doc: Table = toml::from_str(text).map_err(|e| toml_error(text, e))?;
    let mut out = Manifest::default();
    let project = doc.get("project").and_then(Value::as_table);
    let tool = doc.get("tool").and_then(Value::as_table);
    let pep508 = |v: Option<&Value>, section: &str, out: &mut Manifest| {
        for s in string_list(v) {
            pep508_dependency(text, s, section, out);
        }
    };
    if let Some(project) = project {
        pep508(
            project.get("dependencies"),
            "project.dependencies",
            &mut out,
        );
        for (group, deps) in tables(project.get("optional-dependencies")) {
            pep508(
                Some(deps),
                &format!("project.optional-dependencies.{group}"),
                &mut out,
            );
        }
    }
    for (group, deps) in tables(doc.get("dependency-groups")) {
        // Entries may also be `{include-group = "..."}` tables: those name
        // other groups, which are read on their own.
        pep508(Some(deps), &format!("dependency-groups.{group}"), &mut out);
    }
    if let Some(tool) = tool {
        let uv = tool.get("uv").and_then(Value::as_table);
        if let Some(uv) = uv {
            pep508(
                uv.get("dev-dependencies"),
                "tool.uv.dev-dependencies",
                &mut out,
            );
            let best_match = uv
                .get("index-strategy")
                .and_then(Value::as_str)
                .is_some_and(|s| s.starts_with("unsafe-"));
            for index in uv
                .get("index")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(url) = index.get("url").and_then(Value::as_str) {
                    out.indexes.push(IndexSource {
                        url: url.to_owned(),
                        line: super::line_containing(text, url),
                        // uv's default `first-index` strategy never mixes
                        // indexes for one package; the `unsafe-*` ones do.
                        kind: if best_match {
                            IndexKind::Extra
                        } else {
                            IndexKind::Primary
                        },
                    });
                }
            }
        }
        if let Some(pdm) = tool.get("pdm").and_then(Value::as_table) {
            for (group, deps) in tables(pdm.get("dev-dependencies")) {
                pep508(
                    Some(deps),
                    &format!("tool.pdm.dev-dependencies.{group}"),
                    &mut out,
                );
            }
        }
        if let Some(poetry) = tool.get("poetry").and_then(Value::as_table) {
            poetry_deps(text, poetry.get("dependencies"), &mut out);
            poetry_deps(text, poetry.get("dev-dependencies"), &mut out);
            for (_, group) in tables(poetry.get("group")) {
                poetry_deps(text, group.get("dependencies"), &mut out);
            }
            for source in poetry
                .get("source")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(url) = source.get("url").and_then(Value::as_str) else {
                    continue;
                };
                // Poetry's `supplemental` and `explicit` sources are only
                // consulted when the primary ones lack a package, or when a
                // dependency names them; neither mixes candidates.
                out.indexes.push(IndexSource {
                    url: url.to_owned(),
                    line: super::line_containing(text, url),
                    kind: IndexKind::Primary,
                });
            }
        }
    }
    Ok(out)
}

/// A TOML error with the line it points at.
pub(crate) fn toml_error(text: &str, e: toml::de::Error) -> ParseError {
    let line = e.span().map(|s| super::line_of_offset(text, s.start));
    ParseError::new(
        line,
        format!("invalid TOML: {}", super::library_error(e.message())),
    )
}

fn string_list(v: Option<&Value>) -> impl Iterator<Item = &str> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

fn tables(v: Option<&Value>) -> impl Iterator<Item = (&String, &Value)> {
    v.and_then(Value::as_table).into_iter().flatten()
}

fn pep508_dependency(text: &str, spec: &str, section: &str, out: &mut Manifest) {
    let line = super::line_containing(text, spec);
    match super::pep508(spec) {
        Ok(req) => {
            let pin = match &req.version_or_url {
                None => Pin::Any,
                Some(pep508_rs::VersionOrUrl::VersionSpecifier(s)) => super::pin_of_specifiers(s),
                Some(pep508_rs::VersionOrUrl::Url(u)) => Pin::Url {
                    url: u.to_string(),
                    immutable: false,
                },
            };
            out.dependencies
                .push(Dependency::new(req.name.to_string(), pin, spec).at_line(line));
        }
        Err(e) => out.problems.push(Problem {
            line,
            message: format!("{}: {e}", aisec_core::excerpt(section)),
        }),
    }
}

/// Poetry: `name = "^1.2"` or `name = {version = "...", ...}` or a list of
/// such tables (one per marker). A bare version (`"1.2.3"`) or `==1.2.3` is
/// exact; `^`, `~`, `*` and comparisons are ranges.
fn poetry_deps(text: &str, v: Option<&Value>, out: &mut Manifest) {
    for (name, spec) in tables(v) {
        if name == "python" {
            continue;
        }
        let specs: Vec<&Value> = match spec {
            Value::Array(a) => a.iter().collect(),
            other => vec![other],
        };
        for spec in specs {
            let constraint = match spec {
                Value::String(s) => Some(s.as_str()),
                Value::Table(t) => t.get("version").and_then(Value::as_str),
                _ => None,
            };
            let pin = match (constraint, spec) {
                (Some(c), _) => poetry_pin(c),
                (None, Value::Table(t)) => {
                    let url = ["git", "url", "path"]
                        .iter()
                        .find_map(|k| t.get(*k).and_then(Value::as_str))
                        .unwrap_or("")
                        .to_owned();
                    let immutable = t.contains_key("path")
                        || t.get("rev").and_then(Value::as_str).is_some_and(|r| {
                            r.len() >= 40 && r.chars().all(|c| c.is_ascii_hexdigit())
                        });
                    Pin::Url { url, immutable }
                }
                _ => Pin::Any,
            };
            let line = super::line_containing(text, &format!("{name} ="))
                .or_else(|| super::line_containing(text, name));
            out.dependencies
                .push(Dependency::new(name.clone(), pin, format!("{name} = {spec}")).at_line(line));
        }
    }
}

fn poetry_pin(c: &str) -> Pin {
    let c = c.trim();
    if c.is_empty() || c == "*" {
        return Pin::Any;
    }
    let exact = c.strip_prefix("==").unwrap_or(c).trim();
    let is_plain_version = !exact.contains(['*', ',', '^', '~', '<', '>', '!', '=', '|', ' '])
        && pep440_rs::Version::from_str(exact).is_ok();
    if is_plain_version {
        Pin::Exact(exact.to_owned())
    } else {
        Pin::Range(c.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_the_dialects() {
        let text = r#"
[project]
name = "app"
dependencies = ["mlflow==2.9.0", "numpy>=1.24"]
[project.optional-dependencies]
ui = ["gradio==3.50.0"]
[dependency-groups]
dev = ["pytest>=8", {include-group = "lint"}]
[tool.uv]
dev-dependencies = ["ruff==0.1.0"]
index-strategy = "unsafe-best-match"
[[tool.uv.index]]
url = "https://internal.example/simple"
[tool.pdm.dev-dependencies]
test = ["coverage"]
[tool.poetry.dependencies]
python = "^3.10"
torch = "1.13.0"
transformers = {version = "^4.30", extras = ["torch"]}
lib = {git = "https://github.com/org/lib.git", rev = "main"}
[tool.poetry.group.dev.dependencies]
black = "==23.1.0"
[[tool.poetry.source]]
name = "internal"
url = "http://pypi.internal/simple"
"#;
        let m = parse(text).unwrap();
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        let got: Vec<_> = m
            .dependencies
            .iter()
            .map(|d| (d.name.as_str(), d.pin.clone()))
            .collect();
        let e = |v: &str| Pin::Exact(v.into());
        let r = |v: &str| Pin::Range(v.into());
        assert_eq!(
            got,
            vec![
                ("mlflow", e("2.9.0")),
                ("numpy", r(">=1.24")),
                ("gradio", e("3.50.0")),
                ("pytest", r(">=8")),
                ("ruff", e("0.1.0")),
                ("coverage", Pin::Any),
                (
                    "lib",
                    Pin::Url {
                        url: "https://github.com/org/lib.git".into(),
                        immutable: false
                    }
                ),
                ("torch", e("1.13.0")),
                ("transformers", r("^4.30")),
                ("black", e("23.1.0")),
            ]
        );
        assert_eq!(m.dependencies[0].line, Some(4));
        assert_eq!(m.indexes[0].kind, IndexKind::Extra);
        assert_eq!(m.indexes[1].url, "http://pypi.internal/simple");
    }

    #[test]
    fn malformed_toml_names_the_line() {
        let e = parse("[project]\ndependencies = [\"a\"\n").unwrap_err();
        assert!(e.message.starts_with("invalid TOML"), "{}", e.message);
        assert!(e.line.is_some());
    }
}
