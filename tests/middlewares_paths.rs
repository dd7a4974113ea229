//! Path and access middlewares through a real pylon: redirectScheme, redirectRegex, addPrefix,
//! replacePath, replacePathRegex, stripPrefixRegex, ipAllowList and chain.

mod common;

use common::gateway::run_pylon;
use common::{client, free_port, TestGateway, TestUpstream};
use reqwest::header::LOCATION;

/// One entry point trusting 127.0.0.1 as a forwarder, one service `s` on `upstream`.
fn config(port: u16, upstream: &TestUpstream, dynamic: &str) -> String {
    format!(
        r#"[entryPoints.web]
address = "127.0.0.1:{port}"
[entryPoints.web.forwardedHeaders]
trustedIPs = ["127.0.0.1/32"]

[http.services.s.loadBalancer]
servers = [{{ url = "{}" }}]

{dynamic}"#,
        upstream.url()
    )
}

/// Status, Location header and body of a request.
async fn send(req: reqwest::RequestBuilder) -> (u16, Option<String>, String) {
    let r = req.send().await.expect("request through pylon");
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get(LOCATION)
        .map(|l| l.to_str().unwrap_or("").to_string());
    (status, location, r.text().await.unwrap_or_default())
}

/// The request the upstream saw for `target`.
fn seen(up: &TestUpstream, target: &str) -> common::upstream::Seen {
    up.requests()
        .into_iter()
        .find(|r| r.target == target)
        .unwrap_or_else(|| panic!("the upstream never saw {target}: {:?}", up.requests()))
}

#[tokio::test]
async fn redirect_scheme_sends_clients_to_the_other_scheme() {
    let up = TestUpstream::start("up").await;
    let port = free_port();
    let dynamic = r#"
[http.routers.temp]
rule = "PathPrefix(`/temp`)"
service = "s"
middlewares = ["to-https"]
[http.routers.perm]
rule = "PathPrefix(`/perm`)"
service = "s"
middlewares = ["to-https-perm"]
[http.middlewares.to-https.redirectScheme]
scheme = "https"
port = "8443"
[http.middlewares.to-https-perm.redirectScheme]
scheme = "https"
permanent = true
"#;
    let _gw = TestGateway::start(&config(port, &up, dynamic), &[port]).await;
    let base = format!("http://127.0.0.1:{port}");
    let c = client();

    let (status, location, body) = send(c.get(format!("{base}/temp/x?q=1"))).await;
    assert_eq!(status, 302);
    assert_eq!(
        location.as_deref(),
        Some("https://127.0.0.1:8443/temp/x?q=1")
    );
    assert_eq!(body, "Found");
    let (status, ..) = send(c.post(format!("{base}/temp/x"))).await;
    assert_eq!(status, 307, "other methods keep their method");

    // no port configured: the scheme's default port, so none is written
    let (status, location, _) = send(c.get(format!("{base}/perm/a"))).await;
    assert_eq!(status, 301);
    assert_eq!(location.as_deref(), Some("https://127.0.0.1/perm/a"));
    let (status, ..) = send(c.put(format!("{base}/perm/a"))).await;
    assert_eq!(status, 308);

    // behind a trusted TLS-terminating proxy (on its default port) the request already is
    // https: no redirect loop
    let behind = c
        .get(format!("{base}/perm/behind"))
        .header("host", "example.com")
        .header("x-forwarded-proto", "https");
    let (status, _, body) = send(behind).await;
    assert_eq!(status, 200);
    assert_eq!(body, "up /perm/behind");
    assert_eq!(
        up.requests().len(),
        1,
        "redirected requests never reach the upstream"
    );
}

#[tokio::test]
async fn redirect_regex_rewrites_the_full_url() {
    let up = TestUpstream::start("up").await;
    let port = free_port();
    let dynamic = r#"
[http.routers.r]
rule = "PathPrefix(`/`)"
service = "s"
middlewares = ["old-to-new"]
[http.middlewares.old-to-new.redirectRegex]
regex = '^http://([^/]+)/old/(.*)$'
replacement = "http://${1}/new/${2}"
permanent = true
"#;
    let _gw = TestGateway::start(&config(port, &up, dynamic), &[port]).await;
    let base = format!("http://127.0.0.1:{port}");
    let c = client();

    let (status, location, body) = send(c.get(format!("{base}/old/a/b?c=1"))).await;
    assert_eq!(status, 301);
    assert_eq!(
        location.as_deref(),
        Some(format!("http://127.0.0.1:{port}/new/a/b?c=1").as_str())
    );
    assert_eq!(body, "Moved Permanently");
    let (status, ..) = send(c.delete(format!("{base}/old/x"))).await;
    assert_eq!(status, 308);

    let (status, _, body) = send(c.get(format!("{base}/new/a"))).await;
    assert_eq!(
        (status, body.as_str()),
        (200, "up /new/a"),
        "no match: proxied"
    );
}

