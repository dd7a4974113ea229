//! The API end to end: Traefik's endpoints and shapes on the insecure `traefik` entry point,
//! server health in `serverStatus`, no secret in any answer, `api@internal` behind a router
//! whose middlewares (basicAuth) no path trick bypasses, and the reload history.

mod common;

use common::{client, free_port, get_json, TestGateway, TestUpstream};
use serde_json::Value;
use std::time::Duration;

const HASH: &str = "{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=";

#[tokio::test]
async fn insecure_api_shows_the_running_config_without_secrets() {
    let live = TestUpstream::start("live").await;
    let (web, admin, dead) = (free_port(), free_port(), free_port());
    let config = format!(
        r#"[entryPoints.web]
address = "127.0.0.1:{web}"
[entryPoints.traefik]
address = "127.0.0.1:{admin}"
[api]
insecure = true
[ping]
entryPoint = "web"
[http.routers.app]
rule = "PathPrefix(`/app`)"
service = "app"
middlewares = ["auth"]
[http.middlewares.auth.basicAuth]
users = ["test:{HASH}"]
[http.services.app.loadBalancer]
servers = [{{ url = "{}" }}, {{ url = "http://127.0.0.1:{dead}" }}]
[http.services.app.loadBalancer.healthCheck]
path = "/health"
interval = "100ms"
timeout = "200ms"
"#,
        live.url()
    );
    let _gw = TestGateway::start(&config, &[web, admin]).await;
    let api = |p: &str| format!("http://127.0.0.1:{admin}{p}");

    let (s, v) = get_json(api("/api/version")).await;
    assert_eq!(s, 200);
    assert_eq!(v["Version"], env!("CARGO_PKG_VERSION"));

    let (s, v) = get_json(api("/api/http/routers")).await;
    assert_eq!(s, 200);
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "api@internal",
            "app@file",
            "dashboard@internal",
            "ping@internal"
        ]
    );

    let (s, app) = get_json(api("/api/http/routers/app@file")).await;
    assert_eq!(s, 200);
    assert_eq!(app["status"], "enabled");
    assert_eq!(app["provider"], "file");
    assert_eq!(app["service"], "app@file");
    assert_eq!(app["middlewares"], serde_json::json!(["auth@file"]));
    assert_eq!(
        app["using"],
        serde_json::json!(["web"]),
        "not bound to `traefik`"
    );
    assert_eq!(app["rule"], "PathPrefix(`/app`)");
    let (s, _) = get_json(api("/api/http/routers/nope@file")).await;
    assert_eq!(s, 404);

    let dead_url = format!("http://127.0.0.1:{dead}");
    let status = common::eventually(Duration::from_secs(5), || async {
        let (_, svc) = get_json(api("/api/http/services/app@file")).await;
        (svc["serverStatus"][&dead_url] == "DOWN").then_some(svc)
    })
    .await
    .expect("the dead server is reported DOWN");
    assert_eq!(status["serverStatus"][&live.url()], "UP");
    assert_eq!(status["usedBy"], serde_json::json!(["app@file"]));
    assert_eq!(status["type"], "loadbalancer");
    assert_eq!(status["loadBalancer"]["servers"][0]["url"], live.url());

    let (s, mw) = get_json(api("/api/http/middlewares/auth@file")).await;
    assert_eq!(s, 200);
    assert_eq!(mw["type"], "basicauth");
    assert_eq!(mw["basicAuth"]["users"], serde_json::json!(["REDACTED"]));
    assert_eq!(mw["usedBy"], serde_json::json!(["app@file"]));

    let (s, overview) = get_json(api("/api/overview")).await;
    assert_eq!(s, 200);
    assert_eq!(overview["http"]["routers"]["total"], 4);
    assert_eq!(overview["http"]["middlewares"]["total"], 1);
    assert_eq!(overview["features"]["accessLog"], false);

    let (s, eps) = get_json(api("/api/entrypoints")).await;
    assert_eq!(s, 200);
    assert_eq!(eps[0]["name"], "traefik");
    assert_eq!(eps[1]["address"], format!("127.0.0.1:{web}"));

    // no hash anywhere, rawdata included
    for path in ["/api/rawdata", "/api/http/middlewares", "/api/overview"] {
        let text = client()
            .get(api(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!text.contains("qUqP5"), "{path} leaks a hash: {text}");
    }
    let (_, raw) = get_json(api("/api/rawdata")).await;
    assert_eq!(raw["routers"]["app@file"]["service"], "app@file");
    assert!(raw["services"]["app@file"]["serverStatus"].is_object());

    // the API is not on the web entry point, and user routers are not on `traefik`
    let r = client()
        .get(format!("http://127.0.0.1:{web}/api/overview"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = client().get(api("/app")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = client().post(api("/api/overview")).send().await.unwrap();
    assert_eq!(r.status(), 405);
}

#[tokio::test]
async fn api_behind_a_router_keeps_its_middlewares_on_every_path() {
    let web = free_port();
    let config = format!(
        r#"[entryPoints.web]
address = "127.0.0.1:{web}"
[api]
[http.routers.dashboard]
rule = "PathPrefix(`/api`) || PathPrefix(`/dashboard`)"
service = "api@internal"
middlewares = ["auth"]
[http.middlewares.auth.basicAuth]
users = ["test:{HASH}"]
"#
    );
    let _gw = TestGateway::start(&config, &[web]).await;
    let base = format!("http://127.0.0.1:{web}");
    for path in [
        "/api/overview",
        "/api/x.js",
        "/api/http/routers",
        "/api/../api/overview",
        "/api/%2e%2e/api/overview",
        "/api//overview",
        "/API/overview",
        "/dashboard/",
    ] {
        let r = common::raw_request(
            web,
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await;
        let status = r.split_whitespace().nth(1).unwrap_or("").to_string();
        assert!(
            status == "401" || status == "400" || status == "404",
            "{path} answered {status} without credentials:\n{r}"
        );
        assert!(
            !r.contains("\"routers\"") && !r.contains("app@file"),
            "{path}: {r}"
        );
    }
    let r = client()
        .get(format!("{base}/api/overview"))
        .basic_auth("test", Some("test"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(v["http"]["routers"]["total"], 1);
    let r = client()
        .get(format!("{base}/api/http/routers/dashboard@file"))
        .basic_auth("test", Some("test"))
        .send()
        .await
        .unwrap();
    let v: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(v["service"], "api@internal");
}

#[tokio::test]
async fn reloads_are_listed_with_what_changed_and_refusals_with_their_errors() {
    let up = TestUpstream::start("up").await;
    let (web, admin) = (free_port(), free_port());
    let config = format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{web}\"\n\
         [entryPoints.traefik]\naddress = \"127.0.0.1:{admin}\"\n\
         [api]\ninsecure = true\n[providers.file]\nfilename = \"dynamic.toml\"\n"
    );
    let dynamic = |router: &str| {
        format!(
            "[http.routers.{router}]\nrule = \"PathPrefix(`/`)\"\nservice = \"s\"\n\
             [http.services.s.loadBalancer]\nservers = [{{ url = \"{}\" }}]\n",
            up.url()
        )
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dynamic.toml"), dynamic("first")).unwrap();
    let gw = TestGateway::start_in(dir, &config, &[web, admin]).await;
    let write = |text: String| {
        let tmp = gw.dir().join("dynamic.tmp");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, gw.dir().join("dynamic.toml")).unwrap();
    };
    let reloads = || async {
        let (_, v) = get_json(format!("http://127.0.0.1:{admin}/api/reloads")).await;
        v.as_array().cloned().unwrap_or_default()
    };
    write(dynamic("second"));
    let applied = common::eventually(Duration::from_secs(5), || async {
        let list = reloads().await;
        (list.len() >= 2).then_some(list)
    })
    .await
    .expect("the file edit is listed");
    assert_eq!(applied[0]["result"], "applied");
    assert_eq!(applied[0]["version"], 2);
    let details = applied[0]["details"].to_string();
    assert!(
        details.contains("added second@file") && details.contains("removed first@file"),
        "{details}"
    );
    assert_eq!(applied.last().unwrap()["source"], "start");

    write("[http.routers.broken]\nrule = \"Path(`/x`\"\nservice = \"s\"\n".to_string());
    let refused = common::eventually(Duration::from_secs(5), || async {
        let list = reloads().await;
        (list.len() >= 3).then_some(list)
    })
    .await
    .expect("the bad edit is listed");
    assert_eq!(refused[0]["result"], "refused");
    assert_eq!(refused[0]["version"], 2, "the good config stays");
    assert!(
        refused[0]["details"]
            .to_string()
            .contains("http.routers.broken"),
        "{}",
        refused[0]
    );
    let (_, overview) = get_json(format!("http://127.0.0.1:{admin}/api/overview")).await;
    assert_eq!(overview["version"], 2);
}

// Fails without SECRET_MAPS and redact_url in src/api/redact.rs: the API showed the header's
// token and the server's password as configured.
#[tokio::test]
async fn custom_request_header_values_and_server_userinfo_are_redacted() {
    let (web, admin) = (free_port(), free_port());
    let config = format!(
        r#"[entryPoints.web]
address = "127.0.0.1:{web}"
[entryPoints.traefik]
address = "127.0.0.1:{admin}"
[api]
insecure = true
[http.routers.app]
rule = "PathPrefix(`/app`)"
service = "app"
middlewares = ["token"]
[http.middlewares.token.headers.customRequestHeaders]
X-Api-Key = "s3cret-key"
Authorization = "Bearer s3cret-token"
[http.services.app.loadBalancer]
servers = [{{ url = "http://bob:s3cret-pass@127.0.0.1:9" }}]
"#
    );
    let _gw = TestGateway::start(&config, &[web, admin]).await;
    for path in [
        "/api/http/middlewares/token@file",
        "/api/http/services/app@file",
        "/api/http/services",
        "/api/rawdata",
    ] {
        let (s, v) = get_json(format!("http://127.0.0.1:{admin}{path}")).await;
        assert_eq!(s, 200, "{path}");
        let text = v.to_string();
        assert!(!text.contains("s3cret"), "{path} shows a secret: {text}");
        assert!(!text.is_empty());
    }
    let (_, mw) = get_json(format!(
        "http://127.0.0.1:{admin}/api/http/middlewares/token@file"
    ))
    .await;
    assert_eq!(
        mw["headers"]["customRequestHeaders"]["X-Api-Key"],
        "REDACTED"
    );
}
