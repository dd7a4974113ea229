//! The server name a ClientHello asks for, read in OpenSSL's client-hello callback (before the
//! protocol version is chosen, so a per-name policy can still set it).

use foreign_types::ForeignTypeRef;
use openssl::ssl::SslRef;

/// TLS extension number of `server_name` (RFC 6066).
const SERVER_NAME_EXTENSION: u32 = 0;
/// `NameType` of a host name in the `server_name` extension.
const HOST_NAME: u8 = 0;

/// What a ClientHello's `server_name` extension holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requested {
    /// No extension, or no host name in it.
    Absent,
    /// A host name, normalised (see [`super::server_name::normalize`]).
    Name(String),
    /// A name that is no host name (an empty label, bytes that are not printable ASCII) or an
    /// extension that does not parse: the handshake is refused.
    Malformed,
}

/// The host name of the ClientHello being processed (only valid inside the client-hello
/// callback).
pub fn requested_server_name(ssl: &SslRef) -> Requested {
    let mut data: *const u8 = std::ptr::null();
    let mut len: usize = 0;
    // SAFETY: `ssl` is a live SSL object inside its client-hello callback, the only place this
    // is called from; OpenSSL sets `data`/`len` to a buffer it owns for the whole callback, or
    // returns 0 and leaves them untouched. The bytes are copied before the callback returns.
    let found = unsafe {
        openssl_sys::SSL_client_hello_get0_ext(
            ssl.as_ptr(),
            SERVER_NAME_EXTENSION,
            &mut data,
            &mut len,
        )
    };
    if found != 1 || data.is_null() {
        return Requested::Absent;
    }
    // SAFETY: as above, `data` points at `len` readable bytes owned by OpenSSL.
    let bytes = unsafe { std::slice::from_raw_parts(data, len) };
    parse_server_name(bytes)
}

/// TLS extension number of `application_layer_protocol_negotiation` (RFC 7301).
const ALPN_EXTENSION: u32 = 16;

/// The ALPN protocol list (wire format, without its 2-byte length) of the ClientHello being
/// processed, if it sent one (only valid inside the client-hello callback).
pub fn offered_alpn(ssl: &SslRef) -> Option<Vec<u8>> {
    let mut data: *const u8 = std::ptr::null();
    let mut len: usize = 0;
    // SAFETY: as in `requested_server_name`: a live SSL object inside its client-hello
    // callback; OpenSSL owns the buffer for the whole callback and the bytes are copied.
    let found = unsafe {
        openssl_sys::SSL_client_hello_get0_ext(ssl.as_ptr(), ALPN_EXTENSION, &mut data, &mut len)
    };
    if found != 1 || data.is_null() {
        return None;
    }
    // SAFETY: as above, `data` points at `len` readable bytes owned by OpenSSL.
    let bytes = unsafe { std::slice::from_raw_parts(data, len) };
    bytes.get(2..).map(<[u8]>::to_vec)
}

/// Parses the `server_name` extension's body: a 2-byte list length, then entries of a 1-byte
/// type and a 2-byte length. The first host name, normalised.
pub fn parse_server_name(ext: &[u8]) -> Requested {
    parse(ext).unwrap_or(Requested::Malformed)
}

fn parse(ext: &[u8]) -> Option<Requested> {
    let list_len = usize::from(u16::from_be_bytes([*ext.first()?, *ext.get(1)?]));
    let list = ext.get(2..2 + list_len)?;
    let mut rest = list;
    while rest.len() >= 3 {
        let kind = rest[0];
        let len = usize::from(u16::from_be_bytes([rest[1], rest[2]]));
        let name = rest.get(3..3 + len)?;
        if kind == HOST_NAME {
            let name = std::str::from_utf8(name).ok()?;
            if !name.bytes().all(|b| b.is_ascii_graphic()) {
                return None;
            }
            let name = super::server_name::normalize(name)?;
            return Some(Requested::Name(name.into_owned()));
        }
        rest = &rest[3 + len..];
    }
    rest.is_empty().then_some(Requested::Absent)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ext(names: &[(u8, &str)]) -> Vec<u8> {
        let mut list = Vec::new();
        for (kind, name) in names {
            list.push(*kind);
            list.extend_from_slice(&(name.len() as u16).to_be_bytes());
            list.extend_from_slice(name.as_bytes());
        }
        let mut out = (list.len() as u16).to_be_bytes().to_vec();
        out.extend(list);
        out
    }

    #[test]
    fn reads_the_host_name() {
        let name = |n: &str| Requested::Name(n.into());
        assert_eq!(
            parse_server_name(&ext(&[(0, "Shop.Test.")])),
            name("shop.test")
        );
        assert_eq!(
            parse_server_name(&ext(&[(7, "x"), (0, "a.test")])),
            name("a.test")
        );
        assert_eq!(parse_server_name(&ext(&[(7, "x")])), Requested::Absent);
    }

    #[test]
    fn refuses_truncated_or_odd_input() {
        let malformed = Requested::Malformed;
        assert_eq!(parse_server_name(&[]), malformed);
        assert_eq!(parse_server_name(&[0, 9, 0, 0, 5, b'a']), malformed);
        let mut bad = ext(&[(0, "a.test")]);
        bad.truncate(bad.len() - 2);
        assert_eq!(parse_server_name(&bad), malformed);
        assert_eq!(parse_server_name(&ext(&[(0, "a b")])), malformed);
        assert_eq!(parse_server_name(&ext(&[(0, "")])), malformed);
        // two trailing dots, an empty label: no host name, refused (not "no SNI")
        assert_eq!(parse_server_name(&ext(&[(0, "b.test..")])), malformed);
        assert_eq!(parse_server_name(&ext(&[(0, "a..test")])), malformed);
        assert_eq!(parse_server_name(&ext(&[(1, "a.test")])), Requested::Absent);
    }
}
