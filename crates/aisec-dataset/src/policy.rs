//! The masking policy: a TOML file naming, per column, what to do.
//!
//! ```toml
//! default = "keep"              # columns the policy does not name: keep | redact | drop | hash
//! unknown_columns = "default"   # or "fail": every header column must be named
//!
//! [key]                         # the HMAC key, by reference only
//! env = "AISEC_MASK_KEY"        # or: file = "mask.key" (relative to this file)
//!
//! [[column]]
//! name = "email"
//! action = "tokenise"
//! format = "email"              # auto | email | card; keep_last = N
//! ```
//!
//! The key itself is never accepted in a policy: a policy travels with the
//! data and lands in repositories. Anything that looks like key material
//! (`key = "..."`, `key.value`, `secret`, ...) is rejected with an error.

use std::path::{Path, PathBuf};

use toml::{Table, Value};

use crate::error::{Error, Result};

/// Shortest key accepted: 128 bits.
pub const MIN_KEY_BYTES: usize = 16;
/// Shortest hash output kept after truncation: below this, collisions between
/// different values become likely in ordinary tables.
pub const MIN_HASH_CHARS: usize = 8;

/// What to do with one column.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Copy the value as it is.
    Keep,
    /// Remove the column from the output.
    Drop,
    /// Replace every non-empty value with a fixed string.
    Redact { replacement: String },
    /// Keyed HMAC-SHA256 of the value.
    Hash {
        encoding: HashEncoding,
        /// Characters kept from the start of the encoded digest.
        length: Option<usize>,
    },
    /// Deterministic keyed pseudonym that keeps the value's shape.
    Tokenise {
        format: TokenFormat,
        /// Alphanumeric characters kept as they are at the end of the value.
        keep_last: usize,
    },
    /// Coarsen a date or a number.
    Generalise(Generalise),
}

impl Action {
    /// Whether this action needs the HMAC key.
    pub fn needs_key(&self) -> bool {
        matches!(self, Action::Hash { .. } | Action::Tokenise { .. })
    }

