//! The certificates users bring are served: RSA 2048 and 4096, ECDSA P-256 and P-384, a leaf
//! issued through an intermediate (the chain is sent), a certificate with IP SANs (for clients
//! without SNI, matched by the address they connected to, as in Traefik), and an RSA and an
//! ECDSA certificate for one name, served by what the client supports — over TLS 1.2 and 1.3,
//! each checked by a client that verifies the chain against the test CA.

mod common;

use common::certs::{self, served, Ca, Client, Key};
use common::{free_port, route_all_to, TestGateway, TestUpstream};
use openssl::ssl::SslVersion;

struct Setup {
    _gw: TestGateway,
    _up: TestUpstream,
    port: u16,
    root: openssl::x509::X509,
}

/// pylon with one certificate of each kind under test, all issued by one test CA.
async fn start() -> Setup {
    let up = TestUpstream::start("app").await;
    let dir = tempfile::tempdir().unwrap();
    let root = Ca::root("pylon test root");
    let intermediate = root.intermediate("pylon test intermediate");
    let mut entries = String::new();
    let mut add = |stem: &str, ca: &Ca, chain: &[&openssl::x509::X509], sans: &[&str], key: Key| {
        let k = key.generate();
        let leaf = ca.issue(stem, sans, &k);
        let (c, k) = certs::write(dir.path(), stem, &leaf, chain, &k);
        entries.push_str(&format!(
            "[[tls.certificates]]\ncertFile = \"{c}\"\nkeyFile = \"{k}\"\n"
        ));
    };
    add("rsa2048", &root, &[], &["rsa2048.test"], Key::Rsa2048);
    add("rsa4096", &root, &[], &["rsa4096.test"], Key::Rsa4096);
    add("p256", &root, &[], &["p256.test"], Key::P256);
    add("p384", &root, &[], &["p384.test"], Key::P384);
    add(
        "chained",
        &intermediate,
        &[&intermediate.cert],
        &["chained.test"],
        Key::Rsa2048,
    );
    add("by-ip", &root, &[], &["ip.test", "127.0.0.1"], Key::Rsa2048);
    add("dual-rsa", &root, &[], &["dual.test"], Key::Rsa2048);
    add("dual-ec", &root, &[], &["dual.test"], Key::P256);
    let port = free_port();
    let cfg = format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{port}\"\n[entryPoints.web.http.tls]\n{}\n{entries}",
        route_all_to(&up.url())
    );
    let gw = TestGateway::start_in(dir, &cfg, &[port]).await;
    Setup {
        _gw: gw,
        _up: up,
        port,
        root: root.cert,
    }
}

const VERSIONS: [SslVersion; 2] = [SslVersion::TLS1_2, SslVersion::TLS1_3];

fn any(version: SslVersion) -> Client<'static> {
    Client {
        version,
        ciphers: None,
        sigalgs: None,
    }
}

#[tokio::test]
async fn rsa_and_ecdsa_certificates_of_every_size_are_served_by_sni() {
    let s = start().await;
    for version in VERSIONS {
        for (name, cn, key, bits) in [
            ("rsa2048.test", "rsa2048", "RSA", 2048),
            ("rsa4096.test", "rsa4096", "RSA", 4096),
            ("p256.test", "p256", "EC", 256),
            ("p384.test", "p384", "EC", 384),
            ("RSA2048.Test.", "rsa2048", "RSA", 2048),
        ] {
            let got = served(
                "127.0.0.1",
                s.port,
                Some(name),
                name.trim_end_matches('.'),
                &s.root,
                any(version),
            )
            .await
            .unwrap_or_else(|e| panic!("{name} {version:?}: {e}"));
            assert_eq!(
                (got.cn.as_str(), got.key.as_str(), got.bits),
                (cn, key, bits),
                "{name} {version:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_leaf_issued_by_an_intermediate_is_sent_with_its_chain() {
    let s = start().await;
    for version in VERSIONS {
        let got = served(
            "127.0.0.1",
            s.port,
            Some("chained.test"),
            "chained.test",
            &s.root,
            any(version),
        )
        .await
        .unwrap_or_else(|e| panic!("{version:?}: the chain did not verify: {e}"));
        assert_eq!(got.cn, "chained", "{version:?}");
    }
}

#[tokio::test]
async fn a_client_without_sni_gets_the_certificate_for_the_address_it_connected_to() {
    let s = start().await;
    for version in VERSIONS {
        let got = served(
            "127.0.0.1",
            s.port,
            None,
            "127.0.0.1",
            &s.root,
            any(version),
        )
        .await
        .unwrap_or_else(|e| panic!("{version:?}: {e}"));
        assert_eq!(got.cn, "by-ip", "{version:?}");
        // the same certificate by its DNS name
        let got = served(
            "127.0.0.1",
            s.port,
            Some("ip.test"),
            "ip.test",
            &s.root,
            any(version),
        )
        .await
        .unwrap_or_else(|e| panic!("{version:?}: {e}"));
        assert_eq!(got.cn, "by-ip", "{version:?}");
    }
}

#[tokio::test]
async fn one_name_with_rsa_and_ecdsa_serves_what_the_client_supports() {
    let s = start().await;
    let cases = [
        // TLS 1.3: the signature algorithms decide
        (
            SslVersion::TLS1_3,
            None,
            Some("ECDSA+SHA256:ECDSA+SHA384"),
            "dual-ec",
        ),
        (
            SslVersion::TLS1_3,
            None,
            Some("RSA-PSS+SHA256:RSA-PSS+SHA384"),
            "dual-rsa",
        ),
        // TLS 1.2: the cipher suite's authentication decides
        (
            SslVersion::TLS1_2,
            Some("ECDHE-ECDSA-AES128-GCM-SHA256"),
            None,
            "dual-ec",
        ),
        (
            SslVersion::TLS1_2,
            Some("ECDHE-RSA-AES128-GCM-SHA256"),
            None,
            "dual-rsa",
        ),
    ];
    for (version, ciphers, sigalgs, want) in cases {
        let client = Client {
            version,
            ciphers,
            sigalgs,
        };
        let got = served(
            "127.0.0.1",
            s.port,
            Some("dual.test"),
            "dual.test",
            &s.root,
            client,
        )
        .await
        .unwrap_or_else(|e| panic!("{client:?}: {e}"));
        assert_eq!(got.cn, want, "{client:?}");
    }
    // a client that supports both gets one of them, verified
    let got = served(
        "127.0.0.1",
        s.port,
        Some("dual.test"),
        "dual.test",
        &s.root,
        any(SslVersion::TLS1_3),
    )
    .await
    .unwrap();
    assert!(got.cn.starts_with("dual-"), "{got:?}");
}

#[tokio::test]
async fn an_unknown_name_gets_the_default_certificate() {
    let s = start().await;
    let mut b = openssl::ssl::SslConnector::builder(openssl::ssl::SslMethod::tls()).unwrap();
    b.set_verify(openssl::ssl::SslVerifyMode::NONE);
    let connector = b.build();
    let port = s.port;
    let cn = tokio::task::spawn_blocking(move || {
        let tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let mut cfg = connector.configure().unwrap();
        cfg.set_verify_hostname(false);
        let tls = cfg.connect("unknown.test", tcp).unwrap();
        let leaf = tls.ssl().peer_certificate().unwrap();
        let cn = leaf
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
    .unwrap();
    assert_eq!(cn, pylon::tls::self_signed::DEFAULT_CERT_NAME);
}
