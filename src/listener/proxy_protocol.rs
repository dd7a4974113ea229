//! PROXY protocol v1 and v2 on an entry point (`proxyProtocol.trustedIPs`, `insecure`): a
//! trusted peer's header (optional) gives the connection its client address; a header from
//! any other peer is refused and the connection closed. Parsing is the `ppp` crate's.
//!
//! The client address replaces the connection's peer address, so `X-Forwarded-For`,
//! `ClientIP`, rate limits, IP allow lists and the access log all see the client.

use crate::runtime::entrypoint::canonical_ip;
use ipnet::IpNet;
use pingora::protocols::l4::socket::SocketAddr;
use pingora::protocols::l4::stream::Stream as L4Stream;
use pingora::protocols::{GetSocketDigest, SocketDigest, Stream};
use ppp::{HeaderResult, PartialResult};
use std::net::IpAddr;
use std::os::unix::io::AsRawFd;
use tokio::io::AsyncReadExt;
use tokio::time::Instant;

/// The start of a version 1 header.
const V1_SIGNATURE: &[u8] = b"PROXY ";
/// The start of a version 2 header.
const V2_SIGNATURE: &[u8] = b"\r\n\r\n\0\r\nQUIT\n";
/// The longest header read (v2 with TLVs; HAProxy sends tens of bytes).
const MAX_HEADER: usize = 4096;

/// Which peers may send a PROXY header.
#[derive(Debug, Clone, Default)]
pub struct ProxyProtocol {
    pub trusted: Vec<IpNet>,
    /// Every peer may (`insecure`).
    pub insecure: bool,
}

impl ProxyProtocol {
    fn trusts(&self, peer: IpAddr) -> bool {
        let peer = canonical_ip(peer);
        self.insecure || self.trusted.iter().any(|n| n.contains(&peer))
    }
}

/// `buf` is, or begins, a PROXY header signature.
fn signature_state(buf: &[u8]) -> Signature {
    let prefix_of = |sig: &[u8]| {
        let n = buf.len().min(sig.len());
        buf[..n] == sig[..n]
    };
    let (v1, v2) = (prefix_of(V1_SIGNATURE), prefix_of(V2_SIGNATURE));
    let whole = (v1 && buf.len() >= V1_SIGNATURE.len()) || (v2 && buf.len() >= V2_SIGNATURE.len());
    match (v1 || v2, whole) {
        (false, _) => Signature::None,
        (true, true) => Signature::Whole,
        (true, false) => Signature::Partial,
    }
}

#[derive(Debug, PartialEq)]
enum Signature {
    None,
    Partial,
    Whole,
}

