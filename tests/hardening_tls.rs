//! Hardening, point 5 (default policy): TLS 1.0 and 1.1 handshakes fail, 1.2 and 1.3 succeed,
//! weak cipher suites are refused, and a trailing-dot SNI gets the same policy (Traefik
//! CVE-2022-23632). The client is built to offer the old protocols (security level 0), so a
//! failure is pylon's refusal, not the client's.

mod common;

use common::tls::handshake;
use common::{free_port, route_all_to, TestGateway, TestUpstream};
use openssl::ssl::SslVersion;

async fn tls_pylon() -> (TestGateway, u16, TestUpstream) {
    let up = TestUpstream::start("app").await;
    let port = free_port();
    let cfg = format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{port}\"\n[entryPoints.web.http.tls]\n{}",
        route_all_to(&up.url())
    );
    (TestGateway::start(&cfg, &[port]).await, port, up)
}

const ALL: &str = "ALL:@SECLEVEL=0";

#[tokio::test]
async fn old_protocols_fail_modern_ones_succeed() {
    let (_gw, port, _up) = tls_pylon().await;
    for sni in ["app.test", "app.test."] {
        for old in [SslVersion::TLS1, SslVersion::TLS1_1] {
            let r = handshake(port, Some(sni), old, ALL).await;
            let err = r.expect_err("an old protocol was accepted");
            // the client could offer it: the refusal came from pylon
            assert!(
                !err.contains("no protocols available"),
                "{sni} {old:?}: {err}"
            );
            assert!(err.contains("protocol version"), "{sni} {old:?}: {err}");
        }
        for good in [SslVersion::TLS1_2, SslVersion::TLS1_3] {
            let r = handshake(port, Some(sni), good, ALL).await;
            assert!(r.is_ok(), "{sni} {good:?}: {r:?}");
        }
    }
}

#[tokio::test]
async fn weak_cipher_suites_are_refused() {
    let (_gw, port, _up) = tls_pylon().await;
    let weak = "NULL:aNULL:eNULL:EXPORT:DES:3DES:RC4:MD5:PSK:SRP:kRSA:@SECLEVEL=0";
    for sni in ["app.test", "app.test."] {
        let r = handshake(port, Some(sni), SslVersion::TLS1_2, weak).await;
        assert!(r.is_err(), "{sni}: weak cipher negotiated: {r:?}");
        // and a strong one is chosen when offered with them
        let r = handshake(port, Some(sni), SslVersion::TLS1_2, ALL).await;
        let cipher = r.unwrap();
        assert!(
            cipher.contains("GCM") || cipher.contains("CHACHA20"),
            "{sni}: negotiated {cipher}"
        );
    }
}
