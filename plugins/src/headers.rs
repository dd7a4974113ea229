//! The `headers` middleware: custom request/response headers, CORS and security headers.
//!
//! Everything is precomputed when the config is compiled (names, values, joined lists, the
//! origin regexes); a request costs a few header edits and, with CORS, one origin match.
//! Order as in Traefik (its `Header` handler wraps its `Secure` one):
//! request: CORS preflight answered here (200, never proxied) → custom request headers →
//! `allowedHosts` check (500 `Bad Host`); response: security headers → custom response headers
//! → CORS headers.
//!
//! Its settings are in `config`, their checks and the build in `build`.

mod build;
mod config;
mod secure;

pub use build::build;
pub use config::Config;
pub use secure::Secure;

use crate::{Flow, Plugin, PluginCtx, Reply};
use async_trait::async_trait;
use bytes::Bytes;
use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE,
    ACCESS_CONTROL_REQUEST_METHOD, ORIGIN, VARY,
};
use http::{HeaderName, HeaderValue, Method, StatusCode};
use pingora_error::Result;
use pingora_http::{RequestHeader, ResponseHeader};
use pingora_proxy::Session;
use regex::RegexSet;

/// One configured header: set it (replacing every copy), or remove it (empty value in config).
#[derive(Debug, Clone)]
pub enum HeaderEdit {
    Set(HeaderName, HeaderValue),
    Remove(HeaderName),
}

/// Applies `edits` to a request's or response's headers.
trait Edit {
    fn set(&mut self, name: &HeaderName, value: &HeaderValue) -> Result<()>;
    fn remove(&mut self, name: &HeaderName);
    fn apply(&mut self, edits: &[HeaderEdit]) -> Result<()> {
        for e in edits {
            match e {
                HeaderEdit::Set(n, v) => self.set(n, v)?,
                HeaderEdit::Remove(n) => self.remove(n),
            }
        }
        Ok(())
    }
}

impl Edit for RequestHeader {
    fn set(&mut self, name: &HeaderName, value: &HeaderValue) -> Result<()> {
        self.insert_header(name.clone(), value.clone())
    }
    fn remove(&mut self, name: &HeaderName) {
        let _ = self.remove_header(name);
    }
}

impl Edit for ResponseHeader {
    fn set(&mut self, name: &HeaderName, value: &HeaderValue) -> Result<()> {
        self.insert_header(name.clone(), value.clone())
    }
    fn remove(&mut self, name: &HeaderName) {
        let _ = self.remove_header(name);
    }
}

/// The CORS part: present when any `accessControl*` option or `addVaryHeader` is set.
#[derive(Debug, Clone)]
pub struct Cors {
    /// `accessControlAllowOriginList`, in order; `*` allows any origin (and is echoed as `*`).
    pub allow_origins: Vec<HeaderValue>,
    /// `accessControlAllowOriginListRegex` (unanchored, as Go's `MatchString`).
    pub allow_origin_regexes: Option<RegexSet>,
    pub allow_credentials: bool,
    /// Joined with `,` as Traefik sends them.
    pub allow_headers: Option<HeaderValue>,
    pub allow_methods: Option<HeaderValue>,
    pub expose_headers: Option<HeaderValue>,
    /// `accessControlMaxAge` (sent on every preflight, `0` by default).
    pub max_age: HeaderValue,
    pub add_vary_header: bool,
}

impl Cors {
    /// The value for `Access-Control-Allow-Origin`, if `origin` is allowed. As in Traefik, a
    /// `*` entry matches even a request without `Origin`.
    fn allowed_origin(&self, origin: &[u8]) -> Option<HeaderValue> {
        for item in &self.allow_origins {
            if item == "*" || item.as_bytes() == origin {
                return Some(item.clone());
            }
        }
        let origin_str = std::str::from_utf8(origin).ok()?;
        let set = self.allow_origin_regexes.as_ref()?;
        set.is_match(origin_str)
            .then(|| HeaderValue::from_bytes(origin).ok())
            .flatten()
    }

