//! HTTP/2 to upstreams (issue 19 point 2), against a real server (hypercorn: HTTP/1.1, h2 by
//! ALPN, h2c): `https://` servers speak h2 when they offer it, `h2c://` speaks cleartext HTTP/2
//! with prior knowledge, `serversTransports.<n>.disableHTTP2` keeps HTTP/1.1, and concurrent
//! client requests share few upstream connections.

mod common;

use common::python::PyServer;
use common::{free_port, get_service, route_through, TestGateway};
use std::collections::BTreeSet;

/// `clients` requests at once to `/<service>`, each on its own client connection; the
/// upstream connections they used (the backend reports each request's client port) and how
/// many answered with `version`.
async fn concurrent(port: u16, service: &str, clients: usize, version: &str) -> (usize, usize) {
    let calls = (0..clients).map(|_| get_service(port, service));
    let answers = futures_util::future::join_all(calls).await;
    let mut ports = BTreeSet::new();
    let mut matching = 0;
    for (status, body) in answers {
        assert_eq!(status, Some(200), "{body}");
        let (v, p) = body.split_once(' ').expect("`<version> <port>`");
        ports.insert(p.to_string());
        matching += usize::from(v == version);
    }
    (ports.len(), matching)
}

#[tokio::test]
async fn upstreams_speak_http2_by_alpn_or_prior_knowledge_and_multiplex() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = common::tls::write_cert(dir.path(), "backend", &["backend.test"]);
    let tls_backend = PyServer::start("h2_backend.py", free_port(), &[&cert, &key]);
    let h2c_backend = PyServer::start("h2_backend.py", free_port(), &[]);
    let https = format!("https://127.0.0.1:{}", tls_backend.port);
    let port = free_port();
    let config = format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{port}\"\n{}{}{}{}\
         [http.serversTransports.verify]\nserverName = \"backend.test\"\nrootCAs = [\"{cert}\"]\n\
         [http.serversTransports.h1]\nserverName = \"backend.test\"\nrootCAs = [\"{cert}\"]\ndisableHTTP2 = true\n",
        route_through("tls", &https, "verify"),
        route_through("tlsh1", &https, "h1"),
        route_through("cleartext", &format!("h2c://127.0.0.1:{}", h2c_backend.port), ""),
        route_through("plain", &format!("http://127.0.0.1:{}", h2c_backend.port), ""),
    );
    let gw = TestGateway::start_in(dir, &config, &[port]).await;

    let (status, body) = get_service(port, "tls").await;
    assert_eq!(status, Some(200), "{}", gw.log());
    assert!(body.starts_with("2 "), "https offers h2 by ALPN: {body}");
    let (status, body) = get_service(port, "tlsh1").await;
    assert_eq!(status, Some(200), "{}", gw.log());
    assert!(
        body.starts_with("1.1 "),
        "disableHTTP2 keeps HTTP/1.1: {body}"
    );
    let (status, body) = get_service(port, "cleartext").await;
    assert_eq!(status, Some(200), "{}", gw.log());
    assert!(body.starts_with("2 "), "h2c:// speaks HTTP/2: {body}");
    let (status, body) = get_service(port, "plain").await;
    assert_eq!(status, Some(200), "{}", gw.log());
    assert!(body.starts_with("1.1 "), "http:// stays HTTP/1.1: {body}");

    // 64 clients at once: over HTTP/2 they share a few upstream connections, over HTTP/1.1
    // each in-flight request needs a connection of its own.
    let (h2c_conns, h2c_ok) = concurrent(port, "cleartext", 64, "2").await;
    let (tls_conns, tls_ok) = concurrent(port, "tls", 64, "2").await;
    let (h1_conns, h1_ok) = concurrent(port, "plain", 64, "1.1").await;
    println!(
        "upstream connections used by 64 concurrent clients: h2c {h2c_conns}, h2 over TLS \
         {tls_conns}, HTTP/1.1 {h1_conns}"
    );
    assert_eq!((h2c_ok, tls_ok, h1_ok), (64, 64, 64));
    // Pingora takes a connection out of its pool while it opens a stream on it, so a burst of
    // simultaneous requests opens more than one: 1-8 on a quiet machine, up to 23 seen while
    // the whole suite runs. Without multiplexing it would be 64, as HTTP/1.1's.
    assert!(h2c_conns <= 48, "h2c used {h2c_conns} connections");
    assert!(tls_conns <= 48, "h2 over TLS used {tls_conns} connections");
    assert!(h1_conns > 16, "HTTP/1.1 used only {h1_conns} connections");
}

#[test]
fn h2c_is_a_server_scheme_and_other_schemes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pylon.toml");
    let config = format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{}\"\n{}{}",
        free_port(),
        route_through("ok", "h2c://127.0.0.1:9", ""),
        route_through("bad", "h3://127.0.0.1:9", ""),
    );
    std::fs::write(&path, config).unwrap();
    let (code, out) = common::gateway::run_pylon(&["check", "--config", path.to_str().unwrap()]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("http.services.bad.loadBalancer.servers[0].url"),
        "{out}"
    );
    assert!(out.contains("`http`, `https` and `h2c`"), "{out}");
    assert!(!out.contains("services.ok"), "{out}");
}
