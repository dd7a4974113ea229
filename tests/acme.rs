//! ACME certificate resolvers against a real ACME CA (Debian's pebble, with pebble-challtestsrv
//! resolving every name to 127.0.0.1): HTTP-01 behind an HTTP→HTTPS redirect, TLS-ALPN-01 on the
//! HTTPS port, the certificate stored in Traefik's acme.json layout and served live by SNI, a
//! client verifying the chain against pebble's root.

mod common;

use common::certs::{served, Client};
use common::pebble::{Pebble, Validation};
use common::{eventually, free_port, TestGateway, TestUpstream};
use openssl::ssl::SslVersion;
use openssl::x509::X509;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

const TLS13: Client<'static> = Client {
    version: SslVersion::TLS1_3,
    ciphers: None,
    sigalgs: None,
};

/// How long pylon gets to obtain a certificate from pebble (the machine is shared and loaded).
const ISSUE_DEADLINE: Duration = Duration::from_secs(90);

struct Ports {
    http: u16,
    https: u16,
    acme: u16,
}

fn ports() -> Ports {
    Ports {
        http: free_port(),
        https: free_port(),
        acme: free_port(),
    }
}

/// The static config: `web` (redirecting to HTTPS), `websecure`, resolver `le` with `challenge`.
fn static_config(p: &Ports, pebble_ca: &Path, storage: &Path, challenge: &str) -> String {
    format!(
        r#"[log]
level = "INFO"
[entryPoints.web]
address = "127.0.0.1:{http}"
[entryPoints.web.http.redirections.entryPoint]
to = "websecure"
scheme = "https"
[entryPoints.websecure]
address = "127.0.0.1:{https}"
[entryPoints.websecure.http.tls]

[certificatesResolvers.le.acme]
email = "ops@pylon.test"
caServer = "https://127.0.0.1:{acme}/dir"
storage = "{storage}"
keyType = "EC256"
caCertificates = ["{ca}"]
{challenge}
"#,
        http = p.http,
        https = p.https,
        acme = p.acme,
        storage = storage.display(),
        ca = pebble_ca.display(),
    )
}

fn router(name: &str, host: &str, upstream: &str) -> String {
    format!(
        r#"
[http.routers.{name}]
rule = "Host(`{host}`)"
service = "{name}"
entryPoints = ["websecure"]
[http.routers.{name}.tls]
certResolver = "le"
[http.services.{name}.loadBalancer]
servers = [{{ url = "{upstream}" }}]
"#
    )
}

/// Waits until `port` serves `name` a certificate that verifies against `root`.
async fn wait_for_valid_cert(port: u16, name: &str, root: &X509) -> bool {
    eventually(ISSUE_DEADLINE, || async move {
        served("127.0.0.1", port, Some(name), name, root, TLS13)
            .await
            .ok()
    })
    .await
    .is_some()
}

async fn pebble_root(pebble: &Pebble) -> X509 {
    X509::from_pem(pebble.root_pem().await.as_bytes()).expect("pebble root PEM")
}

fn stored_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("acme.json")).expect("acme.json is JSON")
}

#[tokio::test]
async fn http01_behind_a_redirect_issues_stores_and_serves() {
    let up = TestUpstream::start("app").await;
    let p = ports();
    let pebble = Pebble::start_on(
        p.acme,
        Validation {
            http_port: p.http,
            tls_port: p.https,
        },
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let storage = dir.path().join("acme.json");
    let config = static_config(
        &p,
        pebble.https_ca_path(),
        &storage,
        "[certificatesResolvers.le.acme.httpChallenge]\nentryPoint = \"web\"",
    ) + &router("app", "a.pylon.test", &up.url());
    let gw = TestGateway::start(&config, &[p.http, p.https]).await;
    let root = pebble_root(&pebble).await;

    assert!(
        wait_for_valid_cert(p.https, "a.pylon.test", &root).await,
        "no valid certificate for a.pylon.test\npylon:\n{}\npebble:\n{}",
        gw.log(),
        pebble.log()
    );
    // Served to the router, by name; other names still get the default certificate.
    assert!(served(
        "127.0.0.1",
        p.https,
        Some("other.test"),
        "other.test",
        &root,
        TLS13
    )
    .await
    .is_err());
    // An unknown token is a 404 on the challenge entry point, not a redirect.
    let raw = common::raw_request(
        p.http,
        b"GET /.well-known/acme-challenge/unknown HTTP/1.1\r\nHost: a.pylon.test\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(raw.starts_with("HTTP/1.1 404"), "{raw}");
    let raw = common::raw_request(
        p.http,
        b"GET /elsewhere HTTP/1.1\r\nHost: a.pylon.test\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(
        raw.starts_with("HTTP/1.1 30"),
        "the redirect still applies: {raw}"
    );

    // Traefik's layout, mode 0600.
    let mode = std::fs::metadata(&storage).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let json = stored_json(&storage);
    let le = &json["le"];
    assert!(le["Account"]["Registration"]["uri"]
        .as_str()
        .is_some_and(|u| u.starts_with("https://127.0.0.1")));
    assert_eq!(le["Account"]["Email"], "ops@pylon.test");
    let cert = &le["Certificates"][0];
    assert_eq!(cert["domain"]["main"], "a.pylon.test");
    assert_eq!(cert["Store"], "default");
    use base64::Engine;
    let pem = base64::engine::general_purpose::STANDARD
        .decode(cert["certificate"].as_str().unwrap())
        .unwrap();
    assert!(String::from_utf8_lossy(&pem).starts_with("-----BEGIN CERTIFICATE-----"));
    let key = base64::engine::general_purpose::STANDARD
        .decode(cert["key"].as_str().unwrap())
        .unwrap();
    assert!(String::from_utf8_lossy(&key).contains("PRIVATE KEY-----"));
}

#[tokio::test]
async fn tls_alpn01_is_answered_in_the_handshake() {
    let up = TestUpstream::start("app").await;
    let p = ports();
    let pebble = Pebble::start_on(
        p.acme,
        Validation {
            http_port: p.http,
            tls_port: p.https,
        },
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let storage = dir.path().join("acme.json");
    let config = static_config(&p, pebble.https_ca_path(), &storage, "tlsChallenge = {}")
        + &router("app", "alpn.pylon.test", &up.url());
    let gw = TestGateway::start(&config, &[p.http, p.https]).await;
    let root = pebble_root(&pebble).await;
    assert!(
        wait_for_valid_cert(p.https, "alpn.pylon.test", &root).await,
        "no valid certificate for alpn.pylon.test\npylon:\n{}\npebble:\n{}",
        gw.log(),
        pebble.log()
    );
    let json = stored_json(&storage);
    assert_eq!(
        json["le"]["Certificates"][0]["domain"]["main"],
        "alpn.pylon.test"
    );
}