/// Reads the PROXY header at the start of `stream`, if any, before anything else reads it;
/// what follows the header is put back. An error closes the connection.
pub async fn accept(
    policy: &ProxyProtocol,
    stream: Stream,
    deadline: Option<Instant>,
) -> Result<Stream, String> {
    let mut l4 = stream
        .into_any()
        .downcast::<L4Stream>()
        .map_err(|_| "PROXY protocol needs a TCP connection".to_string())?;
    let peer = l4
        .get_socket_digest()
        .and_then(|d| d.peer_addr().and_then(|a| a.as_inet()).map(|a| a.ip()));
    let mut buf = Vec::with_capacity(256);
    let mut chunk = [0u8; 512];
    loop {
        let state = signature_state(&buf);
        if state == Signature::None && !buf.is_empty() {
            // no header: everything read is the request's
            l4.rewind(&buf);
            return Ok(l4);
        }
        if state == Signature::Whole {
            if !peer.is_some_and(|p| policy.trusts(p)) {
                return Err(format!(
                    "PROXY header from {} refused: not in proxyProtocol.trustedIPs",
                    peer.map_or("an unknown peer".to_string(), |p| p.to_string())
                ));
            }
            let parsed = HeaderResult::parse(&buf);
            if parsed.is_complete() {
                let (source, used) = source_of(&parsed)?;
                let rest = buf[used..].to_vec();
                if let Some(source) = source {
                    set_peer(&mut l4, source);
                }
                l4.rewind(&rest);
                return Ok(l4);
            }
            if buf.len() >= MAX_HEADER {
                return Err("PROXY header longer than 4 KiB".into());
            }
        }
        let read = l4.read(&mut chunk);
        let n = match deadline {
            Some(at) => tokio::time::timeout_at(at, read)
                .await
                .map_err(|_| "PROXY header not in within the head deadline".to_string())?,
            None => read.await,
        }
        .map_err(|e| format!("reading the PROXY header: {e}"))?;
        if n == 0 {
            l4.rewind(&buf);
            return Ok(l4);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// The client's address (`None` for `UNKNOWN`/`LOCAL`: the peer's stays) and the header's size.
fn source_of(parsed: &HeaderResult<'_>) -> Result<(Option<std::net::SocketAddr>, usize), String> {
    use std::net::SocketAddr as Addr;
    match parsed {
        HeaderResult::V1(Ok(h)) => {
            let source = match &h.addresses {
                ppp::v1::Addresses::Tcp4(a) => {
                    Some(Addr::new(a.source_address.into(), a.source_port))
                }
                ppp::v1::Addresses::Tcp6(a) => {
                    Some(Addr::new(a.source_address.into(), a.source_port))
                }
                ppp::v1::Addresses::Unknown => None,
            };
            Ok((source, h.header.len()))
        }
        HeaderResult::V2(Ok(h)) => {
            let source = match (&h.command, &h.addresses) {
                (ppp::v2::Command::Local, _) => None,
                (_, ppp::v2::Addresses::IPv4(a)) => {
                    Some(Addr::new(a.source_address.into(), a.source_port))
                }
                (_, ppp::v2::Addresses::IPv6(a)) => {
                    Some(Addr::new(a.source_address.into(), a.source_port))
                }
                _ => None,
            };
            Ok((source, h.len()))
        }
        HeaderResult::V1(Err(e)) => Err(format!("malformed PROXY v1 header: {e}")),
        HeaderResult::V2(Err(e)) => Err(format!("malformed PROXY v2 header: {e}")),
    }
}

/// Makes `source` the connection's peer address for everything after the listener.
fn set_peer(l4: &mut L4Stream, source: std::net::SocketAddr) {
    let digest = SocketDigest::from_raw_fd(l4.as_raw_fd());
    let _ = digest.peer_addr.set(Some(SocketAddr::Inet(source)));
    l4.set_socket_digest(digest);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_told_from_requests_early() {
        assert_eq!(signature_state(b"GET / HTTP/1.1\r\n"), Signature::None);
        assert_eq!(signature_state(b"PRO"), Signature::Partial);
        assert_eq!(signature_state(b"PROXY TCP4 "), Signature::Whole);
        assert_eq!(signature_state(b"\r\n\r\n\0"), Signature::Partial);
        assert_eq!(
            signature_state(b"\r\n\r\n\0\r\nQUIT\n\x21"),
            Signature::Whole
        );
        assert_eq!(signature_state(b"\x16\x03\x01"), Signature::None);
    }

    #[test]
    fn v1_and_v2_give_the_source_and_their_length() {
        let v1 = b"PROXY TCP4 192.0.2.7 127.0.0.1 5555 80\r\nGET / HTTP/1.1\r\n";
        let (src, used) = source_of(&HeaderResult::parse(v1)).unwrap();
        assert_eq!(src, Some("192.0.2.7:5555".parse().unwrap()));
        assert_eq!(&v1[used..used + 3], b"GET");
        let mut v2 = V2_SIGNATURE.to_vec();
        v2.extend_from_slice(&[
            0x21, 0x11, 0, 12, 198, 51, 100, 9, 127, 0, 0, 1, 0x1f, 0x90, 0, 80,
        ]);
        v2.extend_from_slice(b"GET");
        let (src, used) = source_of(&HeaderResult::parse(&v2)).unwrap();
        assert_eq!(src, Some("198.51.100.9:8080".parse().unwrap()));
        assert_eq!(&v2[used..], b"GET");
    }

    #[test]
    fn trust_follows_the_nets_or_insecure() {
        let p = ProxyProtocol {
            trusted: vec!["127.0.0.1/32".parse().unwrap()],
            insecure: false,
        };
        assert!(p.trusts("127.0.0.1".parse().unwrap()));
        assert!(p.trusts("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!p.trusts("127.0.0.2".parse().unwrap()));
    }
}
