//! `tls.options` beyond versions and ciphers, end to end (issue 18 points 5 and 6): client
//! certificates (`clientAuth`, each of Traefik's types, CAs from files or inline PEM) per
//! server name, `alpnProtocols`, `curvePreferences`, `disableSessionTickets`, the `default`
//! store's `defaultCertificate` and inline PEM certificates. Client certificates are made by
//! a test CA with openssl; a client from another CA stands for a stranger.

mod common;

use common::certs::{Ca, Key};
use common::gateway::run_pylon;
use common::{free_port, TestGateway, TestUpstream};
use openssl::pkey::{PKey, Private};
use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode, SslVersion};
use openssl::x509::X509;
use std::io::{Read, Write};

/// A client certificate and its key.
struct ClientCert {
    cert: X509,
    key: PKey<Private>,
}

fn client_cert(ca: &Ca, cn: &str) -> ClientCert {
    let key = Key::P256.generate();
    let cert = ca.issue(cn, &[], &key);
    ClientCert { cert, key }
}

/// How one test connection is made.
#[derive(Default)]
struct Dial<'a> {
    cert: Option<&'a ClientCert>,
    alpn: Option<&'static [u8]>,
    groups: Option<&'static str>,
    version: Option<SslVersion>,
}

/// What one connection got: the status and ALPN, or the error text.
#[derive(Debug)]
struct Outcome {
    status: u16,
    alpn: Option<Vec<u8>>,
}

/// Connects to 127.0.0.1:`port` with SNI `sni`, sends `GET /` and reads the answer. With TLS
/// 1.3 a refused client certificate shows as an alert on the first read, so the whole
/// exchange is the test.
async fn get(port: u16, sni: &str, dial: Dial<'_>) -> Result<Outcome, String> {
    let mut b = SslConnector::builder(SslMethod::tls()).unwrap();
    b.set_verify(SslVerifyMode::NONE);
    if let Some(c) = dial.cert {
        b.set_certificate(&c.cert).unwrap();
        b.set_private_key(&c.key).unwrap();
    }
    if let Some(alpn) = dial.alpn {
        b.set_alpn_protos(alpn).unwrap();
    }
    if let Some(groups) = dial.groups {
        b.set_groups_list(groups).unwrap();
    }
    if let Some(v) = dial.version {
        b.set_min_proto_version(Some(v)).unwrap();
        b.set_max_proto_version(Some(v)).unwrap();
    }
    let connector = b.build();
    let sni = sni.to_string();
    tokio::task::spawn_blocking(move || {
        let tcp = std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
        tcp.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .ok();
        let mut cfg = connector.configure().map_err(|e| e.to_string())?;
        cfg.set_verify_hostname(false);
        let mut s = cfg.connect(&sni, tcp).map_err(|e| format!("{e:?}"))?;
        let alpn = s.ssl().selected_alpn_protocol().map(<[u8]>::to_vec);
        if alpn.as_deref() == Some(b"h2") {
            return Ok(Outcome { status: 0, alpn });
        }
        let head = format!("GET / HTTP/1.1\r\nHost: {sni}\r\nConnection: close\r\n\r\n");
        s.write_all(head.as_bytes()).map_err(|e| e.to_string())?;
        let mut answer = Vec::new();
        s.read_to_end(&mut answer).map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&answer);
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("no HTTP answer: {text:?}"))?;
        Ok(Outcome { status, alpn })
    })
    .await
    .expect("client task")
}

async fn status(port: u16, sni: &str, cert: Option<&ClientCert>) -> Result<u16, String> {
    get(
        port,
        sni,
        Dial {
            cert,
            ..Dial::default()
        },
    )
    .await
    .map(|o| o.status)
}

/// Writes the server certificate for `names` and the CA's PEM; returns the TOML for both.
fn server_certs(dir: &std::path::Path, names: &[&str]) -> String {
    names
        .iter()
        .map(|n| {
            let (c, k) = common::tls::write_cert(dir, n, &[n]);
            format!("[[tls.certificates]]\ncertFile = \"{c}\"\nkeyFile = \"{k}\"\n")
        })
        .collect()
}

fn routers(port: u16, upstream: &str, hosts: &[(&str, &str)]) -> String {
    let mut out = format!(
        "[entryPoints.websecure]\naddress = \"127.0.0.1:{port}\"\n\
         [entryPoints.websecure.http.tls]\n\
         [http.services.app.loadBalancer]\nservers = [{{ url = \"{upstream}\" }}]\n"
    );
    for (host, options) in hosts {
        let name = host.replace('.', "-");
        out.push_str(&format!(
            "[http.routers.{name}]\nrule = \"Host(`{host}`)\"\nservice = \"app\"\n\
             [http.routers.{name}.tls]\noptions = \"{options}\"\n"
        ));
    }
    out
}

