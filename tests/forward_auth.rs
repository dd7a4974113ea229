//! The `forwardAuth` middleware end to end, against a real Authelia-like auth server on loopback
//! (tests/fixtures/py/auth_server.py): the login redirect, the session cookie, headers copied
//! from the auth answer, a spoofed `X-Forwarded-Uri`, pooled connections, failing closed when
//! the auth server is down, slow or too talkative, forwarded bodies and methods, auth cookies on
//! the response, TLS to the auth server, and the user in the access log.

mod common;

use common::certs::{self, Ca, Key};
use common::python::PyServer;
use common::{client, free_port, TestGateway, TestUpstream};
use serde_json::Value;
use std::time::{Duration, Instant};

/// The auth server's record: accepted connections and the requests it saw.
async fn seen(auth: &PyServer) -> (u64, Vec<Value>) {
    let url = format!("http://127.0.0.1:{}/_seen", auth.port);
    let text = reqwest::get(url).await.unwrap().text().await.unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let connections = v["connections"].as_u64().unwrap();
    (connections, v["requests"].as_array().unwrap().clone())
}

/// A header of a recorded auth request.
fn header<'a>(request: &'a Value, name: &str) -> Option<&'a str> {
    request["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h[0] == name)
        .and_then(|h| h[1].as_str())
}

fn start_auth() -> PyServer {
    PyServer::start("auth_server.py", free_port(), &[])
}

#[tokio::test]
async fn an_authelia_like_login_flow_passes_the_user_upstream() {
    let auth = start_auth();
    let up = TestUpstream::start("app").await;
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.json");
    let config = format!(
        r#"[entryPoints.web]
address = "127.0.0.1:{port}"

[accessLog]
filePath = "{log}"
format = "json"

[http.routers.app]
rule = "Host(`app.test`)"
service = "app"
middlewares = ["sso"]

[http.routers.login]
rule = "Host(`login.test`)"
service = "authsvc"

[http.middlewares.sso.forwardAuth]
address = "http://127.0.0.1:{ap}/verify"
authResponseHeaders = ["Remote-User", "Remote-Groups"]
headerField = "Remote-User"

[http.services.app.loadBalancer]
servers = [{{ url = "{up}" }}]

[http.services.authsvc.loadBalancer]
servers = [{{ url = "http://127.0.0.1:{ap}" }}]
"#,
        log = log.display(),
        ap = auth.port,
        up = up.url()
    );
    let _gw = TestGateway::start_in(dir, &config, &[port]).await;
    let base = format!("http://127.0.0.1:{port}");
    let c = client();

    // 1. No session: the auth server's redirect to its login page reaches the client as written.
    let r = c
        .get(format!("{base}/page?x=1"))
        .header("host", "app.test")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(
        location,
        "http://login.test/login?rd=http%3A%2F%2Fapp.test%2Fpage%3Fx%3D1"
    );
    assert_eq!(r.headers()["set-cookie"], "pending=1; Path=/");
    assert_eq!(r.headers()["content-type"], "text/html");
    assert_eq!(r.text().await.unwrap(), "<a href='/login'>Found</a>");
    assert!(up.requests().is_empty(), "a denied request reached the app");

    // 2. Log in through pylon (the login router has no forwardAuth): a session cookie.
    let query = location.split_once('?').unwrap().1;
    let r = c
        .post(format!("{base}/login?{query}"))
        .header("host", "login.test")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("user=alice&password=secret")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302, "{:?}", r.text().await);
    assert_eq!(r.headers()["location"], "http://app.test/page?x=1");
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("session=good"), "{cookie}");

    // 3. With the session: through to the app, which gets the auth server's user, never the
    //    client's claim.
    let (connections_before, _) = seen(&auth).await;
    for _ in 0..10 {
        let r = c
            .get(format!("{base}/page?x=1"))
            .header("host", "app.test")
            .header("cookie", "session=good")
            .header("remote-user", "mallory")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.unwrap(), "app /page?x=1");
    }
    let got = up.last().unwrap();
    assert_eq!(got.header("remote-user"), Some("alice"));
    assert_eq!(got.header_count("remote-user"), 1);
    assert_eq!(got.header("remote-groups"), Some("admins"));
    assert_eq!(got.header("x-auth-email"), None, "only the listed headers");

    // What the auth server was told: the facts of the request.
    let (connections_after, requests) = seen(&auth).await;
    let check = requests.last().unwrap();
    assert_eq!(check["method"], "GET");
    assert_eq!(check["path"], "/verify");
    assert_eq!(header(check, "x-forwarded-method"), Some("GET"));
    assert_eq!(header(check, "x-forwarded-proto"), Some("http"));
    assert_eq!(header(check, "x-forwarded-host"), Some("app.test"));
    assert_eq!(header(check, "x-forwarded-uri"), Some("/page?x=1"));
    assert_eq!(header(check, "x-forwarded-for"), Some("127.0.0.1"));
    assert_eq!(header(check, "x-forwarded-port"), Some("80"));
    assert_eq!(header(check, "cookie"), Some("session=good"));
    assert_eq!(
        header(check, "host"),
        Some(&*format!("127.0.0.1:{}", auth.port))
    );
    // Ten checks over pooled keep-alive connections, not ten connections.
    assert!(
        connections_after - connections_before <= 2,
        "{} new connections for 10 checks",
        connections_after - connections_before
    );

    // headerField: the user in the access log.
    let deadline = Instant::now() + Duration::from_secs(5);
    let log_text = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("\"alice\"") || Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let last: Value = serde_json::from_str(log_text.lines().last().unwrap()).unwrap();
    assert_eq!(last["ClientUsername"], "alice", "{last}");
}

