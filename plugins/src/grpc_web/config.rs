//! grpcWeb's settings (Traefik's key `allowOrigins`) and their checks.

use super::cors::Origins;
use super::GrpcWeb;
use crate::build::{BuildCx, BuildResult, Problems};
use serde::{Deserialize, Serialize};

/// Traefik's `grpcWeb`: `allowOrigins`, the origins whose pages may call (`*`: any).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    #[serde(default)]
    pub allow_origins: Vec<String>,
}

/// Checks that each origin is `*` or `scheme://host[:port]` (what browsers send in `Origin`,
/// compared exactly as Traefik does), and builds the plugin.
pub fn build(cfg: &Config, cx: &BuildCx) -> BuildResult<GrpcWeb> {
    let mut problems = Problems::new(cx, "grpcWeb");
    let mut listed = Vec::new();
    let mut any = false;
    for (i, origin) in cfg.allow_origins.iter().enumerate() {
        let field = format!("allowOrigins[{i}]");
        match origin.as_str() {
            "*" => any = true,
            o if is_origin(o) => listed.push(o.to_string()),
            "" => problems.push(&field, "the origin is empty", None),
            o => problems.push(
                &field,
                format!("`{o}` is not an origin"),
                Some(
                    "write `scheme://host[:port]` with no path or trailing `/` (what browsers \
                     send in `Origin`), e.g. \"https://app.example.com\", or \"*\""
                        .into(),
                ),
            ),
        }
    }
    problems.finish(|| GrpcWeb::new(Origins::new(any, listed)))
}

/// `scheme://host[:port]`: a scheme, a host, nothing after it.
fn is_origin(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once("://") else {
        return false;
    };
    let scheme_ok = scheme
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    scheme_ok
        && !rest.is_empty()
        && !rest.contains(['/', '?', '#', '@'])
        && !rest
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::test_cx;

    #[test]
    fn origins_are_checked_by_key() {
        let cfg = Config {
            allow_origins: vec![
                "https://app.example.com".into(),
                "*".into(),
                "https://a.example.com/".into(),
                "".into(),
                "app.example.com".into(),
            ],
        };
        let e = build(&cfg, &test_cx()).err().unwrap();
        let keys: Vec<&str> = e.iter().map(|e| e.key_path.as_str()).collect();
        assert_eq!(
            keys,
            [
                "http.middlewares.m.grpcWeb.allowOrigins[2]",
                "http.middlewares.m.grpcWeb.allowOrigins[3]",
                "http.middlewares.m.grpcWeb.allowOrigins[4]",
            ]
        );
        assert!(build(&Config::default(), &test_cx()).is_ok());
        assert!(is_origin("http://127.0.0.1:8080"));
    }
}
