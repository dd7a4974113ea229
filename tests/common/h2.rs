//! A raw HTTP/2 client over TLS for tests that must send what well-behaved clients do not:
//! frames built by hand, HPACK from the static table and literals (no Huffman, no dynamic table).

use openssl::ssl::{SslConnector, SslMethod, SslStream, SslVerifyMode};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

pub const DATA: u8 = 0x0;
pub const HEADERS: u8 = 0x1;
pub const RST_STREAM: u8 = 0x3;
pub const SETTINGS: u8 = 0x4;
pub const PING: u8 = 0x6;
pub const GOAWAY: u8 = 0x7;
pub const WINDOW_UPDATE: u8 = 0x8;
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

/// One frame read off the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub kind: u8,
    pub flags: u8,
    pub stream: u32,
    pub payload: Vec<u8>,
}

/// Splits server output into frames across reads: bytes are pushed as they arrive and only
/// whole frames come out (a TLS read may end in the middle of one).
#[derive(Default)]
pub struct FrameReader {
    pending: Vec<u8>,
}

impl FrameReader {
    /// Adds `bytes` and returns every frame now complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Frame> {
        self.pending.extend_from_slice(bytes);
        let mut out = Vec::new();
        let mut at = 0;
        while at + 9 <= self.pending.len() {
            let b = &self.pending[at..];
            let len = ((b[0] as usize) << 16) | ((b[1] as usize) << 8) | b[2] as usize;
            if b.len() < 9 + len {
                break;
            }
            let stream = u32::from_be_bytes([b[5], b[6], b[7], b[8]]) & 0x7fff_ffff;
            out.push(Frame {
                kind: b[3],
                flags: b[4],
                stream,
                payload: b[9..9 + len].to_vec(),
            });
            at += 9 + len;
        }
        self.pending.drain(..at);
        out
    }
}

/// An HPACK integer with an `prefix`-bit prefix, the first byte's other bits set to `first`.
pub fn hpack_int(first: u8, prefix: u32, mut value: usize) -> Vec<u8> {
    let max = (1usize << prefix) - 1;
    if value < max {
        return vec![first | value as u8];
    }
    let mut out = vec![first | max as u8];
    value -= max;
    while value >= 128 {
        out.push((value % 128) as u8 | 0x80);
        value /= 128;
    }
    out.push(value as u8);
    out
}

/// HPACK "literal header field without indexing, new name": `name` and `value` sent as they are
/// (no Huffman), so a test can send bytes an encoder would refuse (upper case, CR, LF, NUL).
pub fn literal(name: &[u8], value: &[u8]) -> Vec<u8> {
    let mut out = vec![0x00];
    out.extend(hpack_int(0, 7, name.len()));
    out.extend_from_slice(name);
    out.extend(hpack_int(0, 7, value.len()));
    out.extend_from_slice(value);
    out
}

/// A header block of literal fields only, in order (pseudo-headers included).
pub fn block(fields: &[(&[u8], &[u8])]) -> Vec<u8> {
    fields.iter().flat_map(|(n, v)| literal(n, v)).collect()
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
