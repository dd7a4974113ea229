//! Key-value keys (Redis, etcd) → the provider's part: Traefik's key-value layout read by the
//! labels' machinery.
//!
//! Traefik's kv provider (traefik/paerser `kv.DecodeToNode`) splits each key under
//! `<rootKey>/` on `/`, skipping empty segments, and reads a number segment as a list index
//! (`entrypoints/0`). Here each key is written as the label it stands for
//! (`traefik/http/routers/web/entrypoints/0` → `traefik.http.routers.web.entrypoints[0]`) and
//! the keys of one object (`http/routers/web`, `tls/options/x`, `tls/certificates/0`, ...) go
//! through the labels' case-insensitive tree and decoder together, as one unit: a bad key
//! leaves out its object only, and is reported with the provider's key.

use crate::config::labels::{kv_config, LabelError};
use crate::provider::ProviderPart;
use std::collections::BTreeMap;

/// The part of `provider` (`redis`, `etcd`) from every key and value read under `root` (keys
/// not under it are ignored).
pub fn build_part(
    provider: &'static str,
    root: &str,
    pairs: &BTreeMap<String, String>,
) -> ProviderPart {
    let prefix = format!("{root}/");
    // unit (lowercased object path) → (unit as first spelled, label → key, labels)
    let mut units: BTreeMap<String, Unit> = BTreeMap::new();
    let mut part = ProviderPart::default();
    for (key, value) in pairs {
        let Some(rest) = key.strip_prefix(&prefix) else {
            continue;
        };
        let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        if segments.is_empty() {
            continue;
        }
        let object = segments.len().min(3);
        let unit_name = format!("{root}/{}", segments[..object].join("/"));
        let unit = units
            .entry(unit_name.to_ascii_lowercase())
            .or_insert_with(|| Unit {
                name: unit_name,
                ..Unit::default()
            });
        match label_of(&segments) {
            Ok(label) => {
                unit.keys.insert(label.clone(), key.clone());
                unit.labels.insert(label, value.clone());
            }
            Err(message) => unit.errors.push(
                LabelError::new(&unit.name, Some(key), message)
                    .with_hint("keys are `<rootKey>/<path>` with `/` between the model's keys (`traefik/http/routers/web/rule`)")
                    .in_provider(provider),
            ),
        }
    }
    for unit in units.into_values() {
        if !unit.errors.is_empty() {
            part.errors.extend(unit.errors);
            continue;
        }
        match kv_config(&unit.name, &unit.labels) {
            Ok(config) => part.containers.push((unit.name, config)),
            Err(errors) => part
                .errors
                .extend(errors.0.into_iter().map(|e| unit.as_keys(e, provider))),
        }
    }
    part
}

/// One object's keys.
#[derive(Debug, Default)]
struct Unit {
    /// `<rootKey>/http/routers/web`, as its first key spells it.
    name: String,
    /// Label form → key.
    keys: BTreeMap<String, String>,
    labels: BTreeMap<String, String>,
    errors: Vec<LabelError>,
}

impl Unit {
    /// A labels' error about this unit, naming `provider`'s keys instead of labels.
    fn as_keys(&self, mut e: LabelError, provider: &'static str) -> LabelError {
        if let Some(label) = &e.label {
            e.label = Some(
                self.keys
                    .get(label)
                    .cloned()
                    .unwrap_or_else(|| label.clone()),
            );
        }
        for (label, key) in &self.keys {
            e.message = e
                .message
                .replace(&format!("label {label}"), &format!("key {key}"))
                .replace(label.as_str(), key);
        }
        e.in_provider(provider)
    }
}

/// `["http", "routers", "web", "entrypoints", "0"]` → `traefik.http.routers.web.entrypoints[0]`.
/// A number is a list index, except where the model wants a name (the object's name: a router
/// may be called `1`); `tls/certificates/0` is a list.
fn label_of(segments: &[&str]) -> Result<String, String> {
    let mut label = String::from("traefik");
    for (i, segment) in segments.iter().enumerate() {
        if segment.contains(['.', '[', ']']) {
            return Err(format!(
                "the segment `{segment}` holds `.`, `[` or `]`, which pylon's key paths cannot carry"
            ));
        }
        let is_name = i == 2
            && !(segments[0].eq_ignore_ascii_case("tls")
                && segments[1].eq_ignore_ascii_case("certificates"));
        if !is_name && i > 0 && segment.bytes().all(|b| b.is_ascii_digit()) {
            label.push_str(&format!("[{segment}]"));
        } else {
            label.push('.');
            label.push_str(segment);
        }
    }
    Ok(label)
}

#[cfg(test)]
mod tests;
