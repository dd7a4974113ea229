//! Hot reload from the file provider: edits applied within 1 s, SIGHUP, a bad update keeps the
//! last good config, unchanged pools keep their state, open WebSockets survive.

mod common;

use common::{client, free_port, TestGateway, TestUpstream};
use futures_util::{SinkExt, StreamExt};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

fn static_config(port: u16, watch: bool) -> String {
    format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{port}\"\n[providers.file]\nfilename = \"dynamic.toml\"\nwatch = {watch}\n"
    )
}

fn route_to(url: &str) -> String {
    common::route_all_to(url)
}

/// Writes the file the way editors do: a new file renamed over the old one.
fn replace_file(path: &std::path::Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

async fn upstream_name(port: u16) -> Option<String> {
    let r = client()
        .get(format!("http://127.0.0.1:{port}/"))
        .send()
        .await
        .ok()?;
    Some(r.headers().get("x-upstream")?.to_str().ok()?.to_string())
}

#[tokio::test]
async fn file_edits_apply_within_a_second_and_bad_updates_keep_the_last_good_config() {
    let a = TestUpstream::start("a").await;
    let b = TestUpstream::start("b").await;
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let dynamic = dir.path().join("dynamic.toml");
    std::fs::write(&dynamic, route_to(&a.url())).unwrap();
    let gw = TestGateway::start_in(dir, &static_config(port, true), &[port]).await;
    assert_eq!(upstream_name(port).await.as_deref(), Some("a"));

    let changed = Instant::now();
    replace_file(&dynamic, &route_to(&b.url()));
    let applied = common::eventually(Duration::from_secs(3), || async move {
        (upstream_name(port).await.as_deref() == Some("b")).then_some(())
    })
    .await;
    assert!(applied.is_some(), "the edit was not applied:\n{}", gw.log());
    assert!(
        changed.elapsed() < Duration::from_secs(1),
        "applied in {:?}",
        changed.elapsed()
    );

    // invalid TOML, then a config naming a missing service: both refused, b keeps serving
    replace_file(&dynamic, "[http.routers.r\nrule = ");
    replace_file(
        &dynamic,
        &route_to(&b.url()).replace("service = \"s\"", "service = \"nope\""),
    );
    let refused = common::eventually(Duration::from_secs(3), || {
        let log = gw.log();
        async move {
            (log.matches("refused").count() >= 1 && log.contains("service `nope` does not exist"))
                .then_some(())
        }
    })
    .await;
    assert!(
        refused.is_some(),
        "bad updates are logged with their errors:\n{}",
        gw.log()
    );
    for _ in 0..5 {
        assert_eq!(
            upstream_name(port).await.as_deref(),
            Some("b"),
            "the last good config stays"
        );
    }
}

#[tokio::test]
async fn sighup_reloads_when_watching_is_off() {
    let a = TestUpstream::start("a").await;
    let b = TestUpstream::start("b").await;
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let dynamic = dir.path().join("dynamic.toml");
    std::fs::write(&dynamic, route_to(&a.url())).unwrap();
    let gw = TestGateway::start_in(dir, &static_config(port, false), &[port]).await;
    replace_file(&dynamic, &route_to(&b.url()));
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        upstream_name(port).await.as_deref(),
        Some("a"),
        "not watching: no reload yet"
    );
    let ok = std::process::Command::new("kill")
        .args(["-HUP", &gw.pid().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    let applied = common::eventually(Duration::from_secs(3), || async move {
        (upstream_name(port).await.as_deref() == Some("b")).then_some(())
    })
    .await;
    assert!(applied.is_some(), "SIGHUP reloads:\n{}", gw.log());
}

#[tokio::test]
async fn unchanged_pools_keep_their_health_state_across_reloads() {
    let good = TestUpstream::start("good").await;
    let other = TestUpstream::start("other").await;
    let dead = free_port();
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let dynamic = dir.path().join("dynamic.toml");
    let base = format!(
        "[http.routers.r]\nrule = \"PathPrefix(`/`)\"\nservice = \"s\"\n[http.services.s.loadBalancer]\nservers = [{{ url = \"http://127.0.0.1:{dead}\" }}, {{ url = \"{}\" }}]\n[http.services.s.loadBalancer.passiveHealthCheck]\nfailureWindow = \"60s\"\n",
        good.url()
    );
    std::fs::write(&dynamic, &base).unwrap();
    let gw = TestGateway::start_in(dir, &static_config(port, true), &[port]).await;
    for _ in 0..4 {
        assert_eq!(upstream_name(port).await.as_deref(), Some("good"));
    }
    assert!(common::eventually(Duration::from_secs(3), || {
        let log = gw.log();
        async move { log.contains("is DOWN").then_some(()) }
    })
    .await
    .is_some());
    // an unrelated router is added: service `s` is unchanged and keeps its state
    let more = format!(
        "{base}[http.routers.o]\nrule = \"Path(`/other`)\"\nservice = \"o\"\n[http.services.o.loadBalancer]\nservers = [{{ url = \"{}\" }}]\n",
        other.url()
    );
    replace_file(&dynamic, &more);
    let reused = common::eventually(Duration::from_secs(3), || {
        let log = gw.log();
        async move { log.contains("pools reused: 1 of 2").then_some(()) }
    })
    .await;
    assert!(reused.is_some(), "{}", gw.log());
    for _ in 0..6 {
        assert_eq!(upstream_name(port).await.as_deref(), Some("good"));
    }
    assert_eq!(
        gw.log().matches("is DOWN").count(),
        1,
        "the dead server was not tried again:\n{}",
        gw.log()
    );
}

#[tokio::test]
async fn an_open_websocket_survives_reloads() {
    let ws_up = TestUpstream::start("ws").await;
    let b = TestUpstream::start("b").await;
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let dynamic = dir.path().join("dynamic.toml");
    std::fs::write(&dynamic, route_to(&ws_up.url())).unwrap();
    let gw = TestGateway::start_in(dir, &static_config(port, true), &[port]).await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/ws"))
        .await
        .unwrap();
    for i in 0..3 {
        // each round: the config changes (routing moves to another service), the socket stays
        let target = if i % 2 == 0 { b.url() } else { ws_up.url() };
        replace_file(&dynamic, &route_to(&target));
        let seen = common::eventually(Duration::from_secs(3), || {
            let log = gw.log();
            async move { (log.matches("configuration reloaded").count() > i).then_some(()) }
        })
        .await;
        assert!(seen.is_some(), "{}", gw.log());
        ws.send(Message::text(format!("ping {i}"))).await.unwrap();
        let echo = ws.next().await.unwrap().unwrap();
        assert_eq!(echo.into_text().unwrap().as_str(), format!("ping {i}"));
    }
}

/// A TLS router for `host` sending to `upstream`, with its certificate (written into `dir`).
fn tls_site(dir: &std::path::Path, host: &str, upstream: &str) -> String {
    let (cert, key) = common::tls::write_cert(dir, host, &[host]);
    let name = host.replace('.', "-");
    format!(
        "[http.routers.{name}]\nrule = \"Host(`{host}`)\"\nservice = \"{name}\"\ntls = true\n\
         [http.services.{name}.loadBalancer]\nservers = [{{ url = \"{upstream}\" }}]\n\
         [[tls.certificates]]\ncertFile = \"{cert}\"\nkeyFile = \"{key}\"\n"
    )
}

async fn upstream_over_tls(port: u16, host: &str) -> Option<String> {
    let c = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .resolve(host, ([127, 0, 0, 1], port).into())
        .timeout(Duration::from_secs(5))
        .build()
        .ok()?;
    let r = c.get(format!("https://{host}:{port}/")).send().await.ok()?;
    Some(r.headers().get("x-upstream")?.to_str().ok()?.to_string())
}

#[tokio::test]
async fn a_reload_publishes_certificates_with_the_routes_that_use_them() {
    let a = TestUpstream::start("a").await;
    let b = TestUpstream::start("b").await;
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let dynamic = dir.path().join("dynamic.toml");
    let strict = "[tls.options.default]\nsniStrict = true\n";
    let site_a = tls_site(dir.path(), "a.test", &a.url());
    std::fs::write(&dynamic, format!("{strict}{site_a}")).unwrap();
    let static_config = static_config(port, false).replace(
        "[providers.file]",
        "[entryPoints.web.http.tls]\n[providers.file]",
    );
    let gw = TestGateway::start_in(dir, &static_config, &[port]).await;
    assert_eq!(
        upstream_over_tls(port, "a.test").await.as_deref(),
        Some("a")
    );
    assert_eq!(
        upstream_over_tls(port, "b.test").await,
        None,
        "sniStrict: no certificate for b.test yet"
    );

    // SIGHUP ends a process that does not handle it yet: wait until pylon says it does.
    let listening = common::eventually(Duration::from_secs(20), || {
        let log = gw.log();
        async move { log.contains("listening for SIGHUP").then_some(()) }
    })
    .await;
    assert!(listening.is_some(), "no SIGHUP handler:\n{}", gw.log());
    let site_b = tls_site(gw.dir(), "b.test", &b.url());
    replace_file(&dynamic, &format!("{strict}{site_a}{site_b}"));
    let ok = std::process::Command::new("kill")
        .args(["-HUP", &gw.pid().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    let served = common::eventually(Duration::from_secs(10), || async move {
        (upstream_over_tls(port, "b.test").await.as_deref() == Some("b")).then_some(())
    })
    .await;
    assert!(
        served.is_some(),
        "b.test's certificate and router arrive with one reload:\n{}",
        gw.log()
    );
    assert_eq!(
        upstream_over_tls(port, "a.test").await.as_deref(),
        Some("a")
    );
}

/// A dynamic route in YAML, to `url`.
fn yaml_route_to(url: &str) -> String {
    format!(
        "http:\n  routers:\n    r:\n      rule: PathPrefix(`/`)\n      service: s\n  services:\n    s:\n      loadBalancer:\n        servers:\n          - url: {url}\n"
    )
}

#[tokio::test]
async fn yaml_files_in_a_watched_subdirectory_reload_and_bad_yaml_keeps_the_last_good_config() {
    let a = TestUpstream::start("a").await;
    let b = TestUpstream::start("b").await;
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("dynamic/routes");
    std::fs::create_dir_all(&sub).unwrap();
    let dynamic = sub.join("route.yml");
    std::fs::write(&dynamic, yaml_route_to(&a.url())).unwrap();
    let config = format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{port}\"\n[providers.file]\ndirectory = \"dynamic\"\n"
    );
    let gw = TestGateway::start_in(dir, &config, &[port]).await;
    assert_eq!(upstream_name(port).await.as_deref(), Some("a"));

    replace_file(&dynamic, &yaml_route_to(&b.url()));
    let applied = common::eventually(Duration::from_secs(5), || async move {
        (upstream_name(port).await.as_deref() == Some("b")).then_some(())
    })
    .await;
    assert!(applied.is_some(), "the edit was not applied:\n{}", gw.log());

    // A duplicate key and a tab: refused with the file and line, b keeps serving.
    let bad = format!("{}  services:\n    t: {{}}\n", yaml_route_to(&a.url()));
    replace_file(&dynamic, &bad);
    let file = dynamic.display().to_string();
    let refused = common::eventually(Duration::from_secs(5), || {
        let log = gw.log();
        let file = file.clone();
        async move {
            log.contains(&format!(
                "{file}:11:3: http.services: duplicate key `services`"
            ))
            .then_some(())
        }
    })
    .await;
    assert!(refused.is_some(), "the bad file is named:\n{}", gw.log());
    replace_file(&dynamic, "http:\n\trouters: {}\n");
    let refused = common::eventually(Duration::from_secs(5), || {
        let log = gw.log();
        let file = file.clone();
        async move { log.contains(&format!("{file}:2:1")).then_some(()) }
    })
    .await;
    assert!(refused.is_some(), "the tab is named:\n{}", gw.log());
    for _ in 0..5 {
        assert_eq!(upstream_name(port).await.as_deref(), Some("b"));
    }
}
