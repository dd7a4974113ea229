//! `X-Forwarded-*` and `X-Real-Ip` on the upstream request, as Traefik sets them.
//!
//! From an untrusted peer every client-sent copy is dropped and pylon's values are set; from a
//! trusted peer (entry point `forwardedHeaders.trustedIPs`) the client's values are kept and the
//! peer is appended to `X-Forwarded-For`.

use crate::runtime::entrypoint::{canonical_ip, TrustedNets};
use http::{header, HeaderName, HeaderValue};
use pingora::http::RequestHeader;
use pingora::Result;
use std::io::Write;
use std::net::IpAddr;
use std::sync::OnceLock;

pub const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
pub const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
pub const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
pub const X_FORWARDED_PORT: HeaderName = HeaderName::from_static("x-forwarded-port");
pub const X_FORWARDED_SERVER: HeaderName = HeaderName::from_static("x-forwarded-server");
pub const X_FORWARDED_PREFIX: HeaderName = HeaderName::from_static("x-forwarded-prefix");
pub const X_REAL_IP: HeaderName = HeaderName::from_static("x-real-ip");

const ALL: [HeaderName; 7] = [
    X_FORWARDED_FOR,
    X_FORWARDED_PROTO,
    X_FORWARDED_HOST,
    X_FORWARDED_PORT,
    X_FORWARDED_SERVER,
    X_FORWARDED_PREFIX,
    X_REAL_IP,
];

/// The facts the forwarded headers are made of.
pub struct Forwarding<'a> {
    pub peer_ip: IpAddr,
    pub trusted: bool,
    pub tls: bool,
    pub websocket: bool,
    /// The entry point's port (as a header value), used when the Host header carries none.
    pub entrypoint_port: HeaderValue,
    /// Add the peer to `X-Forwarded-For` (`notAppendXForwardedFor` turns it off).
    pub append_forwarded_for: bool,
    /// The prefix removed by stripPrefix middlewares, if any.
    pub stripped_prefix: Option<&'a str>,
}

/// This machine's host name, looked up once.
fn server_name() -> &'static HeaderValue {
    static NAME: OnceLock<HeaderValue> = OnceLock::new();
    NAME.get_or_init(|| {
        let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "pylon".to_string());
        HeaderValue::from_str(&name).unwrap_or(HeaderValue::from_static("pylon"))
    })
}

/// Headers an upstream may read as facts pylon vouches for, which pylon never sets itself and
/// so drops from untrusted peers (Traefik's list, plus RFC 7239 `Forwarded`).
const VOUCHED: [HeaderName; 5] = [
    HeaderName::from_static("x-forwarded-uri"),
    HeaderName::from_static("x-forwarded-method"),
    HeaderName::from_static("x-forwarded-tls-client-cert"),
    HeaderName::from_static("x-forwarded-tls-client-cert-info"),
    header::FORWARDED,
];

/// Removes every client-sent forwarded header (the peer is not a trusted forwarder), and the
/// `_` spellings of them (`X_Forwarded_For`), which CGI-style servers read as the same header.
pub fn strip_untrusted(req: &mut RequestHeader) {
    // One pass over the client's header names (usually a handful) rather than a lookup per
    // forwarded name: nothing to remove is the common case.
    if !req.headers.keys().any(|k| is_forwarded_name(k.as_str())) {
        return;
    }
    let spoofed: Vec<HeaderName> = req
        .headers
        .keys()
        .filter(|k| is_forwarded_name(k.as_str()))
        .cloned()
        .collect();
    for name in spoofed {
        req.remove_header(&name);
    }
}

/// Whether `name` (lower case) is a forwarded header, or its `_` spelling.
fn is_forwarded_name(name: &str) -> bool {
    ALL.iter().chain(VOUCHED.iter()).any(|h| {
        let h = h.as_str();
        h.len() == name.len()
            && h.bytes()
                .zip(name.bytes())
                .all(|(a, b)| a == b || (a == b'-' && b == b'_'))
    })
}

/// The client behind trusted forwarders: walking `X-Forwarded-For` from the right, the first
/// address that is not in `trusted.nets` (the peer, when every hop is trusted or the header is
/// absent or malformed). `forwardedHeaders.insecure` trusts peers to send the header but not
/// every address in it: only the listed nets are skipped, so a client cannot pick its own key.
pub fn client_behind(req: &RequestHeader, peer: IpAddr, trusted: &TrustedNets) -> IpAddr {
    let mut client = peer;
    for value in req.headers.get_all(X_FORWARDED_FOR).iter().rev() {
        let Ok(text) = value.to_str() else {
            return client;
        };
        for hop in text.rsplit(',') {
            let Ok(ip) = hop.trim().parse::<IpAddr>() else {
                return client;
            };
            client = ip;
            if !trusted.nets.iter().any(|n| n.contains(&canonical_ip(ip))) {
                return ip;
            }
        }
    }
    client
}

