//! The in-toto statement: serialization block, resources, root digest.
//!
//! Signing writes compact-ish JSON with the reference's key order; verifying
//! parses whatever JSON the signer wrote (the signature covers its bytes, not
//! a canonical form), accepting `shard_size` as an integer or an
//! integer-valued float, as model_signing 1.1.1 writes it.

use std::cmp::Ordering;

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::Error;
use crate::hashing::{HashAlgorithm, Hashed};

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub const PREDICATE_TYPE: &str = "https://model_signing/signature/v1.0";

/// How a model is cut into digests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serialization {
    /// One digest per file (`method: "files"`).
    Files { hash: HashAlgorithm },
    /// One digest per `shard_size` bytes of every non-empty file
    /// (`method: "shards"`). BLAKE3 has no shard mode in the reference.
    Shards {
        hash: HashAlgorithm,
        shard_size: u64,
    },
}

impl Default for Serialization {
    fn default() -> Self {
        Serialization::Files {
            hash: HashAlgorithm::Sha256,
        }
    }
}

impl Serialization {
    pub fn hash(self) -> HashAlgorithm {
        match self {
            Serialization::Files { hash } | Serialization::Shards { hash, .. } => hash,
        }
    }

    /// The `algorithm` of each resource.
    pub fn resource_algorithm(self) -> String {
        match self {
            Serialization::Files { hash } => hash.as_str().to_owned(),
            Serialization::Shards { hash, shard_size } => {
                format!("{}-sharded-{shard_size}", hash.as_str())
            }
        }
    }
}

/// One entry of `predicate.resources`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub name: String,
    pub algorithm: String,
    pub digest: Vec<u8>,
}

impl Resource {
    /// The file a resource is about: the name itself, or the name without its
    /// `:start:end` suffix for a shard (split from the right, since a file
    /// name may itself contain `:`).
    pub fn file_name(&self, shards: bool) -> &str {
        if shards {
            split_shard(&self.name).0
        } else {
            &self.name
        }
    }
}

fn split_shard(name: &str) -> (&str, Option<(u64, u64)>) {
    let mut it = name.rsplitn(3, ':');
    let (end, start, file) = (it.next(), it.next(), it.next());
    match (
        file,
        start.and_then(|s| s.parse().ok()),
        end.and_then(|e| e.parse().ok()),
    ) {
        (Some(f), Some(s), Some(e)) => (f, Some((s, e))),
        _ => (name, None),
    }
}

/// Canonical order of file names: component by component, each compared by
/// code point (Python's `PurePosixPath` ordering), so `a/b` < `a-b` < `a.txt`.
pub fn compare_names(a: &str, b: &str) -> Ordering {
    components(a).cmp(components(b))
}

fn components(name: &str) -> impl Iterator<Item = &str> + Clone {
    name.split('/').filter(|s| !s.is_empty() && *s != ".")
}

/// Canonical order of resources: by file components, then shard offsets as
/// numbers (`w:64:128` < `w:128:192`).
pub fn compare_resources(a: &str, b: &str, shards: bool) -> Ordering {
    if shards {
        let (fa, ra) = split_shard(a);
        let (fb, rb) = split_shard(b);
        compare_names(fa, fb).then(ra.cmp(&rb))
    } else {
        compare_names(a, b)
    }
}

/// Resources from hashed items, in canonical order.
pub fn resources(hashed: Vec<Hashed>, ser: Serialization) -> Vec<Resource> {
    let algorithm = ser.resource_algorithm();
    let mut items = hashed;
    items.sort_by(|a, b| compare_names(&a.file, &b.file).then(a.range.cmp(&b.range)));
    items
        .into_iter()
        .map(|h| Resource {
            name: match h.range {
                Some((s, e)) => format!("{}:{s}:{e}", h.file),
                None => h.file,
            },
            algorithm: algorithm.clone(),
            digest: h.digest,
        })
        .collect()
}

/// SHA-256 over the concatenated raw digests, in listed order.
pub fn root_digest(resources: &[Resource]) -> [u8; 32] {
    let mut h = Sha256::new();
    for r in resources {
        h.update(&r.digest);
    }
    h.finalize().into()
}

