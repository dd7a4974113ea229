//! The dashboard in a real headless Chromium: it loads with no console errors, lists the test
//! config's routers, services and middlewares, filters by search, shows live rates and the
//! start reload, and shows a sick server as DOWN soon after its health check fails. A
//! screenshot is saved to `target/test-artifacts/dashboard.png`.

mod common;

use common::webdriver::Browser;
use common::{client, free_port, TestGateway, TestUpstream};
use std::time::{Duration, Instant};

/// The health-check interval of the test service.
const HEALTH_INTERVAL: Duration = Duration::from_secs(1);
/// How often the dashboard reads the API (src/api/dashboard/app.js REFRESH_MS).
const DASHBOARD_REFRESH: Duration = Duration::from_secs(2);

fn config(web: u16, admin: u16, healthy: &str, sick: &str, acme: &AcmeDown) -> String {
    format!(
        r#"[entryPoints.web]
address = "127.0.0.1:{web}"
[certificatesResolvers.le.acme]
email = "ops@pylon.test"
caServer = "https://127.0.0.1:{ca}/dir"
storage = "{storage}"
[certificatesResolvers.le.acme.httpChallenge]
entryPoint = "web"
[http.routers.secure]
rule = "Host(`secure.test`)"
service = "shop"
[http.routers.secure.tls]
certResolver = "le"
[entryPoints.traefik]
address = "127.0.0.1:{admin}"
[api]
insecure = true
[metrics.prometheus]
addRoutersLabels = true
[http.routers.shop]
rule = "PathPrefix(`/shop`)"
service = "shop"
middlewares = ["shop-strip"]
[http.routers.blog]
rule = "Host(`blog.test`)"
service = "shop"
[http.middlewares.shop-strip.stripPrefix]
prefixes = ["/shop"]
[http.services.shop.loadBalancer]
servers = [{{ url = "{healthy}" }}, {{ url = "{sick}" }}]
[http.services.shop.loadBalancer.healthCheck]
path = "/health"
interval = "{}ms"
timeout = "500ms"
"#,
        HEALTH_INTERVAL.as_millis(),
        ca = acme.ca_port,
        storage = acme.storage.display(),
    )
}

