//! Cleartext HTTP/2 with prior knowledge (h2c), as Traefik's entry points accept it: a plain
//! connection that opens with the HTTP/2 connection preface is served as HTTP/2.
//!
//! Only connections whose first byte is `P` are looked at, and only as far as they agree with
//! the preface: `PUT / HTTP/1.0` (shorter than the 24-byte preface) is told apart as soon as
//! it differs, never left waiting for bytes that will not come.

use pingora::protocols::l4::stream::Stream as L4Stream;
use pingora::protocols::Stream;
use tokio::io::AsyncReadExt;
use tokio::time::Instant;

/// The HTTP/2 connection preface (RFC 9113 §3.4).
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Whether `stream` opens with the preface; what was read is put back either way. An error
/// (the head deadline passed, the peer closed mid-preface) closes the connection.
pub async fn opens_with_preface(
    stream: Stream,
    deadline: Option<Instant>,
) -> Result<(Stream, bool), String> {
    let mut l4 = stream
        .into_any()
        .downcast::<L4Stream>()
        .map_err(|_| "h2c detection needs a TCP connection".to_string())?;
    let mut buf = Vec::with_capacity(PREFACE.len());
    let mut chunk = [0u8; 64];
    loop {
        let n = buf.len().min(PREFACE.len());
        if buf[..n] != PREFACE[..n] {
            l4.rewind(&buf);
            return Ok((l4, false));
        }
        if buf.len() >= PREFACE.len() {
            l4.rewind(&buf);
            return Ok((l4, true));
        }
        let want = (PREFACE.len() - buf.len()).min(chunk.len());
        let read = l4.read(&mut chunk[..want]);
        let got = match deadline {
            Some(at) => tokio::time::timeout_at(at, read)
                .await
                .map_err(|_| "no request within the head deadline".to_string())?,
            None => read.await,
        }
        .map_err(|e| format!("reading the first bytes: {e}"))?;
        if got == 0 {
            l4.rewind(&buf);
            return Ok((l4, false));
        }
        buf.extend_from_slice(&chunk[..got]);
    }
}
