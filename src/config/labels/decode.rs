//! The labels' tree → `DynamicConfig` through the one model's deserializer, every error reported.
//!
//! Each router, middleware, service and store is deserialized on its own, so one bad label
//! does not hide the next. A bare `true` where the model wants a table is paerser's
//! `label:"allowEmpty"` form (e.g. `healthcheck=true`): it becomes an empty table (`false`
//! removes the section) and the part is tried again.

use super::tree::{segments_of, LabelTree};
use super::LabelError;
use crate::config::dynamic::DynamicConfig;
use crate::config::error::ConfigError;
use crate::config::load::from_tree;
use toml::{Table, Value};

/// Deserializes `tree`; errors name the label each is about.
pub fn decode(container: &str, tree: &LabelTree) -> Result<DynamicConfig, Vec<LabelError>> {
    let mut config = DynamicConfig::default();
    let mut errors = Vec::new();
    for part in parts(Value::Table(tree.root.clone()), 3) {
        match decode_part(part, container) {
            Ok(one) => absorb(&mut config, one),
            Err(e) => {
                let label = tree.label_at(&e.key_path);
                let mut error = LabelError::new(container, label.as_deref(), e.message);
                error.hint = e.hint;
                if !errors.contains(&error) {
                    errors.push(error);
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(config)
    } else {
        Err(errors)
    }
}

/// The number of bare `true`/`false` values one part may hold where tables are wanted.
const MAX_FIXES: usize = 32;

fn decode_part(mut part: Value, container: &str) -> Result<DynamicConfig, ConfigError> {
    let mut fixes = 0;
    loop {
        let error = match from_tree::<DynamicConfig>(part.clone(), container) {
            Ok(config) => return Ok(config),
            Err(errors) => errors.0.into_iter().next(),
        };
        let error = error
            .unwrap_or_else(|| ConfigError::new(container, "", "the labels do not fit the model"));
        if fixes >= MAX_FIXES || !allow_empty(&mut part, &segments_of(&error.key_path)) {
            return Err(error);
        }
        fixes += 1;
    }
}

/// Turns the bare `true` at `path` into an empty table, or removes a bare `false`; whether the
/// tree changed.
fn allow_empty(value: &mut Value, path: &[String]) -> bool {
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    let Some(Value::Table(parent)) = walk(value, parents) else {
        return false;
    };
    let Some(key) = parent
        .keys()
        .find(|k| k.eq_ignore_ascii_case(last))
        .cloned()
    else {
        return false;
    };
    let flag = match parent.get(&key) {
        Some(Value::String(s)) => s.trim().to_ascii_lowercase(),
        _ => return false,
    };
    match flag.as_str() {
        "true" => {
            parent.insert(key, Value::Table(Table::new()));
            true
        }
        "false" => {
            parent.remove(&key);
            true
        }
        _ => false,
    }
}

fn walk<'v>(value: &'v mut Value, path: &[String]) -> Option<&'v mut Value> {
    let Some((first, rest)) = path.split_first() else {
        return Some(value);
    };
    let next = match value {
        Value::Table(t) => {
            let key = t.keys().find(|k| k.eq_ignore_ascii_case(first)).cloned()?;
            t.get_mut(&key)?
        }
        Value::Array(items) => {
            let index = first
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<usize>()
                .ok()?;
            items.get_mut(index)?
        }
        _ => return None,
    };
    walk(next, rest)
}

/// Copies of `value` that each keep one path `depth` tables deep (or less where a value that
/// is not a table ends it).
fn parts(value: Value, depth: usize) -> Vec<Value> {
    match value {
        Value::Table(t) if depth > 0 && !t.is_empty() => t
            .into_iter()
            .flat_map(|(k, v)| {
                parts(v, depth - 1).into_iter().map(move |p| {
                    let mut one = Table::new();
                    one.insert(k.clone(), p);
                    Value::Table(one)
                })
            })
            .collect(),
        other => vec![other],
    }
}

/// Adds the names `part` defines (the tree holds each name once, so none collide).
fn absorb(into: &mut DynamicConfig, part: DynamicConfig) {
    let (http, tls, tcp) = (part.http, part.tls, part.tcp);
    into.tcp.routers.extend(tcp.routers);
    into.tcp.services.extend(tcp.services);
    into.tcp.middlewares.extend(tcp.middlewares);
    into.http.routers.extend(http.routers);
    into.http.middlewares.extend(http.middlewares);
    into.http.services.extend(http.services);
    into.http.servers_transports.extend(http.servers_transports);
    into.tls.options.extend(tls.options);
    into.tls.stores.extend(tls.stores);
    into.tls.certificates.extend(tls.certificates);
}
