//! YAML configuration files read into the value tree TOML files give (one model, one
//! deserializer, the same checks), with the line and column of every key.
//!
//! Parsed with `saphyr-parser` (YAML 1.2, events with their position). Plain scalars follow
//! the core schema (`true`, `10`, `0.5`; `:80` and `10s` are strings); anchors, aliases and
//! merge keys (`<<`) work; a key with no value (`ping:`) is an empty section, as `ping: {}`.
//! Refused with their line: duplicate keys, tabs in the indentation, keys that are not
//! strings (`80:`, a list), more than one document, tags other than the core ones.

mod scalar;

use super::error::{ConfigError, ConfigErrors};
use super::format::Parsed;
use super::locations::Locations;
use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError, Tag};
use std::collections::HashMap;
use toml::Value;

/// Nodes one file may expand to, aliases included (a billion-laughs file stops here).
const MAX_NODES: usize = 1_000_000;
/// Nesting depth of mappings and lists.
const MAX_DEPTH: usize = 64;

/// Parses `text` (the file `origin`) into a value tree; every error names its line and column.
pub fn parse(text: &str, origin: &str) -> Result<Parsed, ConfigErrors> {
    if let Some(e) = tab_indentation(text, origin) {
        return Err(e.into());
    }
    let mut builder = Builder {
        origin,
        stack: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
        locations: Locations::default(),
        root: None,
        documents: 0,
    };
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| scan_error(&e, origin))?;
        builder.event(event, span.start)?;
    }
    Ok(Parsed {
        tree: builder
            .root
            .unwrap_or_else(|| Value::Table(toml::Table::new())),
        locations: builder.locations,
    })
}

/// `origin:line:col`, the way errors point into a file (`col` from 1).
fn at(origin: &str, mark: Marker) -> String {
    format!("{origin}:{}:{}", mark.line(), mark.col() + 1)
}

fn scan_error(e: &ScanError, origin: &str) -> ConfigErrors {
    ConfigError::new(
        &at(origin, *e.marker()),
        "",
        format!("invalid YAML: {}", e.info()),
    )
    .into()
}

/// The first line indented with a tab: YAML forbids them, and they often look like spaces.
fn tab_indentation(text: &str, origin: &str) -> Option<ConfigError> {
    text.lines().enumerate().find_map(|(i, line)| {
        let indent = &line[..line.len() - line.trim_start().len()];
        let col = indent.find('\t')?;
        (!line.trim().is_empty()).then(|| {
            ConfigError::new(
                &format!("{origin}:{}:{}", i + 1, col + 1),
                "",
                "invalid YAML: a tab in the indentation",
            )
            .with_hint("YAML indents with spaces only: replace the tab with spaces")
        })
    })
}

enum Key {
    Name(String),
    /// `<<`: the value's mapping (or mappings) fill the keys this one does not set.
    Merge,
}

enum Frame {
    Map {
        path: String,
        anchor: usize,
        entries: toml::Table,
        merges: Vec<Value>,
        key: Option<Key>,
    },
    Seq {
        path: String,
        anchor: usize,
        items: Vec<Value>,
    },
}

struct Builder<'a> {
    origin: &'a str,
    stack: Vec<Frame>,
    /// Anchored values by the parser's anchor id, with their size in nodes.
    anchors: HashMap<usize, (Value, usize)>,
    nodes: usize,
    locations: Locations,
    root: Option<Value>,
    documents: usize,
}

