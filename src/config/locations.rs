//! Where each key of a parsed file sits (line and column), so an error about a key path can
//! point at the line that wrote it.

use super::error::ConfigErrors;
use std::collections::HashMap;

/// Line and column (both from 1) of each key path a file wrote, keys compared in any case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Locations(HashMap<String, (usize, usize)>);

impl Locations {
    /// Records that `path` (`http.routers.api`, `tls.certificates[0]`) starts at `line`, `col`.
    pub fn insert(&mut self, path: &str, line: usize, col: usize) {
        self.0
            .entry(path.to_ascii_lowercase())
            .or_insert((line, col));
    }

    /// Where `key_path` is written, or the nearest enclosing key that is (a missing key is
    /// reported at its section).
    pub fn find(&self, key_path: &str) -> Option<(usize, usize)> {
        let mut path = key_path.to_ascii_lowercase();
        loop {
            if let Some(at) = self.0.get(&path) {
                return Some(*at);
            }
            let cut = path.rfind(['.', '['])?;
            path.truncate(cut);
        }
    }

    /// `errors` whose origin is `origin` (the file these locations are of), with the line and
    /// column of their key appended to it: `traefik.yml:12:5`.
    pub fn annotate(&self, errors: ConfigErrors, origin: &str) -> ConfigErrors {
        if self.0.is_empty() {
            return errors;
        }
        ConfigErrors(
            errors
                .0
                .into_iter()
                .map(|mut e| {
                    if e.origin == origin {
                        if let Some((line, col)) = self.find(&e.key_path) {
                            e.origin = format!("{origin}:{line}:{col}");
                        }
                    }
                    e
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigError;

    #[test]
    fn errors_point_at_their_key_or_its_nearest_section() {
        let mut at = Locations::default();
        at.insert("http", 1, 1);
        at.insert("http.routers.API", 3, 5);
        at.insert("tls.certificates[0].certFile", 9, 7);
        assert_eq!(at.find("http.routers.api.service"), Some((3, 5)));
        assert_eq!(at.find("tls.certificates[0].certfile"), Some((9, 7)));
        assert_eq!(at.find("entryPoints"), None);
        let errors = ConfigErrors(vec![
            ConfigError::new("t.yml", "http.routers.api.rule", "bad"),
            ConfigError::new("PYLON_X", "http.routers.api.rule", "bad"),
        ]);
        let out = at.annotate(errors, "t.yml");
        assert_eq!(out.0[0].origin, "t.yml:3:5");
        assert_eq!(out.0[1].origin, "PYLON_X");
    }
}
