//! `chain` settings: a named list of other middlewares, run in order.

use serde::Deserialize;

/// Traefik's `chain`: `middlewares`.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ChainConfig {
    #[serde(default)]
    pub middlewares: Vec<String>,
}

#[cfg(test)]
mod tests {
    use crate::config::{from_tree, DynamicConfig};

    #[test]
    fn label_form_is_a_comma_list() {
        let text = "[http.middlewares.c.chain]\nmiddlewares = \"a, b@docker\"\n";
        let d: DynamicConfig = from_tree(toml::from_str(text).unwrap(), "labels").unwrap();
        let crate::config::dynamic::MiddlewareConfig::Chain(c) = &d.http.middlewares["c"] else {
            panic!("not a chain")
        };
        assert_eq!(c.middlewares, ["a", "b@docker"]);
    }
}
