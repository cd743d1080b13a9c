//! CycloneDX 1.6 AI bill of materials for aisec.
//!
//! ## What it does
//! [`build_bom`] walks a model directory (or one file) and describes it as a
//! CycloneDX 1.6 JSON document:
//! - every model file (sniffed by content: pickle, PyTorch zip, safetensors,
//!   GGUF, ONNX/protobuf, HDF5/Keras, ...) as a `machine-learning-model`
//!   component with its SHA-256, format and framework, and a `modelCard`
//!   filled from what can be read statically: architecture and
//!   hyper-parameters from a Hugging Face `config.json`, license, task,
//!   datasets and metrics from the README front matter, flavors and signature
//!   from an MLflow `MLmodel`, the parameter count from a safetensors header;
//! - data files and the datasets a model card names as `data` components;
//! - Python dependencies from every manifest aisec-deps understands, as
//!   `library` components with `pkg:pypi` purls;
//! - the dependency graph (the scanned root depends on models, data and
//!   libraries; a model depends on the datasets its card names);
//! - optionally, a scan [`Report`]'s findings as `vulnerabilities`.
//!
//! The output is deterministic: components, properties and dependencies are
//! sorted, and with a fixed timestamp ([`BomOptions::timestamp`]) two runs
//! over the same files give the same bytes, so a BOM can be diffed and
//! signed. The serial number is derived from the content unless given.
//!
//! ## What it never does
//! It never loads, unpickles, imports or executes anything it describes and
//! never touches the network. It does not follow symbolic links. Files it
//! cannot read or parse become [`Bom::warnings`] naming the file, not
//! failures; only an unreadable root is an error.

mod card;
mod classify;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use aisec_core::Report;
use rayon::prelude::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub use card::CardInfo;
pub use classify::{Class, Role, classify};

/// CycloneDX specification version written.
pub const SPEC_VERSION: &str = "1.6";

/// Text files (config, README, manifests) larger than this are not parsed.
const MAX_TEXT: u64 = 4 << 20;

/// Directories that never hold anything a BOM should list.
const SKIP_DIRS: &[&str] = &[".git", ".hg", ".svn", "__pycache__", "node_modules"];

/// How to build a BOM.
#[derive(Debug, Clone, Default)]
pub struct BomOptions<'a> {
    /// `urn:uuid:...`; by default derived from the BOM's content, so the same
    /// files give the same serial number.
    pub serial_number: Option<String>,
    /// RFC 3339 `metadata.timestamp`; by default the current time. Fix it for
    /// byte-identical output.
    pub timestamp: Option<String>,
    /// Findings to embed as `vulnerabilities`.
    pub report: Option<&'a Report>,
    /// Version of the tool recorded in `metadata.tools` (the CLI passes its
    /// own); this crate's version when empty.
    pub tool_version: Option<String>,
}

/// A built BOM.
#[derive(Debug, Clone)]
pub struct Bom {
    /// The CycloneDX 1.6 document.
    pub json: Value,
    /// Files that could not be read or parsed, by path, with the reason.
    pub warnings: Vec<String>,
}

impl Bom {
    /// Pretty JSON with a trailing newline.
    pub fn to_json_string(&self) -> String {
        let mut s = serde_json::to_string_pretty(&self.json).unwrap_or_default();
        s.push('\n');
        s
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BomError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid option: {0}")]
    Option(String),
}

/// A file found under the root.
struct Entry {
    rel: String,
    path: PathBuf,
    size: u64,
}

fn walk(root: &Path, warnings: &mut Vec<String>) -> Result<Vec<Entry>, BomError> {
    let meta = fs::symlink_metadata(root).map_err(|source| BomError::Io {
        path: root.to_path_buf(),
        source,
    })?;
    let mut out = Vec::new();
    if meta.is_file() {
        let name = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.push(Entry {
            rel: name,
            path: root.to_path_buf(),
            size: meta.len(),
        });
        return Ok(out);
    }
    if !meta.is_dir() {
        return Err(BomError::Io {
            path: root.to_path_buf(),
            source: std::io::Error::other("not a regular file or directory"),
        });
    }
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = stack.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                warnings.push(format!("{}: {e}", dir.display()));
                continue;
            }
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}/{name}")
            };
            let Ok(ft) = entry.file_type() else { continue };
            if ft.is_dir() {
                if !SKIP_DIRS.contains(&name.as_str()) {
                    stack.push((entry.path(), rel));
                }
            } else if ft.is_file() {
                let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
                out.push(Entry {
                    rel,
                    path: entry.path(),
                    size,
                });
            }
            // Symlinks are neither followed nor listed: a BOM describes what
            // is there, and a link may point anywhere.
        }
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(out)
}