#[tokio::test]
async fn client_certificates_are_required_and_verified_per_server_name() {
    let up = TestUpstream::start("app").await;
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::root("clients CA");
    let stranger_ca = Ca::root("stranger CA");
    let ca_file = dir.path().join("clients-ca.pem");
    std::fs::write(&ca_file, ca.cert.to_pem().unwrap()).unwrap();
    // the second set of options takes the CA inline, as Traefik's FileOrContent allows
    let inline_ca = String::from_utf8(ca.cert.to_pem().unwrap()).unwrap();
    let config = format!(
        "{}{}\
         [tls.options.strict.clientAuth]\ncaFiles = [\"{}\"]\nclientAuthType = \"RequireAndVerifyClientCert\"\n\
         [tls.options.optional.clientAuth]\ncaFiles = ['''{inline_ca}''']\nclientAuthType = \"VerifyClientCertIfGiven\"\n\
         [tls.options.anycert.clientAuth]\nclientAuthType = \"RequireAnyClientCert\"\n\
         [tls.options.asked.clientAuth]\nclientAuthType = \"RequestClientCert\"\n",
        routers(
            port,
            &up.url(),
            &[
                ("strict.test", "strict"),
                ("optional.test", "optional"),
                ("any.test", "anycert"),
                ("asked.test", "asked"),
                ("open.test", "default"),
            ]
        ),
        server_certs(
            dir.path(),
            &["strict.test", "optional.test", "any.test", "asked.test", "open.test"]
        ),
        ca_file.display()
    );
    let _gw = TestGateway::start_in(dir, &config, &[port]).await;
    let member = client_cert(&ca, "member");
    let stranger = client_cert(&stranger_ca, "stranger");

    // RequireAndVerifyClientCert: only the CA's clients (was: everyone, the key was ignored)
    assert_eq!(status(port, "strict.test", Some(&member)).await, Ok(200));
    let none = status(port, "strict.test", None).await;
    assert!(none.is_err(), "no certificate got {none:?}");
    let other = status(port, "strict.test", Some(&stranger)).await;
    assert!(other.is_err(), "another CA's certificate got {other:?}");
    // VerifyClientCertIfGiven: none is fine, a wrong one is not
    assert_eq!(status(port, "optional.test", None).await, Ok(200));
    assert_eq!(status(port, "optional.test", Some(&member)).await, Ok(200));
    let other = status(port, "optional.test", Some(&stranger)).await;
    assert!(other.is_err(), "another CA's certificate got {other:?}");
    // RequireAnyClientCert: any certificate, none refused
    assert_eq!(status(port, "any.test", Some(&stranger)).await, Ok(200));
    let none = status(port, "any.test", None).await;
    assert!(none.is_err(), "no certificate got {none:?}");
    // RequestClientCert: asked, nothing required
    assert_eq!(status(port, "asked.test", None).await, Ok(200));
    assert_eq!(status(port, "asked.test", Some(&stranger)).await, Ok(200));
    // names under the default options ask nothing
    assert_eq!(status(port, "open.test", None).await, Ok(200));
}

#[tokio::test]
async fn alpn_curves_and_session_tickets_follow_the_options() {
    let up = TestUpstream::start("app").await;
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "{}{}\
         [tls.options.h1only]\nalpnProtocols = [\"http/1.1\"]\n\
         [tls.options.p384]\ncurvePreferences = [\"CurveP384\"]\n\
         [tls.options.notickets]\ndisableSessionTickets = true\n",
        routers(
            port,
            &up.url(),
            &[
                ("h1.test", "h1only"),
                ("p384.test", "p384"),
                ("noticket.test", "notickets"),
                ("open.test", "default"),
            ]
        ),
        server_certs(
            dir.path(),
            &["h1.test", "p384.test", "noticket.test", "open.test"]
        ),
    );
    let _gw = TestGateway::start_in(dir, &config, &[port]).await;
    let h2_first: &'static [u8] = b"\x02h2\x08http/1.1";
    let alpn = |sni: &'static str| async move {
        get(
            port,
            sni,
            Dial {
                alpn: Some(h2_first),
                ..Dial::default()
            },
        )
        .await
        .map(|o| o.alpn)
    };
    assert_eq!(alpn("open.test").await, Ok(Some(b"h2".to_vec())));
    assert_eq!(alpn("h1.test").await, Ok(Some(b"http/1.1".to_vec())));

    let with_groups = |sni: &'static str, groups: &'static str| async move {
        get(
            port,
            sni,
            Dial {
                groups: Some(groups),
                ..Dial::default()
            },
        )
        .await
        .map(|o| o.status)
    };
    assert_eq!(with_groups("open.test", "X25519").await, Ok(200));
    assert!(with_groups("p384.test", "X25519").await.is_err());
    assert_eq!(with_groups("p384.test", "P-384").await, Ok(200));

    assert!(
        tickets(port, "open.test").await > 0,
        "control: tickets are issued"
    );
    assert_eq!(
        tickets(port, "noticket.test").await,
        0,
        "disableSessionTickets"
    );
}

