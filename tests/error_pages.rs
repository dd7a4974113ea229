//! The `errors` middleware end to end: matching upstream statuses and pylon's own 502 get the
//! page from the pages service (status kept or rewritten, `{status}`/`{url}` filled in), other
//! responses pass untouched, and a pages service that is down leaves the original response.

mod common;

use common::{client, free_port, TestGateway, TestUpstream};

fn config(web: u16, app: &str, pages: &str) -> String {
    format!(
        r#"[entryPoints.web]
address = "127.0.0.1:{web}"
[http.routers.app]
rule = "PathPrefix(`/`)"
service = "app"
middlewares = ["oops"]
[http.routers.dead]
rule = "PathPrefix(`/dead`)"
service = "dead"
middlewares = ["oops"]
[http.routers.rewritten]
rule = "PathPrefix(`/rewritten`)"
service = "app"
middlewares = ["unprefix", "flatten"]
[http.routers.nopages]
rule = "PathPrefix(`/nopages`)"
service = "app"
middlewares = ["unprefix", "gone"]
[http.middlewares.unprefix.stripPrefix]
prefixes = ["/rewritten", "/nopages"]
[http.middlewares.oops.errors]
status = ["500-599"]
service = "pages"
query = "/{{status}}.html?u={{url}}"
[http.middlewares.flatten.errors]
status = ["500-599"]
service = "pages"
query = "/{{status}}-from-{{originalStatus}}.html"
[http.middlewares.flatten.errors.statusRewrites]
"500-599" = 500
[http.middlewares.gone.errors]
status = ["500-599"]
service = "nowhere"
[http.services.app.loadBalancer]
servers = [{{ url = "{app}" }}]
[http.services.pages.loadBalancer]
servers = [{{ url = "{pages}" }}]
[http.services.dead.loadBalancer]
servers = [{{ url = "http://127.0.0.1:1" }}]
[http.services.nowhere.loadBalancer]
servers = [{{ url = "http://127.0.0.1:1" }}]
"#
    )
}

async fn get(web: u16, path: &str) -> (u16, String, String) {
    let r = client()
        .get(format!("http://127.0.0.1:{web}{path}"))
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, ct, r.text().await.expect("a complete body"))
}

#[tokio::test]
async fn error_pages_replace_matching_responses_only() {
    let app = TestUpstream::start("app").await;
    let pages = TestUpstream::start("pages").await;
    let web = free_port();
    let _gw = TestGateway::start(&config(web, &app.url(), &pages.url()), &[web]).await;

    // A 2xx passes untouched.
    assert_eq!(
        get(web, "/ok").await,
        (200, "text/plain".into(), "app /ok".into())
    );

    // The upstream's 503 keeps its status and gets the page, {status} and {url} filled in.
    app.set_health(503);
    let (status, ct, body) = get(web, "/health?x=1").await;
    assert_eq!(status, 503);
    assert_eq!(body, "pages /503.html?u=%2Fhealth%3Fx%3D1");
    assert_eq!(ct, "text/plain", "the page's own content type");
    let asked = pages.requests();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].method, "GET");

    // pylon's own 502 (nothing listens behind `dead`) gets the page too.
    let (status, _, body) = get(web, "/dead/x").await;
    assert_eq!(status, 502);
    assert_eq!(body, "pages /502.html?u=%2Fdead%2Fx");

    // statusRewrites changes the status sent; {originalStatus} keeps the upstream's.
    let (status, _, body) = get(web, "/rewritten/health").await;
    assert_eq!(status, 500);
    assert_eq!(body, "pages /500-from-503.html");

    // The pages service is down: the original response goes out as it was.
    let (status, _, body) = get(web, "/nopages/health").await;
    assert_eq!(status, 503);
    assert_eq!(body, "app /health");

    // Healthy again: nothing is replaced and the pages service is not asked.
    app.set_health(200);
    let before = pages.requests().len();
    let (status, _, _) = get(web, "/health").await;
    assert_eq!(status, 200);
    assert_eq!(pages.requests().len(), before);
}

#[tokio::test]
async fn an_errors_middleware_naming_a_missing_service_is_refused_with_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pylon.toml");
    std::fs::write(
        &path,
        "[entryPoints.web]\naddress = \"127.0.0.1:1\"\n\
         [http.middlewares.oops.errors]\nstatus = [\"5xx\"]\nservice = \"nope\"\nquery = \"x\"\n",
    )
    .unwrap();
    let (code, out) = common::gateway::run_pylon(&["check", "--config", path.to_str().unwrap()]);
    assert_ne!(code, 0, "{out}");
    for key in [
        "http.middlewares.oops.errors.status[0]",
        "http.middlewares.oops.errors.service",
        "http.middlewares.oops.errors.query",
    ] {
        assert!(out.contains(key), "`{key}` in:\n{out}");
    }
}
