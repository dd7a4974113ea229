//! The `forwardAuth` middleware: asks an auth server (Authelia, Authentik, oauth2-proxy, ...)
//! about each request before proxying it.
//!
//! As in Traefik: the auth server gets a `GET` (or the request's method with
//! `preserveRequestMethod`) to `address` with the client's headers (`authRequestHeaders` to
//! choose) and `X-Forwarded-Method/-Proto/-Host/-Port/-Uri/-For`; a 2xx answer lets the request
//! through with `authResponseHeaders` (and `authResponseHeadersRegex`) copied onto it; any other
//! answer goes to the client as the auth server wrote it (status, headers, body: a redirect to a
//! login page included), a 401 becomes a redirect to `authSigninURL` when set.
//!
//! Failing closed: an auth server that cannot be reached answers 500, one slower than `timeout`
//! (pylon extension, default 30 s) 504, an answer body over `maxResponseBodySize` (default
//! 1 MiB in pylon, unbounded in Traefik) 401: never a pass. Client `X-Forwarded-*` headers are
//! sent only with `trustForwardHeader` (and reach plugins only from the entry point's trusted
//! peers), so a client cannot pick the `X-Forwarded-Uri` the auth server judges. Connections to
//! the auth server are pooled per middleware (kept across reloads with the middleware).
//!
//! Settings and build: `config`; the client: `client`; header rules: `headers`.

mod client;
mod config;
mod headers;
#[cfg(test)]
mod tests;

pub use config::{build, Config, TlsConfig, DEFAULT_MAX_RESPONSE_BODY, MAX_FORWARDED_BODY};

use crate::{Flow, Plugin, PluginCtx, Reply};
use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use client::{AuthAnswer, AuthClient, AuthError};
use headers::RequestFacts;
use http::header::{HOST, LOCATION, SET_COOKIE};
use http::{HeaderName, HeaderValue, Method, Request, StatusCode, Uri};
use http_body_util::Full;
use pingora_error::{Error, ErrorType, Result};
use pingora_http::{RequestHeader, ResponseHeader};
use pingora_proxy::Session;
use regex::Regex;
use std::collections::HashSet;
use std::time::Duration;

/// A built `forwardAuth` middleware.
pub struct ForwardAuth {
    name: String,
    client: AuthClient,
    address: Uri,
    trust_forward_header: bool,
    /// `authRequestHeaders` (`None`: every header).
    request_headers: Option<Vec<HeaderName>>,
    response_headers: Vec<HeaderName>,
    response_regex: Option<Regex>,
    /// `addAuthCookiesToResponse`: cookie names.
    auth_cookies: HashSet<String>,
    header_field: Option<HeaderName>,
    forward_body: bool,
    max_body: usize,
    max_response_body: Option<usize>,
    preserve_location: bool,
    preserve_method: bool,
    signin: Option<HeaderValue>,
    timeout: Duration,
}

/// The auth server's cookies for the client (`addAuthCookiesToResponse`), kept between the
/// request and response hooks.
struct AuthCookies(Vec<HeaderValue>);

#[async_trait]
impl Plugin for ForwardAuth {
    fn kind(&self) -> &'static str {
        "forwardAuth"
    }

    async fn request_filter(&self, session: &mut Session, cx: &mut PluginCtx) -> Result<Flow> {
        let body = if self.forward_body && session.req_header().method != Method::CONNECT {
            match read_body(session, self.max_body).await? {
                Some(body) => body,
                None => return Ok(Flow::Respond(bare(StatusCode::UNAUTHORIZED))),
            }
        } else {
            Bytes::new()
        };
        let request = self.auth_request(session, cx, body)?;
        let answer = match self.client.check(request, self.max_response_body).await {
            Ok(answer) => answer,
            Err(e) => return Ok(Flow::Respond(self.failed(e))),
        };
        if let Some(field) = &self.header_field {
            if let Some(user) = answer.head.headers.get(field).and_then(|v| v.to_str().ok()) {
                cx.user = Some(user.to_string());
            }
        }
        let status = answer.head.status;
        if status == StatusCode::UNAUTHORIZED {
            if let Some(signin) = &self.signin {
                return Ok(Flow::Respond(Reply {
                    status: StatusCode::FOUND,
                    headers: vec![(LOCATION, signin.clone())],
                    body: Bytes::new(),
                }));
            }
        }
        if !status.is_success() {
            log::debug!("forwardAuth {}: denied with {status}", self.name);
            return Ok(Flow::Respond(self.denial(answer)));
        }
        let (remove, add) = headers::auth_response_headers(
            &session.req_header().headers,
            &answer.head.headers,
            &self.response_headers,
            self.response_regex.as_ref(),
        );
        let request = session.req_header_mut();
        for name in &remove {
            request.remove_header(name);
        }
        for (name, value) in add {
            request.append_header(name, value)?;
        }
        if !self.auth_cookies.is_empty() {
            let mut cookies: Vec<HeaderValue> = cx
                .get::<AuthCookies>()
                .map(|c| c.0.clone())
                .unwrap_or_default();
            cookies.extend(
                answer
                    .head
                    .headers
                    .get_all(SET_COOKIE)
                    .iter()
                    .filter(|c| self.is_auth_cookie(c))
                    .cloned(),
            );
            cx.put(AuthCookies(cookies));
        }
        Ok(Flow::Continue)
    }

    async fn response_filter(
        &self,
        _session: &mut Session,
        response: &mut ResponseHeader,
        cx: &mut PluginCtx,
    ) -> Result<()> {
        if self.auth_cookies.is_empty() {
            return Ok(());
        }
        // The upstream's cookies of those names give way to the auth server's.
        let kept: Vec<HeaderValue> = response
            .headers
            .get_all(SET_COOKIE)
            .iter()
            .filter(|c| !self.is_auth_cookie(c))
            .cloned()
            .collect();
        response.remove_header(&SET_COOKIE);
        let from_auth = cx
            .get::<AuthCookies>()
            .map(|c| c.0.as_slice())
            .unwrap_or(&[]);
        for cookie in kept.into_iter().chain(from_auth.iter().cloned()) {
            response.append_header(SET_COOKIE, cookie)?;
        }
        Ok(())
    }
}

