//! Masking JSON Lines (the usual shape of fine-tuning and chat datasets):
//! one JSON object per line, policy columns naming keys. A dotted name
//! reaches into nested objects and into every element of an array
//! (`user.email`, `messages.content`), so the content of every chat turn can
//! be tokenised while `messages.role` is kept.
//!
//! For a key at path `p`: a rule naming `p` applies to the whole value; else,
//! when the value is an object or an array and some rule names a path below
//! `p`, its members are judged the same way; else the policy's `default`
//! applies (or, with `unknown_columns = "fail"`, the row is rejected).
//!
//! Values keep their JSON type where the action allows: strings stay
//! strings, a tokenised number stays a number when its token is one. Hashes,
//! redactions and generalisations are strings. `null` is kept by every
//! action but `drop`. Kept values are re-serialised, so a number may be
//! written in a different but equal form (`1e3` as `1000.0`).

use std::io::{Read, Write};
use std::path::Path;

use serde_json::{Map, Value};

use crate::error::Result;
use crate::mask::{ChunkOut, MaskSummary, Masker, Splitter, generalise, mask_via_temp, run_chunks};
use crate::policy::{Action, MaskKey, Policy, UnknownColumns};
use crate::table::{Dialect, Rejects};

/// Nesting followed below the top level: deeper values take the default.
const MAX_DEPTH: usize = 32;

/// A policy compiled for key paths.
pub struct JsonMasker {
    masker: Masker,
    policy: Policy,
}

impl JsonMasker {
    pub fn new(policy: &Policy, key: Option<&MaskKey>) -> Result<JsonMasker> {
        Ok(JsonMasker {
            masker: Masker::for_named_values(policy, key)?,
            policy: policy.clone(),
        })
    }

    /// Masks one line (a JSON object) into `out`, newline included.
    pub fn mask_line(&self, line: &[u8], out: &mut Vec<u8>) -> std::result::Result<(), String> {
        let value: Value =
            serde_json::from_slice(line).map_err(|e| format!("not valid JSON: {e}"))?;
        let Value::Object(map) = value else {
            return Err("a JSON Lines record must be an object".into());
        };
        let masked = self.object(map, "", 0)?;
        serde_json::to_writer(&mut *out, &masked).map_err(|e| e.to_string())?;
        out.push(b'\n');
        Ok(())
    }

    fn object(
        &self,
        map: Map<String, Value>,
        prefix: &str,
        depth: usize,
    ) -> std::result::Result<Map<String, Value>, String> {
        let mut out = Map::with_capacity(map.len());
        for (k, v) in map {
            let path = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            if let Some(v) = self.member(&path, v, depth)? {
                out.insert(k, v);
            }
        }
        Ok(out)
    }

    /// The masked value at `path`, `None` when it is dropped.
    fn member(
        &self,
        path: &str,
        value: Value,
        depth: usize,
    ) -> std::result::Result<Option<Value>, String> {
        if let Some(action) = self.policy.rule(path) {
            return self.apply(path, action, value);
        }
        let below = format!("{path}.");
        let named_below = self
            .policy
            .columns
            .iter()
            .any(|c| c.name.starts_with(&below));
        if named_below && depth < MAX_DEPTH {
            return match value {
                Value::Object(m) => Ok(Some(Value::Object(self.object(m, path, depth + 1)?))),
                Value::Array(items) => {
                    let mut out = Vec::with_capacity(items.len());
                    for item in items {
                        // Array elements share their array's path.
                        match item {
                            Value::Object(m) => {
                                out.push(Value::Object(self.object(m, path, depth + 1)?))
                            }
                            other => {
                                if let Some(v) = self.unnamed(path, other)? {
                                    out.push(v);
                                }
                            }
                        }
                    }
                    Ok(Some(Value::Array(out)))
                }
                other => self.unnamed(path, other),
            };
        }
        self.unnamed(path, value)
    }

    fn unnamed(&self, path: &str, value: Value) -> std::result::Result<Option<Value>, String> {
        if self.policy.unknown_columns == UnknownColumns::Fail {
            return Err(format!("key `{path}` is not named by the policy"));
        }
        self.apply(path, &self.policy.default, value)
    }

