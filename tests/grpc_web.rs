//! The `grpcWeb` middleware end to end, against a real gRPC server (grpcio, `grpc_backend.py`)
//! behind an `h2c://` service: gRPC-Web calls built here (binary and base64 `-text` framing)
//! go over HTTP/1.1 to pylon, reach the server as gRPC, and come back as gRPC-Web with the
//! trailers (`grpc-status`, `grpc-message`) in the trailer frame; CORS for `allowOrigins`;
//! native gRPC on the same router untouched.

mod common;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::python::{self, PyServer};
use common::{client, free_port, TestGateway};

/// One gRPC message frame: flag 0, length, bytes.
fn frame(msg: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8];
    f.extend_from_slice(&(msg.len() as u32).to_be_bytes());
    f.extend_from_slice(msg);
    f
}

/// A gRPC-Web answer body split into its messages and its trailers (lower-cased lines).
fn parse(mut body: &[u8]) -> (Vec<Vec<u8>>, Vec<(String, String)>) {
    let (mut messages, mut trailers) = (Vec::new(), Vec::new());
    while body.len() >= 5 {
        let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
        let payload = &body[5..5 + len];
        if body[0] & 0x80 != 0 {
            for line in String::from_utf8_lossy(payload).split("\r\n") {
                if let Some((k, v)) = line.split_once(':') {
                    trailers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
                }
            }
        } else {
            messages.push(payload.to_vec());
        }
        body = &body[5 + len..];
    }
    assert!(body.is_empty(), "trailing bytes: {body:?}");
    (messages, trailers)
}

fn trailer<'a>(t: &'a [(String, String)], name: &str) -> Option<&'a str> {
    t.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn config(port: u16, backend: u16) -> String {
    format!(
        r#"[entryPoints.web]
address = "127.0.0.1:{port}"

[http.routers.echo]
rule = "PathPrefix(`/test.Echo/`)"
service = "echo"
middlewares = ["web"]

[http.middlewares.web.grpcWeb]
allowOrigins = ["https://app.test"]

[http.services.echo.loadBalancer]
servers = [{{ url = "h2c://127.0.0.1:{backend}" }}]
"#
    )
}

/// POSTs a gRPC-Web call over HTTP/1.1; returns the status, headers and raw body.
async fn call(
    port: u16,
    method: &str,
    content_type: &str,
    body: Vec<u8>,
    origin: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = client()
        .post(format!("http://127.0.0.1:{port}/test.Echo/{method}"))
        .header("content-type", content_type)
        .header("x-grpc-web", "1")
        .body(body);
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    let r = req.send().await.unwrap();
    assert_eq!(r.version(), reqwest::Version::HTTP_11);
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    (status, headers, r.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn grpc_web_calls_reach_a_grpc_server_and_come_back_with_their_trailers() {
    let backend = PyServer::start("grpc_backend.py", free_port(), &[]);
    let port = free_port();
    let gw = TestGateway::start(&config(port, backend.port), &[port]).await;

    // unary, binary framing
    let (status, h, body) = call(
        port,
        "Unary",
        "application/grpc-web+proto",
        frame(b"hello"),
        Some("https://app.test"),
    )
    .await;
    assert_eq!(status, 200, "{}", gw.log());
    assert_eq!(h["content-type"], "application/grpc-web", "{h:?}");
    assert!(h.get("content-length").is_none());
    let (messages, trailers) = parse(&body);
    assert_eq!(messages, [b"echo:hello".to_vec()]);
    assert_eq!(trailer(&trailers, "grpc-status"), Some("0"), "{trailers:?}");
    // CORS for the allowed origin, with the headers a page may read
    assert_eq!(h["access-control-allow-origin"], "https://app.test");
    assert_eq!(h["access-control-allow-credentials"], "true");
    let exposed = h["access-control-expose-headers"].to_str().unwrap();
    assert!(exposed.contains("Content-Type"), "{exposed}");

    // several messages in one answer
    let (_, _, body) = call(
        port,
        "ServerStream",
        "application/grpc-web",
        frame(b"3"),
        None,
    )
    .await;
    let (messages, trailers) = parse(&body);
    assert_eq!(
        messages,
        [b"part 0".to_vec(), b"part 1".to_vec(), b"part 2".to_vec()]
    );
    assert_eq!(trailer(&trailers, "grpc-status"), Some("0"));

    // a failure: the status and message reach the client (trailer frame, or the head of a
    // trailers-only answer)
    let (status, h, body) = call(port, "Fail", "application/grpc-web", frame(b"x"), None).await;
    assert_eq!(status, 200);
    let (_, trailers) = parse(&body);
    let grpc_status = trailer(&trailers, "grpc-status")
        .map(str::to_string)
        .or_else(|| {
            h.get("grpc-status")
                .map(|v| v.to_str().unwrap().to_string())
        });
    assert_eq!(grpc_status.as_deref(), Some("3"), "{h:?} {trailers:?}");
    let message = trailer(&trailers, "grpc-message")
        .map(str::to_string)
        .or_else(|| {
            h.get("grpc-message")
                .map(|v| v.to_str().unwrap().to_string())
        });
    assert_eq!(message.as_deref(), Some("bad thing happened"));

    // native gRPC (HTTP/2, a real grpcio client) on the same router is left alone
    let target = format!("127.0.0.1:{port}");
    let out =
        tokio::task::spawn_blocking(move || python::run("grpc_client.py", &[&target, "calls"]))
            .await
            .unwrap();
    for want in [
        "Unary OK echo:hello",
        "Bidi OK re:x|re:y",
        "Fail INVALID_ARGUMENT bad thing happened",
    ] {
        assert!(out.contains(want), "{want}:\n{out}\n{}", gw.log());
    }
}

#[tokio::test]
async fn grpc_web_text_bodies_are_base64_both_ways() {
    let backend = PyServer::start("grpc_backend.py", free_port(), &[]);
    let port = free_port();
    let gw = TestGateway::start(&config(port, backend.port), &[port]).await;
    // a client-streaming call: two messages in one base64 body
    let mut plain = frame(b"a");
    plain.extend(frame(b"b"));
    let (status, h, body) = call(
        port,
        "ClientStream",
        "application/grpc-web-text",
        STANDARD.encode(&plain).into_bytes(),
        None,
    )
    .await;
    assert_eq!(status, 200, "{}", gw.log());
    assert_eq!(h["content-type"], "application/grpc-web-text");
    let decoded = STANDARD
        .decode(&body)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&body)));
    let (messages, trailers) = parse(&decoded);
    assert_eq!(messages, [b"a+b".to_vec()]);
    assert_eq!(trailer(&trailers, "grpc-status"), Some("0"));

    // not base64: the call fails at the server, and nothing hangs
    let (status, h, body) = call(
        port,
        "Unary",
        "application/grpc-web-text",
        b"!!!!".to_vec(),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (messages, trailers) = parse(&STANDARD.decode(body).unwrap());
    assert!(messages.is_empty(), "the call ran: {messages:?}");
    assert_ne!(
        grpc_status(&h, &trailers).as_deref(),
        Some("0"),
        "{h:?} {trailers:?}"
    );

    // a client stream: a whole message, then (in a later chunk) not base64. pylon has already
    // sent the message on, and cuts the stream where the server must refuse it: the call is
    // not run on the part before the garbage
    let first = STANDARD.encode(frame(b"hi"));
    let raw = chunked_call(port, &[first.as_bytes(), b"!!!!"]).await;
    let (head, body) = raw.split_at(raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4);
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}\n{}", gw.log());
    let (messages, trailers) = parse(&STANDARD.decode(dechunk(body)).unwrap());
    assert!(messages.is_empty(), "the call ran: {messages:?}");
    let status = trailer(&trailers, "grpc-status")
        .map(str::to_string)
        .or_else(|| {
            head.lines()
                .find_map(|l| l.strip_prefix("grpc-status:").map(|v| v.trim().to_string()))
        });
    assert!(
        status.as_deref().is_some_and(|s| s != "0"),
        "{head} {trailers:?}"
    );
}

