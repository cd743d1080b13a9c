//! A bounded YAML tree with line numbers, built from saphyr-parser's events.
//!
//! Why not a DOM crate: `serde_yaml` is deprecated and loses positions, and
//! the DOMs that keep positions expand aliases into copies, which is how a
//! billion-laughs document costs gigabytes. Here an alias is a pointer to the
//! node its anchor names (no copy), the tree is capped in nodes and depth, and
//! generic walks never follow aliases (merge keys `<<` are followed by
//! [`Yaml::get`], a bounded number of hops deep).

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle};

/// Nodes in one file's tree: a Kubernetes manifest of thousands of objects
/// stays far below; a hostile file stops here with a parse error.
pub const MAX_NODES: usize = 500_000;
/// Nesting depth: real manifests stay under ~20 levels.
pub const MAX_DEPTH: usize = 128;
/// How many `<<` merges or alias hops one lookup follows.
const MAX_HOPS: usize = 8;

pub type NodeId = usize;

#[derive(Debug, Clone)]
pub enum YVal {
    Null,
    Str(String),
    Seq(Vec<NodeId>),
    /// Key, value pairs in document order.
    Map(Vec<(NodeId, NodeId)>),
    Alias(NodeId),
}

#[derive(Debug, Clone)]
pub struct Node {
    pub val: YVal,
    /// 1-based line and column of the node's first character.
    pub line: u32,
    pub col: u32,
    /// A `|` or `>` block scalar.
    pub block: bool,
}

#[derive(Debug, Default)]
pub struct Yaml {
    pub nodes: Vec<Node>,
    /// Root node of each document, in order.
    pub docs: Vec<NodeId>,
}

/// Where and why the parse stopped. The documents completed before the error
/// are still in the tree and still checked.
#[derive(Debug, Clone)]
pub struct YamlError {
    pub line: u32,
    pub col: u32,
    pub message: String,
}

enum Frame {
    Seq(Vec<NodeId>, usize, u32, u32),
    Map(Vec<NodeId>, usize, u32, u32),
}

