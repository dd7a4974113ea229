//! Reads a TLS ClientHello's server name (SNI) and offered protocols (ALPN) from the start of a
//! connection without consuming it (the bytes stay for the TLS handshake or the passthrough
//! backend). Parsing by the `tls-parser` crate.

use pingora::protocols::Stream;
use tls_parser::{
    parse_tls_extensions, parse_tls_plaintext, SNIType, TlsExtension, TlsMessage,
    TlsMessageHandshake,
};

/// A TLS record header: type, version, length.
const RECORD_HEADER: usize = 5;
/// The largest record a ClientHello may come in (2^14 plus room for padding extensions).
const MAX_RECORD: usize = 16 * 1024 + 2048;

/// What a ClientHello says about where the client wants to go.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Hello {
    /// The server name, lower-cased (`None`: no SNI).
    pub sni: Option<String>,
    pub alpn: Vec<String>,
}

/// Peeks the first TLS record of `stream` (which starts with a handshake byte) and reads its
/// ClientHello; errors say why it is not one.
pub async fn peek(stream: &mut Stream) -> Result<Hello, String> {
    let mut header = [0u8; RECORD_HEADER];
    stream
        .try_peek(&mut header)
        .await
        .map_err(|e| format!("reading the TLS record header: {e}"))?;
    let length = usize::from(u16::from_be_bytes([header[3], header[4]]));
    if length == 0 || length > MAX_RECORD {
        return Err(format!(
            "a TLS record of {length} bytes is not a ClientHello"
        ));
    }
    let mut record = vec![0u8; RECORD_HEADER + length];
    stream
        .try_peek(&mut record)
        .await
        .map_err(|e| format!("reading the ClientHello: {e}"))?;
    parse(&record)
}

/// Reads the server name and ALPN protocols of the ClientHello in `record`.
pub fn parse(record: &[u8]) -> Result<Hello, String> {
    let (_, plaintext) =
        parse_tls_plaintext(record).map_err(|_| "not a TLS handshake record".to_string())?;
    let hello = plaintext
        .msg
        .iter()
        .find_map(|m| match m {
            TlsMessage::Handshake(TlsMessageHandshake::ClientHello(hello)) => Some(hello),
            _ => None,
        })
        .ok_or("the first TLS record holds no ClientHello")?;
    let mut out = Hello::default();
    let Some(extensions) = hello.ext else {
        return Ok(out);
    };
    let (_, extensions) =
        parse_tls_extensions(extensions).map_err(|_| "malformed ClientHello extensions")?;
    for extension in extensions {
        match extension {
            TlsExtension::SNI(names) => {
                out.sni = names
                    .iter()
                    .find(|(kind, _)| *kind == SNIType::HostName)
                    .and_then(|(_, name)| std::str::from_utf8(name).ok())
                    .map(|name| name.trim_end_matches('.').to_ascii_lowercase());
            }
            TlsExtension::ALPN(protocols) => {
                out.alpn = protocols
                    .iter()
                    .filter_map(|p| std::str::from_utf8(p).ok())
                    .map(str::to_string)
                    .collect();
            }
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ClientHello made by openssl for `db.example.com` offering `h2`, `http/1.1`.
    fn client_hello(sni: &str) -> Vec<u8> {
        use openssl::ssl::{SslConnector, SslMethod};
        use std::io::{Read, Write};
        // Capture what an openssl client writes first, through a socket pair.
        let (mut ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
        let mut builder = SslConnector::builder(SslMethod::tls()).unwrap();
        builder.set_alpn_protos(b"\x02h2\x08http/1.1").unwrap();
        let connector = builder.build();
        let name = sni.to_string();
        let client = std::thread::spawn(move || {
            let _ = connector.connect(&name, theirs);
        });
        let mut buf = vec![0u8; 4096];
        let n = ours.read(&mut buf).unwrap();
        buf.truncate(n);
        let _ = ours.write_all(b"\x15\x03\x03\x00\x02\x02\x28");
        drop(ours);
        let _ = client.join();
        buf
    }

    #[test]
    fn reads_the_server_name_and_alpn() {
        let hello = parse(&client_hello("DB.example.com")).unwrap();
        assert_eq!(hello.sni.as_deref(), Some("db.example.com"));
        assert_eq!(hello.alpn, ["h2", "http/1.1"]);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bytes in [
            &b""[..],
            b"\x16\x03\x01\x00",
            b"GET / HTTP/1.1\r\n\r\n",
            &[0x16; 64],
        ] {
            assert!(parse(bytes).is_err(), "{bytes:?}");
        }
        let mut truncated = client_hello("a.example");
        truncated.truncate(40);
        assert!(parse(&truncated).is_err());
    }
}
