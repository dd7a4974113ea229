//! `buffering`: request and response body size limits (413 / 500 as Traefik), without buffering.
//! Settings (Traefik's keys), their checks and the plugin, in one place.

use crate::build::{BuildCx, BuildResult, Problems};
use crate::{Flow, Plugin, PluginCtx, Reply};
use async_trait::async_trait;
use bytes::Bytes;
use http::StatusCode;
use pingora_error::{Error, ErrorType, Result};
use pingora_http::ResponseHeader;
use pingora_proxy::Session;
use serde::{Deserialize, Serialize};

/// Traefik's `buffering`. pylon streams bodies and enforces the two `max*` limits; the `mem*`
/// thresholds are accepted for compatibility and have no effect; `retryExpression` is refused.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    pub max_request_body_bytes: Option<i64>,
    pub mem_request_body_bytes: Option<i64>,
    pub max_response_body_bytes: Option<i64>,
    pub mem_response_body_bytes: Option<i64>,
    pub retry_expression: Option<String>,
}

/// Checks that no size is negative (0 means no limit) and builds the plugin.
pub fn build(cfg: &Config, cx: &BuildCx) -> BuildResult<Buffering> {
    let mut problems = Problems::new(cx, "buffering");
    let sizes = [
        ("maxRequestBodyBytes", cfg.max_request_body_bytes),
        ("memRequestBodyBytes", cfg.mem_request_body_bytes),
        ("maxResponseBodyBytes", cfg.max_response_body_bytes),
        ("memResponseBodyBytes", cfg.mem_response_body_bytes),
    ];
    for (key, value) in sizes {
        if let Some(v) = value.filter(|v| *v < 0) {
            problems.push(
                key,
                format!("{v} is negative"),
                Some(format!(
                    "write a size in bytes, e.g. {key} = 2000000 (0 means no limit)"
                )),
            );
        }
    }
    if cfg.retry_expression.is_some() {
        problems.push(
            "retryExpression",
            "retrying buffered requests on an expression is not supported yet: use the `retry` middleware",
            Some("remove the key to run on pylon".to_string()),
        );
    }
    let limit = |v: Option<i64>| v.and_then(|v| u64::try_from(v).ok()).filter(|v| *v > 0);
    problems.finish(|| {
        Buffering::new(
            limit(cfg.max_request_body_bytes),
            limit(cfg.max_response_body_bytes),
        )
    })
}

/// Refuses request bodies over `max_request` bytes (413) and responses over `max_response`
/// bytes (500 when the length is announced; the connection is cut if a streamed body grows past it).
#[derive(Debug, Clone)]
pub struct Buffering {
    max_request: Option<u64>,
    max_response: Option<u64>,
}

impl Buffering {
    pub fn new(max_request: Option<u64>, max_response: Option<u64>) -> Self {
        Buffering {
            max_request,
            max_response,
        }
    }

    /// Whether a body of `len` bytes is over `limit`.
    fn over(limit: Option<u64>, len: u64) -> bool {
        limit.is_some_and(|max| len > max)
    }
}