#[tokio::test]
async fn path_rewrites_reach_the_upstream() {
    let up = TestUpstream::start("up").await;
    let port = free_port();
    let dynamic = r#"
[http.routers.add]
rule = "PathPrefix(`/add`)"
service = "s"
middlewares = ["add-api"]
[http.middlewares.add-api.addPrefix]
prefix = "/api"

[http.routers.replace]
rule = "PathPrefix(`/replace`)"
service = "s"
middlewares = ["fixed"]
[http.middlewares.fixed.replacePath]
path = "/fixed"

[http.routers.regex]
rule = "PathPrefix(`/regex`)"
service = "s"
middlewares = ["rewrite"]
[http.middlewares.rewrite.replacePathRegex]
regex = "^/regex/(.*)"
replacement = "/new/$1"

[http.routers.strip]
rule = "PathPrefix(`/strip`)"
service = "s"
middlewares = ["strip-re"]
[http.middlewares.strip-re.stripPrefixRegex]
regex = ["/strip/[a-z]+/[0-9]+"]
"#;
    let _gw = TestGateway::start(&config(port, &up, dynamic), &[port]).await;
    let base = format!("http://127.0.0.1:{port}");
    let c = client();
    let get = |path: &str| c.get(format!("{base}{path}"));

    let (status, _, body) = send(get("/add/x?q=1")).await;
    assert_eq!((status, body.as_str()), (200, "up /api/add/x?q=1"));

    let (_, _, body) = send(get("/replace/a/b?q=1")).await;
    assert_eq!(body, "up /fixed?q=1");
    assert_eq!(
        seen(&up, "/fixed?q=1").header("x-replaced-path"),
        Some("/replace/a/b")
    );

    let (_, _, body) = send(get("/regex/a/b")).await;
    assert_eq!(body, "up /new/a/b");
    assert_eq!(
        seen(&up, "/new/a/b").header("x-replaced-path"),
        Some("/regex/a/b")
    );
    let (_, _, body) = send(get("/regexnomatch")).await;
    assert_eq!(body, "up /regexnomatch", "no match: unchanged");
    assert_eq!(seen(&up, "/regexnomatch").header("x-replaced-path"), None);

    let (_, _, body) = send(get("/strip/abc/12/rest?x=1")).await;
    assert_eq!(body, "up /rest?x=1");
    assert_eq!(
        seen(&up, "/rest?x=1").header("x-forwarded-prefix"),
        Some("/strip/abc/12")
    );
    let (_, _, body) = send(get("/strip/abc")).await;
    assert_eq!(body, "up /strip/abc", "no match: unchanged");
    assert_eq!(seen(&up, "/strip/abc").header("x-forwarded-prefix"), None);
}

#[tokio::test]
async fn ip_allow_list_refuses_clients_outside_the_ranges() {
    let up = TestUpstream::start("up").await;
    let port = free_port();
    let dynamic = r#"
[http.routers.deny]
rule = "PathPrefix(`/deny`)"
service = "s"
middlewares = ["office"]
[http.middlewares.office.ipAllowList]
sourceRange = ["10.0.0.0/8"]

[http.routers.allow]
rule = "PathPrefix(`/allow`)"
service = "s"
middlewares = ["local"]
[http.middlewares.local.ipAllowList]
sourceRange = ["192.168.0.0/16", "127.0.0.1/32"]

[http.routers.hide]
rule = "PathPrefix(`/hide`)"
service = "s"
middlewares = ["hidden"]
[http.middlewares.hidden.ipAllowList]
sourceRange = ["10.0.0.0/8"]
rejectStatusCode = 404

[http.routers.depth]
rule = "PathPrefix(`/depth`)"
service = "s"
middlewares = ["by-depth"]
[http.middlewares.by-depth.ipAllowList]
sourceRange = ["203.0.113.0/24"]
ipStrategy.depth = 1

[http.routers.pool]
rule = "PathPrefix(`/pool`)"
service = "s"
middlewares = ["by-pool"]
[http.middlewares.by-pool.ipAllowList]
sourceRange = ["203.0.113.0/24"]
ipStrategy.excludedIPs = ["198.51.100.0/24"]
"#;
    let _gw = TestGateway::start(&config(port, &up, dynamic), &[port]).await;
    let base = format!("http://127.0.0.1:{port}");
    let c = client();
    let xff = |path: &str, v: &str| {
        c.get(format!("{base}{path}"))
            .header("x-forwarded-for", v.to_string())
    };

    let (status, _, body) = send(c.get(format!("{base}/deny"))).await;
    assert_eq!((status, body.as_str()), (403, "Forbidden"));
    let (status, ..) = send(xff("/deny", "10.1.2.3")).await;
    assert_eq!(
        status, 403,
        "X-Forwarded-For is ignored without an ipStrategy"
    );
    let (status, _, body) = send(c.get(format!("{base}/allow"))).await;
    assert_eq!((status, body.as_str()), (200, "up /allow"));
    let (status, ..) = send(c.get(format!("{base}/hide"))).await;
    assert_eq!(status, 404);

    // depth 1: the rightmost X-Forwarded-For entry (sent by the trusted 127.0.0.1)
    let (status, ..) = send(xff("/depth", "198.51.100.1, 203.0.113.7")).await;
    assert_eq!(status, 200);
    let (status, ..) = send(xff("/depth", "203.0.113.7, 198.51.100.1")).await;
    assert_eq!(status, 403);
    let (status, ..) = send(c.get(format!("{base}/depth"))).await;
    assert_eq!(status, 403, "no X-Forwarded-For: no client IP, refused");

    // excludedIPs: the rightmost entry not excluded
    let (status, ..) = send(xff("/pool", "203.0.113.7, 198.51.100.1, 198.51.100.2")).await;
    assert_eq!(status, 200);
    let (status, ..) = send(xff("/pool", "198.51.100.1")).await;
    assert_eq!(status, 403);

    let targets: Vec<String> = up.requests().into_iter().map(|r| r.target).collect();
    assert!(
        targets
            .iter()
            .all(|t| !t.starts_with("/deny") && !t.starts_with("/hide")),
        "refused requests reached the upstream: {targets:?}"
    );
}