    /// Whether this action reads the value as text (and so rejects a row
    /// whose value is not UTF-8).
    pub fn needs_text(&self) -> bool {
        matches!(self, Action::Tokenise { .. } | Action::Generalise(_))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashEncoding {
    Hex,
    Base64Url,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenFormat {
    /// Digits stay digits, letters stay letters (and keep their case), every
    /// other character is kept.
    Auto,
    /// The local part is tokenised, `@domain` is kept.
    Email,
    /// Like `auto`, keeping the last 4 digits unless `keep_last` says otherwise.
    Card,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Generalise {
    /// `2021-07-14` -> `2021`.
    Year,
    /// `2021-07-14` -> `2021-07`.
    YearMonth,
    /// `37` -> `30-39` for width 10; values at or above `top` become `top+`.
    Range { width: u64, top: Option<i64> },
}

/// What to do with header columns the policy does not name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownColumns {
    /// Apply the policy's `default` action.
    Default,
    /// Refuse the input.
    Fail,
}

/// Where the HMAC key lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRef {
    Env(String),
    File(PathBuf),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ColumnRule {
    pub name: String,
    pub action: Action,
}

/// A parsed, validated policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// The file it came from (for error messages).
    pub source: PathBuf,
    pub default: Action,
    pub unknown_columns: UnknownColumns,
    pub key: Option<KeyRef>,
    pub columns: Vec<ColumnRule>,
}

/// Key names that would hold key material: refused wherever they appear.
const KEY_MATERIAL_NAMES: &[&str] = &[
    "key",
    "secret",
    "hmac_key",
    "key_hex",
    "key_base64",
    "value",
    "passphrase",
    "password",
    "salt",
    "pepper",
];

const KEY_MATERIAL_HELP: &str = "key material is never allowed in a policy file (policies travel with the data and end up in repositories); name it by reference instead: `[key] env = \"VAR\"` or `[key] file = \"path\"`, or pass --key-env / --key-file";

impl Policy {
    /// Reads and validates the policy at `path`.
    pub fn from_file(path: &Path) -> Result<Policy> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Policy::parse(&text, path)
    }

    /// Parses policy text; `source` names it in errors and anchors a relative
    /// `key.file`.
    pub fn parse(text: &str, source: &Path) -> Result<Policy> {
        let err = |key: &str, message: String| Error::Policy {
            file: source.to_path_buf(),
            key: key.to_owned(),
            message,
        };
        let table: Table = text
            .parse()
            .map_err(|e: toml::de::Error| err("TOML syntax", e.to_string().trim().to_owned()))?;

        let mut default = Action::Keep;
        let mut unknown_columns = UnknownColumns::Default;
        let mut key = None;
        let mut columns: Vec<ColumnRule> = Vec::new();

        for (name, value) in &table {
            match name.as_str() {
                "version" => match value.as_integer() {
                    Some(1) => {}
                    _ => return Err(err("version", "the only policy version is 1".into())),
                },
                "default" => {
                    let s = value.as_str().ok_or_else(|| {
                        err(
                            "default",
                            "expected a string: keep, redact, drop or hash".into(),
                        )
                    })?;
                    default = match s {
                        "keep" => Action::Keep,
                        "drop" => Action::Drop,
                        "redact" => Action::Redact {
                            replacement: DEFAULT_REPLACEMENT.into(),
                        },
                        "hash" => Action::Hash {
                            encoding: HashEncoding::Hex,
                            length: None,
                        },
                        other => {
                            return Err(err(
                                "default",
                                format!(
                                    "unknown default action `{other}`: expected keep, redact, drop or hash (actions with options go in a [[column]] table)"
                                ),
                            ));
                        }
                    };
                }
                "unknown_columns" => {
                    unknown_columns = match value.as_str() {
                        Some("default") => UnknownColumns::Default,
                        Some("fail") => UnknownColumns::Fail,
                        _ => {
                            return Err(err(
                                "unknown_columns",
                                "expected \"default\" (apply `default`) or \"fail\" (refuse columns the policy does not name)".into(),
                            ));
                        }
                    }
                }
                "key" => key = Some(parse_key_ref(value, source, &err)?),
                "column" => {
                    let array = value.as_array().ok_or_else(|| {
                        err(
                            "column",
                            "expected an array of tables: write each rule as [[column]]".into(),
                        )
                    })?;
                    for (i, item) in array.iter().enumerate() {
                        let at = format!("column[{i}]");
                        let t = item
                            .as_table()
                            .ok_or_else(|| err(&at, "expected a table ([[column]])".into()))?;
                        let rule = parse_column(t, &at, &err)?;
                        if let Some(first) = columns.iter().position(|c| c.name == rule.name) {
                            return Err(err(
                                &format!("{at}.name"),
                                format!(
                                    "column `{}` is named twice (first in column[{first}]): one rule per column",
                                    rule.name
                                ),
                            ));
                        }
                        columns.push(rule);
                    }
                }
                other if looks_like_key_material(other) => {
                    return Err(err(other, KEY_MATERIAL_HELP.into()));
                }
                other => {
                    return Err(err(
                        other,
                        "unknown setting: expected version, default, unknown_columns, key or [[column]]".into(),
                    ));
                }
            }
        }
        let policy = Policy {
            source: source.to_path_buf(),
            default,
            unknown_columns,
            key,
            columns,
        };
        Ok(policy)
    }

    /// Whether any rule (or the default) needs the HMAC key.
    pub fn needs_key(&self) -> bool {
        self.default.needs_key() || self.columns.iter().any(|c| c.action.needs_key())
    }

    /// The rule for `column`, if the policy names it.
    pub fn rule(&self, column: &str) -> Option<&Action> {
        self.columns
            .iter()
            .find(|c| c.name == column)
            .map(|c| &c.action)
    }
}

/// Replacement used by `redact` when the policy gives none.
pub const DEFAULT_REPLACEMENT: &str = "[REDACTED]";

fn looks_like_key_material(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    KEY_MATERIAL_NAMES.contains(&lower.as_str())
        || lower.contains("secret")
        || lower.contains("passphrase")
        || lower.contains("password")
}

fn parse_key_ref(
    value: &Value,
    source: &Path,
    err: &dyn Fn(&str, String) -> Error,
) -> Result<KeyRef> {
    let Some(t) = value.as_table() else {
        return Err(err("key", KEY_MATERIAL_HELP.into()));
    };
    let mut found = None;
    for (name, v) in t {
        let at = format!("key.{name}");
        let r = match name.as_str() {
            "env" => {
                let s = v.as_str().ok_or_else(|| {
                    err(&at, "expected the name of an environment variable".into())
                })?;
                if s.is_empty() || !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                    return Err(err(
                        &at,
                        format!(
                            "expected the name of an environment variable (letters, digits, _), not its value; {KEY_MATERIAL_HELP}"
                        ),
                    ));
                }
                KeyRef::Env(s.to_owned())
            }
            "file" => {
                let s = v
                    .as_str()
                    .ok_or_else(|| err(&at, "expected a path to a key file".into()))?;
                if s.is_empty() {
                    return Err(err(&at, "expected a path to a key file".into()));
                }
                let p = Path::new(s);
                let p = if p.is_relative() {
                    source.parent().unwrap_or(Path::new("")).join(p)
                } else {
                    p.to_path_buf()
                };
                KeyRef::File(p)
            }
            _ => return Err(err(&at, KEY_MATERIAL_HELP.into())),
        };
        if found.is_some() {
            return Err(err(&at, "give either key.env or key.file, not both".into()));
        }
        found = Some(r);
    }
    found.ok_or_else(|| err("key", "empty [key] table: give key.env or key.file".into()))
}

