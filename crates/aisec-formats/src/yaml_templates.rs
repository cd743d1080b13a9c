//! Chat templates stored in YAML (`chat_template:`, `default_chat_template:`,
//! `tokenizer.chat_template:` keys, as model cards, serving configs and
//! converted tokenizer configs hold them): every string under such a key is
//! judged like the `chat_template` of a JSON tokenizer config.
//!
//! Read as a bounded event stream ([`crate::yaml_events`]: events, depth),
//! never built into a tree, so aliases are never expanded; an alias
//! to an anchored scalar stands for that scalar.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use saphyr_parser::Event;

use crate::yaml_events::{BoundedEvents, MAX_DEPTH, too_deep};

/// Templates collected per file; a config has one or a handful.
const MAX_TEMPLATES: usize = 1_000;
/// Bytes of template text collected per file. Each template is lexed, so
/// this bounds the work as the file's size does; without it one large
/// anchored scalar aliased a thousand times cost a thousand copies and
/// lexes (a 1 MB file took 29 s and 1 GB).
const MAX_TEMPLATE_BYTES: usize = 16 * 1024 * 1024;
/// Anchored scalars remembered for `chat_template: *alias`.
const MAX_ANCHORS: usize = 10_000;

/// Cheap byte test before a parse.
pub fn mentions_chat_template(bytes: &[u8]) -> bool {
    memchr::memmem::find(bytes, b"chat_template").is_some()
}

/// A key whose value is a chat template: `chat_template`,
/// `default_chat_template`, `tokenizer.chat_template` (GGUF's name, flattened
/// into YAML) and named templates below it (`tokenizer.chat_template.tool_use`).
pub fn is_template_key(key: &str) -> bool {
    key.ends_with("chat_template") || key.contains("chat_template.")
}

/// One template string and the 1-based line its text starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlTemplate {
    pub source: String,
    pub line: u32,
}

#[derive(Debug, Default)]
pub struct YamlTemplates {
    pub templates: Vec<YamlTemplate>,
    /// Where and why reading stopped early; templates found before are kept.
    pub error: Option<(u32, String)>,
}

enum Frame {
    Seq {
        /// Inside the value of a template key: every string is a template
        /// (`chat_template: [{name: x, template: "..."}]`, HF's list form).
        template: bool,
    },
    Map {
        key: Option<String>,
        template: bool,
    },
}

