//! TCP routers end to end with real peers: Redis behind a plain ``HostSNI(`*`)`` router and
//! behind a TLS-terminating router, an openssl `s_server` behind a passthrough router (the
//! client sees the backend's certificate), both beside an HTTP router on the same port, the
//! PROXY protocol sent to a backend that reads it, `ipAllowList`, and config errors.

mod common;

use common::gateway::run_pylon;
use common::redis::Redis;
use common::{client, free_port, TestGateway, TestUpstream};
use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Sends `PING` in RESP and returns the answer.
fn ping<S: Read + Write>(stream: &mut S) -> String {
    stream.write_all(b"PING\r\n").unwrap();
    let mut buf = [0u8; 64];
    let n = stream.read(&mut buf).unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).to_string()
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

/// A TLS client to 127.0.0.1:`port` sending `sni`; returns the stream and the server
/// certificate's common name.
fn tls(port: u16, sni: &str) -> (openssl::ssl::SslStream<TcpStream>, String) {
    let mut b = SslConnector::builder(SslMethod::tls()).unwrap();
    b.set_verify(SslVerifyMode::NONE);
    let stream = b.build().connect(sni, connect(port)).unwrap();
    let cn = stream
        .ssl()
        .peer_certificate()
        .unwrap()
        .subject_name()
        .entries_by_nid(openssl::nid::Nid::COMMONNAME)
        .next()
        .and_then(|e| e.data().to_string().ok())
        .unwrap_or_default();
    (stream, cn)
}

/// `openssl s_server -www` on `port` with a certificate for `name`; killed on drop.
struct SServer(Child);

impl SServer {
    fn start(port: u16, dir: &std::path::Path, name: &str) -> SServer {
        let (cert, key) = common::tls::write_cert(dir, "backend", &[name]);
        let child = Command::new("openssl")
            .args(["s_server", "-quiet", "-www", "-accept"])
            .arg(port.to_string())
            .args(["-cert", &cert, "-key", &key])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl s_server");
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "s_server did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        SServer(child)
    }
}

impl Drop for SServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Prints the gateway's log if the test fails after this point.
fn scopeguard_log(gw: &TestGateway) -> impl Drop + '_ {
    struct Guard<'a>(&'a TestGateway);
    impl Drop for Guard<'_> {
        fn drop(&mut self) {
            if std::thread::panicking() {
                eprintln!("pylon's log:\n{}", self.0.log());
            }
        }
    }
    Guard(gw)
}