impl ForwardAuth {
    /// The request to the auth server, built from the client's request.
    fn auth_request(
        &self,
        session: &Session,
        cx: &PluginCtx,
        body: Bytes,
    ) -> Result<Request<Full<Bytes>>> {
        let client = session.req_header();
        let method = if self.preserve_method {
            client.method.clone()
        } else {
            Method::GET
        };
        let facts = RequestFacts {
            method: client.method.as_str(),
            uri: client.uri.path_and_query().map_or("/", |p| p.as_str()),
            host: request_host(client),
            tls: cx.tls,
            peer: session
                .client_addr()
                .and_then(|a| a.as_inet())
                .map(|a| a.ip()),
        };
        let headers = headers::auth_request_headers(
            &client.headers,
            self.request_headers.as_deref(),
            self.trust_forward_header,
            &facts,
        );
        let mut request = Request::builder()
            .method(method)
            .uri(self.address.clone())
            .body(Full::new(body))
            .map_err(|e| Error::because(ErrorType::InternalError, "forwardAuth request", e))?;
        *request.headers_mut() = headers;
        Ok(request)
    }

    /// What the client gets when the check got no answer: never a pass.
    fn failed(&self, error: AuthError) -> Reply {
        let (name, address) = (&self.name, &self.address);
        match error {
            AuthError::Timeout => {
                log::warn!(
                    "forwardAuth {name}: {address} did not answer within {:?}",
                    self.timeout
                );
                bare(StatusCode::GATEWAY_TIMEOUT)
            }
            AuthError::Failed(e) => {
                log::warn!("forwardAuth {name}: calling {address} failed: {e}");
                bare(StatusCode::INTERNAL_SERVER_ERROR)
            }
            AuthError::TooLarge => {
                log::warn!(
                    "forwardAuth {name}: the answer of {address} is larger than maxResponseBodySize"
                );
                bare(StatusCode::UNAUTHORIZED)
            }
        }
    }

    /// The auth server's refusal, passed to the client (less hop-by-hop headers).
    fn denial(&self, answer: AuthAnswer) -> Reply {
        let mut headers = Vec::with_capacity(answer.head.headers.len());
        for (name, value) in &answer.head.headers {
            if headers::HOP_BY_HOP.contains(name) || name == http::header::CONTENT_LENGTH {
                continue;
            }
            if name == LOCATION {
                if let Some(v) = headers::location(value, &self.address, self.preserve_location) {
                    headers.push((LOCATION, v));
                }
                continue;
            }
            headers.push((name.clone(), value.clone()));
        }
        Reply {
            status: answer.head.status,
            headers,
            body: answer.body,
        }
    }

    fn is_auth_cookie(&self, set_cookie: &HeaderValue) -> bool {
        headers::cookie_name(set_cookie).is_some_and(|n| self.auth_cookies.contains(n))
    }
}

/// The host the client asked for: `Host`, else the request target's authority (HTTP/2).
fn request_host(request: &RequestHeader) -> Option<&str> {
    request
        .headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri.authority().map(|a| a.as_str()))
}

/// Reads the whole request body for `forwardBody` (`None`: larger than `max`). Pingora keeps
/// what was read (at most 64 KiB, which `max` never exceeds) and sends it to the upstream.
async fn read_body(session: &mut Session, max: usize) -> Result<Option<Bytes>> {
    session.enable_retry_buffering();
    let mut body = BytesMut::new();
    while let Some(chunk) = session.read_request_body().await? {
        if body.len() + chunk.len() > max {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body.freeze()))
}

/// A reply with a status and no body (as Traefik answers these cases).
fn bare(status: StatusCode) -> Reply {
    Reply {
        status,
        headers: Vec::new(),
        body: Bytes::new(),
    }
}