#[tokio::test]
async fn a_spoofed_forwarded_uri_counts_only_from_trusted_peers_with_trust_forward_header() {
    let auth = start_auth();
    let up = TestUpstream::start("app").await;
    let (web, edge) = (free_port(), free_port());
    let config = format!(
        r#"[entryPoints.web]
address = "127.0.0.1:{web}"

[entryPoints.edge]
address = "127.0.0.1:{edge}"
[entryPoints.edge.forwardedHeaders]
trustedIPs = ["127.0.0.1/32"]

[http.routers.trusting]
rule = "PathPrefix(`/a`)"
service = "app"
middlewares = ["trusting"]

[http.routers.strict]
rule = "PathPrefix(`/b`)"
service = "app"
middlewares = ["strict"]

[http.middlewares.trusting.forwardAuth]
address = "http://127.0.0.1:{ap}/verify"
trustForwardHeader = true

[http.middlewares.strict.forwardAuth]
address = "http://127.0.0.1:{ap}/verify"
trustForwardHeader = false

[http.services.app.loadBalancer]
servers = [{{ url = "{up}" }}]
"#,
        ap = auth.port,
        up = up.url()
    );
    let _gw = TestGateway::start(&config, &[web, edge]).await;
    let c = client();
    let ask = |port: u16, path: &'static str| {
        let c = c.clone();
        async move {
            let r = c
                .get(format!("http://127.0.0.1:{port}{path}"))
                .header("x-forwarded-uri", "/public")
                .header("x-forwarded-host", "public.test")
                .header("x-forwarded-for", "6.6.6.6")
                .send()
                .await
                .unwrap();
            // Not logged in: the auth server redirects, naming what it was told.
            assert_eq!(r.status(), 302);
            r.headers()["location"].to_str().unwrap().to_string()
        }
    };
    let told = |location: String| {
        let rd = location.split("rd=").nth(1).unwrap().to_string();
        rd.replace("%3A", ":").replace("%2F", "/")
    };

    // An untrusted client's claims are gone before any middleware, even a trusting one.
    assert_eq!(
        told(ask(web, "/a/secret").await),
        format!("http://127.0.0.1:{web}/a/secret")
    );
    let (_, requests) = seen(&auth).await;
    assert_eq!(
        header(requests.last().unwrap(), "x-forwarded-for"),
        Some("127.0.0.1")
    );
    // A trusted forwarder's headers reach the auth server only with trustForwardHeader...
    assert_eq!(
        told(ask(edge, "/a/secret").await),
        "http://public.test/public"
    );
    let (_, requests) = seen(&auth).await;
    assert_eq!(
        header(requests.last().unwrap(), "x-forwarded-for"),
        Some("6.6.6.6, 127.0.0.1")
    );
    // ...and a middleware that does not trust them sends the real request.
    assert_eq!(
        told(ask(edge, "/b/secret").await),
        format!("http://127.0.0.1:{edge}/b/secret")
    );
    assert!(up.requests().is_empty());
}

