//! Dependency scanning (SCA) for Python ML projects, offline.
//!
//! ## What it finds
//! - **Known vulnerabilities** (`AISEC-DEP-001`) and **malicious packages**
//!   (`AISEC-DEP-002`, OSV `MAL-` records) in exactly pinned dependencies of
//!   `requirements*.txt` (with `-r`/`-c` includes, markers, extras, hashes,
//!   URLs, editable and VCS installs), `pyproject.toml` (PEP 621, PEP 735
//!   groups, uv, PDM, Poetry), `poetry.lock`, `uv.lock`, `pdm.lock`,
//!   `pylock.toml` (PEP 751), `Pipfile.lock`, conda `environment.yml` / MLflow
//!   `conda.yaml`, and installed `*.dist-info/METADATA` (a venv or container
//!   filesystem), matched against a local OSV database.
//! - **Hygiene**: unpinned requirements in deployable files (`AISEC-DEP-003`),
//!   missing `--hash` where the file otherwise hashes (`AISEC-DEP-004`),
//!   plain-HTTP indexes and `--trusted-host` (`AISEC-DEP-005`), and
//!   `--extra-index-url` dependency-confusion setups (`AISEC-DEP-006`).
//! - Files it cannot parse are `AISEC-GEN-002` findings naming the file and
//!   line; the rest of the file (or scan) goes on.
//!
//! ## What it never does
//! It never opens a file of the scanned tree itself: `-r`/`-c` includes are
//! read through the engine's confined reader ([`aisec_core::ScanContext::read_sibling`]),
//! and one that leaves the tree (`-r /proc/self/environ`, `-c ../../x.txt`,
//! a link out) is not read but reported as `AISEC-GEN-007` at its line; no
//! message or evidence quotes more of a broken line than a redacted
//! [`aisec_core::excerpt`] (`tests/no_fs.rs` and `tests/no_escape.rs` keep it
//! so). It never resolves dependencies, runs `pip`, `setup.py` or any scanned code,
//! and never touches the network during a scan (only [`update`], behind the
//! `update` feature, downloads the advisory export). Ranges (`>=1.0`) are not
//! matched: which version gets installed is unknown without a resolver, and
//! guessing would drown real findings; a lockfile or a pin gives exact
//! answers. `GIT` ranges of OSV records are not evaluated (they need a clone);
//! the record's `versions` list, which OSV derives from them, is.
//!
//! ## The database
//! [`import`] turns an OSV export (`all.zip`, one `<ID>.json` per record, as
//! published per ecosystem) into one file, `osv.db`, in [`default_db_dir`]:
//! a magic and a format version, a JSON header (source, checksum, dates,
//! counts, and an index from ecosystem and PEP 503 name to a byte range), and
//! per package a JSON array of compact advisories (ids, aliases, one-sentence
//! summary, CVSS vector and its base score computed at import, ranges,
//! versions). Opening parses the header only (0.26 ms measured for the PyPA
//! snapshot); a package's advisories are parsed when a scan meets it. A
//! single versioned file is replaced atomically by an import, needs no
//! database engine, and stays inspectable; see [`db`] for details.
//!
//! Ecosystems are data ([`ecosystem::ECOSYSTEMS`]) with a
//! [`ecosystem::VersionScheme`] each, so npm, crates.io or Go are one more
//! table entry; the store, the matcher and the scanner are generic.

pub mod db;
pub mod ecosystem;
pub mod matcher;
pub mod osv;
pub mod parse;
mod rules;
mod scanner;

pub use db::{
    DB_DIR_ENV, DbError, DbMeta, DbStatus, ImportSummary, VulnDb, db_status_line, default_db_dir,
    import, open, status, update,
};
pub use rules::{
    EXTRA_INDEX, INSECURE_SOURCE, MALICIOUS, MISSING_HASHES, RULES, UNPINNED, VULNERABLE,
};
pub use scanner::{DepsScanner, parse_manifest, parse_manifest_with, scanner};
