//! Model signing and verification for aisec, compatible with the OpenSSF
//! model-signing v1.0 format (the `model_signing` 1.x tool).
//!
//! ## What it does
//! - [`sign`] hashes a model (a directory or one file) and signs an in-toto
//!   Statement v1 (predicate `https://model_signing/signature/v1.0`) in a DSSE
//!   envelope inside a Sigstore bundle v0.3, with an ECDSA P-256 or P-384 key
//!   from PEM: fully offline, no transparency log.
//! - [`verify`] checks such a bundle (made by aisec or by `model_signing sign
//!   key`) against a public key, re-hashes the model with the signature's own
//!   serialization (`files` or `shards`; sha256, blake2b or blake3) and names
//!   every file that was changed, added, removed or renamed.
//! - [`verify_for_gate`] is the `aisec scan --require-signature KEY` check: it
//!   finds the signature next to or inside the model and turns a missing or
//!   failing signature into an `AISEC-SIG-*` [`Finding`](aisec_core::Finding).
//! - Hashing memory-maps files and runs in parallel over files and shards.
//!
//! ## What it never does
//! It never loads, imports or executes the model, never touches the network
//! (keyless Sigstore and certificate chains are out of scope: such bundles are
//! parsed and refused with a clear error), and never trusts the key material
//! embedded in a bundle: the caller's public key is the trust root.
//!
//! The on-disk format is pinned down in `fixtures/shared/model-signing/FORMAT.md`;
//! tests verify signatures made by the reference tool.

mod bundle;
mod hashing;
mod keys;
mod manifest;
mod rules;
mod walk;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub use bundle::{BUNDLE_MEDIA_TYPE, Bundle, PAYLOAD_TYPE, pae};
pub use hashing::HashAlgorithm;
pub use keys::{PrivateKey, PublicKey};
pub use manifest::{PREDICATE_TYPE, Resource, STATEMENT_TYPE, Serialization, Statement};
pub use rules::{RULES, SIGNATURE_INVALID, UNSIGNED_MODEL};
pub use walk::{DEFAULT_IGNORED, relative_to_model};

/// The signature file name model_signing uses by default.
pub const DEFAULT_SIGNATURE_NAME: &str = "model.sig";

/// Why signing or verification failed. Every variant that concerns a file
/// names it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Key { path: String, message: String },
    #[error("invalid signature bundle: {0}")]
    Bundle(String),
    #[error("invalid signed statement: {0}")]
    Statement(String),
    #[error("{0}")]
    InvalidOption(String),
    #[error("{0}")]
    Unsupported(String),
    #[error(
        "public key does not match the key hint in the signature (signature hint {hint}, key hint {key})"
    )]
    KeyMismatch { hint: String, key: String },
    #[error("signature does not verify with the given {curve} public key")]
    BadSignature { curve: &'static str },
    #[error("'{0}' is a symbolic link; symlinks are refused unless allowed")]
    Symlink(String),
    #[error("'{0}' is not a regular file or directory (broken link, fifo or socket)")]
    NotRegular(String),
    #[error("file name '{0}' is not valid UTF-8 and cannot be named in a signature")]
    NonUtf8Name(String),
    #[error("{0}")]
    Mismatch(Mismatch),
}

/// What [`verify`] returns on failure.
pub type VerifyError = Error;

