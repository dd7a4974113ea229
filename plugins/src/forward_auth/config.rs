//! `forwardAuth`'s settings (Traefik's keys) and their build: every check names its key, and
//! what runs (the auth address, the header sets, the TLS client) is made here once.

use super::client::{AuthClient, ClientTls};
use super::ForwardAuth;
use crate::build::{BuildCx, BuildResult, Problems};
use crate::duration::Duration;
use http::{HeaderName, Uri};
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::time::Duration as StdDuration;

/// The most of a request body sent to the auth server (`forwardBody`): Pingora replays at most
/// 64 KiB of a body pylon has read to the upstream, so a larger limit could not be honoured.
pub const MAX_FORWARDED_BODY: i64 = 64 * 1024;
/// The default bound on the auth server's answer (Traefik has none by default).
pub const DEFAULT_MAX_RESPONSE_BODY: i64 = 1024 * 1024;
/// The default bound on one auth check, connect to the end of the answer (Traefik's client
/// timeout).
pub const DEFAULT_TIMEOUT: StdDuration = StdDuration::from_secs(30);

/// Traefik's `forwardAuth`, plus pylon's `timeout`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    pub address: Option<String>,
    pub tls: Option<TlsConfig>,
    pub trust_forward_header: Option<bool>,
    pub auth_response_headers: Option<Vec<String>>,
    pub auth_response_headers_regex: Option<String>,
    pub auth_request_headers: Option<Vec<String>>,
    pub add_auth_cookies_to_response: Option<Vec<String>>,
    pub header_field: Option<String>,
    pub forward_body: Option<bool>,
    pub max_body_size: Option<i64>,
    pub max_response_body_size: Option<i64>,
    pub preserve_location_header: Option<bool>,
    pub preserve_request_method: Option<bool>,
    #[serde(rename = "authSigninURL", alias = "authSigninUrl")]
    pub auth_signin_url: Option<String>,
    /// pylon extension: the bound on one check (default 30 s, Traefik's fixed client timeout).
    pub timeout: Option<Duration>,
}

/// `forwardAuth.tls`: how pylon connects to an `https://` auth server.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TlsConfig {
    pub ca: Option<String>,
    pub cert: Option<String>,
    pub key: Option<String>,
    pub insecure_skip_verify: Option<bool>,
    pub ca_optional: Option<bool>,
}

/// Checks every setting and builds the middleware with its pooled client.
pub fn build(cfg: &Config, cx: &BuildCx) -> BuildResult<ForwardAuth> {
    let mut problems = Problems::new(cx, "forwardAuth");
    let address = check_address(cfg.address.as_deref(), &mut problems);
    let response_headers = header_names(
        "authResponseHeaders",
        cfg.auth_response_headers.as_deref(),
        &mut problems,
    );
    let request_headers = header_names(
        "authRequestHeaders",
        cfg.auth_request_headers.as_deref(),
        &mut problems,
    );
    let response_regex = cfg
        .auth_response_headers_regex
        .as_deref()
        .filter(|r| !r.is_empty())
        .and_then(|r| match Regex::new(&format!("(?i){r}")) {
            Ok(re) => Some(re),
            Err(e) => {
                problems.push(
                    "authResponseHeadersRegex",
                    format!("`{r}` is not a regular expression: {e}"),
                    Some("write e.g. authResponseHeadersRegex = \"^X-Auth-\"".into()),
                );
                None
            }
        });
    let header_field = cfg
        .header_field
        .as_deref()
        .filter(|f| !f.is_empty())
        .and_then(|f| one_header_name("headerField", f, &mut problems));
    let forward_body = cfg.forward_body.unwrap_or(false);
    let max_body = body_limit(cfg, forward_body, &mut problems);
    let max_response_body = match cfg.max_response_body_size {
        None => Some(DEFAULT_MAX_RESPONSE_BODY as usize),
        Some(-1) => None,
        Some(n) if n >= 0 => usize::try_from(n).ok(),
        Some(n) => {
            problems.push(
                "maxResponseBodySize",
                format!("{n} is not a size"),
                Some("write a size in bytes (-1: no limit; default 1048576)".into()),
            );
            None
        }
    };
    let signin = cfg
        .auth_signin_url
        .as_deref()
        .filter(|u| !u.is_empty())
        .and_then(|u| match http::HeaderValue::from_str(u) {
            Ok(v) if u.parse::<Uri>().is_ok() => Some(v),
            _ => {
                problems.push(
                    "authSigninURL",
                    format!("`{u}` is not a URL"),
                    Some("write e.g. authSigninURL = \"https://auth.example.com/login\"".into()),
                );
                None
            }
        });
    let timeout = cfg.timeout.map_or(DEFAULT_TIMEOUT, |t| t.get());
    if timeout.is_zero() {
        problems.push(
            "timeout",
            "a zero timeout would fail every check",
            Some("write e.g. timeout = \"5s\" (default 30s)".into()),
        );
    }
    let tls = cfg
        .tls
        .as_ref()
        .and_then(|t| client_tls(t, cx, &mut problems));
    let cookies: HashSet<String> = cfg
        .add_auth_cookies_to_response
        .iter()
        .flatten()
        .filter(|c| !c.is_empty())
        .cloned()
        .collect();
    let client = match AuthClient::new(tls.as_ref(), timeout) {
        Ok(client) => Some(client),
        Err((field, message)) => {
            problems.push(field, message, None);
            None
        }
    };
    // Every `None` here has pushed its problem.
    let (Some(address), Some(client)) = (address, client) else {
        return Err(problems.into_errors());
    };
    let trust = cfg.trust_forward_header.unwrap_or(false);
    problems.finish(|| ForwardAuth {
        name: cx.name.to_string(),
        client,
        address,
        trust_forward_header: trust,
        request_headers: super::headers::allowed_request_headers(request_headers, trust),
        response_headers,
        response_regex,
        auth_cookies: cookies,
        header_field,
        forward_body,
        max_body,
        max_response_body,
        preserve_location: cfg.preserve_location_header.unwrap_or(false),
        preserve_method: cfg.preserve_request_method.unwrap_or(false),
        signin,
        timeout,
    })
}

