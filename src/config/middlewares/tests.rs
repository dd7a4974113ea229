//! Middleware settings decoded through the configuration tree (any key case, strings for
//! numbers and booleans as labels write them), as the middlewares' own tests cannot.

use crate::config::dynamic::MiddlewareConfig;
use crate::config::{from_tree, DynamicConfig};

fn decode(text: &str) -> DynamicConfig {
    from_tree(toml::from_str(text).unwrap(), "t").unwrap()
}

#[test]
fn redirect_scheme_port_is_a_string_or_an_integer() {
    for port in ["\"8443\"", "8443"] {
        let d = decode(&format!(
            "[http.middlewares.m.redirectScheme]\nscheme = \"https\"\nport = {port}\npermanent = \"true\"\n"
        ));
        let MiddlewareConfig::RedirectScheme(m) = &d.http.middlewares["m"] else {
            panic!("not redirectScheme")
        };
        assert_eq!(m.port.as_deref(), Some("8443"));
        assert_eq!(m.permanent, Some(true));
    }
}
