//! A configuration file's format, chosen by its extension (`.yml`/`.yaml` YAML, else TOML),
//! parsed into the one value tree the model is read from, with its keys' locations.

use super::error::{ConfigError, ConfigErrors};
use super::locations::Locations;
use std::path::Path;

/// The formats a configuration file may be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Toml,
    Yaml,
}

impl Format {
    /// By extension, any case: `.yml` and `.yaml` are YAML, anything else TOML.
    pub fn of(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml") => {
                Format::Yaml
            }
            _ => Format::Toml,
        }
    }

    /// Whether the file provider's `directory` reads a file named so (Traefik's rule:
    /// `.toml`, `.yaml`, `.yml`).
    pub fn is_config_file(path: &Path) -> bool {
        path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
            ["toml", "yaml", "yml"]
                .iter()
                .any(|x| e.eq_ignore_ascii_case(x))
        })
    }
}

/// A parsed file: its value tree and where its keys are (YAML records them).
#[derive(Debug, Clone)]
pub struct Parsed {
    pub tree: toml::Value,
    pub locations: Locations,
}

/// Parses `text` in `format`; errors are named `origin` (the file).
pub fn parse(text: &str, format: Format, origin: &str) -> Result<Parsed, ConfigErrors> {
    match format {
        Format::Toml => Ok(Parsed {
            tree: parse_toml(text, origin)?,
            locations: Locations::default(),
        }),
        Format::Yaml => super::yaml::parse(text, origin),
    }
}

/// Reads and parses the file at `path` in the format its extension names.
pub fn parse_file(path: &Path) -> Result<Parsed, ConfigErrors> {
    parse(&read(path)?, Format::of(path), &path.display().to_string())
}

pub(crate) fn parse_toml(text: &str, origin: &str) -> Result<toml::Value, ConfigErrors> {
    toml::from_str::<toml::Table>(text)
        .map(toml::Value::Table)
        .map_err(|e| {
            ConfigError::new(
                origin,
                "",
                format!("invalid TOML: {}", e.to_string().trim_end()),
            )
            .into()
        })
}

pub(crate) fn read(path: &Path) -> Result<String, ConfigErrors> {
    std::fs::read_to_string(path).map_err(|e| {
        ConfigError::new(
            &path.display().to_string(),
            "",
            format!("cannot read the file: {e}"),
        )
        .into()
    })
}
