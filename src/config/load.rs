//! Reading configuration files: the static file, and the file provider's file or directory.

use super::dynamic::DynamicConfig;
use super::error::one_of;
use super::error::{ConfigError, ConfigErrors};
use super::format::{parse_file, parse_toml, Format};
use super::locations::Locations;
use super::origins::Origins;
use super::static_config::FileSource;
use super::static_config::StaticConfig;
use super::tree::{TreeDeserializer, TreeError};
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Deserializes a model from a value tree (a TOML file, or Docker labels turned into a tree);
/// the error carries the full key path. Stops at the first error.
pub fn from_tree<T: DeserializeOwned>(value: toml::Value, origin: &str) -> Result<T, ConfigErrors> {
    deserialize(value, origin).map_err(ConfigErrors::from)
}

fn deserialize<T: DeserializeOwned>(value: toml::Value, origin: &str) -> Result<T, ConfigError> {
    serde_path_to_error::deserialize(TreeDeserializer(value))
        .map_err(|e| describe(origin, e.path(), e.inner()))
}

/// Like [`from_tree`], but on failure reports the errors of every part of the tree: each
/// subtree `depth` tables deep is tried on its own (with its siblings pruned away), so one
/// typo does not hide the next. `depth` must stop above any table with required keys.
fn from_tree_all<T: DeserializeOwned>(
    value: toml::Value,
    origin: &str,
    depth: usize,
) -> Result<T, ConfigErrors> {
    let first = match deserialize::<T>(value.clone(), origin) {
        Ok(t) => return Ok(t),
        Err(e) => e,
    };
    let mut errors: Vec<ConfigError> = Vec::new();
    for mut part in parts(value, depth) {
        // Each error's key is taken out and the part read again, so every error of a part is
        // found in one run (bounded: a key is removed each round).
        let mut removed_from: Vec<String> = Vec::new();
        for _ in 0..MAX_ERRORS_PER_PART {
            let Err(e) = deserialize::<T>(part.clone(), origin) else {
                break;
            };
            let table = parent(&e.key_path);
            // A required key missing only because its misspelt sibling was taken out is the
            // same mistake: not reported twice.
            let consequence =
                e.message.starts_with("missing required key") && removed_from.contains(&table);
            if !super::prune::remove_key(&mut part, &e.key_path) {
                if !consequence && !errors.contains(&e) {
                    errors.push(e);
                }
                break;
            }
            removed_from.push(table);
            if !consequence && !errors.contains(&e) {
                errors.push(e);
            }
        }
    }
    if errors.is_empty() {
        // Only the whole tree is wrong (e.g. one key written in two spellings).
        errors.push(first);
    }
    Err(ConfigErrors(errors))
}

/// The table holding the key at `path` (`entryPoints.web` for `entryPoints.web.address`).
fn parent(path: &str) -> String {
    path.rsplit_once('.')
        .map_or("", |(table, _)| table)
        .to_string()
}

/// Errors reported for one part of a file before the rest of it is left unread.
const MAX_ERRORS_PER_PART: usize = 64;

/// Like [`from_tree_all`], and on failure also the model read from what is left once every key
/// at fault is taken out (`None` when even that fails), so the rest can still be checked.
fn from_tree_lenient<T: DeserializeOwned>(
    value: toml::Value,
    origin: &str,
    depth: usize,
) -> (Option<T>, Vec<ConfigError>) {
    match from_tree_all::<T>(value.clone(), origin, depth) {
        Ok(t) => (Some(t), Vec::new()),
        Err(errors) => {
            let mut rest = value;
            for e in &errors.0 {
                super::prune::remove_key(&mut rest, &e.key_path);
            }
            (deserialize::<T>(rest, origin).ok(), errors.0)
        }
    }
}

/// Copies of `value` that each keep one path of `depth` table keys (or fewer, where a value
/// that is not a table ends the path).
fn parts(value: toml::Value, depth: usize) -> Vec<toml::Value> {
    match value {
        toml::Value::Table(t) if depth > 0 && !t.is_empty() => t
            .into_iter()
            .flat_map(|(k, v)| {
                parts(v, depth - 1).into_iter().map(move |p| {
                    let mut one = toml::Table::new();
                    one.insert(k.clone(), p);
                    toml::Value::Table(one)
                })
            })
            .collect(),
        other => vec![other],
    }
}