#[tokio::test]
async fn an_auth_server_that_is_down_slow_or_too_big_never_lets_a_request_through() {
    let auth = start_auth();
    let up = TestUpstream::start("app").await;
    let port = free_port();
    let closed = free_port();
    let config = format!(
        r#"[entryPoints.web]
address = "127.0.0.1:{port}"

[http.routers.down]
rule = "Path(`/down`)"
service = "app"
middlewares = ["down"]
[http.routers.slow]
rule = "Path(`/slow`)"
service = "app"
middlewares = ["slow"]
[http.routers.big]
rule = "Path(`/big`)"
service = "app"
middlewares = ["big"]
[http.routers.deny]
rule = "Path(`/deny`)"
service = "app"
middlewares = ["deny"]
[http.routers.signin]
rule = "Path(`/signin`)"
service = "app"
middlewares = ["signin"]
[http.routers.relative]
rule = "Path(`/relative`)"
service = "app"
middlewares = ["relative"]
[http.routers.preserved]
rule = "Path(`/preserved`)"
service = "app"
middlewares = ["preserved"]

[http.middlewares.down.forwardAuth]
address = "http://127.0.0.1:{closed}/verify"
[http.middlewares.slow.forwardAuth]
address = "http://127.0.0.1:{ap}/slow"
timeout = "1s"
[http.middlewares.big.forwardAuth]
address = "http://127.0.0.1:{ap}/big"
[http.middlewares.deny.forwardAuth]
address = "http://127.0.0.1:{ap}/deny"
[http.middlewares.signin.forwardAuth]
address = "http://127.0.0.1:{ap}/deny"
authSigninURL = "https://sso.example.com/signin"
[http.middlewares.relative.forwardAuth]
address = "http://127.0.0.1:{ap}/relative"
[http.middlewares.preserved.forwardAuth]
address = "http://127.0.0.1:{ap}/relative"
preserveLocationHeader = true

[http.services.app.loadBalancer]
servers = [{{ url = "{up}" }}]
"#,
        ap = auth.port,
        up = up.url()
    );
    let _gw = TestGateway::start(&config, &[port]).await;
    let c = client();
    let get = |path: &'static str| c.get(format!("http://127.0.0.1:{port}{path}")).send();

    let r = get("/down").await.unwrap();
    assert_eq!(r.status(), 500, "auth server down");

    let started = Instant::now();
    let r = get("/slow").await.unwrap();
    assert_eq!(r.status(), 504, "auth server slower than the timeout");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(4),
        "{took:?}"
    );

    let r = get("/big").await.unwrap();
    assert_eq!(r.status(), 401, "answer over maxResponseBodySize");

    let r = get("/deny").await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer realm=\"x\"");
    assert_eq!(r.text().await.unwrap(), "no");

    let r = get("/signin").await.unwrap();
    assert_eq!(r.status(), 302);
    assert_eq!(r.headers()["location"], "https://sso.example.com/signin");

    let r = get("/relative").await.unwrap();
    assert_eq!(r.status(), 302);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!("http://127.0.0.1:{}/login", auth.port)
    );
    let r = get("/preserved").await.unwrap();
    assert_eq!(r.headers()["location"], "/login");

    assert!(up.requests().is_empty(), "a request got through");
}