/// The statement aisec signs.
#[derive(Debug, Clone)]
pub struct Statement {
    pub subject_name: String,
    pub root_digest: [u8; 32],
    pub serialization: Serialization,
    pub allow_symlinks: bool,
    /// Model-relative POSIX paths, sorted (the reference writes them in
    /// arbitrary order; sorted output makes two signatures of one model
    /// differ only in the ECDSA signature).
    pub ignore_paths: Vec<String>,
    pub resources: Vec<Resource>,
}

#[derive(Serialize)]
struct StatementJson<'a> {
    #[serde(rename = "_type")]
    type_: &'static str,
    subject: [SubjectJson<'a>; 1],
    #[serde(rename = "predicateType")]
    predicate_type: &'static str,
    predicate: PredicateJson<'a>,
}

#[derive(Serialize)]
struct SubjectJson<'a> {
    name: &'a str,
    digest: DigestJson,
}

#[derive(Serialize)]
struct DigestJson {
    sha256: String,
}

#[derive(Serialize)]
struct PredicateJson<'a> {
    serialization: SerializationJson<'a>,
    resources: Vec<ResourceJson<'a>>,
}

#[derive(Serialize)]
struct SerializationJson<'a> {
    method: &'static str,
    hash_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    shard_size: Option<u64>,
    allow_symlinks: bool,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    ignore_paths: &'a [String],
}

#[derive(Serialize)]
struct ResourceJson<'a> {
    name: &'a str,
    algorithm: &'a str,
    digest: String,
}

impl Statement {
    /// The payload bytes: two-space indented JSON like the reference's
    /// (non-ASCII is written as UTF-8, which every JSON reader accepts).
    pub fn to_json(&self) -> Vec<u8> {
        let (method, shard_size) = match self.serialization {
            Serialization::Files { .. } => ("files", None),
            Serialization::Shards { shard_size, .. } => ("shards", Some(shard_size)),
        };
        let json = StatementJson {
            type_: STATEMENT_TYPE,
            subject: [SubjectJson {
                name: &self.subject_name,
                digest: DigestJson {
                    sha256: hex::encode(self.root_digest),
                },
            }],
            predicate_type: PREDICATE_TYPE,
            predicate: PredicateJson {
                serialization: SerializationJson {
                    method,
                    hash_type: self.serialization.hash().as_str(),
                    shard_size,
                    allow_symlinks: self.allow_symlinks,
                    ignore_paths: &self.ignore_paths,
                },
                resources: self
                    .resources
                    .iter()
                    .map(|r| ResourceJson {
                        name: &r.name,
                        algorithm: &r.algorithm,
                        digest: hex::encode(&r.digest),
                    })
                    .collect(),
            },
        };
        // Serializing plain strings, bools and integers cannot fail.
        serde_json::to_vec_pretty(&json).unwrap_or_default()
    }