/// SHA-256 of a file, memory-mapped.
fn sha256_file(path: &Path) -> std::io::Result<String> {
    let file = fs::File::open(path)?;
    if file.metadata()?.len() == 0 {
        return Ok(hex(&Sha256::digest(b"")));
    }
    // SAFETY: read-only map used only within this call; a concurrent
    // truncation could fault, as with any mmap-based reader.
    let map = unsafe { memmap2::Mmap::map(&file)? };
    Ok(hex(&Sha256::digest(&map[..])))
}

fn head_of(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut buf = Vec::with_capacity(aisec_core::SNIFF_LEN);
    fs::File::open(path)?
        .take(aisec_core::SNIFF_LEN as u64)
        .read_to_end(&mut buf)?;
    Ok(buf)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn read_text(e: &Entry, warnings: &mut Vec<String>) -> Option<String> {
    if e.size > MAX_TEXT {
        warnings.push(format!(
            "{}: larger than {MAX_TEXT} bytes, not parsed",
            e.rel
        ));
        return None;
    }
    match fs::read(&e.path) {
        Ok(b) => match String::from_utf8(b) {
            Ok(s) => Some(s),
            Err(_) => {
                warnings.push(format!("{}: not UTF-8 text, not parsed", e.rel));
                None
            }
        },
        Err(err) => {
            warnings.push(format!("{}: {err}", e.rel));
            None
        }
    }
}

fn parent_dir(rel: &str) -> &str {
    rel.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
}

/// The directory chain of `dir`, nearest first (`a/b`, `a`, ``).
fn ancestors(dir: &str) -> Vec<&str> {
    let mut out = vec![dir];
    let mut d = dir;
    while !d.is_empty() {
        d = parent_dir(d);
        out.push(d);
    }
    out
}

/// Percent-encodes a purl segment (RFC 3986 unreserved characters pass).
fn purl_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `pkg:pypi/<normalized name>[@version]`.
pub fn pypi_purl(name: &str, version: Option<&str>) -> String {
    let norm = aisec_deps::ecosystem::normalize_pypi(name);
    match version {
        Some(v) => format!("pkg:pypi/{}@{}", purl_encode(&norm), purl_encode(v)),
        None => format!("pkg:pypi/{}", purl_encode(&norm)),
    }
}

/// SPDX ids for the license names Hugging Face model cards use; anything
/// else is written as a license `name`, which is always valid.
fn spdx_id(license: &str) -> Option<&'static str> {
    Some(match license.to_ascii_lowercase().as_str() {
        "apache-2.0" => "Apache-2.0",
        "mit" => "MIT",
        "bsd-2-clause" => "BSD-2-Clause",
        "bsd-3-clause" => "BSD-3-Clause",
        "cc-by-4.0" => "CC-BY-4.0",
        "cc-by-sa-4.0" => "CC-BY-SA-4.0",
        "cc-by-nc-4.0" => "CC-BY-NC-4.0",
        "cc-by-nc-sa-4.0" => "CC-BY-NC-SA-4.0",
        "cc-by-nd-4.0" => "CC-BY-ND-4.0",
        "cc0-1.0" => "CC0-1.0",
        "gpl-3.0" => "GPL-3.0-only",
        "gpl-2.0" => "GPL-2.0-only",
        "lgpl-3.0" => "LGPL-3.0-only",
        "agpl-3.0" => "AGPL-3.0-only",
        "mpl-2.0" => "MPL-2.0",
        "unlicense" => "Unlicense",
        "openrail" => "OpenRAIL",
        "bigscience-openrail-m" => "BigScience-OpenRAIL-M",
        "creativeml-openrail-m" => "CreativeML-OpenRAIL-M",
        _ => return None,
    })
}