/// Words a deserialization error as pylon does: the full key path, then what to write instead.
fn describe(origin: &str, path: &serde_path_to_error::Path, error: &TreeError) -> ConfigError {
    let path = match path.to_string() {
        p if p == "." => String::new(),
        p => p,
    };
    let join = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match error {
        TreeError::UnknownKey { key, expected } => {
            let last = path.rsplit('.').next().unwrap_or_default();
            let full = if last == key { path.clone() } else { join(key) };
            if let Some(why) = super::unsupported::why(&full) {
                return ConfigError::new(
                    origin,
                    full.clone(),
                    super::unsupported::message(&full, why),
                )
                .with_hint("remove it to run on pylon (README: Traefik compatibility)");
            }
            let e = ConfigError::new(
                origin,
                full.clone(),
                format!("unknown key `{full}`: expected {}", one_of(expected)),
            );
            match closest(key, expected) {
                Some(near) => e.with_hint(format!(
                    "did you mean `{near}`? (keys are case-insensitive)"
                )),
                None => e,
            }
        }
        TreeError::UnknownVariant { variant, expected } => ConfigError::new(
            origin,
            path.clone(),
            format!(
                "unknown value `{variant}` for `{path}`: expected {}",
                one_of(expected)
            ),
        ),
        TreeError::MissingKey(key) => {
            let full = join(key);
            ConfigError::new(
                origin,
                full.clone(),
                format!("missing required key `{full}`"),
            )
        }
        TreeError::Message(m) => ConfigError::new(origin, path, m.clone()),
    }
}

