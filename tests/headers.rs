//! The `headers` middleware end to end: custom request/response headers, CORS preflights
//! answered by pylon, CORS response headers, security headers (STS only over TLS unless
//! forced) and `allowedHosts`.

mod common;

use common::{client, free_port, TestGateway, TestUpstream};

/// A plain entry point `web` and a TLS one `websecure`, one router on each using `headers`.
fn config(web: u16, websecure: u16, upstream: &str, headers: &str) -> String {
    format!(
        r#"[entryPoints.web]
address = "127.0.0.1:{web}"
[entryPoints.websecure]
address = "127.0.0.1:{websecure}"

[http.routers.plain]
rule = "PathPrefix(`/`)"
service = "s"
entryPoints = ["web"]
middlewares = ["h"]
[http.routers.secure]
rule = "PathPrefix(`/`)"
service = "s"
entryPoints = ["websecure"]
middlewares = ["h"]
tls = true

[http.middlewares.h.headers]
{headers}

[http.services.s.loadBalancer]
servers = [{{ url = "{upstream}" }}]
"#
    )
}

async fn start(headers: &str) -> (TestUpstream, TestGateway, u16, u16) {
    let up = TestUpstream::start("app").await;
    let (web, websecure) = (free_port(), free_port());
    let gw = TestGateway::start(
        &config(web, websecure, &up.url(), headers),
        &[web, websecure],
    )
    .await;
    (up, gw, web, websecure)
}

fn header<'a>(r: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    r.headers().get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn custom_request_and_response_headers_are_set_and_removed() {
    let (up, _gw, web, _) = start(
        r#"
[http.middlewares.h.headers.customRequestHeaders]
X-Script-Name = "test"
X-Remove-Me = ""
[http.middlewares.h.headers.customResponseHeaders]
X-Custom-Response-Header = "value"
X-Upstream = ""
"#,
    )
    .await;
    let r = client()
        .get(format!("http://127.0.0.1:{web}/"))
        .header("X-Script-Name", "client")
        .header("X-Remove-Me", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "x-custom-response-header"), Some("value"));
    assert_eq!(
        header(&r, "x-upstream"),
        None,
        "the upstream's header was removed"
    );
    let seen = up.last().unwrap();
    assert_eq!(seen.header("x-script-name"), Some("test"));
    assert_eq!(seen.header_count("x-script-name"), 1);
    assert_eq!(seen.header("x-remove-me"), None);
}

const CORS: &str = r#"
accessControlAllowMethods = ["GET", "OPTIONS", "PUT"]
accessControlAllowHeaders = ["X-Requested-With", "Content-Type"]
accessControlAllowOriginList = ["https://app.example"]
accessControlAllowOriginListRegex = ["^https://[a-z]+\\.partner\\.example$"]
accessControlExposeHeaders = ["X-Total"]
accessControlAllowCredentials = true
accessControlMaxAge = 100
addVaryHeader = true
"#;

#[tokio::test]
async fn cors_preflight_is_answered_by_pylon() {
    let (up, _gw, web, _) = start(CORS).await;
    let r = client()
        .request(
            reqwest::Method::OPTIONS,
            format!("http://127.0.0.1:{web}/api"),
        )
        .header("Origin", "https://shop.partner.example")
        .header("Access-Control-Request-Method", "PUT")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(&r, "access-control-allow-origin"),
        Some("https://shop.partner.example")
    );
    assert_eq!(
        header(&r, "access-control-allow-methods"),
        Some("GET,OPTIONS,PUT")
    );
    assert_eq!(
        header(&r, "access-control-allow-headers"),
        Some("X-Requested-With,Content-Type")
    );
    assert_eq!(header(&r, "access-control-allow-credentials"), Some("true"));
    assert_eq!(header(&r, "access-control-max-age"), Some("100"));
    assert!(
        up.requests().is_empty(),
        "the preflight never reached the upstream"
    );

    // an OPTIONS without Access-Control-Request-Method is proxied
    let r = client()
        .request(
            reqwest::Method::OPTIONS,
            format!("http://127.0.0.1:{web}/api"),
        )
        .header("Origin", "https://app.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(up.requests().len(), 1);
}

#[tokio::test]
async fn cors_headers_on_responses_for_allowed_origins_only() {
    let (_up, _gw, web, _) = start(CORS).await;
    let get = |origin: &'static str| {
        client()
            .get(format!("http://127.0.0.1:{web}/"))
            .header("Origin", origin)
            .send()
    };
    let r = get("https://app.example").await.unwrap();
    assert_eq!(
        header(&r, "access-control-allow-origin"),
        Some("https://app.example")
    );
    assert_eq!(header(&r, "access-control-expose-headers"), Some("X-Total"));
    assert_eq!(header(&r, "access-control-allow-credentials"), Some("true"));
    assert_eq!(header(&r, "vary"), Some("Origin"));
    let r = get("https://evil.example").await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "access-control-allow-origin"), None);
    assert_eq!(header(&r, "vary"), Some("Origin"));
}

const SECURITY: &str = r#"
frameDeny = true
contentTypeNosniff = true
browserXssFilter = true
referrerPolicy = "same-origin"
contentSecurityPolicy = "default-src 'self'"
permissionsPolicy = "camera=()"
stsSeconds = 31536000
stsIncludeSubdomains = true
stsPreload = true
"#;

#[tokio::test]
async fn security_headers_with_sts_only_over_tls() {
    let (_up, _gw, web, websecure) = start(SECURITY).await;
    let plain = client()
        .get(format!("http://127.0.0.1:{web}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 200);
    assert_eq!(header(&plain, "x-frame-options"), Some("DENY"));
    assert_eq!(header(&plain, "x-content-type-options"), Some("nosniff"));
    assert_eq!(header(&plain, "x-xss-protection"), Some("1; mode=block"));
    assert_eq!(header(&plain, "referrer-policy"), Some("same-origin"));
    assert_eq!(
        header(&plain, "content-security-policy"),
        Some("default-src 'self'")
    );
    assert_eq!(header(&plain, "permissions-policy"), Some("camera=()"));
    assert_eq!(
        header(&plain, "strict-transport-security"),
        None,
        "not over plain HTTP"
    );
    let tls = client()
        .get(format!("https://127.0.0.1:{websecure}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(tls.status(), 200);
    assert_eq!(
        header(&tls, "strict-transport-security"),
        Some("max-age=31536000; includeSubDomains; preload")
    );
}

#[tokio::test]
async fn force_sts_header_sends_it_over_plain_http_and_allowed_hosts_refuse_others() {
    let (up, _gw, web, _) =
        start("stsSeconds = 60\nforceSTSHeader = true\nallowedHosts = [\"good.example\"]\n").await;
    let ok = client()
        .get(format!("http://127.0.0.1:{web}/"))
        .header("Host", "good.example")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(header(&ok, "strict-transport-security"), Some("max-age=60"));
    let bad = client()
        .get(format!("http://127.0.0.1:{web}/"))
        .header("Host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 500);
    assert_eq!(bad.text().await.unwrap(), "Bad Host\n");
    assert_eq!(up.requests().len(), 1);
}
