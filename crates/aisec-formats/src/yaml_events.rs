//! A bounded stream of YAML events, shared by the readers that look for
//! keys in YAML without building a tree (`hydra`, `yaml_templates`): events
//! come from saphyr-parser, so aliases are never expanded (a billion-laughs
//! file costs what its bytes cost), each with the 1-based line it starts on;
//! a parse error or the event bound ends the stream with the line and the
//! reason, which the readers keep as their `error`.

use saphyr_parser::{Event, Parser, StrInput};

/// Events read per file before giving up; NeMo configs have a few thousand.
pub const MAX_EVENTS: usize = 2_000_000;
/// Collections open at once before giving up; configs nest a dozen levels.
pub const MAX_DEPTH: usize = 256;

/// Why and where a stream ended early.
pub type Stopped = (u32, String);

pub struct BoundedEvents<'a> {
    parser: Parser<'a, StrInput<'a>>,
    events: usize,
    done: bool,
}

impl<'a> BoundedEvents<'a> {
    pub fn new(text: &'a str) -> Self {
        BoundedEvents {
            parser: Parser::new_from_str(text),
            events: 0,
            done: false,
        }
    }
}

impl<'a> Iterator for BoundedEvents<'a> {
    type Item = Result<(Event<'a>, u32), Stopped>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let next = self.parser.next_event()?;
        let (event, span) = match next {
            Ok(e) => e,
            Err(e) => {
                self.done = true;
                let line = u32::try_from(e.marker().line()).unwrap_or(u32::MAX);
                return Some(Err((line, e.info().to_owned())));
            }
        };
        let line = u32::try_from(span.start.line()).unwrap_or(u32::MAX);
        self.events += 1;
        if self.events > MAX_EVENTS {
            self.done = true;
            return Some(Err((line, format!("more than {MAX_EVENTS} YAML events"))));
        }
        Some(Ok((event, line)))
    }
}

/// The stop for a collection opened past [`MAX_DEPTH`].
pub fn too_deep(line: u32) -> Stopped {
    (line, format!("nested deeper than {MAX_DEPTH} levels"))
}
