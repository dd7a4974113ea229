//! Which requests count as one source (Traefik's `sourceCriterion`): the key a limiter counts by.

use pingora_http::RequestHeader;
use std::net::IpAddr;

/// How a request's source key is taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceCriterion {
    /// The client IP pylon trusts (the default).
    ClientIp,
    /// The client IP, IPv6 addresses reduced to their `/bits` subnet (`ipStrategy.ipv6Subnet`).
    ClientIpSubnet { ipv6_subnet: u8 },
    /// The `depth`-th address from the right of `X-Forwarded-For` (1 = the rightmost),
    /// skipping `excluded` addresses; falls back to the client IP. IPv6 addresses are reduced
    /// to their `/ipv6_subnet` subnet when set.
    ForwardedDepth {
        depth: usize,
        excluded: Vec<IpAddr>,
        ipv6_subnet: Option<u8>,
    },
    /// The value of a request header (missing: one shared empty key).
    Header(http::HeaderName),
    /// The requested host.
    Host,
}

impl SourceCriterion {
    /// The key of this request.
    pub fn key(&self, req: &RequestHeader, client_ip: IpAddr) -> String {
        match self {
            SourceCriterion::ClientIp => canonical(client_ip).to_string(),
            SourceCriterion::ClientIpSubnet { ipv6_subnet } => {
                subnet(canonical(client_ip), Some(*ipv6_subnet)).to_string()
            }
            SourceCriterion::ForwardedDepth {
                depth,
                excluded,
                ipv6_subnet,
            } => req
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|s| s.trim().parse::<IpAddr>().ok())
                .map(canonical)
                .filter(|ip| !excluded.contains(ip))
                .collect::<Vec<_>>()
                .iter()
                .rev()
                .nth(depth.saturating_sub(1))
                .copied()
                .map(|ip| subnet(ip, *ipv6_subnet))
                .unwrap_or_else(|| subnet(canonical(client_ip), *ipv6_subnet))
                .to_string(),
            SourceCriterion::Header(name) => bounded(
                req.headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or(""),
            ),
            SourceCriterion::Host => bounded(
                &req.headers
                    .get(http::header::HOST)
                    .and_then(|v| v.to_str().ok())
                    .or_else(|| req.uri.host())
                    .unwrap_or("")
                    .to_ascii_lowercase(),
            ),
        }
    }
}

/// The longest key kept as the client sent it; longer ones are counted by their digest.
pub const MAX_KEY_BYTES: usize = 256;

/// `value` as a key of at most `MAX_KEY_BYTES` (a client chooses header values, up to the head
/// limit): longer values become `sha256:` and their digest, still one key per value.
fn bounded(value: &str) -> String {
    if value.len() <= MAX_KEY_BYTES {
        return value.to_string();
    }
    let digest = openssl::sha::sha256(value.as_bytes());
    let mut key = String::with_capacity(7 + 64);
    key.push_str("sha256:");
    for b in digest {
        key.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        key.push(char::from(b"0123456789abcdef"[usize::from(b & 0xf)]));
    }
    key
}

/// `::ffff:a.b.c.d` counts as `a.b.c.d`.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// An IPv6 address reduced to the first address of its `/bits` subnet; IPv4 unchanged.
pub fn subnet(ip: IpAddr, bits: Option<u8>) -> IpAddr {
    match (ip, bits) {
        (IpAddr::V6(v6), Some(bits)) => {
            let bits = u32::from(bits.min(128));
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            IpAddr::V6((u128::from(v6) & mask).into())
        }
        _ => ip,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_from_headers_are_bounded_and_still_tell_values_apart() {
        let c = SourceCriterion::Header(http::HeaderName::from_static("x-user"));
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let short = c.key(&req(&[("x-user", "alice")]), ip);
        assert_eq!(short, "alice");
        let (a, b) = ("a".repeat(10_000), format!("{}b", "a".repeat(9_999)));
        let (ka, kb) = (
            c.key(&req(&[("x-user", &a)]), ip),
            c.key(&req(&[("x-user", &b)]), ip),
        );
        assert!(ka.len() <= MAX_KEY_BYTES && kb.len() <= MAX_KEY_BYTES);
        assert_ne!(ka, kb);
        assert_eq!(ka, c.key(&req(&[("x-user", &a)]), ip), "stable");
    }

    fn req(headers: &[(&str, &str)]) -> RequestHeader {
        let mut r = RequestHeader::build("GET", b"/", None).unwrap();
        for (k, v) in headers {
            r.append_header(k.to_string(), *v).unwrap();
        }
        r
    }

    #[test]
    fn client_ip_is_the_default_and_mapped_v4_is_v4() {
        let r = req(&[("x-forwarded-for", "9.9.9.9")]);
        let ip: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(SourceCriterion::ClientIp.key(&r, ip), "10.0.0.1");
    }

    #[test]
    fn depth_counts_from_the_right_and_skips_excluded() {
        let r = req(&[
            ("x-forwarded-for", "1.1.1.1, 2.2.2.2"),
            ("x-forwarded-for", "3.3.3.3"),
        ]);
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        let d = |depth, excluded: &[&str]| SourceCriterion::ForwardedDepth {
            depth,
            excluded: excluded.iter().map(|e| e.parse().unwrap()).collect(),
            ipv6_subnet: None,
        };
        assert_eq!(d(1, &[]).key(&r, peer), "3.3.3.3");
        assert_eq!(d(2, &[]).key(&r, peer), "2.2.2.2");
        assert_eq!(d(1, &["3.3.3.3"]).key(&r, peer), "2.2.2.2");
        assert_eq!(d(9, &[]).key(&r, peer), "127.0.0.1");
    }

    #[test]
    fn header_and_host_keys() {
        let r = req(&[("x-api-key", "k1"), ("host", "Example.COM")]);
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        let h = SourceCriterion::Header(http::HeaderName::from_static("x-api-key"));
        assert_eq!(h.key(&r, peer), "k1");
        assert_eq!(SourceCriterion::Host.key(&r, peer), "example.com");
    }

    #[test]
    fn ipv6_subnet_groups_addresses_of_one_prefix() {
        let r = req(&[("x-forwarded-for", "2001:db8:1:2::9, 2001:db8:1:3::9")]);
        let c = SourceCriterion::ClientIpSubnet { ipv6_subnet: 64 };
        let a: IpAddr = "2001:db8:aa:bb:1::1".parse().unwrap();
        let b: IpAddr = "2001:db8:aa:bb:ffff::2".parse().unwrap();
        let other: IpAddr = "2001:db8:aa:bc::1".parse().unwrap();
        assert_eq!(c.key(&r, a), "2001:db8:aa:bb::");
        assert_eq!(c.key(&r, a), c.key(&r, b));
        assert_ne!(c.key(&r, a), c.key(&r, other));
        let v4: IpAddr = "10.1.2.3".parse().unwrap();
        assert_eq!(c.key(&r, v4), "10.1.2.3");
        let d = |depth| SourceCriterion::ForwardedDepth {
            depth,
            excluded: vec![],
            ipv6_subnet: Some(48),
        };
        assert_eq!(d(1).key(&r, v4), "2001:db8:1::");
        assert_eq!(d(2).key(&r, v4), d(1).key(&r, v4));
        assert_eq!(subnet(a, Some(0)), "::".parse::<IpAddr>().unwrap());
        assert_eq!(subnet(a, Some(128)), a);
    }
}