/// The difference between a model on disk and its signature, by file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mismatch {
    /// The subject name of the signature (the model's name when signed).
    pub model: String,
    /// Signed files whose content differs.
    pub changed: Vec<String>,
    /// Files present but not signed.
    pub added: Vec<String>,
    /// Signed files that are gone.
    pub removed: Vec<String>,
    /// `(signed name, name now)`: a removed and an added file with the same
    /// content (files mode only, where a digest identifies a whole file).
    pub renamed: Vec<(String, String)>,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "model '{}' does not match its signature:", self.model)?;
        let list = |v: &[String]| {
            v.iter()
                .map(|s| format!("'{s}'"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut sep = " ";
        if !self.changed.is_empty() {
            write!(f, "{sep}changed {}", list(&self.changed))?;
            sep = "; ";
        }
        if !self.renamed.is_empty() {
            let r: Vec<String> = self
                .renamed
                .iter()
                .map(|(a, b)| format!("'{a}' -> '{b}'"))
                .collect();
            write!(f, "{sep}renamed {}", r.join(", "))?;
            sep = "; ";
        }
        if !self.added.is_empty() {
            write!(f, "{sep}added (not signed) {}", list(&self.added))?;
            sep = "; ";
        }
        if !self.removed.is_empty() {
            write!(f, "{sep}removed {}", list(&self.removed))?;
        }
        Ok(())
    }
}

/// How to sign.
#[derive(Debug, Clone)]
pub struct SignOptions {
    pub serialization: Serialization,
    /// Hash symlinks to files by content (links to directories are skipped);
    /// otherwise a symlink is an error.
    pub allow_symlinks: bool,
    /// Model-relative POSIX paths to leave out (a directory leaves out its
    /// subtree). Use [`relative_to_model`] for paths given on a command line.
    pub ignore_paths: Vec<String>,
    /// Leave out the top-level `.git`, `.gitattributes`, `.github`,
    /// `.gitignore` (on by default, like model_signing).
    pub ignore_git_paths: bool,
    /// Where the signature will be written; when inside the model it is
    /// ignored (and recorded in `ignore_paths`, as the reference does).
    pub signature_path: Option<PathBuf>,
}

impl Default for SignOptions {
    fn default() -> Self {
        SignOptions {
            serialization: Serialization::default(),
            allow_symlinks: false,
            ignore_paths: Vec::new(),
            ignore_git_paths: true,
            signature_path: None,
        }
    }
}

/// How to verify. The serialization (method, hash, shard size) always comes
/// from the signature itself.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Extra model-relative paths to ignore, on top of the signature's own.
    pub ignore_paths: Vec<String>,
    pub ignore_git_paths: bool,
    /// Allow symlinks even if the signature was made without them.
    pub allow_symlinks: bool,
    /// Hash only the files the signature lists; unsigned extra files pass.
    pub ignore_unsigned_files: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            ignore_paths: Vec::new(),
            ignore_git_paths: true,
            allow_symlinks: false,
            ignore_unsigned_files: false,
        }
    }
}

/// The result of [`sign`].
#[derive(Debug, Clone)]
pub struct Signed {
    /// The bundle, compact JSON: the content of `model.sig`.
    pub bundle_json: String,
    pub statement: Statement,
}

/// A model whose signature verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedModel {
    /// The subject name in the signature.
    pub name: String,
    /// Hex SHA-256 root digest (the subject digest).
    pub root_digest: String,
    pub serialization: Serialization,
    /// Distinct files covered.
    pub files: usize,
    pub resources: usize,
    pub curve: &'static str,
    /// Things that did not fail verification but deserve a look (legacy key
    /// material, resources out of canonical order, missing key hint).
    pub warnings: Vec<String>,
}

fn ignore_list(
    base: &[String],
    git: bool,
    signature_rel: Option<String>,
) -> Result<(Vec<String>, Vec<walk::Ignore>), Error> {
    let mut names: BTreeSet<String> = BTreeSet::new();
    if git {
        names.extend(DEFAULT_IGNORED.iter().map(|s| s.to_string()));
    }
    names.extend(signature_rel);
    for p in base {
        walk::Ignore::parse(p)?;
        names.insert(p.trim_start_matches("./").trim_end_matches('/').to_owned());
    }
    let parsed = names
        .iter()
        .map(|n| walk::Ignore::parse(n))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((names.into_iter().collect(), parsed))
}

/// The subject name: the model path's last component, or the resolved
/// directory's name for `.`-like paths.
fn subject_name(model: &Path) -> String {
    match model.file_name().and_then(|n| n.to_str()) {
        Some(n) if !n.is_empty() && n != ".." => n.to_owned(),
        _ => std::fs::canonicalize(model)
            .ok()
            .and_then(|p| p.file_name().and_then(|n| n.to_str()).map(str::to_owned))
            .unwrap_or_default(),
    }
}

fn hash_model(files: &[hashing::FileEntry], ser: Serialization) -> Result<Vec<Resource>, Error> {
    let hashed = match ser {
        Serialization::Files { hash } => hashing::hash_files(files, hash)?,
        Serialization::Shards { hash, shard_size } => {
            hashing::hash_shards(files, hash, shard_size)?
        }
    };
    Ok(manifest::resources(hashed, ser))
}

