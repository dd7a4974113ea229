//! Reading configuration files: the static file, and the file provider's file or directory.

use super::dynamic::DynamicConfig;
use super::error::{ConfigError, ConfigErrors};
use super::static_config::StaticConfig;
use super::tree::TreeDeserializer;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};

/// Deserializes a model from a value tree; errors carry the full key path.
pub fn from_tree<T: DeserializeOwned>(value: toml::Value, origin: &str) -> Result<T, ConfigErrors> {
    serde_path_to_error::deserialize(TreeDeserializer(value)).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        ConfigErrors::from(describe(origin, &path, &message))
    })
}

/// Turns serde's wording into pylon's: the key path first, then what to write instead.
fn describe(origin: &str, path: &str, message: &str) -> ConfigError {
    let path = if path == "." { "" } else { path };
    if let Some(rest) = message.strip_prefix("unknown field `") {
        if let Some((key, expected)) = rest.split_once('`') {
            let full = if path.is_empty() || path.ends_with(key) {
                if path.is_empty() { key.to_string() } else { path.to_string() }
            } else {
                format!("{path}.{key}")
            };
            let expected = expected.trim_start_matches(", ");
            let expected = expected.replace("expected one of ", "").replace("expected ", "");
            return ConfigError::new(origin, full, "unknown key")
                .with_hint(format!("expected one of {expected} (keys are case-insensitive)"));
        }
    }
    if let Some(field) = message.strip_prefix("missing field `") {
        let field = field.trim_end_matches('`');
        let full = if path.is_empty() { field.to_string() } else { format!("{path}.{field}") };
        return ConfigError::new(origin, full, "missing required key");
    }
    ConfigError::new(origin, path, message)
}

fn parse_toml(text: &str, origin: &str) -> Result<toml::Value, ConfigErrors> {
    toml::from_str::<toml::Table>(text)
        .map(toml::Value::Table)
        .map_err(|e| ConfigError::new(origin, "", format!("invalid TOML: {}", e.to_string().trim_end())).into())
}

fn read(path: &Path) -> Result<String, ConfigErrors> {
    std::fs::read_to_string(path).map_err(|e| {
        ConfigError::new(&path.display().to_string(), "", format!("cannot read the file: {e}")).into()
    })
}

pub fn load_static_str(text: &str, origin: &str) -> Result<StaticConfig, ConfigErrors> {
    from_tree(parse_toml(text, origin)?, origin)
}

pub fn load_static(path: &Path) -> Result<StaticConfig, ConfigErrors> {
    load_static_str(&read(path)?, &path.display().to_string())
}

pub fn load_dynamic_str(text: &str, origin: &str) -> Result<DynamicConfig, ConfigErrors> {
    from_tree(parse_toml(text, origin)?, origin)
}

pub fn load_dynamic_file(path: &Path) -> Result<DynamicConfig, ConfigErrors> {
    load_dynamic_str(&read(path)?, &path.display().to_string())
}

/// Every `*.toml` in `dir` (sorted by name), merged; a name defined twice is an error.
pub fn load_dynamic_dir(dir: &Path) -> Result<DynamicConfig, ConfigErrors> {
    let origin = dir.display().to_string();
    let entries = std::fs::read_dir(dir)
        .map_err(|e| ConfigErrors::from(ConfigError::new(&origin, "", format!("cannot read the directory: {e}"))))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut merged = Merged::default();
    let mut errors = Vec::new();
    for file in &files {
        match load_dynamic_file(file) {
            Ok(part) => merged.add(part, &file.display().to_string(), &mut errors),
            Err(e) => errors.extend(e.0),
        }
    }
    if errors.is_empty() {
        Ok(merged.config)
    } else {
        Err(ConfigErrors(errors))
    }
}

/// Accumulates dynamic configs, remembering which file defined each name.
#[derive(Default)]
pub struct Merged {
    pub config: DynamicConfig,
    owners: std::collections::HashMap<String, String>,
}

impl Merged {
    pub fn add(&mut self, part: DynamicConfig, origin: &str, errors: &mut Vec<ConfigError>) {
        let mut claim = |kind: &str, name: &str| -> bool {
            let key = format!("http.{kind}.{name}");
            match self.owners.get(&key) {
                Some(first) => {
                    errors.push(
                        ConfigError::new(origin, key.clone(), format!("also defined in {first}"))
                            .with_hint("give one of them another name"),
                    );
                    false
                }
                None => {
                    self.owners.insert(key, origin.to_string());
                    true
                }
            }
        };
        for (n, v) in part.http.routers {
            if claim("routers", &n) {
                self.config.http.routers.insert(n, v);
            }
        }
        for (n, v) in part.http.middlewares {
            if claim("middlewares", &n) {
                self.config.http.middlewares.insert(n, v);
            }
        }
        for (n, v) in part.http.services {
            if claim("services", &n) {
                self.config.http.services.insert(n, v);
            }
        }
        for (n, v) in part.http.servers_transports {
            if claim("serversTransports", &n) {
                self.config.http.servers_transports.insert(n, v);
            }
        }
        self.config.tls.certificates.extend(part.tls.certificates);
        self.config.tls.options.extend(part.tls.options);
        self.config.tls.stores.extend(part.tls.stores);
    }
}

/// The dynamic config in force at start: the static file's own `http`/`tls` sections merged
/// with the file provider's file or directory (relative paths resolve against the static file).
pub fn load_dynamic_for(static_cfg: &StaticConfig, static_path: &Path) -> Result<DynamicConfig, ConfigErrors> {
    let origin = static_path.display().to_string();
    let mut merged = Merged::default();
    let mut errors = Vec::new();
    let inline = DynamicConfig {
        http: static_cfg.http.clone().unwrap_or_default(),
        tls: static_cfg.tls.clone().unwrap_or_default(),
    };
    merged.add(inline, &origin, &mut errors);
    if let Some(file) = &static_cfg.providers.file {
        let base = static_path.parent().unwrap_or(Path::new("."));
        let part = match (&file.filename, &file.directory) {
            (Some(_), Some(_)) => Err(ConfigErrors::from(
                ConfigError::new(&origin, "providers.file", "both `filename` and `directory` are set")
                    .with_hint("keep one of them"),
            )),
            (None, None) => Err(ConfigErrors::from(
                ConfigError::new(&origin, "providers.file", "neither `filename` nor `directory` is set")
                    .with_hint("add `filename = \"dynamic.toml\"` or `directory = \"dynamic.d\"`"),
            )),
            (Some(f), None) => load_dynamic_file(&base.join(f)),
            (None, Some(d)) => load_dynamic_dir(&base.join(d)),
        };
        match part {
            Ok(p) => merged.add(p, &origin, &mut errors),
            Err(e) => errors.extend(e.0),
        }
    }
    if errors.is_empty() {
        Ok(merged.config)
    } else {
        Err(ConfigErrors(errors))
    }
}