fn license_json(license: &str) -> Value {
    match spdx_id(license) {
        Some(id) => json!([{ "license": { "id": id } }]),
        None => json!([{ "license": { "name": license } }]),
    }
}

fn props(pairs: &[(String, String)]) -> Value {
    Value::Array(
        pairs
            .iter()
            .map(|(n, v)| json!({ "name": n, "value": v }))
            .collect(),
    )
}

struct ModelFile {
    rel: String,
    sha256: String,
    size: u64,
    class: Class,
    card: CardInfo,
    extra_props: Vec<(String, String)>,
}

/// Builds the BOM of `path` (a directory or a file).
pub fn build_bom(path: &Path, options: &BomOptions<'_>) -> Result<Bom, BomError> {
    if let Some(s) = &options.serial_number
        && !is_urn_uuid(s)
    {
        return Err(BomError::Option(format!(
            "serial number '{s}' is not urn:uuid:<lowercase uuid>"
        )));
    }
    let mut warnings = Vec::new();
    let entries = walk(path, &mut warnings)?;

    // Card sources per directory: config.json, README.md, MLmodel.
    let mut dir_cards: BTreeMap<String, CardInfo> = BTreeMap::new();
    let mut mlmodel_files: BTreeMap<String, CardInfo> = BTreeMap::new();
    let mut manifests: Vec<(&Entry, aisec_deps::parse::ManifestKind)> = Vec::new();
    for e in &entries {
        let base = e.rel.rsplit('/').next().unwrap_or(&e.rel);
        let dir = parent_dir(&e.rel).to_owned();
        let parsed = match base {
            "config.json" => read_text(e, &mut warnings).map(|t| card::from_hf_config(&t)),
            b if b.eq_ignore_ascii_case("readme.md") => {
                read_text(e, &mut warnings).map(|t| card::from_readme(&t))
            }
            "MLmodel" => read_text(e, &mut warnings).map(|t| {
                card::from_mlmodel(&t).map(|(c, files)| {
                    for f in files {
                        let rel = if dir.is_empty() {
                            f
                        } else {
                            format!("{dir}/{f}")
                        };
                        mlmodel_files.insert(rel.trim_end_matches('/').to_owned(), c.clone());
                    }
                    Some(c)
                })
            }),
            _ => None,
        };
        match parsed {
            Some(Ok(Some(c))) => dir_cards.entry(dir).or_default().merge(&c),
            Some(Ok(None)) | None => {}
            Some(Err(msg)) => warnings.push(format!("{}: {msg}", e.rel)),
        }
        if let Some(kind) = aisec_deps::parse::ManifestKind::from_path(&e.rel) {
            manifests.push((e, kind));
        }
    }

    // Classify and hash in parallel; only model and data files are hashed.
    let classified: Vec<Result<Option<ModelFile>, String>> = entries
        .par_iter()
        .map(|e| {
            let head = head_of(&e.path).map_err(|err| format!("{}: {err}", e.rel))?;
            let Some(class) = classify(&head, &e.rel) else {
                return Ok(None);
            };
            let sha256 = sha256_file(&e.path).map_err(|err| format!("{}: {err}", e.rel))?;
            let mut extra_props = Vec::new();
            if class.format == "safetensors" {
                let header = read_safetensors_header(&e.path);
                if let Some((params, dtypes)) =
                    header.as_deref().and_then(card::safetensors_summary)
                {
                    extra_props.push(("aisec:model:parameters".into(), params.to_string()));
                    extra_props.push(("aisec:model:dtypes".into(), dtypes.join(",")));
                }
            }
            Ok(Some(ModelFile {
                rel: e.rel.clone(),
                sha256,
                size: e.size,
                class,
                card: CardInfo::default(),
                extra_props,
            }))
        })
        .collect();
    let mut files: Vec<ModelFile> = Vec::new();
    for c in classified {
        match c {
            Ok(Some(f)) => files.push(f),
            Ok(None) => {}
            Err(w) => warnings.push(w),
        }
    }
    for f in files.iter_mut().filter(|f| f.class.role == Role::Model) {
        if let Some(c) = mlmodel_files.get(&f.rel) {
            f.card.merge(c);
        }
        for d in ancestors(parent_dir(&f.rel)) {
            if let Some(c) = dir_cards.get(d) {
                f.card.merge(c);
            }
        }
    }

    let mut components: Vec<Value> = Vec::new();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let root_ref = "root".to_string();
    let mut root_deps: BTreeSet<String> = BTreeSet::new();

    // Datasets named by model cards.
    let mut named_datasets: BTreeSet<String> = BTreeSet::new();
    for f in &files {
        named_datasets.extend(f.card.datasets.iter().cloned());
    }
    for d in &named_datasets {
        let r = format!("dataset:{d}");
        components.push(json!({
            "type": "data",
            "bom-ref": r,
            "name": d,
            "data": [{ "type": "dataset", "name": d }],
            "properties": [{ "name": "aisec:source", "value": "model card" }],
        }));
        graph.entry(r).or_default();
    }

    for f in &files {
        let r = match f.class.role {
            Role::Model => format!("model:{}", f.rel),
            Role::Data => format!("data:{}", f.rel),
        };
        root_deps.insert(r.clone());
        let framework = f
            .card
            .framework
            .clone()
            .or(f.class.framework.map(str::to_owned));
        let mut p: Vec<(String, String)> = vec![
            ("aisec:format".into(), f.class.format.into()),
            ("aisec:size".into(), f.size.to_string()),
        ];
        if let Some(fw) = &framework {
            p.push(("aisec:framework".into(), fw.clone()));
        }
        p.extend(f.extra_props.iter().cloned());
        p.sort();
        let mut c = json!({
            "type": if f.class.role == Role::Model { "machine-learning-model" } else { "data" },
            "bom-ref": r,
            "name": f.rel,
            "hashes": [{ "alg": "SHA-256", "content": f.sha256 }],
            "properties": props(&p),
        });
        if f.class.role == Role::Data {
            c["data"] = json!([{ "type": "dataset", "name": f.rel }]);
        }
        if let Some(l) = &f.card.license {
            c["licenses"] = license_json(l);
        }
        let mut deps = BTreeSet::new();
        if f.class.role == Role::Model {
            c["modelCard"] = model_card(&f.card, &f.rel);
            for d in &f.card.datasets {
                deps.insert(format!("dataset:{d}"));
            }
            if !f.card.base_model.is_empty() {
                let mut pedigree = Vec::new();
                for b in &f.card.base_model {
                    pedigree.push(json!({
                        "type": "machine-learning-model",
                        "name": b,
                        "bom-ref": format!("{r}#base:{b}"),
                    }));
                }
                c["pedigree"] = json!({ "ancestors": pedigree });
            }
        }
        graph.insert(r, deps);
        components.push(c);
    }

    // Python dependencies, one component per purl, with the manifests that
    // name it.
    let mut libs: BTreeMap<String, (String, Option<String>, BTreeSet<String>)> = BTreeMap::new();
    // `-r`/`-c` includes are read as a scan reads them: through the engine,
    // confined to the root (a manifest saying `-r /proc/self/environ` must
    // not put the runner's environment into a BOM).
    let root = if path.is_dir() {
        path
    } else {
        path.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    };
    let tree = aisec_engine::siblings::TreeSiblings::for_root(root, &aisec_core::Limits::default());
    for (e, kind) in &manifests {
        let Some(text) = read_text(e, &mut warnings) else {
            continue;
        };
        let walked = aisec_engine::WalkedFile {
            path: e.path.clone(),
            display: e.rel.clone(),
            size: e.size,
            root: 0,
        };
        let source = tree.for_file(&walked);
        let read = |reference: &str| aisec_core::SiblingSource::read(&source, &e.rel, reference);
        let includes = aisec_deps::parse::requirements::Includes {
            from: &e.rel,
            read: &read,
        };
        match aisec_deps::parse_manifest_with(*kind, &text, Some(&includes)) {
            Ok(m) => {
                for d in m.dependencies {
                    if d.ecosystem != "PyPI" {
                        continue;
                    }
                    let version = d.version().map(str::to_owned);
                    let purl = pypi_purl(&d.name, version.as_deref());
                    let entry = libs.entry(purl).or_insert_with(|| {
                        (
                            aisec_deps::ecosystem::normalize_pypi(&d.name),
                            version,
                            BTreeSet::new(),
                        )
                    });
                    entry.2.insert(e.rel.clone());
                }
                for p in m.problems {
                    let line = p.line.map(|l| format!(":{l}")).unwrap_or_default();
                    warnings.push(format!("{}{line}: {}", e.rel, p.message));
                }
            }
            Err(err) => warnings.push(format!("{}: {}", e.rel, err.message)),
        }
    }
    for (purl, (name, version, sources)) in &libs {
        let mut c = json!({
            "type": "library",
            "bom-ref": purl,
            "name": name,
            "purl": purl,
            "properties": props(&sources.iter().map(|s| ("aisec:manifest".to_string(), s.clone())).collect::<Vec<_>>()),
        });
        if let Some(v) = version {
            c["version"] = json!(v);
        }
        components.push(c);
        root_deps.insert(purl.clone());
        graph.entry(purl.clone()).or_default();
    }
    graph.insert(root_ref.clone(), root_deps);

    components.sort_by(|a, b| {
        let key = |c: &Value| {
            (
                c["type"].as_str().unwrap_or("").to_owned(),
                c["bom-ref"].as_str().unwrap_or("").to_owned(),
            )
        };
        key(a).cmp(&key(b))
    });
    let dependencies: Vec<Value> = graph
        .iter()
        .map(|(r, deps)| json!({ "ref": r, "dependsOn": deps.iter().collect::<Vec<_>>() }))
        .collect();

    let root_name = path
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| path.display().to_string());
    let version = options
        .tool_version
        .clone()
        .unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_owned());
    let timestamp = options.timestamp.clone().unwrap_or_else(now_rfc3339);
    let mut bom = json!({
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "version": 1,
        "metadata": {
            "timestamp": timestamp,
            "tools": { "components": [{ "type": "application", "name": "aisec", "version": version }] },
            "component": { "type": "application", "bom-ref": root_ref, "name": root_name },
        },
        "components": components,
        "dependencies": dependencies,
    });
    if let Some(report) = options.report {
        let refs: BTreeMap<String, String> = files
            .iter()
            .map(|f| {
                let r = match f.class.role {
                    Role::Model => format!("model:{}", f.rel),
                    Role::Data => format!("data:{}", f.rel),
                };
                (f.rel.clone(), r)
            })
            .collect();
        bom["vulnerabilities"] = vulnerabilities(report, &refs, &root_ref);
    }
    // The serial number is a name-based UUID over the content without the
    // timestamp, so re-running on unchanged files keeps it.
    let serial = options.serial_number.clone().unwrap_or_else(|| {
        let mut h = Sha256::new();
        h.update(serde_json::to_vec(&bom["components"]).unwrap_or_default());
        h.update(serde_json::to_vec(&bom["dependencies"]).unwrap_or_default());
        h.update(serde_json::to_vec(&bom["vulnerabilities"]).unwrap_or_default());
        uuid_from(&h.finalize())
    });
    bom["serialNumber"] = json!(serial);
    warnings.sort();
    warnings.dedup();
    Ok(Bom {
        json: bom,
        warnings,
    })
}