/// Every chat-template string of every document in `text`, in order.
pub fn read(text: &str) -> YamlTemplates {
    let mut out = YamlTemplates::default();
    let mut stack: Vec<Frame> = Vec::new();
    // Shared, not copied: an alias costs a pointer, however long its scalar.
    let mut anchors: HashMap<usize, Rc<str>> = HashMap::new();
    // Anchors already collected as templates: an alias repeats the same text,
    // judged once.
    let mut collected_anchors: HashSet<usize> = HashSet::new();
    let mut template_bytes = 0usize;
    for next in BoundedEvents::new(text) {
        let (event, line) = match next {
            Ok(e) => e,
            Err(stopped) => {
                out.error = Some(stopped);
                return out;
            }
        };
        // Whether the node now starting is the value of a template key, or
        // sits anywhere below one.
        let value_is_template = match stack.last() {
            // `[{name: tool_use, template: "..."}]`: the name is a label.
            Some(Frame::Map {
                key: Some(k),
                template: true,
            }) => k != "name",
            Some(Frame::Map {
                key: Some(k),
                template: false,
            }) => is_template_key(k),
            Some(Frame::Map { key: None, .. }) => false,
            Some(Frame::Seq { template }) => *template,
            None => false,
        };
        let (scalar, from_anchor): (Rc<str>, Option<usize>) = match event {
            Event::Scalar(value, _, anchor, _) => {
                let value: Rc<str> = Rc::from(value.as_ref());
                if anchor > 0 && anchors.len() < MAX_ANCHORS {
                    anchors.insert(anchor, Rc::clone(&value));
                }
                (value, (anchor > 0).then_some(anchor))
            }
            Event::Alias(id) => (
                anchors.get(&id).cloned().unwrap_or_else(|| Rc::from("")),
                Some(id),
            ),
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                if stack.len() >= MAX_DEPTH {
                    out.error = Some(too_deep(line));
                    return out;
                }
                let frame = if matches!(event, Event::MappingStart(..)) {
                    Frame::Map {
                        key: None,
                        template: value_is_template,
                    }
                } else {
                    Frame::Seq {
                        template: value_is_template,
                    }
                };
                stack.push(frame);
                continue;
            }
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
                // The collection was a complete value: its key is consumed.
                if let Some(Frame::Map { key, .. }) = stack.last_mut() {
                    *key = None;
                }
                continue;
            }
            Event::DocumentStart(_) => {
                anchors.clear();
                continue;
            }
            _ => continue,
        };
        let is_key = matches!(stack.last(), Some(Frame::Map { key: None, .. }));
        if is_key {
            if let Some(Frame::Map { key, .. }) = stack.last_mut() {
                *key = Some(scalar.to_string());
            }
            continue;
        }
        let repeat = from_anchor.is_some_and(|id| collected_anchors.contains(&id));
        if value_is_template && !scalar.is_empty() && !repeat {
            if out.templates.len() >= MAX_TEMPLATES {
                out.error = Some((line, format!("more than {MAX_TEMPLATES} chat templates")));
                return out;
            }
            template_bytes = template_bytes.saturating_add(scalar.len());
            if template_bytes > MAX_TEMPLATE_BYTES {
                out.error = Some((
                    line,
                    format!("more than {MAX_TEMPLATE_BYTES} bytes of chat templates"),
                ));
                return out;
            }
            collected_anchors.extend(from_anchor);
            // The parser's span of a block scalar starts at its text, past
            // the `|`/`>` indicator line.
            out.templates.push(YamlTemplate {
                source: scalar.to_string(),
                line: line.max(1),
            });
        }
        if let Some(Frame::Map { key, .. }) = stack.last_mut() {
            *key = None;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(text: &str) -> Vec<(String, u32)> {
        read(text)
            .templates
            .into_iter()
            .map(|t| (t.source, t.line))
            .collect()
    }

    #[test]
    fn template_keys_in_every_shape() {
        let text = "model: x\nchat_template: \"{{ a }}\"\ntokenizer:\n  default_chat_template: |\n    {{ b }}\n\"tokenizer.chat_template\": '{{ c }}'\nnamed:\n  chat_template:\n    - name: tool_use\n      template: \"{{ d }}\"\nother: \"{{ e }}\"\n";
        let found = sources(text);
        assert!(found.contains(&("{{ a }}".into(), 2)), "{found:?}");
        assert!(found.contains(&("{{ b }}\n".into(), 5)), "{found:?}");
        assert!(!found.iter().any(|(s, _)| s == "tool_use"), "{found:?}");
        assert!(found.contains(&("{{ c }}".into(), 6)), "{found:?}");
        assert!(found.contains(&("{{ d }}".into(), 10)), "{found:?}");
        assert!(!found.iter().any(|(s, _)| s.contains('e')), "{found:?}");
    }

    #[test]
    fn aliases_stand_for_their_scalar() {
        let text = "base: &t \"{{ x.__class__ }}\"\nchat_template: *t\n";
        let found = sources(text);
        assert_eq!(found, vec![("{{ x.__class__ }}".to_owned(), 2)]);
    }

    /// One large anchored template aliased many times is collected once:
    /// aliases share the anchor's text instead of copying it.
    #[test]
    fn an_aliased_template_is_collected_once() {
        let big = "{{ a }}".repeat(10_000);
        let text = format!(
            "base: &t \"{big}\"\nchat_template:\n{}",
            "  - *t\n".repeat(500)
        );
        let found = read(&text);
        assert_eq!(found.templates.len(), 1, "{:?}", found.error);
        assert_eq!(found.templates[0].source, big);
    }

    #[test]
    fn keys_that_only_mention_templates_are_not_values() {
        assert!(sources("notes: chat_template is set elsewhere\n").is_empty());
        assert!(sources("chat_template:\n").is_empty());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(src in "\\PC{0,300}") {
            let _ = read(&src);
        }
    }
}
