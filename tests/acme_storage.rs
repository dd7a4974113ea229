//! acme.json as Traefik keeps it: a file Traefik wrote is served at once (even with the CA
//! down) and pylon adds to it without losing what was there; a certificate near its end is
//! renewed; a group/world-readable or corrupt file stops pylon at start with its path named,
//! and is left as it was.

mod common;

use base64::Engine;
use common::acme::*;
use common::certs::{served, Ca, Key};
use common::pebble::{Pebble, Validation};
use common::{TestGateway, TestUpstream};
use openssl::asn1::Asn1Time;
use openssl::hash::MessageDigest;
use openssl::x509::extension::SubjectAlternativeName;
use openssl::x509::{X509Name, X509};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

const HTTP_CHALLENGE: &str = "[certificatesResolvers.le.acme.httpChallenge]\nentryPoint = \"web\"";

/// An acme.json as Traefik writes it: an RSA (PKCS#1) account and `certificates`.
fn traefik_acme_json(
    certificates: &[(&str, &X509, &openssl::pkey::PKey<openssl::pkey::Private>)],
) -> String {
    let account_key = openssl::rsa::Rsa::generate(2048).unwrap();
    let certs: Vec<serde_json::Value> = certificates
        .iter()
        .map(|(main, cert, key)| {
            serde_json::json!({
                "domain": { "main": main },
                "certificate": B64.encode(cert.to_pem().unwrap()),
                "key": B64.encode(key.private_key_to_pem_pkcs8().unwrap()),
                "Store": "default"
            })
        })
        .collect();
    serde_json::json!({ "le": {
        "Account": {
            "Email": "ops@pylon.test",
            "Registration": { "body": { "status": "valid" }, "uri": "https://acme.invalid/acct/1" },
            "PrivateKey": B64.encode(account_key.private_key_to_der().unwrap()),
            "KeyType": "4096"
        },
        "Certificates": certs
    }})
    .to_string()
}

