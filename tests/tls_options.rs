//! `tls.options` applied per server name, as Traefik does: a router's options govern the hosts
//! of its `Host` rule (minVersion, maxVersion, cipherSuites), the `default` options the rest,
//! and `sniStrict` refuses a missing or unknown server name. A trailing-dot name gets the same
//! policy (Traefik CVE-2022-23632).

mod common;

use common::tls::{handshake, write_cert};
use common::{free_port, TestGateway, TestUpstream};
use openssl::ssl::SslVersion;

// The test certificates are ECDSA (P-256), so the suites offered are ECDSA ones.
const ANY: &str = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384";

#[tokio::test]
async fn options_follow_the_server_name() {
    let up = TestUpstream::start("app").await;
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let certs: Vec<String> = ["a.test", "b.test", "c.test"]
        .iter()
        .map(|n| {
            let (c, k) = write_cert(dir.path(), n, &[n]);
            format!("[[tls.certificates]]\ncertFile = \"{c}\"\nkeyFile = \"{k}\"\n")
        })
        .collect();
    let config = format!(
        r#"[entryPoints.websecure]
address = "127.0.0.1:{port}"
[entryPoints.websecure.http.tls]
[http.routers.modern]
rule = "Host(`a.test`)"
service = "app"
[http.routers.modern.tls]
options = "modern"
[http.routers.legacy]
rule = "Host(`b.test`)"
service = "app"
[http.routers.legacy.tls]
options = "pinned"
[http.routers.other]
rule = "Host(`c.test`)"
service = "app"
tls = true
[http.services.app.loadBalancer]
servers = [{{ url = "{}" }}]
[tls.options.default]
sniStrict = true
[tls.options.modern]
minVersion = "VersionTLS13"
[tls.options.pinned]
maxVersion = "VersionTLS12"
cipherSuites = ["TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"]
{}"#,
        up.url(),
        certs.join("")
    );
    let _gw = TestGateway::start_in(dir, &config, &[port]).await;

    // modern: TLS 1.3 only, trailing dot included.
    for sni in ["a.test", "a.test.", "A.TEST"] {
        let old = handshake(port, Some(sni), SslVersion::TLS1_2, ANY).await;
        assert!(old.is_err(), "{sni}: TLS 1.2 accepted: {old:?}");
        let new = handshake(port, Some(sni), SslVersion::TLS1_3, ANY).await;
        assert!(new.is_ok(), "{sni}: TLS 1.3 refused: {new:?}");
    }

    // The suite pinned for b.test is offered to c.test's default policy too: a control that
    // the client can negotiate both.
    let control = handshake(
        port,
        Some("c.test"),
        SslVersion::TLS1_2,
        "ECDHE-ECDSA-AES128-GCM-SHA256",
    )
    .await;
    assert!(control.is_ok(), "{control:?}");

    // pinned: TLS 1.2 at most, one cipher suite.
    let weak = handshake(
        port,
        Some("b.test"),
        SslVersion::TLS1_2,
        "ECDHE-ECDSA-AES128-GCM-SHA256",
    )
    .await;
    assert!(weak.is_err(), "an unlisted cipher was accepted: {weak:?}");
    let good = handshake(port, Some("b.test"), SslVersion::TLS1_2, ANY).await;
    assert_eq!(good.as_deref(), Ok("ECDHE-ECDSA-AES256-GCM-SHA384"));
    let too_new = handshake(port, Some("b.test."), SslVersion::TLS1_3, ANY).await;
    assert!(too_new.is_err(), "TLS 1.3 above maxVersion: {too_new:?}");

    // default (sniStrict): a known name works, a missing or unknown one is refused.
    let other = handshake(port, Some("c.test"), SslVersion::TLS1_2, ANY).await;
    assert!(other.is_ok(), "{other:?}");
    let none = handshake(port, None, SslVersion::TLS1_3, ANY).await;
    assert!(none.is_err(), "no SNI accepted under sniStrict: {none:?}");
    let unknown = handshake(port, Some("unknown.test"), SslVersion::TLS1_3, ANY).await;
    assert!(
        unknown.is_err(),
        "unknown SNI accepted under sniStrict: {unknown:?}"
    );
}

#[tokio::test]
async fn unknown_cipher_names_and_inverted_versions_are_refused_with_their_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pylon.toml");
    std::fs::write(
        &path,
        "[entryPoints.web]\naddress = \"127.0.0.1:1\"\n\
         [tls.options.x]\nminVersion = \"VersionTLS13\"\nmaxVersion = \"VersionTLS12\"\n\
         cipherSuites = [\"ECDHE-RSA-AES128-GCM-SHA256\"]\n",
    )
    .unwrap();
    let (code, out) = common::gateway::run_pylon(&["check", "--config", path.to_str().unwrap()]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("tls.options.x.cipherSuites[0]"), "{out}");
    assert!(out.contains("tls.options.x.maxVersion"), "{out}");
}
