//! safetensors header validation: the layout rules the `safetensors` library
//! enforces, plus the ones it does not (gaps, trailing data) where data can
//! hide. A valid file produces no finding.

use std::collections::HashSet;
use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;

/// The `safetensors` library refuses headers above 100 MB; so do we.
pub const MAX_HEADER: u64 = 100_000_000;

#[derive(Debug, PartialEq, Eq)]
pub enum Problem {
    /// The file is not a safetensors file we can read at all.
    Malformed(String),
    /// Rules broken, each with the byte offset it concerns.
    Layout(Vec<Issue>),
}

/// One broken layout rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub why: String,
    /// File offset the issue concerns.
    pub at: u64,
    /// The header sends a reader that trusts it past the end of the file: a
    /// range that ends beyond the data area or runs backwards, or a
    /// dtype × shape larger than what is left after the tensor's start.
    /// Readers that trust offsets (memory-mapping loaders, C and Rust readers
    /// that skip validation) read out of bounds. Overlaps, gaps and
    /// in-bounds size mismatches stay inside the file.
    pub out_of_bounds: bool,
}

fn issue(why: String, at: u64) -> Issue {
    Issue {
        why,
        at,
        out_of_bounds: false,
    }
}

/// Keeps every key of a JSON object, duplicates included, in order:
/// `serde_json::Value` would silently keep only the last.
struct Entries(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entries;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    out.push((k, v));
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(V)
    }
}

fn dtype_bits(dtype: &str) -> Option<u64> {
    Some(match dtype {
        "BOOL" | "U8" | "I8" | "F8_E5M2" | "F8_E4M3" | "F8_E8M0" => 8,
        "I16" | "U16" | "F16" | "BF16" => 16,
        "I32" | "U32" | "F32" => 32,
        "I64" | "U64" | "F64" | "C64" => 64,
        "F6_E2M3" | "F6_E3M2" => 6,
        "F4" => 4,
        _ => return None,
    })
}

