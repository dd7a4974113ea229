//! Evaluates a parsed rule against one request, described by a borrowed `RequestFacts`.
//!
//! Semantics follow Traefik v3 (`pkg/muxer/http/matcher.go`):
//!
//! * `Host`: case-insensitive; the request host is compared without its port
//!   (and without `[]` around an IPv6 literal) and without one trailing dot;
//!   so is the rule's host. As in Traefik v3.7, ``Host(`*.example.com`)``
//!   matches exactly one more label (`a.example.com`, not `example.com` nor
//!   `a.b.example.com`) and ``Host(`*`)`` any non-empty host.
//! * `HostRegexp`: unanchored, case-sensitive regexp run on the request host
//!   lower-cased and without port (a trailing dot is kept, as in Traefik).
//! * `Path`: exact, case-sensitive. `PathPrefix`: plain byte-string prefix, so
//!   ``PathPrefix(`/api`)`` also matches `/apis`. `PathRegexp`: unanchored.
//!   All three see `RequestFacts::path` as given (no decoding here).
//! * `Method`: the rule's method is upper-cased when parsed and compared
//!   exactly with the request method, so ``Method(`get`)`` matches `GET` but a
//!   request whose method is literally `get` matches nothing (as in Traefik).
//! * `Header` / `HeaderRegexp`: header names are case-insensitive; the value
//!   test (exact, or unanchored regexp) passes if any of the header's values
//!   (one per header line) passes.
//! * `Query(key, value)`: some decoded `key=value` pair of the query string
//!   matches. `Query(key)` matches a key present with an *empty* value
//!   (`?mobile` or `?mobile=`), not `?mobile=true`: that is Traefik v3's
//!   behaviour. Decoding is Go's `url.ParseQuery`: `+` is a space, `%XX` a
//!   byte, pairs with a bad escape or a `;` are ignored.
//! * `ClientIP`: IPs or CIDRs; an IPv4-mapped IPv6 client (`::ffff:a.b.c.d`) is
//!   tested as the IPv4 address.
//!
//! Only `Query` with a value needing decoding, `QueryRegexp` on an encoded
//! value and `HostRegexp` on a host longer than 256 bytes with upper case
//! allocate.

use std::borrow::Cow;
use std::net::IpAddr;

use super::ast::{Expr, Matcher};

#[cfg(test)]
mod tests;

/// A borrowed view of one request: everything a rule can look at.
#[derive(Debug, Clone, Copy)]
pub struct RequestFacts<'a> {
    /// As received (Host header or `:authority`); may hold a port and upper case.
    pub host: &'a str,
    /// Path only, no query.
    pub path: &'a str,
    /// Raw query string without `?`.
    pub query: Option<&'a str>,
    pub method: &'a str,
    pub headers: &'a http::HeaderMap,
    pub client_ip: IpAddr,
}

impl Expr {
    /// Whether the request satisfies this rule.
    pub fn matches(&self, req: &RequestFacts<'_>) -> bool {
        match self {
            Expr::Matcher(m) => m.matches(req),
            Expr::Not(inner) => !inner.matches(req),
            Expr::And(items) => items.iter().all(|e| e.matches(req)),
            Expr::Or(items) => items.iter().any(|e| e.matches(req)),
        }
    }
}

impl Matcher {
    /// Whether the request satisfies this single matcher.
    pub fn matches(&self, req: &RequestFacts<'_>) -> bool {
        match self {
            Matcher::Host(hosts) => {
                let host = strip_trailing_dot(host_without_port(req.host));
                !host.is_empty() && hosts.iter().any(|h| host_matches(h, host))
            }
            Matcher::HostRegexp(re) => {
                with_ascii_lowercase(host_without_port(req.host), |h| re.is_match(h))
            }
            Matcher::Path(paths) => paths.iter().any(|p| p == req.path),
            Matcher::PathPrefix(prefixes) => prefixes.iter().any(|p| req.path.starts_with(p)),
            Matcher::PathRegexp(re) => re.is_match(req.path),
            Matcher::Method(methods) => methods.iter().any(|m| m == req.method),
            Matcher::Header { name, value } => req
                .headers
                .get_all(name)
                .iter()
                .any(|v| v.as_bytes() == value.as_bytes()),
            Matcher::HeaderRegexp { name, regex } => {
                req.headers.get_all(name).iter().any(|v| {
                    std::str::from_utf8(v.as_bytes()).is_ok_and(|text| regex.is_match(text))
                })
            }
            Matcher::Query { key, value } => {
                let want = value.as_deref().unwrap_or("");
                query_pairs(req.query).any(|(k, v)| {
                    decoded_eq(k, key) == Some(true) && decoded_eq(v, want) == Some(true)
                })
            }
            Matcher::QueryRegexp { key, regex } => query_pairs(req.query).any(|(k, v)| {
                decoded_eq(k, key) == Some(true)
                    && decode(v).is_some_and(|text| regex.is_match(&text))
            }),
            Matcher::ClientIp(nets) => {
                let ip = unmap_ip(req.client_ip);
                nets.iter().any(|net| net.contains(&ip))
            }
            // TCP matchers: the parser refuses them in HTTP rules
            Matcher::HostSni(_) | Matcher::HostSniRegexp(_) | Matcher::Alpn(_) => false,
        }
    }
}

