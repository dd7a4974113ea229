//! Entry points end to end: TLS with SNI, default certificate, h2 over ALPN, WebSocket,
//! HTTP → HTTPS redirection, `/ping` precedence, routers bound to entry points.

mod common;

use common::tls::write_cert;
use common::{client, free_port, TestGateway, TestUpstream};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

/// The subject CN of the certificate a TLS server presents for `sni` on `port`.
async fn served_cn(port: u16, sni: &str) -> String {
    use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode};
    let mut b = SslConnector::builder(SslMethod::tls()).unwrap();
    b.set_verify(SslVerifyMode::NONE);
    let connector = b.build();
    let sni = sni.to_string();
    tokio::task::spawn_blocking(move || {
        let tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let tls = connector.connect(&sni, tcp).unwrap();
        let cert = tls.ssl().peer_certificate().unwrap();
        let cn = cert
            .subject_name()
            .entries_by_nid(openssl::nid::Nid::COMMONNAME)
            .next()
            .unwrap()
            .data()
            .to_string()
            .unwrap();
        cn
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn tls_sni_picks_the_certificate_and_unknown_names_get_the_default() {
    let up = TestUpstream::start("secure").await;
    let dir = tempfile::tempdir().unwrap();
    let (a_crt, a_key) = write_cert(dir.path(), "a", &["a.test"]);
    let (b_crt, b_key) = write_cert(dir.path(), "b", &["b.test", "*.b.test"]);
    let port = free_port();
    let config = format!(
        r#"
[entryPoints.websecure]
address = "127.0.0.1:{port}"

[http.routers.r]
rule = "PathPrefix(`/`)"
service = "s"
tls = true

[http.services.s.loadBalancer]
servers = [{{ url = "{}" }}]

[[tls.certificates]]
certFile = "{a_crt}"
keyFile = "{a_key}"
[[tls.certificates]]
certFile = "{b_crt}"
keyFile = "{b_key}"
"#,
        up.url()
    );
    let _gw = TestGateway::start_in(dir, &config, &[port]).await;
    assert_eq!(served_cn(port, "a.test").await, "a.test");
    assert_eq!(served_cn(port, "b.test").await, "b.test");
    assert_eq!(served_cn(port, "x.b.test").await, "b.test");
    assert_eq!(served_cn(port, "other.test").await, "PYLON DEFAULT CERT");

    // h2 over TLS, negotiated by ALPN
    let c = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let r = c
        .get(format!("https://127.0.0.1:{port}/h2"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.version(), reqwest::Version::HTTP_2);
    assert_eq!(r.status(), 200);
    assert_eq!(
        up.last().unwrap().header("x-forwarded-proto"),
        Some("https")
    );

    // the TLS router does not answer plain HTTP on the same port
    let r = client()
        .get(format!("http://127.0.0.1:{port}/plain"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn one_entrypoint_serves_plain_and_tls_routers() {
    let plain = TestUpstream::start("plain").await;
    let secure = TestUpstream::start("secure").await;
    let port = free_port();
    let config = format!(
        r#"
[entryPoints.web]
address = "127.0.0.1:{port}"

[http.routers.plain]
rule = "PathPrefix(`/`)"
service = "plain"
[http.routers.secure]
rule = "PathPrefix(`/`)"
service = "secure"
tls = true

[http.services.plain.loadBalancer]
servers = [{{ url = "{}" }}]
[http.services.secure.loadBalancer]
servers = [{{ url = "{}" }}]
"#,
        plain.url(),
        secure.url()
    );
    let _gw = TestGateway::start(&config, &[port]).await;
    let c = client();
    let r = c
        .get(format!("http://127.0.0.1:{port}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-upstream"], "plain");
    let r = c
        .get(format!("https://127.0.0.1:{port}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-upstream"], "secure");
}

#[tokio::test]
async fn http_redirects_to_https_and_ping_takes_precedence() {
    let up = TestUpstream::start("app").await;
    let web = free_port();
    let websecure = free_port();
    let config = format!(
        r#"
[entryPoints.web]
address = "127.0.0.1:{web}"
[entryPoints.web.http.redirections.entryPoint]
to = "websecure"
scheme = "https"

[entryPoints.websecure]
address = "127.0.0.1:{websecure}"

[ping]
entryPoint = "web"

[http.routers.app]
rule = "PathPrefix(`/`)"
service = "app"
entryPoints = ["websecure"]
tls = true
[http.services.app.loadBalancer]
servers = [{{ url = "{}" }}]
"#,
        up.url()
    );
    let _gw = TestGateway::start(&config, &[web, websecure]).await;
    let c = client();
    let r = c
        .get(format!("http://localhost:{web}/a/b?c=d"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        301,
        "Traefik's entry point redirection is permanent by default"
    );
    assert_eq!(
        r.headers()["location"],
        format!("https://localhost:{websecure}/a/b?c=d")
    );
    let r = c
        .post(format!("http://localhost:{web}/form"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 308);

    let r = c
        .get(format!("http://127.0.0.1:{web}/ping"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "OK");

    // routers are bound to their entry points: the app router is not on `web` even over TLS
    let r = c
        .get(format!("https://127.0.0.1:{web}/x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = c
        .get(format!("https://127.0.0.1:{websecure}/x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-upstream"], "app");
    // ping is only on its entry point
    let r = c
        .get(format!("https://127.0.0.1:{websecure}/ping"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-upstream"], "app");
}

#[tokio::test]
async fn entrypoint_tls_section_makes_routers_tls_by_default() {
    let up = TestUpstream::start("app").await;
    let port = free_port();
    let config = format!(
        r#"
[entryPoints.websecure]
address = "127.0.0.1:{port}"
[entryPoints.websecure.http.tls]

[http.routers.app]
rule = "PathPrefix(`/`)"
service = "app"
[http.services.app.loadBalancer]
servers = [{{ url = "{}" }}]
"#,
        up.url()
    );
    let _gw = TestGateway::start(&config, &[port]).await;
    let c = client();
    assert_eq!(
        c.get(format!("https://127.0.0.1:{port}/"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        c.get(format!("http://127.0.0.1:{port}/"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn websocket_upgrades_are_proxied_both_ways() {
    let up = TestUpstream::start("ws").await;
    let port = free_port();
    let config = format!(
        r#"
[entryPoints.web]
address = "127.0.0.1:{port}"
[http.routers.ws]
rule = "PathPrefix(`/ws`)"
service = "ws"
[http.services.ws.loadBalancer]
servers = [{{ url = "{}" }}]
"#,
        up.url()
    );
    let _gw = TestGateway::start(&config, &[port]).await;
    let (mut ws, resp) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/ws"))
        .await
        .expect("websocket handshake through pylon");
    assert_eq!(resp.status(), 101);
    for i in 0..5 {
        let text = format!("hello {i}");
        ws.send(Message::text(text.clone())).await.unwrap();
        let echo = match ws.next().await {
            Some(Ok(m)) => m,
            other => panic!("no echo: {other:?}\npylon log:\n{}", _gw.log()),
        };
        assert_eq!(echo.into_text().unwrap().as_str(), text);
    }
    assert_eq!(up.last().unwrap().header("x-forwarded-proto"), Some("ws"));
}