    fn apply(
        &self,
        path: &str,
        action: &Action,
        value: Value,
    ) -> std::result::Result<Option<Value>, String> {
        if matches!(action, Action::Drop) {
            return Ok(None);
        }
        if value.is_null() || matches!(action, Action::Keep) {
            return Ok(Some(value));
        }
        let is_number = value.is_number();
        let text = match value {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            other => match action {
                // Whole structures can be hidden or digested, not reshaped.
                Action::Redact { .. } | Action::Hash { .. } => other.to_string(),
                _ => {
                    return Err(format!(
                        "key `{path}`: this action needs a string or a number, found {}",
                        kind(&other)
                    ));
                }
            },
        };
        let mut out = String::new();
        match action {
            Action::Keep | Action::Drop => unreachable!("handled above"),
            Action::Redact { replacement } => {
                if text.is_empty() {
                    return Ok(Some(Value::String(text)));
                }
                out.push_str(replacement);
            }
            Action::Hash { encoding, length } => {
                if text.is_empty() {
                    return Ok(Some(Value::String(text)));
                }
                self.masker
                    .hash_into(text.as_bytes(), *encoding, *length, &mut out);
            }
            Action::Tokenise { format, keep_last } => {
                self.masker.tokenise(&text, *format, *keep_last, &mut out);
                if is_number
                    && let Ok(n) = out.parse::<serde_json::Number>()
                    && !out.starts_with('0')
                {
                    return Ok(Some(Value::Number(n)));
                }
            }
            Action::Generalise(g) => {
                generalise(&text, g, &mut out).map_err(|m| format!("key `{path}`: {m}"))?;
            }
        }
        Ok(Some(Value::String(out)))
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn mask_json_chunk(masker: &JsonMasker, chunk: &crate::mask::Chunk) -> ChunkOut {
    let mut bytes = Vec::with_capacity(chunk.bytes.len() + chunk.bytes.len() / 4);
    let (mut read, mut written) = (0, 0);
    let mut rejected = Rejects::default();
    for (i, line) in chunk.bytes.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue; // blank lines (and the end of the chunk) are not rows
        }
        read += 1;
        match masker.mask_line(line, &mut bytes) {
            Ok(()) => written += 1,
            Err(message) => rejected.push(chunk.lines_before + i as u64 + 1, message),
        }
    }
    ChunkOut {
        bytes,
        read,
        written,
        rejected,
    }
}

/// Masks JSON Lines from `input` into `output`, in input order, in parallel.
pub fn mask_json_lines_stream<R, W>(
    input_name: &Path,
    input: R,
    output: &mut W,
    policy: &Policy,
    key: Option<&MaskKey>,
    strict: bool,
) -> Result<MaskSummary>
where
    R: Read + Send,
    W: Write,
{
    let masker = JsonMasker::new(policy, key)?;
    // A JSON string holds no raw newline: lines are records, so the
    // splitter cuts at newlines exactly as for TSV.
    let splitter = Splitter::new(input, Dialect::TSV, crate::mask::CHUNK_BYTES);
    let (read, written, rejected) = run_chunks(input_name, splitter, None, output, strict, |c| {
        mask_json_chunk(&masker, c)
    })?;
    Ok(MaskSummary {
        rows_read: read,
        rows_written: written,
        rejected,
        ..MaskSummary::default()
    })
}