fn parse_column(t: &Table, at: &str, err: &dyn Fn(&str, String) -> Error) -> Result<ColumnRule> {
    let get_str = |name: &str| -> Result<Option<&str>> {
        match t.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .map(Some)
                .ok_or_else(|| err(&format!("{at}.{name}"), "expected a string".into())),
        }
    };
    let get_uint = |name: &str| -> Result<Option<u64>> {
        match t.get(name) {
            None => Ok(None),
            Some(v) => match v.as_integer() {
                Some(n) if n >= 0 => Ok(Some(n as u64)),
                _ => Err(err(
                    &format!("{at}.{name}"),
                    "expected a non-negative integer".into(),
                )),
            },
        }
    };
    let name = get_str("name")?
        .ok_or_else(|| {
            err(
                &format!("{at}.name"),
                "missing: which header column this rule is for".into(),
            )
        })?
        .to_owned();
    let action_name = get_str("action")?.ok_or_else(|| {
        err(
            &format!("{at}.action"),
            "missing: keep, redact, hash, tokenise, generalise or drop".into(),
        )
    })?;
    let allowed: &[&str] = match action_name {
        "keep" | "drop" => &[],
        "redact" => &["replacement"],
        "hash" => &["encoding", "length"],
        "tokenise" | "tokenize" => &["format", "keep_last"],
        "generalise" | "generalize" => &["to", "width", "top"],
        other => {
            return Err(err(
                &format!("{at}.action"),
                format!(
                    "unknown action `{other}`: expected keep, redact, hash, tokenise, generalise or drop"
                ),
            ));
        }
    };
    for k in t.keys() {
        if k == "name" || k == "action" || allowed.contains(&k.as_str()) {
            continue;
        }
        let key = format!("{at}.{k}");
        if looks_like_key_material(k) {
            return Err(err(&key, KEY_MATERIAL_HELP.into()));
        }
        let options = if allowed.is_empty() {
            "none".to_owned()
        } else {
            allowed.join(", ")
        };
        return Err(err(
            &key,
            format!("`{action_name}` takes no option `{k}` (its options: {options})"),
        ));
    }
    let action = match action_name {
        "keep" => Action::Keep,
        "drop" => Action::Drop,
        "redact" => {
            let replacement = get_str("replacement")?.unwrap_or(DEFAULT_REPLACEMENT);
            if replacement
                .bytes()
                .any(|b| b == b'\t' || b == b'\n' || b == b'\r')
            {
                return Err(err(
                    &format!("{at}.replacement"),
                    "must not contain tabs or line breaks (they would break TSV output)".into(),
                ));
            }
            Action::Redact {
                replacement: replacement.to_owned(),
            }
        }
        "hash" => {
            let encoding = match get_str("encoding")? {
                None | Some("hex") => HashEncoding::Hex,
                Some("base64url") => HashEncoding::Base64Url,
                Some(other) => {
                    return Err(err(
                        &format!("{at}.encoding"),
                        format!("unknown encoding `{other}`: expected hex or base64url"),
                    ));
                }
            };
            let full = match encoding {
                HashEncoding::Hex => 64,
                HashEncoding::Base64Url => 43,
            };
            let length = match get_uint("length")? {
                None => None,
                Some(n) if (MIN_HASH_CHARS as u64..=full as u64).contains(&n) => Some(n as usize),
                Some(n) => {
                    return Err(err(
                        &format!("{at}.length"),
                        format!(
                            "{n} is out of range: between {MIN_HASH_CHARS} and {full} characters for this encoding"
                        ),
                    ));
                }
            };
            Action::Hash { encoding, length }
        }
        "tokenise" | "tokenize" => {
            let format = match get_str("format")? {
                None | Some("auto") => TokenFormat::Auto,
                Some("email") => TokenFormat::Email,
                Some("card") => TokenFormat::Card,
                Some(other) => {
                    return Err(err(
                        &format!("{at}.format"),
                        format!("unknown format `{other}`: expected auto, email or card"),
                    ));
                }
            };
            let default_keep = if format == TokenFormat::Card { 4 } else { 0 };
            let keep_last = get_uint("keep_last")?.unwrap_or(default_keep);
            if keep_last > 64 {
                return Err(err(
                    &format!("{at}.keep_last"),
                    "at most 64 characters can be kept".into(),
                ));
            }
            Action::Tokenise {
                format,
                keep_last: keep_last as usize,
            }
        }
        _ => {
            // generalise
            let to = get_str("to")?;
            let width = get_uint("width")?;
            let top = match t.get("top") {
                None => None,
                Some(v) => Some(
                    v.as_integer()
                        .ok_or_else(|| err(&format!("{at}.top"), "expected an integer".into()))?,
                ),
            };
            match (to, width) {
                (Some("year"), None) if top.is_none() => Action::Generalise(Generalise::Year),
                (Some("year-month"), None) if top.is_none() => {
                    Action::Generalise(Generalise::YearMonth)
                }
                (Some("range") | None, Some(w)) if w >= 1 => {
                    Action::Generalise(Generalise::Range { width: w, top })
                }
                (_, Some(0)) => {
                    return Err(err(&format!("{at}.width"), "must be at least 1".into()));
                }
                (Some(other), None) if other != "range" => {
                    return Err(err(
                        &format!("{at}.to"),
                        format!(
                            "unknown target `{other}`: expected year, year-month, or width = N for numeric ranges"
                        ),
                    ));
                }
                _ => {
                    return Err(err(
                        at,
                        "generalise needs either to = \"year\" | \"year-month\" (dates) or width = N (numbers, optional top = N)".into(),
                    ));
                }
            }
        }
    };
    Ok(ColumnRule { name, action })
}

