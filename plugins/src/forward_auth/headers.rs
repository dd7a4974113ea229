//! The headers of a forwardAuth exchange, as Traefik writes them: what the auth server is sent
//! (the client's headers, filtered, plus `X-Forwarded-*` facts), what its answer puts on the
//! request (`authResponseHeaders[Regex]`) and where its redirects point.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::Uri;
use regex::Regex;
use std::net::IpAddr;

pub const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
pub const X_FORWARDED_METHOD: HeaderName = HeaderName::from_static("x-forwarded-method");
pub const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
pub const X_FORWARDED_PORT: HeaderName = HeaderName::from_static("x-forwarded-port");
pub const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
pub const X_FORWARDED_URI: HeaderName = HeaderName::from_static("x-forwarded-uri");

/// Traefik's set of `X-Forwarded-*` headers (dropped unless `trustForwardHeader`).
const X_HEADERS: [HeaderName; 11] = [
    X_FORWARDED_FOR,
    X_FORWARDED_METHOD,
    X_FORWARDED_PROTO,
    X_FORWARDED_PORT,
    X_FORWARDED_HOST,
    X_FORWARDED_URI,
    HeaderName::from_static("x-forwarded-prefix"),
    HeaderName::from_static("x-forwarded-server"),
    HeaderName::from_static("x-forwarded-tls-client-cert"),
    HeaderName::from_static("x-forwarded-tls-client-cert-info"),
    HeaderName::from_static("x-real-ip"),
];

/// Headers that belong to one connection, or to the client's own body: never copied to the
/// auth request (its client writes its own `Host` and body framing).
const NOT_COPIED: [HeaderName; 10] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::HOST,
    header::CONTENT_LENGTH,
    header::EXPECT,
];

/// Hop-by-hop headers of the auth server's answer, not passed to the client.
pub const HOP_BY_HOP: [HeaderName; 6] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

/// `authRequestHeaders` as sent: `None` sends every header; with `trustForwardHeader` the
/// `X-Forwarded-*` set is allowed too (as Traefik does).
pub fn allowed_request_headers(names: Vec<HeaderName>, trust: bool) -> Option<Vec<HeaderName>> {
    if names.is_empty() {
        return None;
    }
    let mut names = names;
    if trust {
        names.extend(X_HEADERS.iter().cloned());
    }
    Some(names)
}

/// What the auth server is told about the request.
pub struct RequestFacts<'a> {
    pub method: &'a str,
    /// The request target, path and query (`/app?x=1`).
    pub uri: &'a str,
    /// The `Host` the client asked for.
    pub host: Option<&'a str>,
    pub tls: bool,
    /// The connection's peer (not a forwarded address).
    pub peer: Option<IpAddr>,
}

/// The auth request's headers: the client's, less connection headers (and, unless trusted, its
/// `X-Forwarded-*`), filtered by `authRequestHeaders`, then the `X-Forwarded-*` facts that are
/// not already there.
pub fn auth_request_headers(
    client: &HeaderMap,
    allowed: Option<&[HeaderName]>,
    trust: bool,
    facts: &RequestFacts<'_>,
) -> HeaderMap {
    let listed_in_connection: Vec<HeaderName> = client
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|t| HeaderName::from_bytes(t.trim().as_bytes()).ok())
        .collect();
    let mut out = HeaderMap::with_capacity(client.len() + 6);
    for (name, value) in client {
        let dropped = NOT_COPIED.contains(name)
            || listed_in_connection.contains(name)
            || (!trust && X_HEADERS.contains(name))
            || allowed.is_some_and(|a| !a.contains(name));
        if !dropped {
            out.append(name.clone(), value.clone());
        }
    }
    if let Some(peer) = facts.peer {
        let peer = peer.to_canonical().to_string();
        let chain = match joined(&out, &X_FORWARDED_FOR) {
            Some(prior) => format!("{prior}, {peer}"),
            None => peer,
        };
        set(&mut out, X_FORWARDED_FOR, &chain);
    }
    let proto = if facts.tls { "https" } else { "http" };
    if !out.contains_key(&X_FORWARDED_METHOD) {
        set(&mut out, X_FORWARDED_METHOD, facts.method);
    }
    if !out.contains_key(&X_FORWARDED_PROTO) {
        set(&mut out, X_FORWARDED_PROTO, proto);
    }
    if !out.contains_key(&X_FORWARDED_PORT) {
        let port = forwarded_port(facts.host, &out);
        set(&mut out, X_FORWARDED_PORT, port);
    }
    if !out.contains_key(&X_FORWARDED_HOST) {
        set(&mut out, X_FORWARDED_HOST, facts.host.unwrap_or(""));
    }
    if !out.contains_key(&X_FORWARDED_URI) {
        set(&mut out, X_FORWARDED_URI, facts.uri);
    }
    out
}