impl Builder<'_> {
    fn error(&self, mark: Marker, message: impl Into<String>) -> ConfigError {
        ConfigError::new(&at(self.origin, mark), self.path(), message)
    }

    /// The key path of the node being read.
    fn path(&self) -> String {
        match self.stack.last() {
            None => String::new(),
            Some(Frame::Map { path, key, .. }) => match key {
                Some(Key::Name(k)) if path.is_empty() => k.clone(),
                Some(Key::Name(k)) => format!("{path}.{k}"),
                _ => path.clone(),
            },
            Some(Frame::Seq { path, items, .. }) => format!("{path}[{}]", items.len()),
        }
    }

    fn expects_key(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Map { key: None, .. }))
    }

    fn event(&mut self, event: Event<'_>, mark: Marker) -> Result<(), ConfigError> {
        match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => Ok(()),
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(self
                        .error(mark, "a second YAML document (`---`): pylon reads one per file")
                        .with_hint(
                            "put each document in its own file (the file provider's `directory` reads them all)",
                        ));
                }
                Ok(())
            }
            Event::Scalar(text, style, anchor, tag) if self.expects_key() => {
                self.key(&text, style, anchor, tag.as_deref(), mark)
            }
            Event::Scalar(text, style, anchor, tag) => {
                let value = self.scalar(&text, style, tag.as_deref(), mark)?;
                self.count(1, mark)?;
                self.anchor(anchor, &value, 1);
                self.deliver(value, mark)
            }
            Event::Alias(id) => {
                if self.expects_key() {
                    return Err(self.error(mark, "an alias as a key: keys must be plain strings"));
                }
                let Some((value, size)) = self.anchors.get(&id).cloned() else {
                    return Err(self.error(mark, "an alias to an anchor that is not complete here"));
                };
                self.count(size, mark)?;
                self.deliver(value, mark)
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _)
                if self.expects_key() =>
            {
                let _ = anchor;
                Err(self
                    .error(mark, "a mapping or a list as a key: keys must be strings")
                    .with_hint("write the key as a plain string"))
            }
            Event::SequenceStart(anchor, _) => self.push(
                Frame::Seq {
                    path: self.path(),
                    anchor,
                    items: Vec::new(),
                },
                mark,
            ),
            Event::MappingStart(anchor, _) => self.push(
                Frame::Map {
                    path: self.path(),
                    anchor,
                    entries: toml::Table::new(),
                    merges: Vec::new(),
                    key: None,
                },
                mark,
            ),
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Ok(());
                };
                let (value, anchor) = match frame {
                    Frame::Seq { anchor, items, .. } => (Value::Array(items), anchor),
                    Frame::Map {
                        anchor,
                        mut entries,
                        merges,
                        ..
                    } => {
                        for source in merges {
                            merge(&mut entries, source);
                        }
                        (Value::Table(entries), anchor)
                    }
                };
                if anchor > 0 {
                    let size = size(&value);
                    self.anchor(anchor, &value, size);
                }
                self.deliver(value, mark)
            }
        }
    }

    fn push(&mut self, frame: Frame, mark: Marker) -> Result<(), ConfigError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.error(mark, format!("nested more than {MAX_DEPTH} levels deep")));
        }
        self.count(1, mark)?;
        self.stack.push(frame);
        Ok(())
    }

    fn count(&mut self, nodes: usize, mark: Marker) -> Result<(), ConfigError> {
        self.nodes = self.nodes.saturating_add(nodes);
        if self.nodes > MAX_NODES {
            return Err(self
                .error(
                    mark,
                    format!("the file expands to more than {MAX_NODES} values"),
                )
                .with_hint("aliases repeat what they name: use fewer of them, or split the file"));
        }
        Ok(())
    }

    fn anchor(&mut self, anchor: usize, value: &Value, size: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, (value.clone(), size));
        }
    }

    /// A map key: a plain string, or `<<`.
    fn key(
        &mut self,
        text: &str,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        mark: Marker,
    ) -> Result<(), ConfigError> {
        let plain = style == ScalarStyle::Plain && tag.is_none();
        let key = if plain && text == "<<" {
            Key::Merge
        } else if plain && !scalar::is_string(text) {
            let what = if text.is_empty() || scalar::resolve_plain(text).is_none() {
                "an empty (null) key".to_string()
            } else {
                format!("`{text}` is not a string key (YAML reads it as a number or a boolean)")
            };
            return Err(self
                .error(mark, what)
                .with_hint(format!("quote the key: `\"{text}\":`")));
        } else {
            Key::Name(text.to_string())
        };
        if let Some(Frame::Map {
            path,
            entries,
            key: slot,
            ..
        }) = self.stack.last_mut()
        {
            if let Key::Name(name) = &key {
                let full = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{path}.{name}")
                };
                if entries.contains_key(name) {
                    let first = self
                        .locations
                        .find(&full)
                        .map_or(String::new(), |(l, _)| format!(" (first at line {l})"));
                    return Err(ConfigError::new(
                        &at(self.origin, mark),
                        full,
                        format!("duplicate key `{name}`{first}"),
                    )
                    .with_hint("a key may appear once per mapping: remove or merge one"));
                }
                self.locations.insert(&full, mark.line(), mark.col() + 1);
            }
            *slot = Some(key);
        }
        let _ = anchor;
        Ok(())
    }

    /// A scalar value: plain ones resolved by the core schema, quoted and block ones strings.
    fn scalar(
        &self,
        text: &str,
        style: ScalarStyle,
        tag: Option<&Tag>,
        mark: Marker,
    ) -> Result<Value, ConfigError> {
        let resolved = match tag {
            Some(t) if t.is_yaml_core_schema() && t.suffix == "str" => {
                Some(Value::String(text.to_string()))
            }
            Some(t) if t.is_yaml_core_schema() => scalar::resolve_plain(text),
            Some(t) => {
                return Err(self
                    .error(mark, format!("the YAML tag `{t}` is not supported"))
                    .with_hint("remove the tag"))
            }
            None if style == ScalarStyle::Plain => scalar::resolve_plain(text),
            None => Some(Value::String(text.to_string())),
        };
        // A key with no value stands for an empty section, as `{}` does.
        Ok(resolved.unwrap_or_else(|| Value::Table(toml::Table::new())))
    }

    /// Places a finished value in its mapping or list (or as the document).
    fn deliver(&mut self, value: Value, mark: Marker) -> Result<(), ConfigError> {
        let path = self.path();
        match self.stack.last_mut() {
            None => {
                self.root = Some(value);
                Ok(())
            }
            Some(Frame::Seq { items, .. }) => {
                items.push(value);
                Ok(())
            }
            Some(Frame::Map {
                entries,
                merges,
                key,
                ..
            }) => match key.take() {
                Some(Key::Name(name)) => {
                    entries.insert(name, value);
                    Ok(())
                }
                Some(Key::Merge) => {
                    let sources = match value {
                        Value::Table(_) => vec![value],
                        Value::Array(items) if items.iter().all(Value::is_table) => items,
                        _ => {
                            return Err(ConfigError::new(
                                &at(self.origin, mark),
                                path,
                                "a merge key (`<<`) takes a mapping or a list of mappings",
                            ))
                        }
                    };
                    merges.extend(sources);
                    Ok(())
                }
                None => Ok(()),
            },
        }
    }
}

/// Adds the keys of `source` (a mapping) that `entries` does not have.
fn merge(entries: &mut toml::Table, source: Value) {
    if let Value::Table(t) = source {
        for (k, v) in t {
            entries.entry(k).or_insert(v);
        }
    }
}

/// Nodes in `value`.
fn size(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(size).sum::<usize>(),
        Value::Table(t) => 1 + t.values().map(size).sum::<usize>(),
        _ => 1,
    }
}

#[cfg(test)]
mod tests;
