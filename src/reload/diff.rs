//! What a reload changed: routers, services and middlewares added, removed and modified,
//! for the reload log line and the API's reload history.

use crate::config::DynamicConfig;
use crate::provider::namespace::display_name;
use crate::runtime::fingerprint::fingerprint;
use std::collections::BTreeMap;
use std::fmt::Debug;

/// The changes of one kind of object.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub modified: Vec<String>,
}

impl Changes {
    fn between<V: Debug>(old: &BTreeMap<String, V>, new: &BTreeMap<String, V>) -> Changes {
        let mut c = Changes::default();
        for (name, v) in new {
            match old.get(name) {
                None => c.added.push(display_name(name)),
                Some(o) if fingerprint(o) != fingerprint(v) => c.modified.push(display_name(name)),
                Some(_) => {}
            }
        }
        c.removed = old
            .keys()
            .filter(|n| !new.contains_key(*n))
            .map(|n| display_name(n))
            .collect();
        c
    }

    fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.modified.is_empty()
    }

    /// "routers added a@file, b@docker; removed c@file" (empty when nothing changed).
    fn describe(&self, kind: &str) -> Option<String> {
        if self.is_empty() {
            return None;
        }
        let mut parts = Vec::new();
        for (what, names) in [
            ("added", &self.added),
            ("removed", &self.removed),
            ("modified", &self.modified),
        ] {
            if !names.is_empty() {
                parts.push(format!("{what} {}", names.join(", ")));
            }
        }
        Some(format!("{kind} {}", parts.join("; ")))
    }
}

/// The changes between two configurations.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ConfigDiff {
    pub routers: Changes,
    pub services: Changes,
    pub middlewares: Changes,
}

impl ConfigDiff {
    pub fn between(old: &DynamicConfig, new: &DynamicConfig) -> ConfigDiff {
        ConfigDiff {
            routers: Changes::between(&old.http.routers, &new.http.routers),
            services: Changes::between(&old.http.services, &new.http.services),
            middlewares: Changes::between(&old.http.middlewares, &new.http.middlewares),
        }
    }

    /// One line per kind that changed; `["no router, service or middleware changed"]` if none.
    pub fn lines(&self) -> Vec<String> {
        let lines: Vec<String> = [
            self.routers.describe("routers"),
            self.services.describe("services"),
            self.middlewares.describe("middlewares"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if lines.is_empty() {
            vec!["no router, service or middleware changed".to_string()]
        } else {
            lines
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_dynamic_str;

    fn config(text: &str) -> DynamicConfig {
        load_dynamic_str(text, "t.toml").expect("valid dynamic config")
    }

    const SVC: &str =
        "[http.services.s.loadBalancer]\nservers = [{ url = \"http://127.0.0.1:1\" }]\n";

    #[test]
    fn names_what_was_added_removed_and_modified() {
        let old = config(&format!(
            "{SVC}[http.routers.a]\nrule = \"Path(`/a`)\"\nservice = \"s\"\n\
             [http.routers.b]\nrule = \"Path(`/b`)\"\nservice = \"s\"\n"
        ));
        let new = config(&format!(
            "{SVC}[http.routers.a]\nrule = \"Path(`/a2`)\"\nservice = \"s\"\n\
             [http.routers.c]\nrule = \"Path(`/c`)\"\nservice = \"s\"\n"
        ));
        let d = ConfigDiff::between(&old, &new);
        assert_eq!(d.routers.added, ["c@file"]);
        assert_eq!(d.routers.removed, ["b@file"]);
        assert_eq!(d.routers.modified, ["a@file"]);
        assert!(d.services.is_empty());
        assert_eq!(
            d.lines(),
            ["routers added c@file; removed b@file; modified a@file"]
        );
    }

    #[test]
    fn says_so_when_nothing_changed() {
        let c = config(SVC);
        assert_eq!(
            ConfigDiff::between(&c, &c).lines(),
            ["no router, service or middleware changed"]
        );
    }
}