pub fn validate(bytes: &[u8]) -> Result<(), Problem> {
    if bytes.len() < 8 {
        return Err(Problem::Malformed(
            "shorter than the 8-byte header length".into(),
        ));
    }
    let header_len = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
    if header_len > MAX_HEADER {
        return Err(Problem::Malformed(format!(
            "header claims {header_len} bytes, over the {MAX_HEADER} byte limit"
        )));
    }
    let data_start = 8 + header_len;
    let Some(header) = bytes.get(8..data_start as usize) else {
        return Err(Problem::Malformed(format!(
            "header claims {header_len} bytes but the file has {}",
            bytes.len() - 8
        )));
    };
    let text = std::str::from_utf8(header)
        .map_err(|e| Problem::Malformed(format!("header is not UTF-8: {e}")))?;
    let entries: Entries = serde_json::from_str(text.trim_end_matches(' '))
        .map_err(|e| Problem::Malformed(format!("header is not a JSON object: {e}")))?;

    let buffer_len = bytes.len() as u64 - data_start;
    let mut problems = Vec::new();
    let mut names = HashSet::new();
    let mut ranges: Vec<(u64, u64, String)> = Vec::new();
    for (name, value) in entries.0 {
        if !names.insert(name.clone()) {
            problems.push(issue(format!("tensor name `{name}` appears twice"), 8));
            continue;
        }
        if name == "__metadata__" {
            match value.as_object() {
                Some(map) => {
                    for (k, v) in map {
                        if !v.is_string() {
                            problems.push(issue(format!("`__metadata__.{k}` is not a string"), 8));
                        }
                    }
                }
                None => problems.push(issue("`__metadata__` is not an object".into(), 8)),
            }
            continue;
        }
        let dtype = value.get("dtype").and_then(Value::as_str);
        let shape: Option<Vec<u64>> = value
            .get("shape")
            .and_then(Value::as_array)
            .and_then(|a| a.iter().map(Value::as_u64).collect());
        let offsets: Option<Vec<u64>> = value
            .get("data_offsets")
            .and_then(Value::as_array)
            .and_then(|a| a.iter().map(Value::as_u64).collect());
        let (Some(dtype), Some(shape), Some(offsets)) = (dtype, shape, offsets) else {
            problems.push(issue(
                format!("tensor `{name}` lacks a valid dtype, shape or data_offsets"),
                8,
            ));
            continue;
        };
        let [begin, end] = offsets[..] else {
            problems.push(issue(
                format!("tensor `{name}` data_offsets is not [begin, end]"),
                8,
            ));
            continue;
        };
        if begin > end || end > buffer_len {
            problems.push(Issue {
                why: format!(
                    "tensor `{name}` spans [{begin}, {end}) outside the {buffer_len}-byte data area"
                ),
                at: data_start.saturating_add(begin.min(buffer_len)),
                out_of_bounds: true,
            });
            continue;
        }
        match dtype_bits(dtype) {
            None => problems.push(issue(
                format!("tensor `{name}` has unknown dtype `{dtype}`"),
                8,
            )),
            Some(bits) => {
                let elements = shape.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d));
                let expected = elements
                    .and_then(|n| n.checked_mul(bits))
                    .map(|b| b.div_ceil(8));
                if expected != Some(end - begin) {
                    // A reader that sizes the tensor by its shape reads
                    // `expected` bytes from `begin`.
                    let past_end = expected.is_none_or(|n| n > buffer_len - begin);
                    problems.push(Issue {
                        why: format!(
                            "tensor `{name}` is {dtype} {shape:?} but spans {} bytes{}",
                            end - begin,
                            if past_end {
                                "; its shape reaches past the end of the file"
                            } else {
                                ""
                            }
                        ),
                        at: data_start + begin,
                        out_of_bounds: past_end,
                    });
                }
            }
        }
        ranges.push((begin, end, name));
    }
    ranges.sort();
    let mut cursor = 0;
    for (begin, end, name) in &ranges {
        if *begin < cursor {
            problems.push(issue(
                format!("tensor `{name}` overlaps the one before it"),
                data_start + begin,
            ));
        } else if *begin > cursor {
            problems.push(issue(
                format!(
                    "{} unreferenced bytes before tensor `{name}`",
                    begin - cursor
                ),
                data_start + cursor,
            ));
        }
        cursor = cursor.max(*end);
    }
    if cursor < buffer_len {
        problems.push(issue(
            format!(
                "{} bytes after the last tensor that no tensor refers to",
                buffer_len - cursor
            ),
            data_start + cursor,
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Problem::Layout(problems))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn build(header: &str, data_len: usize) -> Vec<u8> {
        let mut out = (header.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(header.as_bytes());
        out.extend(std::iter::repeat_n(0u8, data_len));
        out
    }

    #[test]
    fn valid_file_passes() {
        let f = build(
            r#"{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"BF16","shape":[3],"data_offsets":[16,22]}}  "#,
            22,
        );
        assert_eq!(validate(&f), Ok(()));
    }

    #[test]
    fn each_rule_breaks() {
        let layout = |h: &str, n| match validate(&build(h, n)) {
            Err(Problem::Layout(p)) => p.into_iter().map(|x| x.why).collect::<Vec<_>>().join("; "),
            other => panic!("{other:?}"),
        };
        assert!(layout(r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, 12).contains("overlaps"));
        assert!(
            layout(
                r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
                100
            )
            .contains("after the last tensor")
        );
        assert!(
            layout(
                r#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#,
                8
            )
            .contains("spans 8 bytes")
        );
        assert!(
            layout(
                r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,80]}}"#,
                8
            )
            .contains("outside")
        );
        assert!(layout(r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, 8).contains("twice"));
        assert!(layout(r#"{"__metadata__":{"x":1}}"#, 0).contains("not a string"));
        assert!(
            layout(
                r#"{"a":{"dtype":"PICKLE","shape":[1],"data_offsets":[0,1]}}"#,
                1
            )
            .contains("unknown dtype")
        );
        assert!(matches!(
            validate(&build("[1,2]", 0)),
            Err(Problem::Malformed(_))
        ));
        assert!(matches!(
            validate(b"\xff\xff\xff\xff\xff\xff\xff\x7f{}"),
            Err(Problem::Malformed(_))
        ));
    }

    #[test]
    fn ranges_past_the_end_are_out_of_bounds_and_overlaps_are_not() {
        let issues = |h: &str, n| match validate(&build(h, n)) {
            Err(Problem::Layout(p)) => p,
            other => panic!("{other:?}"),
        };
        // A 4 GiB claim on a file of a few hundred bytes.
        let claim = issues(
            r#"{"w":{"dtype":"F32","shape":[1073741824],"data_offsets":[0,4294967296]}}"#,
            16,
        );
        assert!(
            claim[0].out_of_bounds && claim[0].why.contains("outside"),
            "{claim:?}"
        );
        // Backwards range.
        let back = issues(
            r#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}"#,
            8,
        );
        assert!(back[0].out_of_bounds);
        // Offsets in bounds, shape claiming far more than the file holds.
        let shape = issues(
            r#"{"w":{"dtype":"F32","shape":[1000000],"data_offsets":[0,8]}}"#,
            8,
        );
        assert!(shape[0].out_of_bounds && shape[0].why.contains("past the end"));
        // Overlap, and a shape mismatch that stays inside: in bounds.
        let overlap = issues(
            r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
            8,
        );
        assert!(overlap.iter().all(|i| !i.out_of_bounds), "{overlap:?}");
        let small = issues(
            r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}}"#,
            8,
        );
        assert!(!small[0].out_of_bounds);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = validate(&data);
        }
    }
}
