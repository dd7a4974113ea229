//! Static keys from `PYLON_<PATH>` and `TRAEFIK_<PATH>` environment variables (Traefik's naming).
//!
//! The path's segments are joined by `_` and matched in any case; map names (entry point names)
//! are taken lower-cased, as Traefik does. `PYLON_` wins over `TRAEFIK_` for the same key.
//! `<NAME>_FILE=/path` reads the value of `<NAME>` from a file (Docker secrets), trailing
//! newline trimmed, when `<NAME>_FILE` is not itself a key.
//!
//! Every `PYLON_*`/`TRAEFIK_*` variable is configuration, except the reserved names in
//! [`RESERVED`] that pylon or its tooling read for other purposes.

use super::schema::{self, Leaf};
use super::Setting;
use crate::config::error::{ConfigError, ConfigErrors};
use crate::config::static_config::StaticConfig;
use std::ffi::OsString;

/// The prefixes, in the order they are applied (a later one wins).
pub const PREFIXES: [&str; 2] = ["TRAEFIK_", "PYLON_"];

/// Variables with a configuration prefix that are not static keys.
pub const RESERVED: [&str; 9] = [
    // The static file's path (`-c/--config`).
    "PYLON_CONFIG",
    // The binary upgrade's socket and pid file (`--upgrade-sock`, `--pid-file`).
    "PYLON_UPGRADE_SOCK",
    "PYLON_PID_FILE",
    // The number of worker threads (benchmarks).
    "PYLON_THREADS",
    // The test harness's log level and static binary.
    "PYLON_TEST_LOG",
    "PYLON_STATIC_BIN",
    // The benchmark scripts' settings, inherited by the pylon they start.
    "PYLON_BIN",
    "PYLON_CPU",
    "PYLON_PORT",
];

/// The settings of the process's environment.
pub fn from_process() -> Result<Vec<Setting>, ConfigErrors> {
    from_vars(std::env::vars_os())
}

/// The settings among `vars`, `TRAEFIK_` ones first, each group sorted by name.
pub fn from_vars(
    vars: impl IntoIterator<Item = (OsString, OsString)>,
) -> Result<Vec<Setting>, ConfigErrors> {
    let mut found: Vec<(usize, String, OsString)> = Vec::new();
    for (name, value) in vars {
        let Some(name) = name.to_str() else { continue };
        let Some(rank) = PREFIXES.iter().position(|p| name.starts_with(p)) else {
            continue;
        };
        if RESERVED.contains(&name) {
            continue;
        }
        found.push((rank, name.to_string(), value));
    }
    found.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let mut settings = Vec::new();
    let mut errors = Vec::new();
    for (rank, name, value) in found {
        match setting(&name, PREFIXES[rank], value) {
            Ok(s) => settings.push(s),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(settings)
    } else {
        Err(ConfigErrors(errors))
    }
}

fn setting(name: &str, prefix: &str, value: OsString) -> Result<Setting, ConfigError> {
    let fail = |m: String| ConfigError::new(name, "", m);
    let segments: Vec<String> = name[prefix.len()..]
        .split('_')
        .map(str::to_ascii_lowercase)
        .collect();
    if segments.iter().any(String::is_empty) {
        return Err(fail(
            "empty key in the name: segments are joined by one `_`".into(),
        ));
    }
    let value = value
        .into_string()
        .map_err(|_| fail("the value is not valid UTF-8".into()))?;
    if let Some(key) = secret_key(&segments) {
        let text = std::fs::read_to_string(&value)
            .map_err(|e| fail(format!("cannot read the secret file {value}: {e}")))?;
        let text = text
            .strip_suffix('\n')
            .map(|t| t.strip_suffix('\r').unwrap_or(t))
            .unwrap_or(&text);
        return Ok(Setting {
            source: name.to_string(),
            segments: key,
            value: text.to_string(),
        });
    }
    Ok(Setting {
        source: name.to_string(),
        segments,
        value,
    })
}

/// For `…_FILE`, the key whose value the file holds, unless `…_FILE` is itself a key.
fn secret_key(segments: &[String]) -> Option<Vec<String>> {
    let (last, key) = segments.split_last()?;
    if last != "file" || key.is_empty() || schema::resolve::<StaticConfig>(segments).is_ok() {
        return None;
    }
    match schema::resolve::<StaticConfig>(key) {
        Ok(r) if r.leaf != Leaf::Section => Some(key.to_vec()),
        _ => None,
    }
}
