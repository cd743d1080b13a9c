//! Conda environment files: `environment.yml` and MLflow's `conda.yaml`,
//! both their conda packages and their `pip:` section.
//!
//! aisec's database holds PyPI advisories, and conda-forge rebuilds Python
//! libraries under their PyPI names and versions, so conda packages are
//! matched against PyPI advisories with medium confidence (a conda build can
//! carry a backported patch, and a few packages are named differently, see
//! `CONDA_TO_PYPI`). The `pip:` section is plain pip syntax.

use aisec_core::Confidence;
use serde::Deserialize;

use super::requirements::Includes;
use super::{Dependency, Manifest, ParseError, Pin};

/// Conda packages whose PyPI name differs.
const CONDA_TO_PYPI: &[(&str, &str)] = &[("pytorch", "torch"), ("py-xgboost", "xgboost")];
/// Conda packages that are not Python distributions at all; no PyPI advisory
/// can concern them (`python` itself, compilers, CUDA).
const NOT_PYPI: &[&str] = &[
    "python",
    "pip",
    "cudatoolkit",
    "cudnn",
    "nccl",
    "mkl",
    "libgcc-ng",
];

#[derive(Deserialize)]
struct Env {
    #[serde(default)]
    dependencies: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Entry {
    Conda(String),
    Pip {
        pip: Vec<String>,
    },
    /// Other mappings (rare, tool-specific): ignored rather than rejected.
    Other(serde::de::IgnoredAny),
}

/// Parses an environment file; `-r`/`-c` lines of its `pip:` section are
/// read through `includes` (relative to the environment file, as conda's pip
/// runs there), never from disk directly.
pub fn parse(text: &str, includes: Option<&Includes<'_>>) -> Result<Manifest, ParseError> {
    let env: Env = serde_yaml_ng::from_str(text).map_err(|e| {
        ParseError::new(
            e.location().map(|l| l.line() as u32),
            format!("invalid YAML: {}", super::library_error(&e.to_string())),
        )
    })?;
    let mut out = Manifest::default();
    for entry in env.dependencies {
        match entry {
            Entry::Conda(spec) => {
                if let Some(mut dep) = conda_dependency(&spec) {
                    dep.line = super::line_containing(text, &spec);
                    out.dependencies.push(dep);
                }
            }
            Entry::Pip { pip } => {
                // One requirements "file" made of the pip lines; `-r` in it is
                // relative to the environment file, as conda's pip runs there.
                let joined = pip.join("\n");
                let mut m = super::requirements::parse(&joined, includes);
                for d in &mut m.dependencies {
                    if d.via.is_none() {
                        d.line = super::line_containing(text, &d.spec);
                    }
                }
                for p in &mut m.problems {
                    p.line = None;
                }
                for i in &mut m.indexes {
                    i.line = super::line_containing(text, &i.url);
                }
                // The pip line that makes the reference (itself, or the
                // include that leads to it), in the environment file.
                for e in &mut m.escapes {
                    e.line = e
                        .line
                        .and_then(|l| pip.get((l as usize).checked_sub(1)?))
                        .and_then(|entry| super::line_containing(text, entry.trim()))
                        .or_else(|| super::line_containing(text, &e.reference));
                }
                out.escapes.extend(m.escapes);
                out.dependencies.extend(m.dependencies);
                out.indexes.extend(m.indexes);
                out.problems.extend(m.problems);
                out.require_hashes |= m.require_hashes;
            }
            Entry::Other(_) => {}
        }
    }
    Ok(out)
}

/// `numpy`, `numpy=1.24`, `numpy=1.24.3=py311h_0`, `numpy==1.24.3`,
/// `numpy>=1.24`, `conda-forge::numpy=1.24`, `numpy 1.24.3 py311h_0`.
/// conda's `=1.24` means `1.24.*`, a range; `=1.24.3` (what an exported
/// environment pins) and `=1.24=build` count as exact.
fn conda_dependency(spec: &str) -> Option<Dependency> {
    let s = spec.rsplit("::").next().unwrap_or(spec).trim();
    let s = s.split('[').next().unwrap_or(s).trim();
    let (name, constraint) = match s.split_once(char::is_whitespace) {
        Some((n, rest)) => (
            n,
            format!("={}", rest.split_whitespace().next().unwrap_or("")),
        ),
        None => {
            let i = s.find(['=', '<', '>', '!', '~']).unwrap_or(s.len());
            (&s[..i], s[i..].to_owned())
        }
    };
    let lower = name.to_ascii_lowercase();
    if name.is_empty() || NOT_PYPI.contains(&lower.as_str()) {
        return None;
    }
    let pypi_name = CONDA_TO_PYPI
        .iter()
        .find(|(c, _)| *c == lower)
        .map_or(name, |(_, p)| p);
    let pin = if constraint.is_empty() {
        Pin::Any
    } else if let Some(v) = constraint.strip_prefix("==") {
        Pin::Exact(v.split('=').next().unwrap_or(v).to_owned())
    } else if let Some(rest) = constraint.strip_prefix('=') {
        let mut parts = rest.split('=');
        let v = parts.next().unwrap_or(rest);
        let has_build = parts.next().is_some_and(|b| !b.is_empty() && b != "*");
        // `=1.21` is conda's fuzzy `1.21.*`: any patch release may be
        // installed, so only a full `X.Y.Z` or a build string pins.
        let full = v.split('.').count() >= 3;
        if v.contains('*') || v.is_empty() || !(full || has_build) {
            Pin::Range(constraint.clone())
        } else {
            Pin::Exact(v.to_owned())
        }
    } else {
        Pin::Range(constraint.clone())
    };
    let mut dep = Dependency::new(pypi_name, pin, spec);
    dep.confidence = Confidence::Medium;
    Some(dep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mlflow_conda_yaml() {
        let text = "\
channels:
  - conda-forge
dependencies:
  - python=3.8.10
  - pytorch=1.13.0=py3.8_cuda
  - conda-forge::numpy>=1.20
  - scikit-learn==1.0.2
  - pandas=1.5
  - pip<=23.0
  - pip:
    - mlflow==1.30.0
    - --extra-index-url http://internal/simple
    - cloudpickle
name: mlflow-env
";
        let m = parse(text, None).unwrap();
        let got: Vec<_> = m
            .dependencies
            .iter()
            .map(|d| (d.name.as_str(), d.pin.clone(), d.line, d.confidence))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "torch",
                    Pin::Exact("1.13.0".into()),
                    Some(5),
                    Confidence::Medium
                ),
                (
                    "numpy",
                    Pin::Range(">=1.20".into()),
                    Some(6),
                    Confidence::Medium
                ),
                (
                    "scikit-learn",
                    Pin::Exact("1.0.2".into()),
                    Some(7),
                    Confidence::Medium
                ),
                (
                    "pandas",
                    Pin::Range("=1.5".into()),
                    Some(8),
                    Confidence::Medium
                ),
                (
                    "mlflow",
                    Pin::Exact("1.30.0".into()),
                    Some(11),
                    Confidence::High
                ),
                ("cloudpickle", Pin::Any, Some(13), Confidence::High),
            ]
        );
        assert_eq!(m.indexes[0].url, "http://internal/simple");
        assert_eq!(m.indexes[0].line, Some(12));
    }

    #[test]
    fn malformed_yaml() {
        let e = parse("dependencies:\n  - a\n - : [\n", None).unwrap_err();
        assert!(e.message.starts_with("invalid YAML"), "{}", e.message);
        assert!(e.line.is_some());
        assert!(parse("dependencies: 3\n", None).is_err());
    }
}