/// The `Content-Length` of a header map, if it is one number.
fn content_length(headers: &http::HeaderMap) -> Option<u64> {
    headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

#[async_trait]
impl Plugin for Buffering {
    fn kind(&self) -> &'static str {
        "buffering"
    }

    fn body_hooks(&self) -> bool {
        true
    }

    async fn request_filter(&self, session: &mut Session, _cx: &mut PluginCtx) -> Result<Flow> {
        match content_length(&session.req_header().headers) {
            Some(len) if Self::over(self.max_request, len) => Ok(Flow::Respond(Reply::text(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Request Entity Too Large",
            ))),
            _ => Ok(Flow::Continue),
        }
    }

    fn request_body_filter(
        &self,
        body: &mut Option<Bytes>,
        _end_of_stream: bool,
        cx: &mut PluginCtx,
    ) -> Result<()> {
        cx.request_body_bytes += body.as_ref().map_or(0, |b| b.len() as u64);
        if Self::over(self.max_request, cx.request_body_bytes) {
            return Err(Error::explain(
                ErrorType::HTTPStatus(413),
                "request body over buffering.maxRequestBodyBytes",
            ));
        }
        Ok(())
    }

    async fn response_filter(
        &self,
        _session: &mut Session,
        response: &mut ResponseHeader,
        _cx: &mut PluginCtx,
    ) -> Result<()> {
        match content_length(&response.headers) {
            Some(len) if Self::over(self.max_response, len) => Err(Error::explain(
                ErrorType::HTTPStatus(500),
                "response body over buffering.maxResponseBodyBytes",
            )),
            _ => Ok(()),
        }
    }

    fn response_body_filter(
        &self,
        body: &mut Option<Bytes>,
        _end_of_stream: bool,
        cx: &mut PluginCtx,
    ) -> Result<()> {
        cx.response_body_bytes += body.as_ref().map_or(0, |b| b.len() as u64);
        if Self::over(self.max_response, cx.response_body_bytes) {
            return Err(Error::explain(
                ErrorType::HTTPStatus(500),
                "streamed response body over buffering.maxResponseBodyBytes",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traefik_keys_parse_and_unknown_keys_are_refused() {
        let c: Config = toml::from_str(
            "maxRequestBodyBytes = 10\nmemRequestBodyBytes = 5\nmaxResponseBodyBytes = 20\n\
             memResponseBodyBytes = 5\nretryExpression = \"IsNetworkError() && Attempts() < 2\"",
        )
        .unwrap();
        assert_eq!(c.max_request_body_bytes, Some(10));
        assert_eq!(c.max_response_body_bytes, Some(20));
        assert!(toml::from_str::<Config>("maxBodyBytes = 1").is_err());
    }

    #[test]
    fn negative_limits_are_refused_with_their_key() {
        let cx = crate::build::test_cx();
        let cfg = Config {
            max_response_body_bytes: Some(-1),
            ..Default::default()
        };
        let e = build(&cfg, &cx).err().unwrap();
        assert_eq!(
            e[0].key_path,
            "http.middlewares.m.buffering.maxResponseBodyBytes"
        );
        assert!(build(&Config::default(), &cx).is_ok());
    }

    fn cx() -> PluginCtx {
        PluginCtx::new("127.0.0.1".parse().unwrap(), false)
    }

    #[test]
    fn request_chunks_are_counted_until_the_limit() {
        let b = Buffering::new(Some(10), None);
        let mut cx = cx();
        let chunk = Bytes::from_static(b"123456");
        assert!(b
            .request_body_filter(&mut Some(chunk.clone()), false, &mut cx)
            .is_ok());
        assert!(b.request_body_filter(&mut None, false, &mut cx).is_ok());
        let e = b
            .request_body_filter(&mut Some(chunk.clone()), true, &mut cx)
            .unwrap_err();
        assert_eq!(e.etype(), &ErrorType::HTTPStatus(413));
    }

    #[test]
    fn response_chunks_are_counted_and_no_limit_means_none() {
        let b = Buffering::new(None, Some(4));
        let mut cx = cx();
        let mut body = Some(Bytes::from_static(b"1234"));
        assert!(b.response_body_filter(&mut body, false, &mut cx).is_ok());
        let e = b
            .response_body_filter(&mut body, true, &mut cx)
            .unwrap_err();
        assert_eq!(e.etype(), &ErrorType::HTTPStatus(500));
        let big = Bytes::from(vec![0u8; 1 << 20]);
        assert!(b
            .request_body_filter(&mut Some(big.clone()), true, &mut cx)
            .is_ok());
    }

    #[test]
    fn content_length_is_read_when_it_is_one_number() {
        let mut h = http::HeaderMap::new();
        assert_eq!(content_length(&h), None);
        h.insert(http::header::CONTENT_LENGTH, "42".parse().unwrap());
        assert_eq!(content_length(&h), Some(42));
        assert!(Buffering::over(Some(41), 42));
        assert!(!Buffering::over(Some(42), 42));
    }
}