fn read_safetensors_header(path: &Path) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut f = fs::File::open(path).ok()?;
    let mut len = [0u8; 8];
    f.read_exact(&mut len).ok()?;
    let n = u64::from_le_bytes(len);
    // Real headers are kilobytes to a few MiB; a huge claimed length is
    // hostile or corrupt and not worth reading.
    if n > 16 << 20 {
        return None;
    }
    let mut buf = len.to_vec();
    f.take(n).read_to_end(&mut buf).ok()?;
    Some(buf)
}

fn model_card(card: &CardInfo, rel: &str) -> Value {
    let mut params = serde_json::Map::new();
    if let Some(t) = &card.task {
        params.insert("task".into(), json!(t));
    }
    if let Some(a) = &card.architecture_family {
        params.insert("architectureFamily".into(), json!(a));
    }
    if let Some(a) = &card.model_architecture {
        params.insert("modelArchitecture".into(), json!(a));
    }
    if !card.datasets.is_empty() {
        let mut ds = card.datasets.clone();
        ds.sort();
        params.insert(
            "datasets".into(),
            Value::Array(
                ds.iter()
                    .map(|d| json!({ "ref": format!("dataset:{d}") }))
                    .collect(),
            ),
        );
    }
    if !card.inputs.is_empty() {
        params.insert(
            "inputs".into(),
            Value::Array(card.inputs.iter().map(|i| json!({ "format": i })).collect()),
        );
    }
    if !card.outputs.is_empty() {
        params.insert(
            "outputs".into(),
            Value::Array(
                card.outputs
                    .iter()
                    .map(|o| json!({ "format": o }))
                    .collect(),
            ),
        );
    }
    let mut mc = json!({ "bom-ref": format!("model:{rel}#card") });
    if !params.is_empty() {
        mc["modelParameters"] = Value::Object(params);
    }
    if !card.metrics.is_empty() {
        let metrics: Vec<Value> = card
            .metrics
            .iter()
            .map(|(t, v, slice)| {
                let mut m = json!({ "type": t });
                if !v.is_empty() {
                    m["value"] = json!(v);
                }
                if let Some(s) = slice {
                    m["slice"] = json!(s);
                }
                m
            })
            .collect();
        mc["quantitativeAnalysis"] = json!({ "performanceMetrics": metrics });
    }
    if !card.properties.is_empty() {
        mc["properties"] = props(&card.properties);
    }
    mc
}