#[tokio::test]
async fn bodies_methods_request_headers_and_auth_cookies() {
    let auth = start_auth();
    let up = TestUpstream::start("app").await;
    let port = free_port();
    let config = format!(
        r#"[entryPoints.web]
address = "127.0.0.1:{port}"

[http.routers.body]
rule = "Path(`/body`)"
service = "app"
middlewares = ["body"]
[http.routers.cookies]
rule = "Path(`/cookies`)"
service = "app"
middlewares = ["cookies"]

[http.middlewares.body.forwardAuth]
address = "http://127.0.0.1:{ap}/body"
forwardBody = true
maxBodySize = 64
preserveRequestMethod = true
[http.middlewares.cookies.forwardAuth]
address = "http://127.0.0.1:{ap}/verify"
authRequestHeaders = ["Cookie"]
addAuthCookiesToResponse = ["refresh"]

[http.services.app.loadBalancer]
servers = [{{ url = "{up}" }}]
"#,
        ap = auth.port,
        up = up.url()
    );
    let _gw = TestGateway::start(&config, &[port]).await;
    let c = client();
    let post = |body: &'static str| {
        c.post(format!("http://127.0.0.1:{port}/body"))
            .body(body)
            .send()
    };

    // The body goes to the auth server and, unchanged, to the upstream.
    let r = post("let me in").await.unwrap();
    assert_eq!(r.status(), 200);
    let got = up.last().unwrap();
    assert_eq!(got.method, "POST");
    assert_eq!(got.body, b"let me in");
    let (_, requests) = seen(&auth).await;
    let check = requests.last().unwrap();
    assert_eq!(check["method"], "POST", "preserveRequestMethod");
    assert_eq!(check["body"], "let me in");

    let r = post("wrong words").await.unwrap();
    assert_eq!(r.status(), 403);
    let too_long = "x".repeat(65);
    let r = c
        .post(format!("http://127.0.0.1:{port}/body"))
        .body(too_long)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "a body over maxBodySize");
    assert_eq!(up.requests().len(), 1);

    // authRequestHeaders: only the cookie goes; addAuthCookiesToResponse: the auth server's
    // `refresh` cookie reaches the client with the upstream's answer.
    let r = c
        .get(format!("http://127.0.0.1:{port}/cookies"))
        .header("cookie", "session=good")
        .header("x-private", "not for the auth server")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["set-cookie"], "refresh=r1; Path=/");
    let (_, requests) = seen(&auth).await;
    let check = requests.last().unwrap();
    assert_eq!(header(check, "cookie"), Some("session=good"));
    assert_eq!(header(check, "x-private"), None);
    assert_eq!(header(check, "x-forwarded-uri"), Some("/cookies"));
}

#[tokio::test]
async fn tls_to_the_auth_server_verifies_its_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::root("forwardAuth test CA");
    let key = Key::P256.generate();
    let leaf = ca.issue("127.0.0.1", &["127.0.0.1"], &key);
    let (cert_file, key_file) = certs::write(dir.path(), "auth", &leaf, &[], &key);
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca.cert.to_pem().unwrap()).unwrap();
    let auth = PyServer::start(
        "auth_server.py",
        free_port(),
        &[cert_file.as_str(), key_file.as_str()],
    );
    let up = TestUpstream::start("app").await;
    let port = free_port();
    let config = format!(
        r#"[entryPoints.web]
address = "127.0.0.1:{port}"

[http.routers.ca]
rule = "Path(`/ca`)"
service = "app"
middlewares = ["ca"]
[http.routers.system]
rule = "Path(`/system`)"
service = "app"
middlewares = ["system"]
[http.routers.insecure]
rule = "Path(`/insecure`)"
service = "app"
middlewares = ["insecure"]

[http.middlewares.ca.forwardAuth]
address = "https://127.0.0.1:{ap}/verify"
tls.ca = "{ca}"
[http.middlewares.system.forwardAuth]
address = "https://127.0.0.1:{ap}/verify"
[http.middlewares.insecure.forwardAuth]
address = "https://127.0.0.1:{ap}/verify"
tls.insecureSkipVerify = true

[http.services.app.loadBalancer]
servers = [{{ url = "{up}" }}]
"#,
        ap = auth.port,
        ca = ca_file.display(),
        up = up.url()
    );
    let _gw = TestGateway::start_in(dir, &config, &[port]).await;
    let c = client();
    let get = |path: &'static str| {
        c.get(format!("http://127.0.0.1:{port}{path}"))
            .header("authorization", "Bearer letmein")
            .send()
    };
    assert_eq!(
        get("/ca").await.unwrap().status(),
        200,
        "trusted via tls.ca"
    );
    assert_eq!(
        up.last().unwrap().header("authorization"),
        Some("Bearer letmein")
    );
    assert_eq!(
        get("/system").await.unwrap().status(),
        500,
        "a certificate the system does not trust fails closed"
    );
    assert_eq!(get("/insecure").await.unwrap().status(), 200);
}