/// A certificate resolver whose CA is down: the dashboard shows it and its pending certificate.
struct AcmeDown {
    ca_port: u16,
    storage: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl AcmeDown {
    fn new() -> AcmeDown {
        let dir = tempfile::tempdir().unwrap();
        AcmeDown {
            ca_port: free_port(),
            storage: dir.path().join("acme.json"),
            _dir: dir,
        }
    }
}

/// The text of the table body `id`, once the dashboard has rendered it.
async fn table_text(browser: &Browser, id: &str) -> String {
    let script = format!("return document.getElementById('{id}').innerText;");
    browser
        .run(&script)
        .await
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_the_config_live_in_a_real_browser() {
    let healthy = TestUpstream::start("healthy").await;
    let sick = TestUpstream::start("sick").await;
    let (web, admin) = (free_port(), free_port());
    let acme = AcmeDown::new();
    let _gw = TestGateway::start(
        &config(web, admin, &healthy.url(), &sick.url(), &acme),
        &[web, admin],
    )
    .await;
    let browser = Browser::start().await;
    browser
        .open(&format!("http://127.0.0.1:{admin}/dashboard/"))
        .await;

    let loaded = common::eventually(Duration::from_secs(10), || async {
        let v = browser
            .run("return document.body.dataset.loaded || '';")
            .await;
        (v == "true").then_some(())
    })
    .await;
    assert!(
        loaded.is_some(),
        "the dashboard never rendered the API data"
    );

    let routers = table_text(&browser, "routers-body").await;
    for expected in [
        "shop@file",
        "blog@file",
        "PathPrefix(`/shop`)",
        "shop-strip@file",
        "api@internal",
    ] {
        assert!(routers.contains(expected), "`{expected}` in:\n{routers}");
    }
    let services = table_text(&browser, "services-body").await;
    assert!(
        services.contains(&format!("{} UP", sick.url())),
        "{services}"
    );
    let middlewares = table_text(&browser, "middlewares-body").await;
    assert!(middlewares.contains("stripprefix"), "{middlewares}");
    let reloads = table_text(&browser, "reloads-body").await;
    assert!(reloads.contains("start"), "{reloads}");
    // Certificates (issue 15 point 6): the resolver and the name it is asked for, not issued
    // while its CA is down.
    let acme_shown = common::eventually(Duration::from_secs(10), || async {
        let resolvers = table_text(&browser, "resolvers-body").await;
        let certificates = table_text(&browser, "certificates-body").await;
        (resolvers.contains("le") && certificates.contains("secure.test")).then_some(certificates)
    })
    .await;
    let certificates = acme_shown.expect("the ACME section lists the resolver and secure.test");
    assert!(certificates.contains("not issued yet"), "{certificates}");

    // Search filters like Traefik's.
    browser
        .run(
            "const s = document.getElementById('search'); s.value = 'blog'; \
             s.dispatchEvent(new Event('input')); return true;",
        )
        .await;
    let filtered = table_text(&browser, "routers-body").await;
    assert!(
        filtered.contains("blog@file") && !filtered.contains("PathPrefix(`/shop`)"),
        "{filtered}"
    );
    browser
        .run(
            "const s = document.getElementById('search'); s.value = ''; \
             s.dispatchEvent(new Event('input')); return true;",
        )
        .await;

    // Live rates: traffic through `shop` shows as requests per second.
    let c = client();
    let deadline = Instant::now() + DASHBOARD_REFRESH * 3;
    let mut rate = String::new();
    while Instant::now() < deadline {
        for _ in 0..20 {
            let _ = c.get(format!("http://127.0.0.1:{web}/shop/x")).send().await;
        }
        rate = browser
            .run("return document.getElementById('rate-requests').innerText;")
            .await
            .as_str()
            .unwrap_or("")
            .to_string();
        if rate.parse::<f64>().is_ok_and(|r| r > 0.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        rate.parse::<f64>().is_ok_and(|r| r > 0.0),
        "requests/s shown: {rate:?}"
    );

    // A server turning sick shows as DOWN within one health interval plus one refresh.
    sick.set_health(500);
    let flipped = Instant::now();
    let down = format!("{} DOWN", sick.url());
    let shown = common::eventually(
        HEALTH_INTERVAL + DASHBOARD_REFRESH + Duration::from_secs(2),
        || {
            let browser = &browser;
            let down = down.clone();
            async move {
                table_text(browser, "services-body")
                    .await
                    .contains(&down)
                    .then_some(())
            }
        },
    )
    .await;
    let took = flipped.elapsed();
    assert!(shown.is_some(), "the sick server never showed as DOWN");
    assert!(
        took <= HEALTH_INTERVAL + DASHBOARD_REFRESH + Duration::from_millis(500),
        "DOWN shown after {took:?}"
    );

    let console = browser.console().await;
    let errors: Vec<_> = console
        .iter()
        .filter(|e| e["level"] == "SEVERE" || e["level"] == "WARNING")
        .collect();
    assert!(errors.is_empty(), "console errors: {errors:?}");

    let png = browser.screenshot().await;
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("dashboard.png"), &png).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_files_carry_a_strict_content_security_policy() {
    let admin = free_port();
    let config =
        format!("[entryPoints.traefik]\naddress = \"127.0.0.1:{admin}\"\n[api]\ninsecure = true\n");
    let _gw = TestGateway::start(&config, &[admin]).await;
    let c = client();
    let r = c
        .get(format!("http://127.0.0.1:{admin}/dashboard"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 301);
    assert_eq!(r.headers()["location"], "/dashboard/");
    for path in ["/dashboard/", "/dashboard/app.js", "/dashboard/style.css"] {
        let r = c
            .get(format!("http://127.0.0.1:{admin}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let csp = r.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    }
    let r = c
        .get(format!("http://127.0.0.1:{admin}/dashboard/nope.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}