/// The HMAC key: bytes from an environment variable or a file. Kept out of
/// `Debug` output.
#[derive(Clone)]
pub struct MaskKey(Vec<u8>);

impl std::fmt::Debug for MaskKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MaskKey(..)")
    }
}

impl MaskKey {
    /// A key from bytes; at least [`MIN_KEY_BYTES`].
    pub fn new(bytes: Vec<u8>) -> Result<MaskKey> {
        if bytes.len() < MIN_KEY_BYTES {
            return Err(Error::Key(format!(
                "the masking key has {} bytes; at least {MIN_KEY_BYTES} are required (generate one with `aisec data keygen --mask FILE`)",
                bytes.len()
            )));
        }
        Ok(MaskKey(bytes))
    }

    /// The value of environment variable `name`.
    pub fn from_env(name: &str) -> Result<MaskKey> {
        let v = std::env::var_os(name).ok_or_else(|| {
            Error::Key(format!(
                "environment variable {name} (the masking key) is not set"
            ))
        })?;
        MaskKey::new(v.into_encoded_bytes())
            .map_err(|e| Error::Key(format!("environment variable {name}: {e}")))
    }

    /// The contents of `path`, trailing line break and spaces removed.
    pub fn from_file(path: &Path) -> Result<MaskKey> {
        let mut bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        while bytes.last().is_some_and(|b| b.is_ascii_whitespace()) {
            bytes.pop();
        }
        MaskKey::new(bytes).map_err(|e| Error::Key(format!("{}: {e}", path.display())))
    }

