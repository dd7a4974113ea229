//! HTTPS upstreams through `http.serversTransports.<n>` (issue 19 point 1): `rootCAs` (file
//! or inline PEM), `serverName`, `insecureSkipVerify` and a client certificate
//! (`certificates`, mTLS), against a real OpenSSL server; verification stays on by default.

mod common;

use common::certs::{Ca, Key};
use common::tls_upstream::TlsUpstream;
use common::{free_port, get_service, route_through, TestGateway};

#[tokio::test]
async fn upstream_certificates_are_verified_with_the_transports_settings() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::root("backend CA");
    let key = Key::P256.generate();
    // issued for a name that is not the URL's host: only serverName makes it verify
    let cert = ca.issue("backend.internal", &["backend.internal"], &key);
    let backend = TlsUpstream::start(&cert, &key, None);
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca.cert.to_pem().unwrap()).unwrap();
    let inline_ca = String::from_utf8(ca.cert.to_pem().unwrap()).unwrap();
    let url = format!("https://127.0.0.1:{}", backend.port);
    let port = free_port();
    let config = format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{port}\"\n{}{}{}{}{}\
         [http.serversTransports.named]\nserverName = \"backend.internal\"\nrootCAs = [\"{}\"]\n\
         [http.serversTransports.inline]\nserverName = \"backend.internal\"\nrootCAs = ['''{inline_ca}''']\n\
         [http.serversTransports.wrongname]\nrootCAs = [\"{}\"]\n\
         [http.serversTransports.insecure]\ninsecureSkipVerify = true\n",
        route_through("default", &url, ""),
        route_through("named", &url, "named"),
        route_through("inline", &url, "inline"),
        route_through("wrongname", &url, "wrongname"),
        route_through("insecure", &url, "insecure"),
        ca_file.display(),
        ca_file.display(),
    );
    let gw = TestGateway::start_in(dir, &config, &[port]).await;
    assert_eq!(
        get_service(port, "named").await.0,
        Some(200),
        "{}",
        gw.log()
    );
    assert_eq!(
        get_service(port, "inline").await.0,
        Some(200),
        "{}",
        gw.log()
    );
    // the system's roots do not know the test CA; the CA alone does not fix the name
    assert_eq!(get_service(port, "default").await.0, Some(502));
    assert_eq!(get_service(port, "wrongname").await.0, Some(502));
    // insecureSkipVerify on a servers transport (was accepted and ignored: 502)
    assert_eq!(
        get_service(port, "insecure").await.0,
        Some(200),
        "{}",
        gw.log()
    );
    // and a verifying route still refuses after the insecure one used the same address
    assert_eq!(get_service(port, "default").await.0, Some(502));
}

#[tokio::test]
async fn a_client_certificate_is_shown_to_upstreams_that_require_one() {
    let dir = tempfile::tempdir().unwrap();
    let server_ca = Ca::root("backend CA");
    let client_ca = Ca::root("clients CA");
    let key = Key::P256.generate();
    let cert = server_ca.issue("backend.internal", &["backend.internal"], &key);
    let backend = TlsUpstream::start(&cert, &key, Some(&client_ca.cert));
    let client_key = Key::P256.generate();
    let client_cert = client_ca.issue("pylon-gateway", &[], &client_key);
    let (cert_file, key_file) =
        common::certs::write(dir.path(), "client", &client_cert, &[], &client_key);
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, server_ca.cert.to_pem().unwrap()).unwrap();
    let url = format!("https://127.0.0.1:{}", backend.port);
    let port = free_port();
    let config = format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{port}\"\n{}{}\
         [http.serversTransports.mtls]\nserverName = \"backend.internal\"\nrootCAs = [\"{ca}\"]\n\
         [[http.serversTransports.mtls.certificates]]\ncertFile = \"{cert_file}\"\nkeyFile = \"{key_file}\"\n\
         [http.serversTransports.anonymous]\nserverName = \"backend.internal\"\nrootCAs = [\"{ca}\"]\n",
        route_through("mtls", &url, "mtls"),
        route_through("anonymous", &url, "anonymous"),
        ca = ca_file.display(),
    );
    let gw = TestGateway::start_in(dir, &config, &[port]).await;
    let (status, body) = get_service(port, "mtls").await;
    assert_eq!(status, Some(200), "{}", gw.log());
    assert_eq!(
        body, "pylon-gateway",
        "the backend saw pylon's client certificate"
    );
    assert_eq!(get_service(port, "anonymous").await.0, Some(502));
}

#[test]
fn unreadable_cas_and_mismatched_pairs_are_refused_with_their_key_paths() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::root("some CA");
    let (a_key, b_key) = (Key::P256.generate(), Key::P256.generate());
    let cert = ca.issue("client", &[], &a_key);
    let (cert_file, _) = common::certs::write(dir.path(), "a", &cert, &[], &a_key);
    let (_, wrong_key) = common::certs::write(dir.path(), "b", &cert, &[], &b_key);
    let path = dir.path().join("pylon.toml");
    let config = format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{}\"\n{}{}\
         [http.serversTransports.a]\nrootCAs = [\"/nonexistent/ca.pem\"]\n\
         [http.serversTransports.b]\n\
         [[http.serversTransports.b.certificates]]\ncertFile = \"{cert_file}\"\nkeyFile = \"{wrong_key}\"\n",
        free_port(),
        route_through("a", "https://127.0.0.1:9", "a"),
        route_through("b", "https://127.0.0.1:9", "b"),
    );
    std::fs::write(&path, config).unwrap();
    let (code, out) = common::gateway::run_pylon(&["check", "--config", path.to_str().unwrap()]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("http.serversTransports.a.rootCAs[0]"), "{out}");
    assert!(
        out.contains("http.serversTransports.b.certificates[0].keyFile"),
        "{out}"
    );
}

#[tokio::test]
async fn the_static_transports_root_cas_verify_services_without_a_transport() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::root("internal CA");
    let key = Key::P256.generate();
    // the URL's host name is in the certificate: no serverName needed (Pingora verifies
    // names, not IP SANs: an IP-address URL needs a transport's serverName)
    let cert = ca.issue("localhost", &["localhost"], &key);
    let backend = TlsUpstream::start(&cert, &key, None);
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca.cert.to_pem().unwrap()).unwrap();
    let url = format!("https://localhost:{}", backend.port);
    let port = free_port();
    let config = format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{port}\"\n\
         [serversTransport]\nrootCAs = [\"{}\"]\n{}",
        ca_file.display(),
        route_through("default", &url, ""),
    );
    let gw = TestGateway::start_in(dir, &config, &[port]).await;
    assert_eq!(
        get_service(port, "default").await.0,
        Some(200),
        "{}",
        gw.log()
    );
}

#[test]
fn an_unreadable_static_root_ca_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pylon.toml");
    let config = format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{}\"\n[serversTransport]\nrootCAs = [\"/nonexistent/ca.pem\"]\n",
        free_port()
    );
    std::fs::write(&path, config).unwrap();
    let (code, out) = common::gateway::run_pylon(&["check", "--config", path.to_str().unwrap()]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("serversTransport.rootCAs[0]"), "{out}");
}
