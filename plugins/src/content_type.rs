//! The `contentType` middleware: Traefik's switch for `Content-Type` detection.
//!
//! Traefik v3 never invents a `Content-Type` the upstream did not send; this middleware turns
//! Go's detection (sniffing the first body bytes) back on, and its deprecated `autoDetect =
//! false` makes it do nothing. pylon never adds a `Content-Type` either (a response without one
//! reaches the client without one), so `autoDetect = false` is accepted and does nothing.
//!
//! Detection itself is refused: it needs the first body bytes before the response head goes
//! out, and Pingora's proxy hands a middleware the head (`response_filter`) and sends it before
//! any body chunk is read; no hook can hold the head back until the body is seen. Rather than
//! run without doing what the configuration asks, pylon names the key and says why.

use crate::build::{BuildCx, BuildResult, Problems};
use crate::Plugin;
use serde::{Deserialize, Serialize};

/// Traefik's `contentType`: `autoDetect` (deprecated in Traefik v3: `false` disables the
/// middleware, unset or `true` enables detection).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    pub auto_detect: Option<bool>,
}

/// `autoDetect = false` builds the do-nothing middleware; detection is refused (see the
/// module's documentation).
pub fn build(cfg: &Config, cx: &BuildCx) -> BuildResult<ContentType> {
    let mut problems = Problems::new(cx, "contentType");
    if cfg.auto_detect != Some(false) {
        let field = if cfg.auto_detect.is_some() {
            "autoDetect"
        } else {
            ""
        };
        problems.push(
            field,
            "detecting the Content-Type from the response body is not supported by pylon: \
             Pingora sends the response head before any body byte is read, so the head cannot \
             wait for the body",
            Some(
                "pylon never adds a Content-Type the upstream did not send (Traefik v3's \
                 default); remove this middleware, or set autoDetect = false"
                    .into(),
            ),
        );
    }
    problems.finish(|| ContentType)
}

/// `contentType` with `autoDetect = false`: nothing to do (pylon adds no `Content-Type`).
#[derive(Debug)]
pub struct ContentType;

impl Plugin for ContentType {
    fn kind(&self) -> &'static str {
        "contentType"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::test_cx;

    #[test]
    fn auto_detect_false_builds_a_middleware_that_does_nothing() {
        let cfg = Config {
            auto_detect: Some(false),
        };
        assert!(build(&cfg, &test_cx()).is_ok());
    }

    #[test]
    fn detection_is_refused_at_the_key_that_asks_for_it() {
        let e = build(&Config::default(), &test_cx()).err().unwrap();
        assert_eq!(e[0].key_path, "http.middlewares.m.contentType");
        assert!(e[0].message.contains("not supported"), "{}", e[0].message);
        let e = build(
            &Config {
                auto_detect: Some(true),
            },
            &test_cx(),
        )
        .err()
        .unwrap();
        assert_eq!(e[0].key_path, "http.middlewares.m.contentType.autoDetect");
        assert!(e[0]
            .hint
            .as_deref()
            .unwrap_or("")
            .contains("autoDetect = false"));
    }
}