fn grpc_status(h: &reqwest::header::HeaderMap, trailers: &[(String, String)]) -> Option<String> {
    trailer(trailers, "grpc-status")
        .map(str::to_string)
        .or_else(|| {
            h.get("grpc-status")
                .map(|v| v.to_str().unwrap().to_string())
        })
}

/// A `-text` ClientStream call whose body goes in `chunks`, 300 ms apart; the raw answer.
async fn chunked_call(port: u16, chunks: &[&[u8]]) -> Vec<u8> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    s.write_all(
        b"POST /test.Echo/ClientStream HTTP/1.1\r\nHost: x\r\nContent-Type: application/grpc-web-text\r\n\
          Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
    )
    .await
    .unwrap();
    for chunk in chunks {
        s.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .await
            .unwrap();
        s.write_all(chunk).await.unwrap();
        s.write_all(b"\r\n").await.unwrap();
        s.flush().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    s.write_all(b"0\r\n\r\n").await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(std::time::Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .expect("pylon answered in time")
        .unwrap();
    out
}

/// A chunked HTTP/1.1 body's bytes.
fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let eol = body.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&body[..eol]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&body[eol + 2..eol + 2 + size]);
        body = &body[eol + 4 + size..];
    }
}

#[tokio::test]
async fn preflights_are_answered_for_allowed_origins_only() {
    let backend = PyServer::start("grpc_backend.py", free_port(), &[]);
    let port = free_port();
    let _gw = TestGateway::start(&config(port, backend.port), &[port]).await;
    let preflight = |origin: &'static str| {
        client()
            .request(
                reqwest::Method::OPTIONS,
                format!("http://127.0.0.1:{port}/test.Echo/Unary"),
            )
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type,x-grpc-web")
            .send()
    };
    let r = preflight("https://app.test").await.unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers();
    assert_eq!(h["access-control-allow-origin"], "https://app.test");
    assert_eq!(h["access-control-allow-methods"], "POST");
    assert_eq!(
        h["access-control-allow-headers"],
        "Content-Type, X-Grpc-Web"
    );
    assert_eq!(h["access-control-max-age"], "600");

    let r = preflight("https://evil.test").await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("access-control-allow-origin").is_none());
    let (_, h, _) = call(
        port,
        "Unary",
        "application/grpc-web",
        frame(b"x"),
        Some("https://evil.test"),
    )
    .await;
    assert!(h.get("access-control-allow-origin").is_none(), "{h:?}");
}
