//! The `passTLSClientCert` middleware end to end: a client certificate (from a test CA, with a
//! chain the client sends) presented under `tls.options.default.clientAuth` reaches the
//! upstream as Traefik's `X-Forwarded-Tls-Client-Cert` (PEM bodies) and
//! `X-Forwarded-Tls-Client-Cert-Info` (escaped details); a client's own copies of those
//! headers never do, with or without a certificate.

mod common;

use common::certs::{Ca, Key};
use common::{free_port, TestGateway, TestUpstream};
use openssl::pkey::{PKey, Private};
use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode};
use openssl::x509::X509;
use std::io::{Read, Write};

/// A PEM body as Traefik sends it: no delimiters, no line breaks.
fn body(cert: &X509) -> String {
    String::from_utf8(cert.to_pem().unwrap())
        .unwrap()
        .replace("-----BEGIN CERTIFICATE-----", "")
        .replace("-----END CERTIFICATE-----", "")
        .replace('\n', "")
}

/// GET / on `mtls.test` with a spoofed copy of both headers, presenting `cert` (and `chain`).
async fn get(port: u16, cert: Option<(&X509, &[X509], &PKey<Private>)>) -> u16 {
    let mut b = SslConnector::builder(SslMethod::tls()).unwrap();
    b.set_verify(SslVerifyMode::NONE);
    if let Some((cert, chain, key)) = cert {
        b.set_certificate(cert).unwrap();
        for c in chain {
            b.add_extra_chain_cert(c.clone()).unwrap();
        }
        b.set_private_key(key).unwrap();
    }
    let connector = b.build();
    tokio::task::spawn_blocking(move || {
        let tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        tcp.set_read_timeout(Some(std::time::Duration::from_secs(5))).ok();
        let mut cfg = connector.configure().unwrap();
        cfg.set_verify_hostname(false);
        let mut s = cfg.connect("mtls.test", tcp).unwrap();
        s.write_all(
            b"GET / HTTP/1.1\r\nHost: mtls.test\r\nX-Forwarded-Tls-Client-Cert: mallory\r\n\
              X-Forwarded-Tls-Client-Cert-Info: Subject%3D%22CN%3Dmallory%22\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
        let mut answer = Vec::new();
        s.read_to_end(&mut answer).unwrap();
        let text = String::from_utf8_lossy(&answer);
        text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn the_client_certificate_reaches_the_upstream_in_traefiks_headers() {
    let up = TestUpstream::start("app").await;
    let dir = tempfile::tempdir().unwrap();
    let root = Ca::root("clients root");
    let issuing = root.intermediate("clients issuing CA");
    let key = Key::P256.generate();
    let leaf = issuing.issue("alice", &["alice.test", "10.0.0.9"], &key);
    let ca_file = dir.path().join("clients-ca.pem");
    std::fs::write(&ca_file, root.cert.to_pem().unwrap()).unwrap();
    let (cert, server_key) = common::tls::write_cert(dir.path(), "front", &["mtls.test"]);
    let port = free_port();
    let config = format!(
        r#"[entryPoints.websecure]
address = "127.0.0.1:{port}"

[[tls.certificates]]
certFile = "{cert}"
keyFile = "{server_key}"

[tls.options.default.clientAuth]
caFiles = ["{}"]
clientAuthType = "VerifyClientCertIfGiven"

[http.routers.r]
rule = "Host(`mtls.test`)"
service = "app"
middlewares = ["certs"]
[http.routers.r.tls]

[http.middlewares.certs.passTLSClientCert]
pem = true
[http.middlewares.certs.passTLSClientCert.info]
notAfter = true
serialNumber = true
sans = true
subject.commonName = true
issuer.commonName = true

[http.services.app.loadBalancer]
servers = [{{ url = "{}" }}]
"#,
        ca_file.display(),
        up.url()
    );
    let gw = TestGateway::start_in(dir, &config, &[port]).await;

    let chain = [issuing.cert.clone()];
    assert_eq!(
        get(port, Some((&leaf, &chain, &key))).await,
        200,
        "{}",
        gw.log()
    );
    let seen = up.last().unwrap();
    // the leaf, then the chain the client sent
    assert_eq!(
        seen.header("x-forwarded-tls-client-cert"),
        Some(format!("{},{}", body(&leaf), body(&issuing.cert)).as_str()),
        "{}",
        gw.log()
    );
    assert_eq!(seen.header_count("x-forwarded-tls-client-cert"), 1);
    let info = seen.header("x-forwarded-tls-client-cert-info").unwrap();
    let serial = leaf
        .serial_number()
        .to_bn()
        .unwrap()
        .to_dec_str()
        .unwrap()
        .to_string();
    let not_after = {
        let d = openssl::asn1::Asn1Time::from_unix(0)
            .unwrap()
            .diff(leaf.not_after())
            .unwrap();
        i64::from(d.days) * 86400 + i64::from(d.secs)
    };
    let leaf_info = format!(
        "Subject=\"CN=alice\";Issuer=\"CN=clients issuing CA\";SerialNumber=\"{serial}\";\
         NA=\"{not_after}\";SAN=\"alice.test,10.0.0.9\""
    );
    let unescaped = info.replace('+', " ");
    let unescaped = percent_decode(&unescaped);
    let (first, second) = unescaped.split_once(",Subject=").unwrap();
    assert_eq!(first, leaf_info, "{info}");
    assert!(
        second.starts_with("\"CN=clients issuing CA\";Issuer=\"CN=clients root\""),
        "{second}"
    );
    assert!(!info.contains(['"', ' ', ',', ';', '=']), "escaped: {info}");

    // no certificate: neither header, and the client's own copies are gone
    assert_eq!(get(port, None).await, 200);
    let seen = up.last().unwrap();
    assert_eq!(seen.header("x-forwarded-tls-client-cert"), None);
    assert_eq!(seen.header("x-forwarded-tls-client-cert-info"), None);
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}