/// All values of `name`, joined with ", " (as Go joins a repeated header).
fn joined(map: &HeaderMap, name: &HeaderName) -> Option<String> {
    let values: Vec<&str> = map
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!values.is_empty()).then(|| values.join(", "))
}

fn set(map: &mut HeaderMap, name: HeaderName, value: &str) {
    // Facts come from a request pylon parsed, so they are valid header text; anything else is
    // left out rather than sent mangled.
    if let Ok(v) = HeaderValue::from_str(value) {
        map.insert(name, v);
    }
}

/// The port of the `Host`, else the default port of the forwarded protocol.
fn forwarded_port<'a>(host: Option<&'a str>, out: &HeaderMap) -> &'a str {
    if let Some(port) = host
        .and_then(|h| h.rsplit_once(':'))
        .map(|(_, p)| p)
        .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        return port;
    }
    match out.get(&X_FORWARDED_PROTO).map(|v| v.as_bytes()) {
        Some(b"https" | b"wss") => "443",
        _ => "80",
    }
}

/// What the auth server's answer changes on the request: the names to remove (every
/// `authResponseHeaders` name, and the request's headers matching `authResponseHeadersRegex`, so
/// a client cannot supply `Remote-User` itself) and the answer's headers to add in their place.
pub fn auth_response_headers(
    request: &HeaderMap,
    answer: &HeaderMap,
    names: &[HeaderName],
    regex: Option<&Regex>,
) -> (Vec<HeaderName>, Vec<(HeaderName, HeaderValue)>) {
    let mut remove: Vec<HeaderName> = names.to_vec();
    let mut add = Vec::new();
    for name in names {
        for value in answer.get_all(name) {
            add.push((name.clone(), value.clone()));
        }
    }
    if let Some(re) = regex {
        remove.extend(request.keys().filter(|k| re.is_match(k.as_str())).cloned());
        for (name, value) in answer {
            if re.is_match(name.as_str()) && !names.contains(name) {
                add.push((name.clone(), value.clone()));
            }
        }
    }
    (remove, add)
}

/// The `Location` the client is sent: as the auth server wrote it with
/// `preserveLocationHeader`, else resolved against the auth address (as Go's
/// `Response.Location` does), so `/login` becomes `http://auth:9091/login`.
pub fn location(answer: &HeaderValue, address: &Uri, preserve: bool) -> Option<HeaderValue> {
    let text = answer.to_str().ok()?;
    if preserve || text.contains("://") {
        return Some(answer.clone());
    }
    let scheme = address.scheme_str().unwrap_or("http");
    let authority = address.authority().map_or("", |a| a.as_str());
    let resolved = if let Some(rest) = text.strip_prefix("//") {
        format!("{scheme}://{rest}")
    } else if text.starts_with('/') {
        format!("{scheme}://{authority}{text}")
    } else {
        let path = address.path();
        let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
        format!("{scheme}://{authority}{dir}/{text}")
    };
    HeaderValue::from_str(&resolved).ok()
}

/// The name of the cookie a `Set-Cookie` value sets.
pub fn cookie_name(set_cookie: &HeaderValue) -> Option<&str> {
    let text = set_cookie.to_str().ok()?;
    let (name, _) = text.split_once('=')?;
    Some(name.trim())
}