/// The accepted name nearest to a misspelt `key`, if it is near enough to be the intent.
pub(crate) fn closest<'a>(key: &str, names: &[&'a str]) -> Option<&'a str> {
    let key = key.to_ascii_lowercase();
    names
        .iter()
        .map(|n| (distance(&key, &n.to_ascii_lowercase()), *n))
        .filter(|(d, n)| *d <= 2.max(n.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

/// Levenshtein distance.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Tables this deep are deserialized on their own to report every error of a file: static
/// (`entryPoints.web`) and dynamic (`http.routers.api`) sections have no required keys above.
const STATIC_DEPTH: usize = 2;
const DYNAMIC_DEPTH: usize = 3;

pub fn load_static_str(text: &str, origin: &str) -> Result<StaticConfig, ConfigErrors> {
    load_static_tree(parse_toml(text, origin)?, origin)
}

/// The static config from a value tree (a file's, with environment and flags laid over it).
pub fn load_static_tree(tree: toml::Value, origin: &str) -> Result<StaticConfig, ConfigErrors> {
    from_tree_all(tree, origin, STATIC_DEPTH)
}

/// The static file at `path`, in the format its extension names.
pub fn load_static(path: &Path) -> Result<StaticConfig, ConfigErrors> {
    let parsed = parse_file(path)?;
    let origin = path.display().to_string();
    load_static_tree(parsed.tree, &origin).map_err(|e| parsed.locations.annotate(e, &origin))
}

pub fn load_dynamic_str(text: &str, origin: &str) -> Result<DynamicConfig, ConfigErrors> {
    from_tree_all(parse_toml(text, origin)?, origin, DYNAMIC_DEPTH)
}

/// The file provider's file at `path` (TOML or YAML by its extension).
pub fn load_dynamic_file(path: &Path) -> Result<DynamicConfig, ConfigErrors> {
    load_dynamic_located(path).map(|(d, _)| d)
}

/// [`load_dynamic_file`], with where the file wrote its keys.
fn load_dynamic_located(path: &Path) -> Result<(DynamicConfig, Locations), ConfigErrors> {
    match load_dynamic_lenient(path) {
        (Some(part), errors) if errors.is_empty() => Ok(part),
        (_, errors) => Err(ConfigErrors(errors)),
    }
}

/// The file at `path` with its errors (file:line:col), and what of it reads once the keys at
/// fault are left out (`None` when the file cannot be read or parsed at all).
fn load_dynamic_lenient(path: &Path) -> (Option<(DynamicConfig, Locations)>, Vec<ConfigError>) {
    let mut parsed = match parse_file(path) {
        Ok(parsed) => parsed,
        Err(e) => return (None, e.0),
    };
    let origin = path.display().to_string();
    super::static_keys::strip(&mut parsed.tree, &origin);
    let (part, errors) = from_tree_lenient(parsed.tree, &origin, DYNAMIC_DEPTH);
    let errors = match errors.is_empty() {
        true => errors,
        false => parsed.locations.annotate(ConfigErrors(errors), &origin).0,
    };
    (part.map(|d| (d, parsed.locations)), errors)
}

/// Every `*.toml`, `*.yaml` and `*.yml` in `dir` and its subdirectories (by name, as
/// Traefik), merged; a name defined twice is an error.
pub fn load_dynamic_dir(dir: &Path) -> Result<DynamicConfig, ConfigErrors> {
    let mut merged = Merged::default();
    let mut errors = Vec::new();
    merged.add_dir(dir, &mut errors);
    if errors.is_empty() {
        Ok(merged.config)
    } else {
        Err(ConfigErrors(errors))
    }
}

/// The configuration files under `dir`, in name order, subdirectories read where they sort.
/// Hidden directories (Kubernetes' `..data`) and symbolic links to directories are skipped,
/// so a mounted ConfigMap is read once.
pub fn config_files(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), ConfigErrors> {
    let origin = dir.display().to_string();
    let cannot = |e: std::io::Error| {
        ConfigErrors::from(ConfigError::new(
            &origin,
            "",
            format!("cannot read the directory: {e}"),
        ))
    };
    let mut entries = std::fs::read_dir(dir)
        .map_err(cannot)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(cannot)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && !entry.file_name().to_string_lossy().starts_with('.') {
            config_files(&path, files)?;
        } else if !is_dir && Format::is_config_file(&path) {
            files.push(path);
        }
    }
    Ok(())
}

/// Accumulates dynamic configs, remembering which file defined each name.
#[derive(Default)]
pub struct Merged {
    pub config: DynamicConfig,
    /// Which file defined each name, and where each file wrote its keys.
    pub origins: Origins,
}

impl Merged {
    /// Adds the file provider's file at `path`; its errors go to `errors`.
    /// A file's errors are reported and what reads of it is still added, so the rest of the
    /// configuration is checked in the same run (the errors keep it from being used).
    pub fn add_file(&mut self, path: &Path, errors: &mut Vec<ConfigError>) {
        let (part, file_errors) = load_dynamic_lenient(path);
        errors.extend(file_errors);
        if let Some((part, locations)) = part {
            let origin = path.display().to_string();
            self.origins.locate(&origin, locations);
            self.add(part, &origin, errors);
        }
    }

    /// Adds every configuration file under `dir` (see [`config_files`]).
    pub fn add_dir(&mut self, dir: &Path, errors: &mut Vec<ConfigError>) {
        let mut files = Vec::new();
        match config_files(dir, &mut files) {
            Ok(()) => files.iter().for_each(|f| self.add_file(f, errors)),
            Err(e) => errors.extend(e.0),
        }
    }

    /// Adds the names `part` defines; a name some earlier part defined is an error naming both.
    pub fn add(&mut self, part: DynamicConfig, origin: &str, errors: &mut Vec<ConfigError>) {
        let http = part.http;
        let into = &mut self.config;
        let owners = &mut self.origins;
        claim_all(
            owners,
            "http.routers",
            http.routers,
            &mut into.http.routers,
            origin,
            errors,
        );
        claim_all(
            owners,
            "http.middlewares",
            http.middlewares,
            &mut into.http.middlewares,
            origin,
            errors,
        );
        claim_all(
            owners,
            "http.services",
            http.services,
            &mut into.http.services,
            origin,
            errors,
        );
        claim_all(
            owners,
            "http.serversTransports",
            http.servers_transports,
            &mut into.http.servers_transports,
            origin,
            errors,
        );
        let tcp = part.tcp;
        claim_all(
            owners,
            "tcp.routers",
            tcp.routers,
            &mut into.tcp.routers,
            origin,
            errors,
        );
        claim_all(
            owners,
            "tcp.services",
            tcp.services,
            &mut into.tcp.services,
            origin,
            errors,
        );
        claim_all(
            owners,
            "tcp.middlewares",
            tcp.middlewares,
            &mut into.tcp.middlewares,
            origin,
            errors,
        );
        claim_all(
            owners,
            "tcp.serversTransports",
            tcp.servers_transports,
            &mut into.tcp.servers_transports,
            origin,
            errors,
        );
        claim_all(
            owners,
            "tls.options",
            part.tls.options,
            &mut into.tls.options,
            origin,
            errors,
        );
        claim_all(
            owners,
            "tls.stores",
            part.tls.stores,
            &mut into.tls.stores,
            origin,
            errors,
        );
        into.tls.certificates.extend(part.tls.certificates);
    }
}

fn claim_all<V>(
    owners: &mut Origins,
    section: &str,
    part: BTreeMap<String, V>,
    into: &mut BTreeMap<String, V>,
    origin: &str,
    errors: &mut Vec<ConfigError>,
) {
    for (name, value) in part {
        let key = format!("{section}.{name}");
        if let Some(first) = owners.owner(&key) {
            errors.push(
                ConfigError::new(origin, key.clone(), format!("also defined in {first}"))
                    .with_hint(
                        "names are shared by every file of the provider: rename one of them",
                    ),
            );
            continue;
        }
        owners.claim(key, origin);
        into.insert(name, value);
    }
}

/// The dynamic config in force at start: the static file's own `http`/`tls` sections merged
/// with the file provider's file or directory (relative paths resolve against the static file).
pub fn load_dynamic_for(
    static_cfg: &StaticConfig,
    static_path: &Path,
) -> Result<DynamicConfig, ConfigErrors> {
    load_dynamic_from(static_cfg, static_path, &static_path.display().to_string())
}

/// Like [`load_dynamic_for`], the static configuration's errors named `origin` (relative paths
/// still resolve against `static_path`'s directory).
pub fn load_dynamic_from(
    static_cfg: &StaticConfig,
    static_path: &Path,
    origin: &str,
) -> Result<DynamicConfig, ConfigErrors> {
    load_dynamic_with_origins(static_cfg, static_path, origin).map(|(d, _)| d)
}

/// Like [`load_dynamic_from`], with which file defined each object (for naming the file in
/// errors found later).
pub fn load_dynamic_with_origins(
    static_cfg: &StaticConfig,
    static_path: &Path,
    origin: &str,
) -> Result<(DynamicConfig, Origins), ConfigErrors> {
    let (config, origins, errors) =
        load_dynamic_lenient_with_origins(static_cfg, static_path, origin);
    if errors.is_empty() {
        Ok((config, origins))
    } else {
        Err(ConfigErrors(errors))
    }
}

/// The file provider's configuration as far as it reads, with the errors of its files:
/// [`load_dynamic_with_origins`] for checking the rest past a file's errors.
pub fn load_dynamic_lenient_with_origins(
    static_cfg: &StaticConfig,
    static_path: &Path,
    origin: &str,
) -> (DynamicConfig, Origins, Vec<ConfigError>) {
    let origin = origin.to_string();
    let mut merged = Merged::default();
    let mut errors = Vec::new();
    let inline = DynamicConfig {
        http: static_cfg.http.clone().unwrap_or_default(),
        tcp: static_cfg.tcp.clone().unwrap_or_default(),
        tls: static_cfg.tls.clone().unwrap_or_default(),
    };
    merged.add(inline, &origin, &mut errors);
    if let Some(file) = &static_cfg.providers.file {
        match file.source(&origin) {
            Err(e) => errors.push(e),
            // The static file itself (one file for both): its `http` and `tls` are in already.
            Ok(FileSource::File(f)) if same_file(&resolve(static_path, f), static_path) => {}
            Ok(FileSource::File(f)) => merged.add_file(&resolve(static_path, f), &mut errors),
            Ok(FileSource::Directory(d)) => merged.add_dir(&resolve(static_path, d), &mut errors),
        }
    }
    (merged.config, merged.origins, errors)
}

/// Whether `a` and `b` name one file (both resolved; unequal when either is absent).
fn same_file(a: &Path, b: &Path) -> bool {
    a == b
        || a.canonicalize()
            .ok()
            .zip(b.canonicalize().ok())
            .is_some_and(|(x, y)| x == y)
}

/// `path` as written in the static file at `static_path`: relative paths start at its directory.
pub fn resolve(static_path: &Path, path: &str) -> PathBuf {
    let base = static_path.parent().unwrap_or(Path::new("."));
    base.join(path)
}

#[cfg(test)]
mod tests;