    /// Resolves a policy's key reference.
    pub fn from_ref(r: &KeyRef) -> Result<MaskKey> {
        match r {
            KeyRef::Env(name) => MaskKey::from_env(name),
            KeyRef::File(path) => MaskKey::from_file(path),
        }
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

/// A fresh random key (32 bytes, hex-encoded) for a key file.
pub fn generate_mask_key() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Key(format!("the system random number generator failed: {e}")))?;
    Ok(crate::mask::hex(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        Policy::parse(text, Path::new("dir/p.toml"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn parses_every_action() {
        let p = Policy::parse(
            r#"
version = 1
default = "redact"
unknown_columns = "fail"
[key]
file = "mask.key"
[[column]]
name = "a"
action = "hash"
encoding = "base64url"
length = 10
[[column]]
name = "b"
action = "tokenize"
format = "card"
[[column]]
name = "c"
action = "generalise"
to = "year-month"
[[column]]
name = "d"
action = "generalise"
width = 10
top = 90
[[column]]
name = "e"
action = "drop"
"#,
            Path::new("dir/p.toml"),
        )
        .unwrap();
        assert_eq!(
            p.default,
            Action::Redact {
                replacement: DEFAULT_REPLACEMENT.into()
            }
        );
        assert_eq!(p.unknown_columns, UnknownColumns::Fail);
        assert_eq!(p.key, Some(KeyRef::File(PathBuf::from("dir/mask.key"))));
        assert_eq!(p.columns.len(), 5);
        assert_eq!(
            p.columns[0].action,
            Action::Hash {
                encoding: HashEncoding::Base64Url,
                length: Some(10)
            }
        );
        assert_eq!(
            p.columns[1].action,
            Action::Tokenise {
                format: TokenFormat::Card,
                keep_last: 4
            }
        );
        assert_eq!(
            p.columns[3].action,
            Action::Generalise(Generalise::Range {
                width: 10,
                top: Some(90)
            })
        );
        assert!(p.needs_key());
    }

    #[test]
    fn refuses_key_material() {
        for text in [
            "key = \"00112233445566778899aabbccddeeff\"",
            "[key]\nvalue = \"00112233\"",
            "[key]\nhex = \"00112233\"",
            "[key]\nenv = \"not a var name=123\"",
            "hmac_secret = \"x\"",
            "[[column]]\nname = \"a\"\naction = \"hash\"\nkey = \"x\"",
        ] {
            let e = err(text);
            assert!(e.contains("key material is never allowed"), "{text}: {e}");
            assert!(e.starts_with("dir/p.toml: "), "{e}");
        }
    }

    #[test]
    fn errors_name_file_key_and_problem() {
        assert!(
            err("[[column]]\nname = \"a\"\naction = \"zap\"")
                .contains("column[0].action: unknown action `zap`")
        );
        assert!(err("[[column]]\nname = \"a\"\naction = \"keep\"\n[[column]]\nname = \"a\"\naction = \"drop\"")
            .contains("column[1].name: column `a` is named twice"));
        assert!(err("[[column]]\naction = \"keep\"").contains("column[0].name: missing"));
        assert!(
            err("[[column]]\nname = \"a\"\naction = \"hash\"\nlength = 4")
                .contains("column[0].length")
        );
        assert!(
            err("[[column]]\nname = \"a\"\naction = \"keep\"\nformat = \"x\"")
                .contains("takes no option `format`")
        );
        assert!(
            err("[[column]]\nname = \"a\"\naction = \"generalise\"").contains("generalise needs")
        );
        assert!(
            err("[[column]]\nname = \"a\"\naction = \"generalise\"\nwidth = 0")
                .contains("at least 1")
        );
        assert!(err("default = \"tokenise\"").contains("unknown default action"));
        assert!(err("colums = 1").contains("colums: unknown setting"));
        assert!(err("[[column]\n").contains("TOML syntax"));
        assert!(err("[key]\nenv = \"A\"\nfile = \"b\"").contains("not both"));
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(MaskKey::new(b"short".to_vec()).is_err());
        assert!(MaskKey::new(vec![7; MIN_KEY_BYTES]).is_ok());
        assert_eq!(
            format!("{:?}", MaskKey::new(vec![7; 32]).unwrap()),
            "MaskKey(..)"
        );
    }

    #[test]
    fn generated_keys_are_long_and_fresh() {
        let a = generate_mask_key().unwrap();
        let b = generate_mask_key().unwrap();
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }
}
