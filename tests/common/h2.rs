//! A raw HTTP/2 client over TLS for tests that must send what well-behaved clients do not:
//! frames built by hand, HPACK from the static table and literals (no Huffman, no dynamic table).

use openssl::ssl::{SslConnector, SslMethod, SslStream, SslVerifyMode};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

pub const DATA: u8 = 0x0;
pub const HEADERS: u8 = 0x1;
pub const SETTINGS: u8 = 0x4;
pub const GOAWAY: u8 = 0x7;
pub const END_STREAM: u8 = 0x1;
pub const END_HEADERS: u8 = 0x4;

/// One frame: 9-byte header, then `payload`.
pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut f = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags];
    f.extend_from_slice(&(stream & 0x7fff_ffff).to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// The frames in a chunk of server output, as (type, stream, payload), assuming the chunk
/// starts on a frame boundary.
pub fn frames(bytes: &[u8]) -> Vec<(u8, u32, &[u8])> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 9 <= bytes.len() {
        let len =
            ((bytes[at] as usize) << 16) | ((bytes[at + 1] as usize) << 8) | bytes[at + 2] as usize;
        let id = [bytes[at + 5], bytes[at + 6], bytes[at + 7], bytes[at + 8]];
        let stream = u32::from_be_bytes(id) & 0x7fff_ffff;
        let end = (at + 9 + len).min(bytes.len());
        out.push((bytes[at + 3], stream, &bytes[at + 9..end]));
        at += 9 + len;
    }
    out
}

/// HPACK for `GET https://<authority>/`: the static table's `:method GET`, `:scheme https`,
/// `:path /`, and `:authority` as a literal without indexing.
pub fn get(authority: &str) -> Vec<u8> {
    let mut block = vec![0x82, 0x87, 0x84, 0x01, authority.len() as u8];
    block.extend_from_slice(authority.as_bytes());
    block
}

/// A TLS connection to 127.0.0.1:`port` speaking HTTP/2 (ALPN h2), with SNI `sni` when given;
/// preface and empty SETTINGS sent.
pub fn connect(port: u16, sni: Option<&str>) -> SslStream<TcpStream> {
    let mut builder = SslConnector::builder(SslMethod::tls_client()).expect("tls");
    builder.set_verify(SslVerifyMode::NONE);
    builder.set_alpn_protos(b"\x02h2").expect("alpn");
    let connector = builder.build();
    let tcp = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut cfg = connector.configure().expect("configure");
    cfg.set_use_server_name_indication(sni.is_some());
    cfg.set_verify_hostname(false);
    let mut tls = cfg
        .connect(sni.unwrap_or("ignored"), tcp)
        .expect("TLS handshake");
    assert_eq!(tls.ssl().selected_alpn_protocol(), Some(&b"h2"[..]));
    tls.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .expect("preface");
    tls.write_all(&frame(SETTINGS, 0, 0, &[]))
        .expect("settings");
    tls
}

/// Sends one GET on stream 1 and returns the first DATA the server sent on it (these tests'
/// bodies are short), empty if none came within 5 s or the server went away.
pub fn get_body(tls: &mut SslStream<TcpStream>, authority: &str) -> Vec<u8> {
    tls.write_all(&frame(
        HEADERS,
        END_HEADERS | END_STREAM,
        1,
        &get(authority),
    ))
    .expect("write");
    let mut buf = vec![0u8; 1 << 16];
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let Ok(n) = tls.read(&mut buf) else { break };
        if n == 0 {
            break;
        }
        for (kind, stream, payload) in frames(&buf[..n]) {
            match kind {
                DATA if stream == 1 && !payload.is_empty() => return payload.to_vec(),
                GOAWAY => return Vec::new(),
                _ => {}
            }
        }
    }
    Vec::new()
}
