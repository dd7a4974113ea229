//! Content-Type end to end: pylon never adds a `Content-Type` the upstream did not send (Traefik
//! v3's default), with or without `contentType { autoDetect = false }`; detection (`contentType`
//! without `autoDetect = false`) is refused by `pylon check` naming the key and the reason.

mod common;

use common::gateway::run_pylon;
use common::{client, free_port, TestGateway};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const HTML: &str = "<!DOCTYPE html><html><body>hi</body></html>";

/// An upstream answering every request 200 with an HTML body and no `Content-Type`.
async fn untyped_upstream() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{HTML}",
                    HTML.len()
                );
                let _ = s.write_all(reply.as_bytes()).await;
            });
        }
    });
    format!("http://127.0.0.1:{port}")
}

fn config(port: u16, upstream: &str, middleware: &str) -> String {
    format!(
        r#"[entryPoints.web]
address = "127.0.0.1:{port}"

[http.routers.plain]
rule = "PathPrefix(`/plain`)"
service = "s"

[http.routers.typed]
rule = "PathPrefix(`/typed`)"
service = "s"
middlewares = ["ct"]

[http.middlewares.ct.contentType]
{middleware}

[http.services.s.loadBalancer]
servers = [{{ url = "{upstream}" }}]
"#
    )
}

#[tokio::test]
async fn no_content_type_is_added_to_an_untyped_response() {
    let upstream = untyped_upstream().await;
    let port = free_port();
    let _gw = TestGateway::start(&config(port, &upstream, "autoDetect = false"), &[port]).await;
    for path in ["/plain", "/typed"] {
        let r = client()
            .get(format!("http://127.0.0.1:{port}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert!(
            r.headers().get("content-type").is_none(),
            "{path}: pylon added {:?}",
            r.headers().get("content-type")
        );
        assert_eq!(r.text().await.unwrap(), HTML, "{path}");
    }
}

#[test]
fn detection_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pylon.toml");
    let text = config(8000, "http://127.0.0.1:1", "autoDetect = true");
    std::fs::write(&path, text).unwrap();
    let (code, out) = run_pylon(&["check", "--config", path.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("http.middlewares.ct.contentType.autoDetect: detecting the Content-Type"),
        "{out}"
    );
    assert!(out.contains("Pingora sends the response head"), "{out}");
}