/// The root digest model_signing would put in the subject for `model` with
/// default options (git paths ignored, no symlinks): hashing only, no key.
/// `model_signing digest MODEL` prints the same value (as `sha256:<hex>`).
pub fn digest_model(model: &Path, serialization: Serialization) -> Result<[u8; 32], Error> {
    let (_, ignores) = ignore_list(&[], true, None)?;
    let files = walk::collect(model, false, &ignores)?;
    Ok(manifest::root_digest(&hash_model(&files, serialization)?))
}

/// Hashes `model` and signs it with the PEM private key at `key_pem`.
pub fn sign(model: &Path, key_pem: &Path, options: &SignOptions) -> Result<Signed, Error> {
    let key = PrivateKey::from_pem_file(key_pem)?;
    sign_with_key(model, &key, options)
}

/// [`sign`] with a key already loaded.
pub fn sign_with_key(
    model: &Path,
    key: &PrivateKey,
    options: &SignOptions,
) -> Result<Signed, Error> {
    if let Serialization::Shards {
        hash: HashAlgorithm::Blake3,
        ..
    } = options.serialization
    {
        return Err(Error::InvalidOption(
            "blake3 has no shard mode in model_signing; use files mode for blake3".into(),
        ));
    }
    if let Serialization::Shards { shard_size: 0, .. } = options.serialization {
        return Err(Error::InvalidOption("shard size must be positive".into()));
    }
    let sig_rel = options
        .signature_path
        .as_deref()
        .and_then(|s| relative_to_model(model, s));
    let (ignore_names, ignores) =
        ignore_list(&options.ignore_paths, options.ignore_git_paths, sig_rel)?;
    let files = walk::collect(model, options.allow_symlinks, &ignores)?;
    let resources = hash_model(&files, options.serialization)?;
    let statement = Statement {
        subject_name: subject_name(model),
        root_digest: manifest::root_digest(&resources),
        serialization: options.serialization,
        allow_symlinks: options.allow_symlinks,
        ignore_paths: ignore_names,
        resources,
    };
    let payload = statement.to_json();
    let sig = key.sign(&pae(PAYLOAD_TYPE, &payload));
    let bundle = Bundle::new_key_mode(key.public_key().hint(), &payload, &sig);
    Ok(Signed {
        bundle_json: bundle.to_json(),
        statement,
    })
}

/// Signs `model` and writes the bundle to `signature` (ignored when it lies
/// inside the model, whatever `options.signature_path` says).
pub fn sign_to_file(
    model: &Path,
    key_pem: &Path,
    signature: &Path,
    options: &SignOptions,
) -> Result<Signed, Error> {
    let mut opts = options.clone();
    opts.signature_path = Some(signature.to_path_buf());
    let signed = sign(model, key_pem, &opts)?;
    std::fs::write(signature, &signed.bundle_json).map_err(|source| Error::Io {
        path: signature.to_path_buf(),
        source,
    })?;
    Ok(signed)
}

/// Verifies `model` against the bundle at `signature` with the PEM public key
/// at `public_key_pem`.
pub fn verify(
    model: &Path,
    signature: &Path,
    public_key_pem: &Path,
    options: &VerifyOptions,
) -> Result<VerifiedModel, VerifyError> {
    let key = PublicKey::from_pem_file(public_key_pem)?;
    let bytes = std::fs::read(signature).map_err(|source| Error::Io {
        path: signature.to_path_buf(),
        source,
    })?;
    let sig_rel = relative_to_model(model, signature);
    verify_bundle(model, &bytes, sig_rel, &key, options)
}