    /// The answer to a preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`).
    fn preflight(&self, req: &RequestHeader) -> Option<Reply> {
        let origin = req.headers.get(ORIGIN).filter(|v| !v.is_empty())?;
        req.headers
            .get(ACCESS_CONTROL_REQUEST_METHOD)
            .filter(|v| !v.is_empty())?;
        if req.method != Method::OPTIONS {
            return None;
        }
        let mut headers = Vec::with_capacity(5);
        if self.allow_credentials {
            headers.push((
                ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            ));
        }
        if let Some(v) = &self.allow_headers {
            headers.push((ACCESS_CONTROL_ALLOW_HEADERS, v.clone()));
        }
        if let Some(v) = &self.allow_methods {
            headers.push((ACCESS_CONTROL_ALLOW_METHODS, v.clone()));
        }
        if let Some(v) = self.allowed_origin(origin.as_bytes()) {
            headers.push((ACCESS_CONTROL_ALLOW_ORIGIN, v));
        }
        headers.push((ACCESS_CONTROL_MAX_AGE, self.max_age.clone()));
        Some(Reply {
            status: StatusCode::OK,
            headers,
            body: Bytes::new(),
        })
    }

    /// The CORS headers of a proxied response.
    fn apply(&self, req: &RequestHeader, resp: &mut ResponseHeader) -> Result<()> {
        let origin = req.headers.get(ORIGIN).map_or(&b""[..], |v| v.as_bytes());
        if let Some(v) = self.allowed_origin(origin) {
            resp.insert_header(ACCESS_CONTROL_ALLOW_ORIGIN, v)?;
        }
        if self.allow_credentials {
            resp.insert_header(ACCESS_CONTROL_ALLOW_CREDENTIALS, "true")?;
        }
        if let Some(v) = &self.expose_headers {
            resp.insert_header(ACCESS_CONTROL_EXPOSE_HEADERS, v.clone())?;
        }
        if self.add_vary_header {
            let vary = vary_with_origin(resp.headers.get_all(VARY).iter());
            if let Some(v) = vary {
                resp.insert_header(VARY, v)?;
            }
        }
        Ok(())
    }
}

/// `Vary` with `Origin` added (`None`: already there). Several `Vary` lines are joined.
fn vary_with_origin<'a>(values: impl Iterator<Item = &'a HeaderValue>) -> Option<HeaderValue> {
    let mut joined = Vec::new();
    for v in values {
        if !joined.is_empty() {
            joined.push(b',');
        }
        joined.extend_from_slice(v.as_bytes());
    }
    let has_origin = joined
        .split(|b| *b == b',')
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"origin"));
    if has_origin {
        return None;
    }
    if !joined.is_empty() {
        joined.push(b',');
    }
    joined.extend_from_slice(b"Origin");
    HeaderValue::from_bytes(&joined).ok()
}

/// One `headers` middleware instance.
#[derive(Debug, Clone, Default)]
pub struct Headers {
    /// `customRequestHeaders`, applied before proxying (visible to later middlewares).
    pub request: Vec<HeaderEdit>,
    /// `customResponseHeaders`.
    pub response: Vec<HeaderEdit>,
    pub cors: Option<Cors>,
    pub secure: Option<Secure>,
}

impl Headers {
    /// The request phase on a bare request header: a reply ends the request here.
    pub fn on_request(&self, req: &mut RequestHeader) -> Result<Option<Reply>> {
        if let Some(reply) = self.cors.as_ref().and_then(|c| c.preflight(req)) {
            return Ok(Some(reply));
        }
        req.apply(&self.request)?;
        if let Some(secure) = &self.secure {
            if !secure.host_allowed(req) {
                return Ok(Some(Reply::text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Bad Host\n",
                )));
            }
        }
        Ok(None)
    }

    /// The response phase: `tls` tells whether the client connection is TLS.
    pub fn on_response(
        &self,
        req: &RequestHeader,
        tls: bool,
        resp: &mut ResponseHeader,
    ) -> Result<()> {
        if let Some(secure) = &self.secure {
            secure.apply(req, tls, resp)?;
        }
        resp.apply(&self.response)?;
        if let Some(cors) = &self.cors {
            cors.apply(req, resp)?;
        }
        Ok(())
    }
}

#[async_trait]
impl Plugin for Headers {
    fn kind(&self) -> &'static str {
        "headers"
    }

    async fn request_filter(&self, session: &mut Session, _cx: &mut PluginCtx) -> Result<Flow> {
        Ok(match self.on_request(session.req_header_mut())? {
            Some(reply) => Flow::Respond(reply),
            None => Flow::Continue,
        })
    }

    async fn response_filter(
        &self,
        session: &mut Session,
        response: &mut ResponseHeader,
        cx: &mut PluginCtx,
    ) -> Result<()> {
        self.on_response(session.req_header(), cx.tls, response)
    }
}

#[cfg(test)]
mod tests;
