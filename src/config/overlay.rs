//! Static keys set from outside the file — environment variables and command-line flags —
//! laid over the file's value tree before the one deserialization, so every check still runs.

pub mod env;
pub mod flags;
pub mod schema;

use super::error::{ConfigError, ConfigErrors};
use super::static_config::StaticConfig;
use schema::{Leaf, Miss, Resolved};
use toml::Value;

/// One static key set from outside the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// As the user wrote it: `PYLON_LOG_LEVEL` or `--log.level`; errors name it.
    pub source: String,
    /// The key path, one segment per key, in any case.
    pub segments: Vec<String>,
    pub value: String,
}

/// Where a setting landed in the tree (keys in the tree's spelling), for naming it in errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Landed {
    pub path: String,
    pub source: String,
}

/// The top-level keys of the static configuration.
pub fn top_level_keys() -> Vec<&'static str> {
    match schema::resolve::<StaticConfig>(&[String::new()]) {
        Err(Miss::Unknown { expected, .. }) => expected,
        _ => Vec::new(),
    }
}

/// Sets each setting in `tree` in turn (a later one wins); every bad setting is reported.
pub fn apply(tree: &mut Value, settings: &[Setting]) -> Result<Vec<Landed>, ConfigErrors> {
    let mut landed = Vec::new();
    let mut errors = Vec::new();
    for s in settings {
        let result = schema::resolve::<StaticConfig>(&s.segments)
            .map_err(|m| describe_miss(&m))
            .and_then(|r| set(tree, &r, &s.value));
        match result {
            Ok(path) => landed.push(Landed {
                path,
                source: s.source.clone(),
            }),
            Err(message) => errors.push(ConfigError::new(&s.source, "", message)),
        }
    }
    if errors.is_empty() {
        Ok(landed)
    } else {
        Err(ConfigErrors(errors))
    }
}

/// Gives an error of `origin` (the static configuration) about a key some setting set the
/// setting's name as its origin.
pub fn attribute(errors: ConfigErrors, origin: &str, landed: &[Landed]) -> ConfigErrors {
    let owner = |key: &str| {
        let key = key.to_ascii_lowercase();
        landed.iter().rev().find(|l| {
            let p = l.path.to_ascii_lowercase();
            key == p
                || key
                    .strip_prefix(&p)
                    .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
        })
    };
    ConfigErrors(
        errors
            .0
            .into_iter()
            .map(|mut e| {
                if let Some(l) = owner(&e.key_path).filter(|_| e.origin == origin) {
                    e.origin = l.source.clone();
                }
                e
            })
            .collect(),
    )
}

fn describe_miss(miss: &Miss) -> String {
    match miss {
        Miss::Unknown { at, key, expected } => {
            // A Traefik key pylon refuses: its reason, as for the same key in a file.
            let full = at
                .iter()
                .chain([key])
                .cloned()
                .collect::<Vec<_>>()
                .join(".");
            if let Some(why) = super::unsupported::why(&full) {
                return super::unsupported::message(&full, why);
            }
            let under = if at.is_empty() {
                String::new()
            } else {
                format!(" under {}", at.join("."))
            };
            match super::load::closest(key, expected) {
                Some(near) => format!("unknown key `{key}`{under}; did you mean `{near}`?"),
                None => format!(
                    "unknown key `{key}`{under}: expected {}",
                    super::error::one_of(expected)
                ),
            }
        }
        Miss::NotASection { at, key } => {
            format!("`{}` takes a value: it has no key `{key}`", at.join("."))
        }
        Miss::Other(m) => format!("cannot set this key: {m}"),
    }
}

/// The TOML value the model reads at a leaf of kind `leaf`, from the text `value`.
fn typed(leaf: Leaf, value: &str) -> Result<Value, String> {
    let v = value.trim();
    let boolean = || match v.to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    };
    Ok(match leaf {
        Leaf::Bool => Value::Boolean(
            boolean().ok_or_else(|| format!("expected true or false, found `{value}`"))?,
        ),
        Leaf::Integer => Value::Integer(
            v.parse()
                .map_err(|_| format!("expected an integer, found `{value}`"))?,
        ),
        Leaf::Float => Value::Float(
            v.parse()
                .map_err(|_| format!("expected a number, found `{value}`"))?,
        ),
        Leaf::Text => Value::String(value.to_string()),
        Leaf::List => Value::Array(
            value
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| Value::String(p.to_string()))
                .collect(),
        ),
        Leaf::Any => match (boolean(), v.parse::<i64>()) {
            (Some(b), _) => Value::Boolean(b),
            (None, Ok(i)) => Value::Integer(i),
            (None, Err(_)) => Value::String(value.to_string()),
        },
        Leaf::Section => Value::Table(toml::Table::new()),
    })
}

/// Sets `value` at `at` in `tree`; returns the path in the tree's spelling.
fn set(tree: &mut Value, at: &Resolved, value: &str) -> Result<String, String> {
    let (last, parents) = at
        .path
        .split_last()
        .ok_or_else(|| "no key given".to_string())?;
    let mut table = as_table(tree, "")?;
    let mut path: Vec<String> = Vec::new();
    for key in parents {
        let key = existing(table, key);
        path.push(key.clone());
        let next = table
            .entry(key)
            .or_insert_with(|| Value::Table(toml::Table::new()));
        table = as_table(next, &path.join("."))?;
    }
    let key = existing(table, last);
    path.push(key.clone());
    let path = path.join(".");
    if at.leaf == Leaf::Section {
        // `--api`, `TRAEFIK_PROVIDERS_DOCKER=true`: turn a section on with its defaults.
        match value.trim().to_ascii_lowercase().as_str() {
            "true" | "" => {
                table
                    .entry(key)
                    .or_insert_with(|| Value::Table(toml::Table::new()));
            }
            "false" => {
                table.remove(&key);
            }
            _ => {
                return Err(format!(
                    "`{path}` is a section: set its keys, or `true` to turn it on, `false` to remove it (found `{value}`)"
                ))
            }
        }
    } else {
        table.insert(key, typed(at.leaf, value)?);
    }
    Ok(path)
}

/// The key of `table` that `key` names in any case (so the file's spelling is kept), or `key`.
fn existing(table: &toml::Table, key: &str) -> String {
    if table.contains_key(key) {
        return key.to_string();
    }
    table
        .keys()
        .find(|k| k.eq_ignore_ascii_case(key))
        .cloned()
        .unwrap_or_else(|| key.to_string())
}

fn as_table<'a>(value: &'a mut Value, path: &str) -> Result<&'a mut toml::Table, String> {
    match value {
        Value::Table(t) => Ok(t),
        _ => Err(format!(
            "`{path}` is not a section in the configuration file, so no key can be set under it"
        )),
    }
}

#[cfg(test)]
mod tests;