    /// Parses and checks a v1.0 statement (type, predicate type, one subject,
    /// root digest consistent with the resources).
    pub fn parse(payload: &[u8]) -> Result<Self, Error> {
        let v: Value = serde_json::from_slice(payload)
            .map_err(|e| Error::Statement(format!("payload is not JSON: {e}")))?;
        let bad = |m: &str| Error::Statement(m.to_owned());
        let obj = v
            .as_object()
            .ok_or_else(|| bad("payload is not a JSON object"))?;
        let t = obj.get("_type").and_then(Value::as_str);
        if t != Some(STATEMENT_TYPE) {
            return Err(Error::Statement(format!(
                "statement _type is {t:?}, expected {STATEMENT_TYPE}"
            )));
        }
        let pt = obj.get("predicateType").and_then(Value::as_str);
        if pt != Some(PREDICATE_TYPE) {
            return Err(Error::Statement(format!(
                "predicateType is {pt:?}, expected {PREDICATE_TYPE} (model_signing 0.x signatures are not supported)"
            )));
        }
        let subjects = obj
            .get("subject")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("statement has no subject list"))?;
        if subjects.len() != 1 {
            return Err(Error::Statement(format!(
                "statement has {} subjects, expected exactly one",
                subjects.len()
            )));
        }
        let subject_name = subjects[0]
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let root_hex = subjects[0]
            .get("digest")
            .and_then(|d| d.get("sha256"))
            .and_then(Value::as_str)
            .ok_or_else(|| bad("subject has no sha256 digest"))?;
        let root: [u8; 32] = hex::decode(root_hex)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| bad("subject sha256 digest is not 64 hex digits"))?;
        let predicate = obj
            .get("predicate")
            .and_then(Value::as_object)
            .ok_or_else(|| bad("statement has no predicate"))?;
        let ser = predicate
            .get("serialization")
            .and_then(Value::as_object)
            .ok_or_else(|| bad("predicate has no serialization block"))?;
        let hash_name = ser
            .get("hash_type")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("serialization has no hash_type"))?;
        let hash = HashAlgorithm::parse(hash_name)
            .ok_or_else(|| Error::Statement(format!("unsupported hash_type '{hash_name}'")))?;
        let serialization = match ser.get("method").and_then(Value::as_str) {
            Some("files") => Serialization::Files { hash },
            Some("shards") => {
                let shard_size = ser
                    .get("shard_size")
                    .and_then(json_u64)
                    .filter(|s| *s > 0)
                    .ok_or_else(|| {
                        bad("shards serialization needs a positive integer shard_size")
                    })?;
                Serialization::Shards { hash, shard_size }
            }
            other => {
                return Err(Error::Statement(format!(
                    "unknown serialization method {other:?}"
                )));
            }
        };
        let allow_symlinks = ser
            .get("allow_symlinks")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let ignore_paths = match ser.get("ignore_paths") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|p| p.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| bad("ignore_paths must be a list of strings"))?,
            Some(_) => return Err(bad("ignore_paths must be a list of strings")),
        };
        let list = predicate
            .get("resources")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("predicate has no resources list"))?;
        let mut resources = Vec::with_capacity(list.len());
        for r in list {
            let field = |k: &str| r.get(k).and_then(Value::as_str);
            let (Some(name), Some(algorithm), Some(digest)) =
                (field("name"), field("algorithm"), field("digest"))
            else {
                return Err(bad("a resource lacks name, algorithm or digest"));
            };
            let digest = hex::decode(digest)
                .map_err(|_| Error::Statement(format!("digest of resource '{name}' is not hex")))?;
            resources.push(Resource {
                name: name.to_owned(),
                algorithm: algorithm.to_owned(),
                digest,
            });
        }
        if root_digest(&resources) != root {
            return Err(bad(
                "statement is inconsistent: subject digest is not the digest of its resources",
            ));
        }
        Ok(Statement {
            subject_name,
            root_digest: root,
            serialization,
            allow_symlinks,
            ignore_paths,
            resources,
        })
    }
}

fn json_u64(v: &Value) -> Option<u64> {
    if let Some(n) = v.as_u64() {
        return Some(n);
    }
    let f = v.as_f64()?;
    // Exactly representable integers only: 1e9 as 1000000000.0 is fine, 64.5
    // or 1e300 is not a size.
    (f.fract() == 0.0 && (0.0..=9_007_199_254_740_992.0).contains(&f)).then_some(f as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_order_is_not_string_order() {
        let mut names = vec![
            "tokenizer.json",
            "a.txt",
            "a-b.txt",
            "tokenizer/vocab.txt",
            "a/b.txt",
        ];
        names.sort_by(|a, b| compare_names(a, b));
        assert_eq!(
            names,
            vec![
                "a/b.txt",
                "a-b.txt",
                "a.txt",
                "tokenizer/vocab.txt",
                "tokenizer.json"
            ]
        );
    }

    #[test]
    fn shards_sort_numerically_and_split_from_the_right() {
        assert_eq!(
            compare_resources("w.bin:64:128", "w.bin:128:192", true),
            Ordering::Less
        );
        assert_eq!(split_shard("a:b.bin:0:5"), ("a:b.bin", Some((0, 5))));
        assert_eq!(split_shard("plain"), ("plain", None));
    }

    #[test]
    fn shard_size_may_be_a_float() {
        assert_eq!(json_u64(&serde_json::json!(64.0)), Some(64));
        assert_eq!(
            json_u64(&serde_json::json!(1000000000)),
            Some(1_000_000_000)
        );
        assert_eq!(json_u64(&serde_json::json!(64.5)), None);
        assert_eq!(json_u64(&serde_json::json!(-1.0)), None);
    }
}