fn severity(s: aisec_core::Severity) -> &'static str {
    s.as_str()
}

fn vulnerabilities(report: &Report, refs: &BTreeMap<String, String>, root: &str) -> Value {
    let mut out = Vec::new();
    for (i, f) in report.findings.iter().enumerate() {
        let path = f.location.path.replace('\\', "/");
        let target = refs
            .get(path.trim_start_matches("./"))
            .cloned()
            .unwrap_or_else(|| root.to_owned());
        let cwes: Vec<u64> = f
            .references
            .iter()
            .filter_map(|r| r.id.strip_prefix("CWE-").and_then(|n| n.parse().ok()))
            .collect();
        let id = if f.fingerprint.is_empty() {
            format!("finding-{i}")
        } else {
            format!("finding-{}", f.fingerprint)
        };
        let mut v = json!({
            "bom-ref": id,
            "id": f.rule_id,
            "source": { "name": "aisec" },
            "ratings": [{ "source": { "name": "aisec" }, "severity": severity(f.severity), "method": "other" }],
            "description": f.message,
            "affects": [{ "ref": target }],
            "properties": [{ "name": "aisec:location", "value": f.location.to_string() }],
        });
        if let Some(e) = &f.evidence {
            v["detail"] = json!(e);
        }
        if !cwes.is_empty() {
            v["cwes"] = json!(cwes);
        }
        let advisories: Vec<Value> = f
            .references
            .iter()
            .filter(|r| !r.id.starts_with("CWE-"))
            .map(|r| json!({ "title": r.id, "url": r.url }))
            .collect();
        if !advisories.is_empty() {
            v["advisories"] = json!(advisories);
        }
        out.push(v);
    }
    Value::Array(out)
}

