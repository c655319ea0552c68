//! Field path → position index for one YAML document, built from marked parser events.

use std::collections::HashMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// Positions (1-based line and column) of every node in a document, by field path.
#[derive(Debug, Default, Clone)]
pub struct Spans {
    positions: HashMap<String, (usize, usize)>,
}

impl Spans {
    /// Indexes a document. A document that does not parse yields an empty index.
    pub fn build(text: &str) -> Spans {
        let mut builder = Builder::default();
        let mut parser = Parser::new_from_str(text);
        // A scan error leaves a partial index, which is still useful for what came before it.
        let _ = parser.load(&mut builder, false);
        Spans {
            positions: builder.positions,
        }
    }

    /// Where a document's root node starts, when that is plain from its first line: a
    /// block mapping (or plain scalar) whose first key begins with a letter or digit. Gives
    /// what [`Spans::build`] would give for `""`, without parsing the document; `None` for
    /// anything else (flow style, tags, anchors, quoted or complex keys, sequences).
    pub fn root_position(text: &str) -> Option<(usize, usize)> {
        let (line, content) = (1usize..).zip(text.lines()).find(|(_, l)| {
            let t = l.trim_start_matches(' ');
            !t.is_empty() && !t.starts_with('#')
        })?;
        let indent = content.len() - content.trim_start_matches(' ').len();
        let first = content.as_bytes().get(indent)?;
        first.is_ascii_alphanumeric().then_some((line, indent + 1))
    }

    /// The position of `path`, or of its closest indexed ancestor.
    pub fn locate(&self, path: &str) -> Option<(usize, usize)> {
        let mut candidate = path;
        loop {
            if let Some(pos) = self.positions.get(candidate) {
                return Some(*pos);
            }
            let cut = candidate.rfind(['.', '['])?;
            candidate = &candidate[..cut];
        }
    }
}

enum Frame {
    Map {
        path: String,
        pending_key: Option<String>,
        /// Where the mapping began, until its first key gives a better position.
        unplaced: Option<Marker>,
    },
    Seq {
        path: String,
        next_index: usize,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    positions: HashMap<String, (usize, usize)>,
}

impl Builder {
    /// The path of the node about to start, or `None` when the event is a mapping key.
    fn next_path(&mut self) -> Option<String> {
        match self.stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Seq { path, next_index }) => {
                let p = format!("{path}[{next_index}]");
                *next_index += 1;
                Some(p)
            }
            Some(Frame::Map {
                path, pending_key, ..
            }) => {
                let key = pending_key.take()?;
                Some(if path.is_empty() {
                    key
                } else {
                    format!("{path}.{key}")
                })
            }
        }
    }

    fn record(&mut self, path: &str, mark: Marker) {
        self.positions
            .entry(path.to_string())
            .or_insert((mark.line().max(1), mark.col() + 1));
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(value, ..) => {
                if let Some(Frame::Map {
                    path,
                    pending_key,
                    unplaced,
                }) = self.stack.last_mut()
                {
                    if pending_key.is_none() {
                        *pending_key = Some(value.clone());
                        // Block mappings start where their first key is.
                        if unplaced.take().is_some() {
                            let map_path = path.clone();
                            self.record(&map_path, mark);
                        }
                        // Record the key's own position: errors point at the key line.
                        let path = match self.stack.last() {
                            Some(Frame::Map { path, .. }) if !path.is_empty() => {
                                format!("{path}.{value}")
                            }
                            _ => value,
                        };
                        self.record(&path, mark);
                        return;
                    }
                }
                if let Some(path) = self.next_path() {
                    self.record(&path, mark);
                }
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let path = self.next_path().unwrap_or_default();
                if matches!(ev, Event::MappingStart(..)) {
                    self.stack.push(Frame::Map {
                        path,
                        pending_key: None,
                        unplaced: Some(mark),
                    });
                } else {
                    self.record(&path, mark);
                    self.stack.push(Frame::Seq {
                        path,
                        next_index: 0,
                    });
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map {
                    path,
                    unplaced: Some(start),
                    ..
                }) = self.stack.pop()
                {
                    self.record(&path, start);
                }
            }
            Event::SequenceEnd => {
                self.stack.pop();
            }
            Event::Alias(_) => {
                let _ = self.next_path();
            }
            _ => {}
        }
    }
}