/// Sets the forwarded headers on `req` (the request about to go upstream).
pub fn apply(req: &mut RequestHeader, f: &Forwarding<'_>) -> Result<()> {
    let keep = |req: &RequestHeader, name: &HeaderName| f.trusted && req.headers.contains_key(name);
    // An untrusted peer's copies were removed before any middleware ran (the gateway's
    // `strip_untrusted`); what is here now a middleware set (passTLSClientCert's headers).
    // The peer address, formatted once on the stack and shared by two headers.
    let mut buf = [0u8; 48];
    let len = write_ip(&mut buf, f.peer_ip);
    let peer = HeaderValue::from_bytes(&buf[..len])
        .map_err(|_| pingora::Error::explain(pingora::ErrorType::InternalError, "peer address"))?;

    // X-Forwarded-For: append the peer to a trusted chain, else replace.
    let chained = match req.headers.get(&X_FORWARDED_FOR).map(|v| v.as_bytes()) {
        Some(prev) if f.trusted && !prev.is_empty() => {
            let mut v = Vec::with_capacity(prev.len() + 2 + len);
            v.extend_from_slice(prev);
            v.extend_from_slice(b", ");
            v.extend_from_slice(&buf[..len]);
            Some(v)
        }
        _ => None,
    };
    // `notAppendXForwardedFor`: the header as the client sent it (dropped from untrusted
    // peers above), none added when absent
    match chained {
        _ if !f.append_forwarded_for => {}
        Some(v) => req.insert_header(wire::X_FORWARDED_FOR, v)?,
        None => req.insert_header(wire::X_FORWARDED_FOR, peer.clone())?,
    }

    if !keep(req, &X_REAL_IP) {
        req.insert_header(wire::X_REAL_IP, peer)?;
    }
    if !keep(req, &X_FORWARDED_PROTO) {
        let proto = match (f.tls, f.websocket) {
            (true, true) => "wss",
            (false, true) => "ws",
            (true, false) => "https",
            (false, false) => "http",
        };
        req.insert_header(wire::X_FORWARDED_PROTO, proto)?;
    }
    let host = req.headers.get(header::HOST).cloned().or_else(|| {
        req.uri
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
    });
    if !keep(req, &X_FORWARDED_HOST) {
        if let Some(h) = &host {
            req.insert_header(wire::X_FORWARDED_HOST, h.clone())?;
        }
    }
    if !keep(req, &X_FORWARDED_PORT) {
        match host.as_ref().and_then(|h| port_slice(h.as_bytes())) {
            Some(port) => req.insert_header(wire::X_FORWARDED_PORT, port)?,
            None => req.insert_header(wire::X_FORWARDED_PORT, f.entrypoint_port.clone())?,
        }
    }
    req.insert_header(wire::X_FORWARDED_SERVER, server_name().clone())?;
    if let Some(prefix) = f.stripped_prefix {
        req.insert_header(wire::X_FORWARDED_PREFIX, prefix)?;
    }
    Ok(())
}

/// The port of a `host:port` / `[v6]:port` authority, if it has one.
/// The names as `&'static str`: Pingora takes them as written (no lookup of a title-case
/// spelling, no copy), giving the same lower-case bytes on the wire as the `HeaderName`s.
mod wire {
    pub const X_FORWARDED_FOR: &str = "x-forwarded-for";
    pub const X_FORWARDED_PROTO: &str = "x-forwarded-proto";
    pub const X_FORWARDED_HOST: &str = "x-forwarded-host";
    pub const X_FORWARDED_PORT: &str = "x-forwarded-port";
    pub const X_FORWARDED_SERVER: &str = "x-forwarded-server";
    pub const X_FORWARDED_PREFIX: &str = "x-forwarded-prefix";
    pub const X_REAL_IP: &str = "x-real-ip";
}

