//! HTTP/1 upgrades (WebSocket) tunnelled by pylon itself, both ways, until either side closes.
//!
//! Pingora 0.9.1 can tear an upgraded connection down right after the `101` when the upstream
//! answers before the proxy has consumed the upgrade request's empty body (cloudflare/pingora
//! issue 946, fix pending upstream): the client gets the `101`, then EOF. On loopback and fast
//! networks that is a coin toss per connection, so pylon relays upgrades here instead: it dials
//! the chosen server with Pingora's connector (TLS when the server is `https`), sends the
//! prepared request head, relays the response head through the response filters, then copies
//! bytes in both directions.
//!
//! Bounds (issue 13 point 8): the upstream's answer waits at most the service's
//! `responseHeaderTimeout` (504) and never past the client's write deadline, which stays in
//! force with the read deadline until the `101` is written; the tunnel then closes after the
//! entry point's `idleTimeout` with no byte moving either way (`upgrade_relay`). Which requests
//! get here at all: `upgrade_policy`.

use bytes::Bytes;
use pingora::connectors::TransportConnector;
use pingora::http::{RequestHeader, ResponseHeader};
use pingora::prelude::HttpPeer;
use pingora::protocols::Stream;
use pingora::{Error, ErrorType, OrErr, Result};
use pingora_proxy::Session;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

/// Largest upstream response head accepted.
const MAX_HEAD: usize = 64 * 1024;

/// Opens the upstream connection for an upgrade and sends the request head.
pub async fn connect(
    connector: &TransportConnector,
    peer: &HttpPeer,
    request: &RequestHeader,
) -> Result<Stream> {
    let mut stream = connector.new_stream(peer).await?;
    let head = serialize_request(request);
    stream.write_all(&head).await.or_err(
        ErrorType::WriteError,
        "sending the upgrade request upstream",
    )?;
    stream
        .flush()
        .await
        .or_err(ErrorType::WriteError, "flushing the upgrade request")?;
    Ok(stream)
}

/// Reads the upstream's response head; returns it and any bytes that followed it.
pub async fn read_response(stream: &mut Stream) -> Result<(ResponseHeader, Bytes)> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream
            .read(&mut chunk)
            .await
            .or_err(ErrorType::ReadError, "reading the upgrade response")?;
        if n == 0 {
            return Error::e_explain(
                ErrorType::ConnectionClosed,
                "upstream closed before answering the upgrade",
            );
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut parsed = httparse::Response::new(&mut headers);
        match parsed.parse(&buf) {
            Ok(httparse::Status::Complete(len)) => {
                let code = parsed.code.unwrap_or(502);
                let mut resp = ResponseHeader::build(code, Some(parsed.headers.len()))?;
                for h in parsed.headers.iter() {
                    resp.append_header(h.name.to_string(), h.value)?;
                }
                return Ok((resp, Bytes::copy_from_slice(&buf[len..])));
            }
            Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => continue,
            Ok(httparse::Status::Partial) => {
                return Error::e_explain(
                    ErrorType::InvalidHTTPHeader,
                    "upgrade response head too large",
                )
            }
            Err(e) => {
                return Error::e_explain(
                    ErrorType::InvalidHTTPHeader,
                    format!("bad upgrade response: {e}"),
                )
            }
        }
    }
}

/// How waiting for the upstream's answer to an upgrade ended.
pub enum Answer {
    /// Its response head and the bytes that followed it.
    Head(Box<ResponseHeader>, Bytes),
    /// An answer that is not a response head (closed, garbage, too large).
    Bad(Box<Error>),
    /// No head within the service's `responseHeaderTimeout`.
    TooSlow,
    /// No head before the client's response deadline (`writeTimeout`) passed.
    ClientDeadline,
}

/// Waits for the upstream's response head, at most `header_timeout` (the service's
/// `responseHeaderTimeout`) and never past `client_deadline` (the client connection's write
/// deadline, still in force until the `101` is relayed).
pub async fn await_answer(
    stream: &mut Stream,
    header_timeout: Option<Duration>,
    client_deadline: Option<Instant>,
) -> Answer {
    let header_at = header_timeout.map(|d| Instant::now() + d);
    let at = match (header_at, client_deadline) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let answer = |read: Result<(ResponseHeader, Bytes)>| match read {
        Ok((head, early)) => Answer::Head(Box::new(head), early),
        Err(e) => Answer::Bad(e),
    };
    let Some(at) = at else {
        return answer(read_response(stream).await);
    };
    match tokio::time::timeout_at(at, read_response(stream)).await {
        Ok(read) => answer(read),
        Err(_) if client_deadline == Some(at) => Answer::ClientDeadline,
        Err(_) => Answer::TooSlow,
    }
}

/// The upstream refused the upgrade (any status but `101`): its answer goes to the client and
/// the client connection is closed after it. No client byte is relayed, so nothing the client
/// pipelined behind the upgrade request can reach the upstream unparsed (the class of Pingora
/// CVE-2026-2833). A body is relayed when it has a `Content-Length` or ends at close; a chunked
/// refusal becomes a bodiless `502` (pylon would otherwise re-frame the chunks).
pub async fn forward_refusal(
    session: &mut Session,
    upstream: &mut Stream,
    mut response: ResponseHeader,
    early: Bytes,
) -> Result<()> {
    session.set_keepalive(None);
    if response
        .headers
        .contains_key(http::header::TRANSFER_ENCODING)
    {
        let bad = ResponseHeader::build(502, Some(1))?;
        session.write_response_header(Box::new(bad), true).await?;
        return Ok(());
    }
    let length = response
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if length.is_none() {
        response.insert_header(http::header::CONNECTION, "close")?;
    }
    let mut left = length.unwrap_or(usize::MAX);
    let head_only = left == 0 || session.req_header().method == http::Method::HEAD;
    session
        .write_response_header(Box::new(response), head_only)
        .await?;
    if head_only {
        return Ok(());
    }
    let mut chunk = early;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if !chunk.is_empty() {
            let take = chunk.len().min(left);
            left -= take;
            session
                .write_response_body(Some(chunk.slice(..take)), false)
                .await?;
        }
        if left == 0 {
            break;
        }
        let read = tokio::time::timeout(REFUSAL_READ_TIMEOUT, upstream.read(&mut buf)).await;
        match read {
            Ok(Ok(0)) => break,
            Ok(Ok(n)) => chunk = Bytes::copy_from_slice(&buf[..n]),
            Ok(Err(e)) => return Err(e).or_err(ErrorType::ReadError, "reading a refused upgrade"),
            Err(_) => {
                return Error::e_explain(ErrorType::ReadTimedout, "refused upgrade body too slow")
            }
        }
    }
    session.write_response_body(None, true).await
}

/// How long a refused upgrade's body may pause between reads.
const REFUSAL_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

fn serialize_request(req: &RequestHeader) -> Vec<u8> {
    let target = req.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let mut out = Vec::with_capacity(256 + req.headers.len() * 32);
    out.extend_from_slice(req.method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    for (name, value) in req.headers.iter() {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_the_request_head() {
        let mut r = RequestHeader::build("GET", b"/ws?x=1", None).unwrap();
        r.insert_header("Host", "a").unwrap();
        r.insert_header("Upgrade", "websocket").unwrap();
        let s = String::from_utf8(serialize_request(&r)).unwrap();
        assert_eq!(
            s,
            "GET /ws?x=1 HTTP/1.1\r\nhost: a\r\nupgrade: websocket\r\n\r\n"
        );
    }
}