fn write_private(path: &Path, text: &str, mode: u32) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[tokio::test]
async fn traefik_file_is_served_at_once_with_the_ca_down_then_new_names_are_ordered() {
    let up = TestUpstream::start("app").await;
    let p = ports();
    let api = common::free_port();
    let dir = tempfile::tempdir().unwrap();
    let storage = dir.path().join("acme.json");
    let ca = Ca::root("Traefik-era CA");
    let key = Key::P256.generate();
    let old = ca.issue("old.pylon.test", &["old.pylon.test"], &key);
    write_private(
        &storage,
        &traefik_acme_json(&[("old.pylon.test", &old, &key)]),
        0o600,
    );
    // pebble is not running yet: its HTTPS CA file is written by the harness later, so point
    // caCertificates at a file of our own that will hold it.
    let pebble_ca = dir.path().join("pebble-ca.pem");
    std::fs::write(&pebble_ca, ca.cert.to_pem().unwrap()).unwrap();
    let config = static_config(&p, &pebble_ca, &storage, HTTP_CHALLENGE)
        + &router("old", "old.pylon.test", &up.url())
        + &router("new", "new.pylon.test", &up.url())
        + &observability(api);
    let gw = TestGateway::start(&config, &[p.http, p.https, api]).await;

    // The stored certificate is served at once, though the CA cannot be reached.
    let got = served(
        "127.0.0.1",
        p.https,
        Some("old.pylon.test"),
        "old.pylon.test",
        &ca.cert,
        TLS13,
    )
    .await;
    assert!(got.is_ok(), "{got:?}\n{}", gw.log());
    // The new name has the default certificate until the CA is back.
    assert!(served(
        "127.0.0.1",
        p.https,
        Some("new.pylon.test"),
        "new.pylon.test",
        &ca.cert,
        TLS13
    )
    .await
    .is_err());
    let failed = common::eventually(Duration::from_secs(30), || async {
        gw.log()
            .contains("cannot get a certificate for new.pylon.test")
            .then_some(())
    })
    .await;
    assert!(failed.is_some(), "the failure is logged: {}", gw.log());
    let (_, acme) = common::get_json(format!("http://127.0.0.1:{api}/api/acme")).await;
    let pending = acme["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["domains"][0] == "new.pylon.test")
        .cloned()
        .unwrap_or_default();
    assert!(
        pending["lastError"].is_string() && pending["nextAttempt"].is_string(),
        "the API shows the failure: {acme}"
    );

    // The CA comes up on the configured port: the retry gets the certificate.
    let pebble = Pebble::start_on(
        p.acme,
        Validation {
            http_port: p.http,
            tls_port: p.https,
        },
    )
    .await;
    std::fs::copy(pebble.https_ca_path(), &pebble_ca).unwrap();
    let root = pebble_root(&pebble).await;
    assert!(
        wait_for_valid_cert(p.https, "new.pylon.test", &root).await,
        "no certificate after the CA came back\n{}\n{}",
        gw.log(),
        pebble.log()
    );
    let json = stored_json(&storage);
    let mains: Vec<&str> = json["le"]["Certificates"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["domain"]["main"].as_str())
        .collect();
    assert_eq!(
        mains,
        ["old.pylon.test", "new.pylon.test"],
        "Traefik's entry kept"
    );
    assert!(served(
        "127.0.0.1",
        p.https,
        Some("old.pylon.test"),
        "old.pylon.test",
        &ca.cert,
        TLS13
    )
    .await
    .is_ok());
}

/// A self-signed certificate for `name` that began 60 days ago and ends tomorrow.
fn near_expiry(name: &str) -> (X509, openssl::pkey::PKey<openssl::pkey::Private>) {
    let key = Key::P256.generate();
    let mut subject = X509Name::builder().unwrap();
    subject.append_entry_by_text("CN", name).unwrap();
    let subject = subject.build();
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    b.set_subject_name(&subject).unwrap();
    b.set_issuer_name(&subject).unwrap();
    b.set_pubkey(&key).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    b.set_not_before(&Asn1Time::from_unix(now - 60 * 86_400).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::from_unix(now + 86_400).unwrap())
        .unwrap();
    let san = SubjectAlternativeName::new()
        .dns(name)
        .build(&b.x509v3_context(None, None))
        .unwrap();
    b.append_extension(san).unwrap();
    b.sign(&key, MessageDigest::sha256()).unwrap();
    (b.build(), key)
}

#[tokio::test]
async fn a_certificate_near_its_end_is_renewed_and_replaced() {
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
    let (cert, key) = near_expiry("renew.pylon.test");
    write_private(
        &storage,
        &traefik_acme_json(&[("renew.pylon.test", &cert, &key)]),
        0o600,
    );
    let config = static_config(&p, pebble.https_ca_path(), &storage, HTTP_CHALLENGE)
        + &router("renew", "renew.pylon.test", &up.url());
    let gw = TestGateway::start(&config, &[p.http, p.https]).await;
    let root = pebble_root(&pebble).await;
    assert!(
        wait_for_valid_cert(p.https, "renew.pylon.test", &root).await,
        "not renewed\n{}\n{}",
        gw.log(),
        pebble.log()
    );
    assert!(
        gw.log()
            .contains("renewing a certificate for renew.pylon.test"),
        "{}",
        gw.log()
    );
    let json = stored_json(&storage);
    let certs = json["le"]["Certificates"].as_array().unwrap();
    assert_eq!(certs.len(), 1, "the renewal replaces the old entry: {json}");
    let pem = B64
        .decode(certs[0]["certificate"].as_str().unwrap())
        .unwrap();
    assert_ne!(
        X509::stack_from_pem(&pem).unwrap()[0].to_der().unwrap(),
        cert.to_der().unwrap()
    );
}

#[tokio::test]
async fn loose_permissions_or_a_corrupt_file_stop_pylon_at_start() {
    let p = ports();
    for (contents, mode, expected) in [
        ("{}", 0o644, "chmod 600"),
        ("{ \"le\": [truncated", 0o600, "corrupt"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let storage = dir.path().join("acme.json");
        write_private(&storage, contents, mode);
        let config = static_config(&p, &dir.path().join("none.pem"), &storage, HTTP_CHALLENGE);
        let mut gw = TestGateway::start(&config, &[]).await;
        let code = gw.wait_exit(Duration::from_secs(30));
        assert!(
            matches!(code, Some(Some(c)) if c != 0),
            "pylon must not start: {code:?}"
        );
        let log = gw.log();
        assert!(
            log.contains(&storage.display().to_string()) && log.contains(expected),
            "{log}"
        );
        assert_eq!(
            std::fs::read_to_string(&storage).unwrap(),
            contents,
            "left as it was"
        );
    }
}