#[tokio::test]
async fn redis_plain_and_tls_terminated_and_passthrough_beside_http_on_one_port() {
    let Some(redis) = Redis::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let s_port = free_port();
    let _s_server = SServer::start(s_port, dir.path(), "db.test");
    let up = TestUpstream::start("app").await;
    let (web, plain) = (free_port(), free_port());
    let config = format!(
        r#"[entryPoints.web]
address = "127.0.0.1:{web}"
[entryPoints.redis]
address = "127.0.0.1:{plain}"

[http.routers.app]
rule = "PathPrefix(`/`)"
entryPoints = ["web"]
service = "app"
[http.routers.app-tls]
rule = "PathPrefix(`/`)"
entryPoints = ["web"]
service = "app"
tls = true
[http.services.app.loadBalancer]
servers = [{{ url = "{up}" }}]

[tcp.routers.cache]
rule = "HostSNI(`*`)"
entryPoints = ["redis"]
service = "redis"
[tcp.routers.cache-tls]
rule = "HostSNI(`redis.test`)"
entryPoints = ["web"]
service = "redis"
[tcp.routers.cache-tls.tls]
[tcp.routers.db]
rule = "HostSNI(`db.test`) || HostSNIRegexp(`^db[0-9]+\\.test$`)"
entryPoints = ["web"]
service = "db"
[tcp.routers.db.tls]
passthrough = true

[tcp.services.redis.loadBalancer]
servers = [{{ address = "127.0.0.1:{rp}" }}]
[tcp.services.db.loadBalancer]
servers = [{{ address = "127.0.0.1:{s_port}" }}]
"#,
        up = up.url(),
        rp = redis.port
    );
    let gw = TestGateway::start_in(dir, &config, &[web, plain]).await;
    let log_on_panic = scopeguard_log(&gw);

    // plain TCP on its own entry point
    let mut s = connect(plain);
    assert_eq!(ping(&mut s), "+PONG\r\n");
    assert_eq!(ping(&mut s), "+PONG\r\n", "the connection stays open");

    // TLS terminated by pylon in front of Redis, on the HTTP port
    let (mut t, cn) = tls(web, "redis.test");
    assert_ne!(cn, "db.test");
    assert_eq!(ping(&mut t), "+PONG\r\n");

    // passthrough: the client talks TLS with the backend itself
    for name in ["db.test", "db7.test"] {
        let (mut t, cn) = tls(web, name);
        assert_eq!(cn, "db.test", "the backend's certificate, not pylon's");
        t.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
        let mut page = String::new();
        let _ = t.read_to_string(&mut page);
        assert!(page.contains("s_server"), "{page}");
    }

    // the same port still serves HTTP routers, in clear and over TLS for other names
    let c = client();
    let r = c
        .get(format!("http://127.0.0.1:{web}/x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), "app /x");
    let r = c
        .get(format!("https://127.0.0.1:{web}/y"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), "app /y");
    drop(log_on_panic);
}

// multi-threaded: the backend task runs while the test blocks on its std socket
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_protocol_to_the_backend_and_ip_allow_list() {
    // a backend that reads the PROXY header and answers with it
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let backend = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 512];
                let mut got = Vec::new();
                while !got.ends_with(b"hello") {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = s.write_all(&got).await;
            });
        }
    });
    let (v1, v2, walled, admin) = (free_port(), free_port(), free_port(), free_port());
    let config = format!(
        r#"[entryPoints.traefik]
address = "127.0.0.1:{admin}"
[api]
insecure = true
[entryPoints.v1]
address = "127.0.0.1:{v1}"
[entryPoints.v2]
address = "127.0.0.1:{v2}"
[entryPoints.walled]
address = "127.0.0.1:{walled}"

[tcp.routers.v1]
rule = "HostSNI(`*`)"
entryPoints = ["v1"]
service = "v1"
[tcp.routers.v2]
rule = "HostSNI(`*`)"
entryPoints = ["v2"]
service = "v2"
[tcp.routers.walled]
rule = "HostSNI(`*`)"
entryPoints = ["walled"]
service = "v1"
middlewares = ["lan-only"]

[tcp.middlewares.lan-only.ipAllowList]
sourceRange = ["10.0.0.0/8"]

[tcp.services.v1.loadBalancer]
servers = [{{ address = "127.0.0.1:{backend}" }}]
proxyProtocol = {{ version = 1 }}
[tcp.services.v2.loadBalancer]
servers = [{{ address = "127.0.0.1:{backend}" }}]
proxyProtocol = {{ version = 2 }}
"#
    );
    let gw = TestGateway::start(&config, &[v1, v2, walled, admin]).await;
    let log_on_panic = scopeguard_log(&gw);
    let exchange = |port: u16| {
        let mut s = connect(port);
        let local = s.local_addr().unwrap();
        s.write_all(b"hello").unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 512];
        while !got.ends_with(b"hello") {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        (got, local.port())
    };
    let (got, client_port) = exchange(v1);
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.starts_with(&format!(
            "PROXY TCP4 127.0.0.1 127.0.0.1 {client_port} {v1}\r\n"
        )),
        "{text}"
    );
    let (got, _) = exchange(v2);
    assert!(got.starts_with(b"\r\n\r\n\0\r\nQUIT\n"), "{got:?}");
    assert!(got.ends_with(b"hello"));
    // not in the allow list: closed without a byte relayed
    let (got, _) = exchange(walled);
    assert!(got.is_empty(), "{got:?}");

    // the API lists the TCP routers, services and middlewares as Traefik does
    let api = |path: &'static str| common::get_json(format!("http://127.0.0.1:{admin}{path}"));
    let (status, routers) = api("/api/tcp/routers").await;
    assert_eq!(status, 200);
    let names: Vec<&str> = routers
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["v1@file", "v2@file", "walled@file"]);
    let (_, service) = api("/api/tcp/services/v1@file").await;
    assert_eq!(
        service["usedBy"],
        serde_json::json!(["v1@file", "walled@file"])
    );
    assert_eq!(service["loadBalancer"]["proxyProtocol"]["version"], 1);
    let (_, mw) = api("/api/tcp/middlewares/lan-only@file").await;
    assert_eq!(mw["ipAllowList"]["sourceRange"][0], "10.0.0.0/8");
    let (_, overview) = api("/api/overview").await;
    assert_eq!(overview["tcp"]["routers"]["total"], 3);
    drop(log_on_panic);
}

#[tokio::test]
async fn bad_tcp_routers_are_config_errors_with_their_keys() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pylon.toml");
    std::fs::write(
        &file,
        r#"[entryPoints.web]
address = "127.0.0.1:8000"
[tcp.routers.a]
rule = "HostSNI(`db.example.com`)"
service = "s"
[tcp.routers.b]
rule = "Host(`x`)"
service = "missing"
[tcp.routers.b.tls]
[tcp.services.s.loadBalancer]
servers = [{ address = "no-port" }]
"#,
    )
    .unwrap();
    let (code, out) = run_pylon(&["check", "--config", file.to_str().unwrap()]);
    assert_ne!(code, 0, "{out}");
    for expected in [
        "tcp.routers.a.rule: a router without `tls` sees no server name",
        "tcp.routers.b.rule",
        "`Host` is an HTTP matcher",
        "tcp.routers.b.service: TCP service `missing` does not exist",
        "tcp.services.s.loadBalancer.servers[0].address: `no-port` is not host:port",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
}