/// How many session tickets a TLS 1.3 client is given by `sni`'s handshake and answer.
async fn tickets(port: u16, sni: &'static str) -> usize {
    use openssl::ssl::SslSessionCacheMode;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    tokio::task::spawn_blocking(move || {
        let count = Arc::new(AtomicUsize::new(0));
        let mut b = SslConnector::builder(SslMethod::tls()).unwrap();
        b.set_verify(SslVerifyMode::NONE);
        b.set_min_proto_version(Some(SslVersion::TLS1_3)).unwrap();
        b.set_session_cache_mode(SslSessionCacheMode::CLIENT);
        let seen = count.clone();
        b.set_new_session_callback(move |_, _| {
            seen.fetch_add(1, Ordering::Relaxed);
        });
        let connector = b.build();
        let tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        tcp.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .ok();
        let mut cfg = connector.configure().unwrap();
        cfg.set_verify_hostname(false);
        let mut s = cfg.connect(sni, tcp).unwrap();
        let head = format!("GET / HTTP/1.1\r\nHost: {sni}\r\nConnection: close\r\n\r\n");
        s.write_all(head.as_bytes()).unwrap();
        let mut answer = Vec::new();
        let _ = s.read_to_end(&mut answer);
        count.load(Ordering::Relaxed)
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn the_default_store_certificate_is_served_to_unknown_names_and_pem_may_be_inline() {
    let up = TestUpstream::start("app").await;
    let port = free_port();
    let ca = Ca::root("server CA");
    let key = Key::P256.generate();
    let fallback = ca.issue("fallback.test", &["fallback.test"], &key);
    let pem = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
    let config = format!(
        "{}[tls.stores.default.defaultCertificate]\ncertFile = '''{}'''\nkeyFile = '''{}'''\n",
        routers(port, &up.url(), &[("open.test", "default")]),
        pem(fallback.to_pem().unwrap()),
        pem(key.private_key_to_pem_pkcs8().unwrap()),
    );
    let _gw = TestGateway::start(&config, &[port]).await;
    let client = common::certs::Client {
        version: SslVersion::TLS1_3,
        ciphers: None,
        sigalgs: None,
    };
    let served = common::certs::served(
        "127.0.0.1",
        port,
        Some("unknown.test"),
        "fallback.test",
        &ca.cert,
        client,
    )
    .await
    .expect("the default store's certificate, verified against its CA");
    assert_eq!(served.cn, "fallback.test");
}

#[test]
fn bad_client_auth_and_option_values_are_refused_with_their_key_paths() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pylon.toml");
    let config = format!(
        "{}\
         [tls.options.a.clientAuth]\ncaFiles = [\"/nonexistent/ca.pem\"]\nclientAuthType = \"RequireAndVerifyClientCert\"\n\
         [tls.options.b.clientAuth]\nclientAuthType = \"RequireAndVerify\"\n\
         [tls.options.c.clientAuth]\nclientAuthType = \"VerifyClientCertIfGiven\"\n\
         [tls.options.d]\ncurvePreferences = [\"CurveP999\"]\nalpnProtocols = [\"h3\"]\n\
         [tls.stores.default.defaultGeneratedCert]\nresolver = \"le\"\n\
         [tls.stores.default.defaultCertificate]\ncertFile = \"/nonexistent/c.pem\"\nkeyFile = \"/nonexistent/k.pem\"\n\
         [tls.stores.other.defaultCertificate]\ncertFile = \"/nonexistent/c.pem\"\nkeyFile = \"/nonexistent/k.pem\"\n",
        routers(free_port(), "http://127.0.0.1:9", &[])
    );
    std::fs::write(&path, config).unwrap();
    let (code, out) = run_pylon(&["check", "--config", path.to_str().unwrap()]);
    assert_ne!(code, 0, "{out}");
    for key in [
        "tls.options.a.clientAuth.caFiles[0]",
        "tls.options.b.clientAuth.clientAuthType",
        "tls.options.c.clientAuth.caFiles",
        "tls.options.d.curvePreferences[0]",
        "tls.options.d.alpnProtocols[0]",
        "tls.stores.default.defaultGeneratedCert",
        "tls.stores.other",
    ] {
        assert!(out.contains(key), "{key} not reported:\n{out}");
    }
}