/// Masks the JSON Lines file `input` into `output` (temporary file renamed
/// into place on success, as for CSV).
pub fn mask_json_lines_file(
    input: &Path,
    output: &Path,
    policy: &Policy,
    key: Option<&MaskKey>,
    strict: bool,
) -> Result<MaskSummary> {
    mask_via_temp(input, output, |file, mut w| {
        mask_json_lines_stream(input, file, &mut w, policy, key, strict)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(policy: &str, input: &str, strict: bool) -> Result<(String, MaskSummary)> {
        let policy = Policy::parse(policy, Path::new("policy.toml")).unwrap();
        let key = MaskKey::new(b"0123456789abcdef".to_vec()).unwrap();
        let mut out = Vec::new();
        let summary = mask_json_lines_stream(
            Path::new("in.jsonl"),
            input.as_bytes(),
            &mut out,
            &policy,
            Some(&key),
            strict,
        )?;
        Ok((String::from_utf8(out).unwrap(), summary))
    }

    const CHAT: &str = r#"
[[column]]
name = "user.email"
action = "tokenise"
format = "email"

[[column]]
name = "messages.content"
action = "redact"
replacement = "[redacted]"

[[column]]
name = "user.age"
action = "generalise"
width = 10

[[column]]
name = "session"
action = "drop"
"#;

    #[test]
    fn dotted_paths_reach_nested_objects_and_array_elements() {
        let line = r#"{"id":7,"session":"s1","user":{"email":"jane@example.com","age":37},"messages":[{"role":"user","content":"my card is 4111"},{"role":"assistant","content":"ok"}]}"#;
        let (out, summary) = run(CHAT, &format!("{line}\n"), false).unwrap();
        let v: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["id"], 7);
        assert!(v.get("session").is_none(), "{out}");
        let email = v["user"]["email"].as_str().unwrap();
        assert!(
            email.ends_with("@example.com") && email != "jane@example.com",
            "{out}"
        );
        assert_eq!(v["user"]["age"], "30-39");
        assert_eq!(v["messages"][0]["role"], "user");
        assert_eq!(v["messages"][0]["content"], "[redacted]");
        assert_eq!(v["messages"][1]["content"], "[redacted]");
        // Key order is kept.
        assert!(out.find("\"id\"").unwrap() < out.find("\"user\"").unwrap());
        assert_eq!((summary.rows_read, summary.rows_written), (1, 1));
    }

    #[test]
    fn tokens_are_deterministic_and_numbers_stay_numbers() {
        let policy = "[[column]]\nname = \"account\"\naction = \"tokenise\"\n";
        let (a, _) = run(
            policy,
            "{\"account\":123456}\n{\"account\":123456}\n",
            false,
        )
        .unwrap();
        let lines: Vec<&str> = a.lines().collect();
        assert_eq!(lines[0], lines[1]);
        let v: Value = serde_json::from_str(lines[0]).unwrap();
        // A number unless the token starts with 0 (not a JSON number).
        let token = match &v["account"] {
            Value::Number(n) => n.to_string(),
            Value::String(s) => {
                assert!(s.starts_with('0'), "{a}");
                s.clone()
            }
            other => panic!("{other:?}"),
        };
        assert_eq!(token.len(), 6, "{a}");
        assert!(
            token.bytes().all(|b| b.is_ascii_digit()) && token != "123456",
            "{a}"
        );
    }

    #[test]
    fn bad_lines_are_rejected_with_their_line_and_the_rest_is_written() {
        let input = "{\"a\":1}\n\nnot json\n[1,2]\n{\"a\":2}\n";
        let (out, summary) = run("default = \"keep\"\n", input, false).unwrap();
        assert_eq!(out, "{\"a\":1}\n{\"a\":2}\n");
        assert_eq!(summary.rows_read, 4);
        let lines: Vec<u64> = summary.rejected.first.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4]);
        assert!(run("default = \"keep\"\n", input, true).is_err());
    }

    #[test]
    fn unknown_keys_fail_when_the_policy_says_so() {
        let policy = "unknown_columns = \"fail\"\n[[column]]\nname = \"a\"\naction = \"keep\"\n";
        let (_, summary) = run(policy, "{\"a\":1,\"b\":2}\n", false).unwrap();
        assert_eq!(summary.rejected.count, 1);
        assert!(summary.rejected.first[0].message.contains("`b`"));
    }

    #[test]
    fn structures_can_be_hidden_not_reshaped() {
        let policy = "[[column]]\nname = \"meta\"\naction = \"hash\"\n[[column]]\nname = \"tags\"\naction = \"generalise\"\nwidth = 10\n";
        let (out, summary) = run(policy, "{\"meta\":{\"x\":1},\"tags\":[1]}\n", false).unwrap();
        assert_eq!(out, "");
        assert!(
            summary.rejected.first[0].message.contains("an array"),
            "{summary:?}"
        );
        let (out, _) = run(policy, "{\"meta\":{\"x\":1}}\n", false).unwrap();
        let v: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["meta"].as_str().unwrap().len(), 64);
    }
}