/// The auth server's URL: `http://` or `https://` with a host.
fn check_address(address: Option<&str>, problems: &mut Problems) -> Option<Uri> {
    let hint = || Some("write e.g. address = \"http://authelia:9091/api/verify\"".to_string());
    let Some(text) = address.filter(|a| !a.trim().is_empty()) else {
        problems.push("address", "no auth server address is set", hint());
        return None;
    };
    match text.parse::<Uri>() {
        Ok(uri)
            if matches!(uri.scheme_str(), Some("http" | "https"))
                && uri.host().is_some_and(|h| !h.is_empty()) =>
        {
            Some(uri)
        }
        _ => {
            problems.push(
                "address",
                format!("`{text}` is not an http:// or https:// URL with a host"),
                hint(),
            );
            None
        }
    }
}

/// A list of header names, each checked.
fn header_names(field: &str, names: Option<&[String]>, problems: &mut Problems) -> Vec<HeaderName> {
    names
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter_map(|(i, n)| one_header_name(&format!("{field}[{i}]"), n, problems))
        .collect()
}

fn one_header_name(field: &str, name: &str, problems: &mut Problems) -> Option<HeaderName> {
    match HeaderName::from_bytes(name.trim().as_bytes()) {
        Ok(h) => Some(h),
        Err(_) => {
            problems.push(
                field,
                format!("`{name}` is not a header name"),
                Some("write a name such as X-Auth-User".into()),
            );
            None
        }
    }
}

/// `maxBodySize` when the body is forwarded: 1 to 64 KiB (default 64 KiB).
fn body_limit(cfg: &Config, forward_body: bool, problems: &mut Problems) -> usize {
    let limit = cfg.max_body_size.unwrap_or(MAX_FORWARDED_BODY);
    if cfg.max_body_size.is_some() && !forward_body {
        problems.push(
            "maxBodySize",
            "has no effect without forwardBody = true",
            Some("set forwardBody = true, or remove maxBodySize".into()),
        );
    }
    if !(0..=MAX_FORWARDED_BODY).contains(&limit) {
        problems.push(
            "maxBodySize",
            format!("{limit} is outside 0..={MAX_FORWARDED_BODY}: pylon forwards bodies of at most 64 KiB to the auth server (Pingora replays at most that much to the upstream)"),
            Some(format!("write maxBodySize = {MAX_FORWARDED_BODY} or less; larger bodies are refused with 401, as Traefik does")),
        );
    }
    usize::try_from(limit.clamp(0, MAX_FORWARDED_BODY)).unwrap_or(0)
}

/// Reads the TLS files through the host (so their contents are part of the fingerprint).
fn client_tls(t: &TlsConfig, cx: &BuildCx, problems: &mut Problems) -> Option<ClientTls> {
    if t.ca_optional.is_some() {
        problems.push(
            "tls.caOptional",
            "is a server-side option with no effect on a client (deprecated in Traefik)",
            Some("remove tls.caOptional".into()),
        );
    }
    let mut read = |field: &str, path: &Option<String>| -> Option<String> {
        let path = path.as_deref().filter(|p| !p.is_empty())?;
        match (cx.read_file)(path) {
            Ok(text) => Some(text),
            Err(e) => {
                problems.push(field, e, None);
                None
            }
        }
    };
    let ca = read("tls.ca", &t.ca);
    let cert = read("tls.cert", &t.cert);
    let key = read("tls.key", &t.key);
    if cert.is_some() != key.is_some() {
        problems.push(
            if cert.is_some() {
                "tls.key"
            } else {
                "tls.cert"
            },
            "a client certificate needs both tls.cert and tls.key",
            None,
        );
    }
    Some(ClientTls {
        ca,
        cert_and_key: cert.zip(key),
        insecure_skip_verify: t.insecure_skip_verify.unwrap_or(false),
    })
}