/// Writes `ip` in its usual text form into `buf` (48 bytes hold any IPv6 address); its length.
/// IPv4 by hand (the common case, without the formatting machinery), IPv6 through `Display`.
fn write_ip(buf: &mut [u8; 48], ip: IpAddr) -> usize {
    match ip {
        IpAddr::V4(v4) => {
            let mut at = 0;
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    buf[at] = b'.';
                    at += 1;
                }
                if octet >= 100 {
                    buf[at] = b'0' + octet / 100;
                    at += 1;
                }
                if octet >= 10 {
                    buf[at] = b'0' + (octet / 10) % 10;
                    at += 1;
                }
                buf[at] = b'0' + octet % 10;
                at += 1;
            }
            at
        }
        IpAddr::V6(_) => {
            let mut cursor = std::io::Cursor::new(&mut buf[..]);
            let _ = write!(cursor, "{ip}");
            cursor.position() as usize
        }
    }
}

fn port_slice(authority: &[u8]) -> Option<HeaderValue> {
    let after_v6 = authority
        .iter()
        .rposition(|b| *b == b']')
        .map_or(0, |i| i + 1);
    let colon = authority[after_v6..].iter().rposition(|b| *b == b':')? + after_v6;
    let digits = &authority[colon + 1..];
    let valid = !digits.is_empty() && digits.len() <= 5 && digits.iter().all(u8::is_ascii_digit);
    valid
        .then(|| HeaderValue::from_bytes(digits).ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_written_as_display_writes_them() {
        for text in [
            "0.0.0.0",
            "1.2.3.4",
            "10.0.100.255",
            "127.0.0.1",
            "99.9.199.20",
            "::1",
            "2001:db8::17",
        ] {
            let ip: IpAddr = text.parse().unwrap();
            let mut buf = [0u8; 48];
            let len = write_ip(&mut buf, ip);
            assert_eq!(&buf[..len], ip.to_string().as_bytes());
        }
    }

    #[test]
    fn forwarded_names_and_their_underscore_spellings_are_recognised() {
        assert!(is_forwarded_name("x-forwarded-for") && is_forwarded_name("x_forwarded_for"));
        assert!(is_forwarded_name("x-real_ip") && is_forwarded_name("forwarded"));
        assert!(!is_forwarded_name("x-forwarded-fox") && !is_forwarded_name("host"));
    }

    use crate::proxy::test_request::get_with as req;

    fn fwd(trusted: bool) -> Forwarding<'static> {
        Forwarding {
            append_forwarded_for: true,
            peer_ip: "10.0.0.9".parse().unwrap(),
            trusted,
            tls: true,
            websocket: false,
            entrypoint_port: HeaderValue::from_static("8443"),
            stripped_prefix: Some("/api"),
        }
    }

    fn get<'a>(r: &'a RequestHeader, name: &str) -> &'a str {
        r.headers.get(name).unwrap().to_str().unwrap()
    }

    #[test]
    fn untrusted_peer_values_are_overwritten() {
        let mut r = req(&[
            ("host", "example.com:9000"),
            ("x-forwarded-for", "6.6.6.6"),
            ("x-real-ip", "6.6.6.6"),
            ("x-forwarded-proto", "gopher"),
            ("x-forwarded-prefix", "/evil"),
        ]);
        apply(&mut r, &fwd(false)).unwrap();
        assert_eq!(get(&r, "x-forwarded-for"), "10.0.0.9");
        assert_eq!(get(&r, "x-real-ip"), "10.0.0.9");
        assert_eq!(get(&r, "x-forwarded-proto"), "https");
        assert_eq!(get(&r, "x-forwarded-host"), "example.com:9000");
        assert_eq!(get(&r, "x-forwarded-port"), "9000");
        assert_eq!(get(&r, "x-forwarded-prefix"), "/api");
        assert_eq!(r.headers.get_all("x-forwarded-for").iter().count(), 1);
        assert!(!get(&r, "x-forwarded-server").is_empty());
    }

    #[test]
    fn trusted_peer_values_are_kept_and_chain_extended() {
        let mut r = req(&[
            ("host", "example.com"),
            ("x-forwarded-for", "1.2.3.4"),
            ("x-real-ip", "1.2.3.4"),
            ("x-forwarded-proto", "http"),
        ]);
        apply(&mut r, &fwd(true)).unwrap();
        assert_eq!(get(&r, "x-forwarded-for"), "1.2.3.4, 10.0.0.9");
        assert_eq!(get(&r, "x-real-ip"), "1.2.3.4");
        assert_eq!(get(&r, "x-forwarded-proto"), "http");
        assert_eq!(get(&r, "x-forwarded-port"), "8443");
    }

    #[test]
    fn port_parsing_handles_v6() {
        assert_eq!(port_slice(b"[::1]:81").unwrap(), "81");
        assert_eq!(port_slice(b"[::1]"), None);
        assert_eq!(port_slice(b"a.b"), None);
        assert_eq!(port_slice(b"a.b:x"), None);
    }
}
