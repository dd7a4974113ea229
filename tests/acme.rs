//! ACME certificate resolvers against a real ACME CA (Debian's pebble, with pebble-challtestsrv
//! resolving every name to 127.0.0.1): HTTP-01 behind an HTTP→HTTPS redirect, TLS-ALPN-01 on the
//! HTTPS port, the certificate stored in Traefik's acme.json layout and served live by SNI, a
//! client verifying the chain against pebble's root.

mod common;

use common::acme::*;
use common::certs::served;
use common::pebble::{Pebble, Validation};
use common::{TestGateway, TestUpstream};
use std::os::unix::fs::PermissionsExt;

#[tokio::test]
async fn http01_behind_a_redirect_issues_stores_and_serves() {
    let up = TestUpstream::start("app").await;
    let p = ports();
    let api = common::free_port();
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
    ) + &router("app", "a.pylon.test", &up.url())
        + &observability(api);
    let gw = TestGateway::start(&config, &[p.http, p.https, api]).await;
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

    // The API and the metrics show the certificate and the order.
    let (status, acme) = common::get_json(format!("http://127.0.0.1:{api}/api/acme")).await;
    assert_eq!(status, 200);
    assert_eq!(acme["resolvers"][0]["name"], "le");
    assert!(acme["resolvers"][0]["account"].is_string(), "{acme}");
    let cert = &acme["certificates"][0];
    assert_eq!(cert["domains"][0], "a.pylon.test", "{acme}");
    assert!(
        cert["notAfter"].is_string() && cert["lastError"].is_null(),
        "{acme}"
    );
    let metrics = reqwest::get(format!("http://127.0.0.1:{api}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"traefik_acme_orders_total{resolver="le",result="success"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("traefik_tls_certs_not_after") && l.contains("a.pylon.test")),
        "{metrics}"
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

#[tokio::test]
async fn a_router_added_at_run_time_through_the_file_provider_gets_its_certificate() {
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
    let dynamic = dir.path().join("dynamic.toml");
    std::fs::write(&dynamic, router("first", "first.pylon.test", &up.url())).unwrap();
    let config = static_config(
        &p,
        pebble.https_ca_path(),
        &storage,
        "[certificatesResolvers.le.acme.httpChallenge]\nentryPoint = \"web\"",
    ) + &format!(
        "[providers.file]\nfilename = \"{}\"\nwatch = true\n",
        dynamic.display()
    );
    let gw = TestGateway::start(&config, &[p.http, p.https]).await;
    let root = pebble_root(&pebble).await;
    assert!(
        wait_for_valid_cert(p.https, "first.pylon.test", &root).await,
        "{}",
        gw.log()
    );
    let both = router("first", "first.pylon.test", &up.url())
        + &router("later", "later.pylon.test", &up.url());
    std::fs::write(&dynamic, both).unwrap();
    assert!(
        wait_for_valid_cert(p.https, "later.pylon.test", &root).await,
        "the router added at run time got no certificate\n{}\n{}",
        gw.log(),
        pebble.log()
    );
}

#[tokio::test]
async fn the_default_generated_certificate_comes_from_the_resolver() {
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
    // no router asks for it: the default store does (issue 18 point 6)
    let config = static_config(
        &p,
        pebble.https_ca_path(),
        &storage,
        "[certificatesResolvers.le.acme.httpChallenge]\nentryPoint = \"web\"",
    ) + "[tls.stores.default.defaultGeneratedCert]\nresolver = \"le\"\n\
         [tls.stores.default.defaultGeneratedCert.domain]\nmain = \"default.pylon.test\"\n";
    let gw = TestGateway::start(&config, &[p.http, p.https]).await;
    let root = pebble_root(&pebble).await;
    // a name no certificate covers gets the generated default, verified as its own name
    let issued = common::eventually(ISSUE_DEADLINE, || async {
        served(
            "127.0.0.1",
            p.https,
            Some("unknown.pylon.test"),
            "default.pylon.test",
            &root,
            TLS13,
        )
        .await
        .ok()
    })
    .await;
    assert!(
        issued.is_some(),
        "no generated default certificate\npylon:\n{}\npebble:\n{}",
        gw.log(),
        pebble.log()
    );
    assert_eq!(issued.unwrap().cn, "default.pylon.test");
    let stored = stored_json(&storage).to_string();
    assert!(stored.contains("default.pylon.test"), "{stored}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_container_started_with_labels_gets_its_certificate() {
    let engine = common::docker::DockerEngine::shared();
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
    let scope = format!("acme-labels-{}", std::process::id());
    let config = static_config(
        &p,
        pebble.https_ca_path(),
        &storage,
        "[certificatesResolvers.le.acme.httpChallenge]\nentryPoint = \"web\"",
    ) + &format!(
        "[providers.docker]\nendpoint = \"{}\"\nexposedByDefault = false\n\
         constraints = \"Label(`test.scope`, `{scope}`)\"\n",
        engine.endpoint()
    );
    let gw = TestGateway::start(&config, &[p.http, p.https]).await;
    let root = pebble_root(&pebble).await;

    // a container started after pylon, asking for a certificate through its labels
    let name = format!("acme-labels-{}", std::process::id());
    engine.serve_file(&name, "index.html", "from the container");
    let port = common::free_port().to_string();
    let labels: Vec<(&str, String)> = vec![
        ("traefik.enable", "true".into()),
        (
            "traefik.http.routers.d.rule",
            "Host(`docker.pylon.test`)".into(),
        ),
        ("traefik.http.routers.d.entrypoints", "websecure".into()),
        ("traefik.http.routers.d.tls.certresolver", "le".into()),
        (
            "traefik.http.services.d.loadbalancer.server.port",
            port.clone(),
        ),
        ("test.scope", scope.clone()),
    ];
    engine.run_httpd(&name, port.parse().unwrap(), &labels, &[]);
    let issued = wait_for_valid_cert(p.https, "docker.pylon.test", &root).await;
    let _ = engine.docker(&["rm", "-f", &name]);
    assert!(
        issued,
        "no certificate for the container's router\npylon:\n{}\npebble:\n{}",
        gw.log(),
        pebble.log()
    );
    assert!(stored_json(&storage)
        .to_string()
        .contains("docker.pylon.test"));
}