fn is_urn_uuid(s: &str) -> bool {
    let Some(u) = s.strip_prefix("urn:uuid:") else {
        return false;
    };
    let groups: Vec<&str> = u.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| {
            g.len() == n
                && g.bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        })
}

/// A version-5-shaped (name-based) UUID from a digest.
fn uuid_from(d: &[u8]) -> String {
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn now_rfc3339() -> String {
    let now = jiff::Timestamp::now();
    jiff::Timestamp::from_second(now.as_second())
        .map(|t| t.to_string())
        .unwrap_or_else(|_| now.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_are_normalised_and_encoded() {
        assert_eq!(
            pypi_purl("Torch_Vision", Some("0.17.0+cu121")),
            "pkg:pypi/torch-vision@0.17.0%2Bcu121"
        );
        assert_eq!(pypi_purl("numpy", None), "pkg:pypi/numpy");
    }

    #[test]
    fn uuids_have_the_cyclonedx_shape() {
        let u = uuid_from(&[0xab; 32]);
        assert!(is_urn_uuid(&u), "{u}");
        assert!(!is_urn_uuid(
            "urn:uuid:ABCDEF00-0000-0000-0000-000000000000"
        ));
    }

    #[test]
    fn ancestors_run_to_the_root() {
        assert_eq!(ancestors("a/b"), vec!["a/b", "a", ""]);
        assert_eq!(ancestors(""), vec![""]);
    }
}