/// A borrowed view of one new TCP connection: what a TCP rule can look at.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionFacts<'a> {
    /// The ClientHello's server name (`None`: no TLS, or no SNI).
    pub sni: Option<&'a str>,
    /// The protocols the ClientHello offers (ALPN).
    pub alpn: &'a [String],
    pub client_ip: IpAddr,
}

impl Expr {
    /// Whether the connection satisfies this TCP rule.
    pub fn matches_connection(&self, conn: &ConnectionFacts<'_>) -> bool {
        match self {
            Expr::Matcher(m) => m.matches_connection(conn),
            Expr::Not(inner) => !inner.matches_connection(conn),
            Expr::And(items) => items.iter().all(|e| e.matches_connection(conn)),
            Expr::Or(items) => items.iter().any(|e| e.matches_connection(conn)),
        }
    }
}

impl Matcher {
    /// Whether the connection satisfies this single TCP matcher (HTTP matchers never do).
    pub fn matches_connection(&self, conn: &ConnectionFacts<'_>) -> bool {
        match self {
            Matcher::HostSni(names) => names.iter().any(|n| {
                n == "*"
                    || conn
                        .sni
                        .is_some_and(|sni| host_matches(n, strip_trailing_dot(sni)))
            }),
            Matcher::HostSniRegexp(re) => conn
                .sni
                .is_some_and(|sni| with_ascii_lowercase(sni, |s| re.is_match(s))),
            Matcher::Alpn(protocols) => protocols.iter().any(|p| conn.alpn.contains(p)),
            Matcher::ClientIp(nets) => {
                let ip = unmap_ip(conn.client_ip);
                nets.iter().any(|net| net.contains(&ip))
            }
            _ => false,
        }
    }
}

/// The host part of a `host[:port]` authority; `[v6]` and `[v6]:port` give
/// `v6`; a bare IPv6 literal (several colons, no brackets) is kept whole.
/// Whether `host` (without port nor trailing dot) is the rule's host `rule` (lower case): the
/// same name, or one label under a `*.` name, or any name for `*`.
pub fn host_matches(rule: &str, host: &str) -> bool {
    if rule == "*" {
        return true;
    }
    match rule.strip_prefix("*.") {
        None => rule.eq_ignore_ascii_case(host),
        Some(suffix) => host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest.eq_ignore_ascii_case(suffix)),
    }
}

pub fn host_without_port(raw: &str) -> &str {
    if let Some(rest) = raw.strip_prefix('[') {
        return match rest.find(']') {
            Some(end) => &rest[..end],
            None => raw,
        };
    }
    match raw.rfind(':') {
        Some(colon) if !raw[..colon].contains(':') => &raw[..colon],
        _ => raw,
    }
}

/// `example.com.` → `example.com` (one dot only).
pub(crate) fn strip_trailing_dot(host: &str) -> &str {
    host.strip_suffix('.').unwrap_or(host)
}

/// Call `f` with `s` lower-cased (ASCII), using a stack buffer when `s` has
/// upper case and fits in 256 bytes, so the usual case does not allocate.
pub(crate) fn with_ascii_lowercase<R>(s: &str, f: impl FnOnce(&str) -> R) -> R {
    if !s.bytes().any(|b| b.is_ascii_uppercase()) {
        return f(s);
    }
    let mut buf = [0u8; 256];
    if let Some(out) = buf.get_mut(..s.len()) {
        out.copy_from_slice(s.as_bytes());
        out.make_ascii_lowercase();
        // Lower-casing ASCII bytes keeps UTF-8 valid, so this always succeeds.
        if let Ok(lower) = std::str::from_utf8(out) {
            return f(lower);
        }
    }
    f(&s.to_ascii_lowercase())
}

/// IPv4-mapped IPv6 addresses become the IPv4 address.
pub(crate) fn unmap_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Raw `(key, value)` pairs of a query string, as Go's `url.ParseQuery` splits
/// it: on `&`, skipping empty pairs and pairs containing `;`.
fn query_pairs(query: Option<&str>) -> impl Iterator<Item = (&str, &str)> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.contains(';'))
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Query-decode `raw` byte by byte, calling `sink` for each decoded byte.
/// Returns `None` on a malformed `%` escape.
fn decode_each(raw: &str, mut sink: impl FnMut(u8)) -> Option<()> {
    let bytes = raw.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => sink(b' '),
            b'%' => {
                let hi = hex(*bytes.get(i + 1)?)?;
                let lo = hex(*bytes.get(i + 2)?)?;
                sink(hi << 4 | lo);
                i += 2;
            }
            other => sink(other),
        }
        i += 1;
    }
    Some(())
}

/// Whether the query-decoded `raw` equals `want`, without allocating;
/// `None` when `raw` is malformed.
fn decoded_eq(raw: &str, want: &str) -> Option<bool> {
    let want = want.as_bytes();
    let mut pos = 0;
    let mut equal = true;
    decode_each(raw, |b| {
        equal &= want.get(pos) == Some(&b);
        pos += 1;
    })?;
    Some(equal && pos == want.len())
}

/// The query-decoded `raw` (invalid UTF-8 replaced), or `None` when malformed.
fn decode(raw: &str) -> Option<Cow<'_, str>> {
    if !raw.contains(['%', '+']) {
        return Some(Cow::Borrowed(raw));
    }
    let mut out = Vec::with_capacity(raw.len());
    decode_each(raw, |b| out.push(b))?;
    Some(Cow::Owned(String::from_utf8_lossy(&out).into_owned()))
}
