//! Which file defined each dynamic object, so an error found after the files are merged
//! (validation, compilation) names that file and the line of its key.

use super::error::ConfigErrors;
use super::locations::Locations;
use std::collections::HashMap;

/// Owners of the merged dynamic objects (`http.routers.api` → `dynamic/routers.yml`) and
/// where each file wrote its keys.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    owners: HashMap<String, String>,
    locations: HashMap<String, Locations>,
}

impl Origins {
    /// The file that already defined `key`, if any.
    pub fn owner(&self, key: &str) -> Option<&str> {
        self.owners.get(key).map(String::as_str)
    }

    /// Records that `origin` defines `key`.
    pub fn claim(&mut self, key: String, origin: &str) {
        self.owners.insert(key, origin.to_string());
    }

    /// Records where `origin` wrote its keys.
    pub fn locate(&mut self, origin: &str, locations: Locations) {
        self.locations.insert(origin.to_string(), locations);
    }

    /// `errors` named `merged` (the whole configuration) renamed to the file that defined
    /// their object, with the line and column of their key when that file gives them.
    /// Errors of `keep` (the static file: its own lines are added where its settings are
    /// known) keep their origin.
    pub fn attribute(&self, errors: ConfigErrors, merged: &str, keep: &str) -> ConfigErrors {
        ConfigErrors(
            errors
                .0
                .into_iter()
                .map(|mut e| {
                    if e.origin != merged {
                        return e;
                    }
                    let Some(owner) = self.owner_of(&e.key_path) else {
                        return e;
                    };
                    if owner == keep {
                        e.origin = owner.to_string();
                        return e;
                    }
                    e.origin = match self.locations.get(owner).and_then(|l| l.find(&e.key_path)) {
                        Some((line, col)) => format!("{owner}:{line}:{col}"),
                        None => owner.to_string(),
                    };
                    e
                })
                .collect(),
        )
    }

    /// The owner of the object `key_path` is under (`http.routers.api.rule` → the file of
    /// `http.routers.api`); names may hold dots, so the longest owned prefix wins.
    fn owner_of(&self, key_path: &str) -> Option<&str> {
        let mut end = key_path.len();
        loop {
            let prefix = &key_path[..end];
            if let Some(owner) = self.owners.get(prefix) {
                return Some(owner);
            }
            end = prefix.rfind(['.', '['])?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigError;

    #[test]
    fn errors_name_the_file_that_defined_their_object() {
        let mut o = Origins::default();
        o.claim("http.routers.a.b".into(), "dyn.yml");
        o.claim("http.routers.c".into(), "traefik.yml");
        let mut at = Locations::default();
        at.insert("http.routers.a.b.rule", 4, 7);
        o.locate("dyn.yml", at);
        let errors = ConfigErrors(vec![
            ConfigError::new("traefik.yml", "http.routers.a.b.rule", "bad"),
            ConfigError::new("traefik.yml", "http.routers.c.rule", "bad"),
            ConfigError::new("traefik.yml", "entryPoints.web", "bad"),
            ConfigError::new("labels", "http.routers.a.b.rule", "bad"),
        ]);
        let origins: Vec<String> = o
            .attribute(errors, "traefik.yml", "traefik.yml")
            .0
            .into_iter()
            .map(|e| e.origin)
            .collect();
        assert_eq!(
            origins,
            ["dyn.yml:4:7", "traefik.yml", "traefik.yml", "labels"]
        );
    }
}