/// [`verify`] with the bundle bytes and key in memory. `signature_rel` is the
/// model-relative path of the signature file when it lies inside the model.
pub fn verify_bundle(
    model: &Path,
    bundle_bytes: &[u8],
    signature_rel: Option<String>,
    key: &PublicKey,
    options: &VerifyOptions,
) -> Result<VerifiedModel, VerifyError> {
    let mut warnings = Vec::new();
    let statement = check_envelope(bundle_bytes, key, &mut warnings)?;
    let shards = matches!(statement.serialization, Serialization::Shards { .. });
    if let Serialization::Shards {
        hash: HashAlgorithm::Blake3,
        ..
    } = statement.serialization
    {
        return Err(Error::Statement(
            "blake3 shards are not a serialization model_signing defines".into(),
        ));
    }

    // The signed resources, by name; a name listed twice is ambiguous.
    let mut expected: BTreeMap<&str, &Resource> = BTreeMap::new();
    for r in &statement.resources {
        if expected.insert(r.name.as_str(), r).is_some() {
            return Err(Error::Statement(format!(
                "resource '{}' is listed twice",
                r.name
            )));
        }
    }
    let in_order = statement
        .resources
        .windows(2)
        .all(|w| manifest::compare_resources(&w[0].name, &w[1].name, shards).is_lt());
    if !in_order {
        warnings.push("resources are not in canonical order, so the subject digest differs from the one aisec or model_signing would compute for this model".into());
    }

    let mut ignore_paths = statement.ignore_paths.clone();
    ignore_paths.extend(options.ignore_paths.iter().cloned());
    // Ignore paths in a signature are signed data, but one that leaves the
    // model cannot match anything: drop it instead of failing.
    ignore_paths.retain(|p| walk::Ignore::parse(p).is_ok());
    let (_, ignores) = ignore_list(&ignore_paths, options.ignore_git_paths, signature_rel)?;
    let allow_symlinks = statement.allow_symlinks || options.allow_symlinks;
    let mut files = walk::collect(model, allow_symlinks, &ignores)?;
    let signed_files: BTreeSet<&str> = statement
        .resources
        .iter()
        .map(|r| r.file_name(shards))
        .collect();
    if options.ignore_unsigned_files {
        files.retain(|f| signed_files.contains(f.name.as_str()));
    }
    let actual = hash_model(&files, statement.serialization)?;

    let mismatch = compare(&statement, &expected, &actual, shards);
    if let Some(m) = mismatch {
        return Err(Error::Mismatch(m));
    }
    Ok(VerifiedModel {
        name: statement.subject_name.clone(),
        root_digest: hex::encode(statement.root_digest),
        serialization: statement.serialization,
        files: signed_files.len(),
        resources: statement.resources.len(),
        curve: key.curve(),
        warnings,
    })
}

/// Bundle → key check → signature check → statement.
fn check_envelope(
    bundle_bytes: &[u8],
    key: &PublicKey,
    warnings: &mut Vec<String>,
) -> Result<Statement, Error> {
    let bundle = Bundle::parse(bundle_bytes)?;
    let vm = &bundle.verification_material;
    let Some(public_key) = &vm.public_key else {
        if vm.x509_certificate_chain.is_some() || vm.certificate.is_some() {
            return Err(Error::Unsupported(
                "certificate-mode signatures are not supported yet; only key mode (publicKey) is"
                    .into(),
            ));
        }
        return Err(Error::Bundle(
            "verificationMaterial has no publicKey".into(),
        ));
    };
    if vm.x509_certificate_chain.is_some() || vm.certificate.is_some() {
        return Err(Error::Bundle(
            "verificationMaterial holds both a public key and a certificate".into(),
        ));
    }
    match public_key.hint.as_deref() {
        Some(h) if !h.is_empty() => {
            let ours = key.hint();
            if !h.eq_ignore_ascii_case(&ours) {
                return Err(Error::KeyMismatch {
                    hint: h.to_owned(),
                    key: ours,
                });
            }
        }
        _ => warnings.push("signature carries no key hint".into()),
    }
    if let Some(raw) = &public_key.raw_bytes {
        // Legacy material: informational only; the caller's key is the trust
        // root, but a different embedded key is worth saying.
        let same = bundle::b64decode(raw, "publicKey.rawBytes")
            .ok()
            .and_then(|pem| PublicKey::from_pem(&String::from_utf8_lossy(&pem)).ok())
            .is_some_and(|k| k.hint() == key.hint());
        warnings.push(if same {
            "legacy key material (rawBytes/keyDetails) in the bundle".into()
        } else {
            "legacy key material in the bundle is not the key used to verify".into()
        });
    }
    if bundle.message_signature.is_some() {
        return Err(Error::Unsupported(
            "bundle holds a messageSignature, model signatures use a DSSE envelope".into(),
        ));
    }
    let env = bundle
        .dsse_envelope
        .as_ref()
        .ok_or_else(|| Error::Bundle("bundle has no dsseEnvelope".into()))?;
    if env.payload_type != PAYLOAD_TYPE {
        return Err(Error::Bundle(format!(
            "payloadType is '{}', expected '{PAYLOAD_TYPE}'",
            env.payload_type
        )));
    }
    let first = env
        .signatures
        .first()
        .ok_or_else(|| Error::Bundle("envelope has no signature".into()))?;
    let payload = bundle::b64decode(&env.payload, "dsseEnvelope.payload")?;
    let sig = bundle::b64decode(&first.sig, "signature")?;
    if !key.verify(&pae(PAYLOAD_TYPE, &payload), &sig) {
        return Err(Error::BadSignature { curve: key.curve() });
    }
    Statement::parse(&payload)
}