impl Yaml {
    /// Parses every document of `text`. Never panics; on error returns the
    /// documents completed so far along with the error.
    pub fn parse(text: &str) -> (Yaml, Option<YamlError>) {
        let mut y = Yaml::default();
        let mut anchors: HashMap<usize, NodeId> = HashMap::new();
        let mut stack: Vec<Frame> = Vec::new();
        let mut parser = Parser::new_from_str(text);
        let err = |line: usize, col: usize, message: String| YamlError {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            col: u32::try_from(col + 1).unwrap_or(u32::MAX),
            message,
        };
        while let Some(next) = parser.next_event() {
            let (event, span) = match next {
                Ok(e) => e,
                Err(e) => {
                    let m = e.marker();
                    return (y, Some(err(m.line(), m.col(), e.info().to_owned())));
                }
            };
            let line = u32::try_from(span.start.line()).unwrap_or(u32::MAX);
            let col = u32::try_from(span.start.col() + 1).unwrap_or(u32::MAX);
            if y.nodes.len() >= MAX_NODES {
                return (
                    y,
                    Some(err(
                        span.start.line(),
                        span.start.col(),
                        format!("more than {MAX_NODES} YAML nodes; the rest was not read"),
                    )),
                );
            }
            let done = match event {
                Event::StreamStart | Event::StreamEnd | Event::Nothing => continue,
                Event::DocumentStart(_) => {
                    anchors.clear();
                    continue;
                }
                Event::DocumentEnd => continue,
                Event::Scalar(value, style, anchor, _) => {
                    let null = style == ScalarStyle::Plain
                        && matches!(value.as_ref(), "" | "~" | "null" | "Null" | "NULL");
                    let block = matches!(style, ScalarStyle::Literal | ScalarStyle::Folded);
                    let val = if null {
                        YVal::Null
                    } else {
                        YVal::Str(value.into_owned())
                    };
                    Some((val, anchor, line, col, block))
                }
                Event::Alias(id) => {
                    let val = match anchors.get(&id) {
                        Some(&target) => YVal::Alias(target),
                        None => YVal::Null,
                    };
                    Some((val, 0, line, col, false))
                }
                Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                    if stack.len() >= MAX_DEPTH {
                        return (
                            y,
                            Some(err(
                                span.start.line(),
                                span.start.col(),
                                format!("YAML nested deeper than {MAX_DEPTH} levels"),
                            )),
                        );
                    }
                    stack.push(if matches!(event, Event::SequenceStart(..)) {
                        Frame::Seq(Vec::new(), anchor, line, col)
                    } else {
                        Frame::Map(Vec::new(), anchor, line, col)
                    });
                    None
                }
                Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                    Some(Frame::Seq(items, anchor, l, c)) => {
                        Some((YVal::Seq(items), anchor, l, c, false))
                    }
                    Some(Frame::Map(items, anchor, l, c)) => {
                        let pairs = items.chunks_exact(2).map(|p| (p[0], p[1])).collect();
                        Some((YVal::Map(pairs), anchor, l, c, false))
                    }
                    None => continue,
                },
            };
            let Some((val, anchor, line, col, block)) = done else {
                continue;
            };
            let id = y.nodes.len();
            y.nodes.push(Node {
                val,
                line,
                col,
                block,
            });
            if anchor > 0 {
                anchors.insert(anchor, id);
            }
            match stack.last_mut() {
                Some(Frame::Seq(items, ..)) | Some(Frame::Map(items, ..)) => items.push(id),
                None => y.docs.push(id),
            }
        }
        (y, None)
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[self.resolve(id)]
    }

    /// Follows alias pointers (bounded; a dangling chain ends at itself).
    pub fn resolve(&self, mut id: NodeId) -> NodeId {
        for _ in 0..MAX_HOPS {
            match self.nodes.get(id).map(|n| &n.val) {
                Some(YVal::Alias(t)) if *t != id => id = *t,
                _ => break,
            }
        }
        id
    }

    /// The scalar text of a node, if it is a scalar.
    pub fn str(&self, id: NodeId) -> Option<&str> {
        match &self.node(id).val {
            YVal::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_true(&self, id: Option<NodeId>) -> bool {
        id.and_then(|i| self.str(i))
            .is_some_and(|s| s.eq_ignore_ascii_case("true"))
    }

    pub fn seq(&self, id: NodeId) -> &[NodeId] {
        match &self.node(id).val {
            YVal::Seq(items) => items,
            _ => &[],
        }
    }

    pub fn pairs(&self, id: NodeId) -> &[(NodeId, NodeId)] {
        match &self.node(id).val {
            YVal::Map(p) => p,
            _ => &[],
        }
    }

    pub fn is_map(&self, id: NodeId) -> bool {
        matches!(self.node(id).val, YVal::Map(_))
    }

    /// The value of `key` in a mapping, then in its `<<` merges.
    pub fn get(&self, map: NodeId, key: &str) -> Option<NodeId> {
        self.get_hops(map, key, 0)
    }

    fn get_hops(&self, map: NodeId, key: &str, hops: usize) -> Option<NodeId> {
        let pairs = self.pairs(map);
        if let Some((_, v)) = pairs.iter().find(|(k, _)| self.str(*k) == Some(key)) {
            return Some(*v);
        }
        if hops >= MAX_HOPS {
            return None;
        }
        for (k, v) in pairs {
            if self.str(*k) != Some("<<") {
                continue;
            }
            let sources: Vec<NodeId> = if self.is_map(*v) {
                vec![*v]
            } else {
                self.seq(*v).to_vec()
            };
            for s in sources {
                if let Some(found) = self.get_hops(s, key, hops + 1) {
                    return Some(found);
                }
            }
        }
        None
    }

    /// `get` along a path of keys.
    pub fn path(&self, mut id: NodeId, keys: &[&str]) -> Option<NodeId> {
        for k in keys {
            id = self.get(id, k)?;
        }
        Some(id)
    }

    /// The key node of `key` in a mapping (for reporting at the key's line).
    pub fn key_of(&self, map: NodeId, key: &str) -> Option<NodeId> {
        self.pairs(map)
            .iter()
            .find(|(k, _)| self.str(*k) == Some(key))
            .map(|(k, _)| *k)
    }

    pub fn get_str(&self, map: NodeId, key: &str) -> Option<&str> {
        self.get(map, key).and_then(|v| self.str(v))
    }

    /// Every node reachable from `root` without following aliases, depth
    /// first, each with its parent key when it is a mapping value. Bounded by
    /// the tree itself (no aliases followed, so no node twice).
    pub fn walk(&self, root: NodeId, mut f: impl FnMut(Option<&str>, NodeId)) {
        let mut todo: Vec<(Option<NodeId>, NodeId)> = vec![(None, root)];
        while let Some((key, id)) = todo.pop() {
            let Some(node) = self.nodes.get(id) else {
                continue;
            };
            f(key.and_then(|k| self.str(k)), id);
            match &node.val {
                YVal::Seq(items) => todo.extend(items.iter().rev().map(|i| (None, *i))),
                YVal::Map(pairs) => todo.extend(pairs.iter().rev().map(|(k, v)| (Some(*k), *v))),
                _ => {}
            }
        }
    }

    /// The source line of the `n`th line (0-based) of a scalar's text.
    pub fn text_line(&self, id: NodeId, n: usize) -> u32 {
        let node = self.node(id);
        let offset = u32::try_from(n).unwrap_or(u32::MAX);
        // saphyr's span of a block scalar starts at its first content line,
        // so both styles count from the node's line.
        node.line.saturating_add(offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_documents_and_merges() {
        let src = "a: 1\n---\nbase: &b\n  x: y\nsvc:\n  <<: *b\n  z: |\n    one\n    two\n";
        let (y, e) = Yaml::parse(src);
        assert!(e.is_none());
        assert_eq!(y.docs.len(), 2);
        let d = y.docs[1];
        let svc = y.get(d, "svc").unwrap();
        assert_eq!(y.get_str(svc, "x"), Some("y"));
        let z = y.get(svc, "z").unwrap();
        assert_eq!(y.text_line(z, 0), 8);
        assert_eq!(y.text_line(z, 1), 9);
    }

    #[test]
    fn billion_laughs_is_cheap() {
        let mut s = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        let mut prev = 'a';
        for c in 'b'..='z' {
            s.push_str(&format!("{c}: &{c} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
            prev = c;
        }
        let (y, e) = Yaml::parse(&s);
        assert!(e.is_none());
        assert!(y.nodes.len() < 1000);
        let mut n = 0;
        y.walk(y.docs[0], |_, _| n += 1);
        assert!(n < 1000);
    }

    #[test]
    fn errors_keep_earlier_documents() {
        let (y, e) = Yaml::parse("a: 1\n---\nb: [1, 2\n");
        assert_eq!(y.docs.len(), 1);
        assert!(e.is_some());
        let deep = "[".repeat(10_000);
        let (y, e) = Yaml::parse(&deep);
        assert!(e.is_some());
        assert!(y.docs.is_empty());
    }
}