#[tokio::test]
async fn chains_expand_in_order_and_nest() {
    let up = TestUpstream::start("up").await;
    let port = free_port();
    let dynamic = r#"
[http.routers.ch]
rule = "PathPrefix(`/ch`)"
service = "s"
middlewares = ["outer"]
[http.middlewares.outer.chain]
middlewares = ["strip-ch", "inner"]
[http.middlewares.inner.chain]
middlewares = ["add-v2"]
[http.middlewares.strip-ch.stripPrefix]
prefixes = ["/ch"]
[http.middlewares.add-v2.addPrefix]
prefix = "/v2"

[http.routers.guarded]
rule = "PathPrefix(`/guarded`)"
service = "s"
middlewares = ["guard"]
[http.middlewares.guard.chain]
middlewares = ["inner", "office@file"]
[http.middlewares.office.ipAllowList]
sourceRange = ["10.0.0.0/8"]
"#;
    let _gw = TestGateway::start(&config(port, &up, dynamic), &[port]).await;
    let base = format!("http://127.0.0.1:{port}");
    let c = client();

    let (status, _, body) = send(c.get(format!("{base}/ch/x?y=1"))).await;
    assert_eq!(
        (status, body.as_str()),
        (200, "up /v2/x?y=1"),
        "strip, then add"
    );
    assert_eq!(
        seen(&up, "/v2/x?y=1").header("x-forwarded-prefix"),
        Some("/ch")
    );

    let (status, ..) = send(c.get(format!("{base}/guarded"))).await;
    assert_eq!(status, 403, "the chain's ipAllowList runs");
}

#[test]
fn invalid_settings_and_chain_cycles_are_refused_with_their_key_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("pylon.toml");
    let cfg = r#"
[entryPoints.web]
address = "127.0.0.1:8000"
[http.routers.r]
rule = "PathPrefix(`/`)"
service = "s"
middlewares = ["a"]
[http.services.s.loadBalancer]
servers = [{ url = "http://127.0.0.1:9" }]

[http.middlewares.a.chain]
middlewares = ["b"]
[http.middlewares.b.chain]
middlewares = ["ok", "a", "ghost"]
[http.middlewares.ok.addPrefix]
prefix = "/x"
[http.middlewares.scheme.redirectScheme]
scheme = "ht tp"
port = "99999"
[http.middlewares.re.redirectRegex]
regex = "^(unclosed"
replacement = "/x"
[http.middlewares.rpr.replacePathRegex]
regex = "["
replacement = "/y"
[http.middlewares.spr.stripPrefixRegex]
regex = ["/ok", "(bad"]
[http.middlewares.path.replacePath]
path = "nope"
[http.middlewares.ips.ipAllowList]
sourceRange = ["10.0.0.0/8", "10.0.0.300"]
rejectStatusCode = 999
ipStrategy.excludedIPs = ["nope"]
"#;
    std::fs::write(&path, cfg).expect("write config");
    let (code, out) = run_pylon(&["check", "--config", &path.display().to_string()]);
    assert_eq!(code, 2, "{out}");
    for want in [
        "http.middlewares.a.chain.middlewares: chains refer back to themselves: a -> b -> a",
        "http.middlewares.b.chain.middlewares[2]: middleware `ghost` does not exist",
        "http.middlewares.scheme.redirectScheme.scheme: `ht tp` is not a URL scheme",
        "http.middlewares.scheme.redirectScheme.port: `99999` is not a port",
        "http.middlewares.re.redirectRegex.regex: invalid regex",
        "http.middlewares.rpr.replacePathRegex.regex: invalid regex",
        "http.middlewares.spr.stripPrefixRegex.regex[1]: invalid regex",
        "http.middlewares.path.replacePath.path: `nope` does not start with `/`",
        "http.middlewares.ips.ipAllowList.sourceRange[1]: `10.0.0.300` is neither",
        "http.middlewares.ips.ipAllowList.rejectStatusCode: 999 is not an HTTP status code",
        "http.middlewares.ips.ipAllowList.ipStrategy.excludedIPs[0]: `nope` is neither",
    ] {
        assert!(out.contains(want), "output lacks {want:?}:\n{out}");
    }
    assert!(
        !out.contains("http.middlewares.b.chain.middlewares: chains"),
        "a cycle is reported once:\n{out}"
    );
}