fn compare(
    statement: &Statement,
    expected: &BTreeMap<&str, &Resource>,
    actual: &[Resource],
    shards: bool,
) -> Option<Mismatch> {
    let actual_map: BTreeMap<&str, &Resource> =
        actual.iter().map(|r| (r.name.as_str(), r)).collect();
    let file_of = |r: &Resource| r.file_name(shards).to_owned();
    let expected_files: BTreeSet<String> = expected.values().map(|r| file_of(r)).collect();
    let actual_files: BTreeSet<String> = actual.iter().map(file_of).collect();
    let mut changed: BTreeSet<String> = BTreeSet::new();
    for (name, e) in expected {
        match actual_map.get(name) {
            Some(a) if a.algorithm == e.algorithm && a.digest == e.digest => {}
            Some(a) => {
                changed.insert(file_of(a));
            }
            None => {
                // A shard gone from a file still present: the file changed size.
                let f = file_of(e);
                if actual_files.contains(&f) {
                    changed.insert(f);
                }
            }
        }
    }
    for (name, a) in &actual_map {
        let f = file_of(a);
        if !expected.contains_key(name) && expected_files.contains(&f) {
            changed.insert(f);
        }
    }
    let mut removed: Vec<String> = expected_files.difference(&actual_files).cloned().collect();
    let mut added: Vec<String> = actual_files.difference(&expected_files).cloned().collect();
    let mut renamed = Vec::new();
    if !shards {
        // A removed and an added file with one digest: say "renamed".
        removed.retain(|old| {
            let d = expected.get(old.as_str()).map(|r| &r.digest);
            let same = |new: &String| actual_map.get(new.as_str()).map(|r| &r.digest) == d;
            if let Some(pos) = added.iter().position(same) {
                renamed.push((old.clone(), added.remove(pos)));
                false
            } else {
                true
            }
        });
    }
    if changed.is_empty() && removed.is_empty() && added.is_empty() && renamed.is_empty() {
        return None;
    }
    Some(Mismatch {
        model: statement.subject_name.clone(),
        changed: changed.into_iter().collect(),
        added,
        removed,
        renamed,
    })
}

/// Where [`verify_for_gate`] looks for a model's signature: `model.sig`
/// inside a directory, then `<model>.sig` and `model.sig` beside it.
pub fn find_signature(model: &Path) -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if model.is_dir() {
        candidates.push(model.join(DEFAULT_SIGNATURE_NAME));
    }
    if let (Some(parent), Some(name)) = (model.parent(), model.file_name()) {
        let mut sibling = name.to_os_string();
        sibling.push(".sig");
        candidates.push(parent.join(sibling));
        if model.is_file() {
            candidates.push(parent.join(DEFAULT_SIGNATURE_NAME));
        }
    }
    candidates.into_iter().find(|c| c.is_file())
}

/// Why the signature gate failed: which rule, and a message naming the model
/// (and the files at fault, when the content differs).
#[derive(Debug, Clone)]
pub struct GateFailure {
    pub rule: &'static aisec_core::Rule,
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for GateFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.rule.id, self.path, self.message)
    }
}

impl GateFailure {
    /// The failure as a finding for the scan report.
    pub fn to_finding(&self) -> aisec_core::Finding {
        aisec_core::Finding::at_path(self.rule, self.path.clone(), self.message.clone())
    }
}

/// The `--require-signature KEY` gate: `model` must carry a signature (see
/// [`find_signature`]) that verifies with the public key at `public_key_pem`.
pub fn verify_for_gate(model: &Path, public_key_pem: &Path) -> Result<VerifiedModel, GateFailure> {
    let path = model.display().to_string();
    let Some(signature) = find_signature(model) else {
        return Err(GateFailure {
            rule: &UNSIGNED_MODEL,
            path,
            message: format!(
                "model is not signed: no {DEFAULT_SIGNATURE_NAME} inside it and no .sig beside it"
            ),
        });
    };
    verify(model, &signature, public_key_pem, &VerifyOptions::default()).map_err(|e| GateFailure {
        rule: &SIGNATURE_INVALID,
        path,
        message: format!("signature {} does not verify: {e}", signature.display()),
    })
}
