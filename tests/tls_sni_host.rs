//! Security review, point 5: the TLS policy is chosen from the SNI, the route from the Host, so
//! a request whose host is governed by other `tls.options` than its handshake is answered 421
//! Misdirected Request (as Traefik does), over HTTP/1.1 and HTTP/2; a server name with an empty
//! label (`secure.test..`) is refused in the handshake instead of falling to the default policy.

mod common;

use common::tls::write_cert;
use common::{free_port, TestGateway, TestUpstream};
use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode, SslVersion};
use std::io::{Read, Write};

/// `secure.test` requires TLS 1.3 (its router's options), `open.test` has the defaults.
async fn start() -> (TestGateway, u16, TestUpstream) {
    let up = TestUpstream::start("app").await;
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let mut certs = String::new();
    for name in ["secure.test", "open.test"] {
        let (c, k) = write_cert(dir.path(), name, &[name]);
        certs.push_str(&format!(
            "[[tls.certificates]]\ncertFile = \"{c}\"\nkeyFile = \"{k}\"\n"
        ));
    }
    let cfg = format!(
        r#"[entryPoints.websecure]
address = "127.0.0.1:{port}"
[entryPoints.websecure.http.tls]
[http.routers.secure]
rule = "Host(`secure.test`)"
service = "app"
[http.routers.secure.tls]
options = "strict"
[http.routers.open]
rule = "Host(`open.test`)"
service = "app"
tls = true
[http.services.app.loadBalancer]
servers = [{{ url = "{}" }}]
[tls.options.strict]
minVersion = "VersionTLS13"
{certs}"#,
        up.url()
    );
    (TestGateway::start_in(dir, &cfg, &[port]).await, port, up)
}

/// An HTTP/1.1 GET with `host` over a TLS connection made with `sni` at `version`: the status
/// line, or the handshake error.
async fn get(
    port: u16,
    sni: Option<&str>,
    version: SslVersion,
    host: &str,
) -> Result<String, String> {
    let mut b = SslConnector::builder(SslMethod::tls()).unwrap();
    b.set_verify(SslVerifyMode::NONE);
    b.set_min_proto_version(Some(version)).unwrap();
    b.set_max_proto_version(Some(version)).unwrap();
    let connector = b.build();
    let (sni, host) = (sni.map(str::to_string), host.to_string());
    tokio::task::spawn_blocking(move || {
        let tcp = std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
        tcp.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let mut cfg = connector.configure().unwrap();
        cfg.set_use_server_name_indication(false);
        cfg.set_verify_hostname(false);
        let mut ssl = cfg.into_ssl("ignored").unwrap();
        if let Some(sni) = &sni {
            ssl.set_hostname(sni).unwrap();
        }
        let mut tls = ssl.connect(tcp).map_err(|e| format!("handshake: {e:?}"))?;
        write!(
            tls,
            "GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = Vec::new();
        let _ = tls.read_to_end(&mut out);
        let text = String::from_utf8_lossy(&out).to_string();
        Ok(text.lines().next().unwrap_or("").to_string())
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_host_under_stricter_options_than_the_handshake_is_misdirected() {
    let (_gw, port, _up) = start().await;
    let tls12 = SslVersion::TLS1_2;
    // the control: each name on its own handshake is served
    let ok = get(port, Some("secure.test"), SslVersion::TLS1_3, "secure.test").await;
    assert_eq!(ok.unwrap(), "HTTP/1.1 200 OK");
    let ok = get(
        port,
        Some("secure.test"),
        SslVersion::TLS1_3,
        "SECURE.test.",
    )
    .await;
    assert_eq!(ok.unwrap(), "HTTP/1.1 200 OK");
    let ok = get(port, Some("open.test"), tls12, "open.test").await;
    assert_eq!(ok.unwrap(), "HTTP/1.1 200 OK");
    // and the strict name refuses TLS 1.2
    assert!(get(port, Some("secure.test"), tls12, "secure.test")
        .await
        .is_err());
    // the bypass: a TLS 1.2 handshake under the open name (or none), then the strict host
    for sni in [Some("open.test"), None] {
        for host in ["secure.test", "Secure.Test.", "secure.test:443"] {
            let got = get(port, sni, tls12, host).await;
            assert_eq!(
                got.as_deref(),
                Ok("HTTP/1.1 421 Misdirected Request"),
                "SNI {sni:?}, Host {host}"
            );
        }
    }
}

#[tokio::test]
async fn a_server_name_with_an_empty_label_is_refused_in_the_handshake() {
    let (_gw, port, _up) = start().await;
    for sni in ["secure.test..", "secure..test"] {
        let got = get(port, Some(sni), SslVersion::TLS1_2, "secure.test").await;
        let err = got.expect_err(sni);
        assert!(err.contains("handshake"), "{sni}: {err}");
    }
}

#[tokio::test]
async fn http2_authority_is_checked_like_the_host() {
    let (_gw, port, _up) = start().await;
    let body = tokio::task::spawn_blocking(move || {
        // the control: the open name's authority on its own handshake is proxied
        let mut tls = common::h2::connect(port, Some("open.test"));
        let served = common::h2::get_body(&mut tls, "open.test");
        // the bypass attempt: the strict name's authority on the open name's handshake
        let mut tls = common::h2::connect(port, Some("open.test"));
        let refused = common::h2::get_body(&mut tls, "secure.test");
        (served, refused)
    })
    .await
    .unwrap();
    let (served, refused) = (
        String::from_utf8_lossy(&body.0).to_string(),
        String::from_utf8_lossy(&body.1).to_string(),
    );
    assert!(
        !served.is_empty() && !served.contains("misdirected"),
        "{served:?}"
    );
    assert!(refused.contains("421 misdirected request"), "{refused:?}");
}
