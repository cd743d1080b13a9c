//! The rules of the dependency scanner (`AISEC-DEP-*`).

use aisec_core::{Reference, Severity, cwe, refs};

/// CWE-1395: Dependency on Vulnerable Third-Party Component.
const CWE_1395: Reference = cwe!(1395);
/// CWE-829: Inclusion of Functionality from Untrusted Control Sphere.
const CWE_829: Reference = cwe!(829);
/// CWE-506: Embedded Malicious Code.
const CWE_506: Reference = cwe!(506);
/// CWE-319: Cleartext Transmission of Sensitive Information.
const CWE_319: Reference = cwe!(319);
/// CWE-494: Download of Code Without Integrity Check.
const CWE_494: Reference = cwe!(494);
/// CWE-427: Uncontrolled Search Path Element (dependency confusion).
const CWE_427: Reference = cwe!(427);

aisec_core::rules! {
/// Every rule this crate may report, for `aisec rules` and SARIF.
pub static RULES;

pub static VULNERABLE = Rule {
    id: "AISEC-DEP-001",
    name: "vulnerable-dependency",
    summary: "A pinned or installed dependency has a published vulnerability",
    default_severity: Severity::High,
    explanation: "\
## What it finds
A dependency whose exact version (pinned with `==` in a requirements file or
`pyproject.toml`, locked in `poetry.lock`, `uv.lock`, `pdm.lock`,
`pylock.toml` or `Pipfile.lock`, listed in a conda environment, or installed in
a `site-packages`) lies in the affected range of an advisory of the local OSV
database (`aisec db import` / `aisec db update`). Records that are aliases of
each other (PYSEC, GHSA, CVE) are one finding; the message lists every id and
the lowest version that fixes them all.

The severity is the CVSS base score of the advisory when it has a vector
(9.0+ critical, 7.0+ high, 4.0+ medium, else low), else the advisory's own
rating, else high: a published vulnerability in a dependency you ship is worth
a look before anything rates it. Conda packages are matched under their PyPI
names with medium confidence (a conda build may carry a backported fix).

## Why it matters
ML stacks pin hundreds of packages, and the popular ones have a steady stream
of serious bugs: path traversal and remote code execution in MLflow's
tracking server, arbitrary file reads in Gradio, code execution through
`trust_remote_code` paths and deserialisation in Transformers and PyTorch,
prompt-injection-to-code-execution in LangChain tools. A model server is
usually exposed on a network and holds credentials to data and registries.

## Remediation
Upgrade to the fixed version named in the message (or later) and re-lock.
When no fix is published, remove or isolate the component, or accept the risk
explicitly with a dated waiver in `aisec.toml`. Keep the database fresh with
`aisec db update`: a scan can only report what the database knows.",
    references: &[CWE_1395, refs::OWASP_ML06, refs::OWASP_LLM03],
};

pub static MALICIOUS = Rule {
    id: "AISEC-DEP-002",
    name: "malicious-package",
    summary: "A dependency is a known malicious package",
    default_severity: Severity::Critical,
    explanation: "\
## What it finds
A dependency whose name (and version) matches an OSV `MAL-` record: a package
published to attack whoever installs it (typosquats such as `pytorch-nightly`
look-alikes, dependency-confusion uploads, hijacked maintainer accounts).

## Why it matters
The payload runs at install time (`setup.py`) or on import, with the rights of
the developer or CI job: it steals cloud keys, tokens and SSH keys, and ML
machines tend to hold GPU-cluster and model-registry credentials.

## Remediation
Remove the package and find how it got in (a typo, an `--extra-index-url`).
Treat every machine that installed it as compromised: rotate the credentials
it could read and rebuild the environment from a clean lockfile.",
    references: &[
        CWE_506,
        refs::OWASP_ML06,
        refs::OWASP_LLM03,
        refs::ATLAS_SUPPLY_CHAIN,
    ],
};

pub static UNPINNED = Rule {
    id: "AISEC-DEP-003",
    name: "unpinned-requirement",
    summary: "A requirement of a deployable environment is not pinned to one version",
    default_severity: Severity::Low,
    explanation: "\
## What it finds
In files that define what gets deployed (`requirements*.txt`, conda
`environment.yml`, MLflow `conda.yaml`): a requirement with no version, a
range (`>=`, `~=`, `==1.*`), or a URL or VCS reference that can change under
the same name (a branch or tag instead of a commit hash, an archive URL
without a `#sha256=` fragment). `pyproject.toml` ranges and pip-compile
inputs (`*.in`) are not reported: they are meant to be ranges, and their
lockfile pins them.

## Why it matters
Every install resolves the newest matching release, so the model server that
passed review is not the one that ships: a new release may be vulnerable,
broken, or (after an account takeover) malicious. It also means the
vulnerability scan cannot say which version you run; loosely pinned
requirements are not matched against advisories.

## Remediation
Pin exact versions (`pip-compile`, `uv pip compile`, `poetry lock`,
`conda env export`), ideally with hashes, and reference VCS dependencies by
full commit hash.",
    references: &[CWE_829, refs::OWASP_ML06],
};

pub static MISSING_HASHES = Rule {
    id: "AISEC-DEP-004",
    name: "missing-requirement-hash",
    summary: "A requirement has no --hash in a file that otherwise checks hashes",
    default_severity: Severity::Medium,
    explanation: "\
## What it finds
A requirement without `--hash=` in a requirements file where other
requirements have hashes, or which sets `--require-hashes`.

## Why it matters
Hashes make pip refuse an artifact that differs from the one reviewed (a
compromised mirror, a re-uploaded file). A file that hashes most requirements
shows the intent; the one without a hash is the gap, and in hash-checking mode
pip rejects the whole install, which pushes people to turn hashing off.

## Remediation
Regenerate the file with hashes for everything
(`pip-compile --generate-hashes`, `uv pip compile --generate-hashes`).",
    references: &[CWE_494, refs::OWASP_ML06],
};

pub static INSECURE_SOURCE = Rule {
    id: "AISEC-DEP-005",
    name: "insecure-package-source",
    summary: "Packages are fetched over plain HTTP or with TLS verification turned off",
    default_severity: Severity::High,
    explanation: "\
## What it finds
A package index, `--find-links` location or requirement URL with an `http://`
address, and `--trusted-host`, which turns TLS verification off for a host.
Lockfile registry URLs (`uv.lock`, `poetry.lock`, `pylock.toml`) are checked
the same way.

## Why it matters
Anyone on the network path (a café Wi-Fi, a compromised proxy, a cloud
neighbour) can replace the packages in transit with their own code, which then
runs at install time on a developer machine or in CI.

## Remediation
Use `https://` for every index and URL, fix the certificate instead of
trusting the host, and add `--hash` pins so a substituted file is rejected.",
    references: &[CWE_319, CWE_494, refs::OWASP_ML06],
};

pub static EXTRA_INDEX = Rule {
    id: "AISEC-DEP-006",
    name: "extra-index-url",
    summary: "An extra package index is mixed with the default one (dependency confusion)",
    default_severity: Severity::Medium,
    explanation: "\
## What it finds
`--extra-index-url` in a requirements file (or the `pip:` section of a conda
environment), and uv's `index-strategy = \"unsafe-best-match\"` or
`\"unsafe-first-match\"` with extra indexes.

## Why it matters
pip treats all indexes as one pool and installs the highest version it finds
anywhere. If your private index serves `acme-ml-utils`, anyone can upload
`acme-ml-utils 99.0` to the public index and pip will prefer it: the classic
dependency-confusion attack (the PyTorch nightly `torchtriton` incident of
December 2022 was exactly this).

## Remediation
Serve everything from one index that proxies the public one
(`--index-url` only), or use a resolver that pins packages to an index (uv's
default `first-index` strategy, Poetry `explicit` sources, pipenv's per-package
`index`). Reserve your internal names on the public index.",
    references: &[CWE_427, CWE_829, refs::OWASP_ML06, refs::ATLAS_SUPPLY_CHAIN],
};

}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_documented_and_distinct() {
        let reg = aisec_core::RuleRegistry::new([RULES, aisec_core::generic::RULES]).unwrap();
        assert_eq!(reg.len(), RULES.len() + aisec_core::generic::RULES.len());
        for r in RULES {
            assert_eq!(r.family(), "DEP");
            for part in ["## What it finds", "## Why it matters", "## Remediation"] {
                assert!(r.explanation.contains(part), "{} lacks {part}", r.id);
            }
            assert!(!r.references.is_empty());
        }
    }
}
