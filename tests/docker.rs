//! The Docker provider against a real engine (Debian's dockerd on a private socket): MusicShare's
//! labels route as its README says; routes follow containers starting and stopping within 1 s;
//! replicas are load-balanced; unhealthy containers wait; broken labels touch only their
//! container; a daemon restart is survived.

mod common;

use common::docker::DockerEngine;
use common::{client, eventually, free_port, get_json, TestGateway};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// pylon on `web`, watching `engine`, considering only the containers labelled with `scope`
/// (tests share one engine; `constraints` keeps each test to its own containers).
fn static_config(web: u16, engine: &DockerEngine, scope: &str) -> String {
    format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{web}\"\n[providers.docker]\nendpoint = \"{}\"\nexposedByDefault = false\n{}",
        engine.endpoint(),
        constraint(scope)
    )
}

fn constraint(scope: &str) -> String {
    format!("constraints = \"Label(`test.scope`, `{scope}`)\"\n")
}

/// `pairs` as container labels, plus the test's scope label.
fn scoped(scope: &str, pairs: &[(&str, &str)]) -> Vec<(&'static str, String)> {
    let mut all = pairs.to_vec();
    all.push(("test.scope", scope));
    labels(&all)
}

/// Status and body of `GET http://127.0.0.1:port{path}` with `Host: host`.
async fn get(port: u16, host: &str, path: &str) -> Option<(u16, String)> {
    let r = client()
        .get(format!("http://127.0.0.1:{port}{path}"))
        .header("host", host)
        .send()
        .await
        .ok()?;
    let status = r.status().as_u16();
    Some((status, r.text().await.ok()?))
}

/// Waits until `GET` answers `status` (and, for 200, `body`); returns how long it took.
async fn wait_for(
    port: u16,
    host: &str,
    path: &str,
    status: u16,
    body: &str,
    within: Duration,
) -> Option<Duration> {
    let start = Instant::now();
    eventually(within, || async {
        let (s, b) = get(port, host, path).await?;
        (s == status && (status != 200 || b == body)).then_some(())
    })
    .await
    .map(|_| start.elapsed())
}

fn labels(pairs: &[(&str, &str)]) -> Vec<(&'static str, String)> {
    pairs
        .iter()
        .map(|(k, v)| (&*Box::leak(k.to_string().into_boxed_str()), v.to_string()))
        .collect()
}

/// A unique name per test run (containers of one engine share a namespace).
fn unique(base: &str) -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    format!(
        "{base}-{}",
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_appears_within_a_second_of_start_and_goes_within_a_second_of_stop() {
    let engine = DockerEngine::shared();
    let scope = unique("scope");
    let web = free_port();
    let gw = TestGateway::start(&static_config(web, engine, &scope), &[web]).await;
    let name = unique("appear");
    let host = format!("{name}.test");
    engine.serve_file(&name, "index.html", &name);
    let port = free_port();
    let port_label = port.to_string();
    let rule = format!("Host(`{host}`)");
    let l = scoped(
        &scope,
        &[
            ("traefik.enable", "true"),
            ("traefik.http.routers.appear.rule", &rule),
            (
                "traefik.http.services.appear.loadbalancer.server.port",
                &port_label,
            ),
        ],
    );
    assert_eq!(get(web, &host, "/").await.map(|r| r.0), Some(404));
    engine.run_httpd(&name, port, &l, &[]);
    let appeared = wait_for(web, &host, "/", 200, &name, Duration::from_secs(1)).await;
    assert!(
        appeared.is_some(),
        "no route within 1 s of the start; pylon log:\n{}",
        gw.log()
    );
    engine.docker(&["stop", "-t", "0", &name]).expect("stop");
    let gone = wait_for(web, &host, "/", 404, "", Duration::from_secs(1)).await;
    assert!(
        gone.is_some(),
        "route still there 1 s after the stop; pylon log:\n{}",
        gw.log()
    );
    // Started again: back.
    engine.docker(&["start", &name]).expect("start");
    assert!(
        wait_for(web, &host, "/", 200, &name, Duration::from_secs(1))
            .await
            .is_some()
    );
    engine.docker(&["rm", "-f", &name]).expect("rm");
    assert!(wait_for(web, &host, "/", 404, "", Duration::from_secs(1))
        .await
        .is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaling_from_one_to_three_replicas_spreads_traffic_over_all_three() {
    let engine = DockerEngine::shared();
    let scope = unique("scope");
    let web = free_port();
    let _gw = TestGateway::start(&static_config(web, engine, &scope), &[web]).await;
    let project = unique("scale");
    let host = format!("{project}.test");
    let rule = format!("Host(`{host}`)");
    let replica = |i: u32| {
        let name = format!("{project}-web-{i}");
        engine.serve_file(&name, "index.html", &name);
        let port = free_port().to_string();
        let l = scoped(
            &scope,
            &[
                ("com.docker.compose.project", &project),
                ("com.docker.compose.service", "web"),
                ("traefik.enable", "true"),
                ("traefik.http.routers.web.rule", &rule),
                ("traefik.http.services.web.loadbalancer.server.port", &port),
            ],
        );
        engine.run_httpd(&name, port.parse().expect("port"), &l, &[]);
        name
    };
    let first = replica(1);
    assert!(
        wait_for(web, &host, "/", 200, &first, Duration::from_secs(2))
            .await
            .is_some()
    );
    let all: BTreeSet<String> = [first, replica(2), replica(3)].into_iter().collect();
    let seen = eventually(Duration::from_secs(3), || async {
        let mut seen = BTreeSet::new();
        for _ in 0..12 {
            let (status, body) = get(web, &host, "/").await?;
            if status == 200 {
                seen.insert(body);
            }
        }
        (seen == all).then_some(seen)
    })
    .await;
    assert!(seen.is_some(), "traffic did not reach all of {all:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_container_with_broken_labels_does_not_disturb_the_others() {
    let engine = DockerEngine::shared();
    let scope = unique("scope");
    let (web, admin) = (free_port(), free_port());
    let config = format!(
        "{}[entryPoints.traefik]\naddress = \"127.0.0.1:{admin}\"\n[api]\ninsecure = true\n",
        static_config(web, engine, &scope)
    );
    let gw = TestGateway::start(&config, &[web, admin]).await;
    let good = unique("good");
    let bad_rule = unique("badrule");
    let bad_value = unique("badvalue");
    for name in [&good, &bad_rule, &bad_value] {
        engine.serve_file(name, "index.html", name);
    }
    let start = |name: &str, rule: String, extra: &[(String, &str)]| {
        let port = free_port();
        let port_label = port.to_string();
        let mut pairs: Vec<(String, String)> = vec![
            ("traefik.enable".into(), "true".into()),
            (format!("traefik.http.routers.{name}.rule"), rule),
            (
                format!("traefik.http.services.{name}.loadbalancer.server.port"),
                port_label,
            ),
        ];
        pairs.extend(extra.iter().map(|(k, v)| (k.clone(), v.to_string())));
        let pairs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        engine.run_httpd(name, port, &scoped(&scope, &pairs), &[]);
    };
    start(&good, format!("Host(`{good}.test`)"), &[]);
    start(&bad_rule, format!("Host(`{bad_rule}.test`"), &[]);
    start(
        &bad_value,
        format!("Host(`{bad_value}.test`)"),
        &[(format!("traefik.http.routers.{bad_value}.priority"), "high")],
    );
    let routed = wait_for(
        web,
        &format!("{good}.test"),
        "/",
        200,
        &good,
        Duration::from_secs(2),
    )
    .await;
    assert!(
        routed.is_some(),
        "the good container is not routed; log:\n{}",
        gw.log()
    );
    assert_eq!(
        get(web, &format!("{bad_value}.test"), "/")
            .await
            .map(|r| r.0),
        Some(404)
    );
    let reported = eventually(Duration::from_secs(2), || async {
        let log = gw.log();
        (log.contains(&format!("container {bad_rule:?}"))
            && log.contains(&format!("container {bad_value:?}")))
        .then_some(log)
    })
    .await;
    assert!(
        reported.is_some(),
        "both bad containers are reported:\n{}",
        gw.log()
    );
    let log = gw.log();
    assert!(
        log.contains("priority"),
        "the label at fault is named:\n{log}"
    );
    // ... and in the API, with the container, the label and the error.
    let (_, left) = get_json(format!("http://127.0.0.1:{admin}/api/leftout")).await;
    let entry = |name: &str| {
        left.as_array()
            .unwrap()
            .iter()
            .find(|e| e["container"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} is not in /api/leftout: {left}"))
    };
    let bad = entry(&bad_value);
    assert_eq!(bad["provider"], "docker");
    assert!(
        bad["label"].as_str().unwrap_or("").contains("priority"),
        "{bad}"
    );
    assert!(!bad["error"].as_str().unwrap_or("").is_empty(), "{bad}");
    assert!(entry(&bad_rule)["error"].is_string());
    assert!(left
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["container"] != good.as_str()));
    let (_, overview) = get_json(format!("http://127.0.0.1:{admin}/api/overview")).await;
    assert_eq!(overview["leftOut"], left);
    let (_, router) = get_json(format!(
        "http://127.0.0.1:{admin}/api/http/routers/{good}@docker"
    ))
    .await;
    assert_eq!(router["status"], "enabled", "{router}");
    assert_eq!(router["provider"], "docker");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unhealthy_containers_wait_until_docker_says_healthy() {
    let engine = DockerEngine::shared();
    let scope = unique("scope");
    let web = free_port();
    let _gw = TestGateway::start(&static_config(web, engine, &scope), &[web]).await;
    let name = unique("health");
    engine.serve_file(&name, "index.html", &name);
    let port = free_port();
    let port_label = port.to_string();
    let rule = format!("Host(`{name}.test`)");
    let l = scoped(
        &scope,
        &[
            ("traefik.enable", "true"),
            ("traefik.http.routers.h.rule", &rule),
            (
                "traefik.http.services.h.loadbalancer.server.port",
                &port_label,
            ),
        ],
    );
    engine.run_httpd(
        &name,
        port,
        &l,
        &[
            "--health-cmd",
            "busybox test -f /www/ready",
            "--health-interval",
            "1s",
            "--health-retries",
            "1",
        ],
    );
    let host = format!("{name}.test");
    // Starting, then unhealthy: left out.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(get(web, &host, "/").await.map(|r| r.0), Some(404));
    engine.serve_file(&name, "ready", "yes");
    let routed = wait_for(web, &host, "/", 200, &name, Duration::from_secs(4)).await;
    assert!(routed.is_some(), "not routed once healthy");
}

/// The MusicShare compose file's services: (name, replicas, labels).
fn compose_services() -> Vec<(String, usize, Vec<String>)> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/musicshare/docker-compose.yml"
    ))
    .expect("the MusicShare fixture is in tests/fixtures/musicshare");
    let mut services: Vec<(String, usize, Vec<String>)> = Vec::new();
    let mut in_services = false;
    for line in text.lines() {
        if line.starts_with("services:") {
            in_services = true;
            continue;
        }
        if !line.starts_with(' ') && !line.trim().is_empty() {
            in_services = false;
        }
        if !in_services {
            continue;
        }
        let trimmed = line.trim();
        if line.starts_with("  ") && !line.starts_with("   ") && trimmed.ends_with(':') {
            services.push((trimmed.trim_end_matches(':').to_string(), 1, Vec::new()));
        } else if let Some(rest) = trimmed.strip_prefix("deploy: { replicas:") {
            let n = rest.trim_end_matches('}').trim().parse().expect("replicas");
            if let Some(s) = services.last_mut() {
                s.1 = n;
            }
        } else if let Some(label) = trimmed
            .strip_prefix("- \"")
            .and_then(|l| l.strip_suffix('"'))
        {
            if let Some(s) = services.last_mut() {
                s.2.push(label.to_string());
            }
        }
    }
    services
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn musicshare_labels_route_as_its_readme_says() {
    let engine = DockerEngine::shared();
    let scope = unique("scope");
    let services = compose_services();
    assert_eq!(services.len(), 7, "{services:?}");
    let project = unique("musicshare");
    // (request path, compose service, path the upstream sees), from the fixture's README.
    let table = [
        ("/api/users/auth/token", "userservice", "/auth/token"),
        ("/api/music/tracks", "music-service", "/tracks"),
        ("/api/social/posts", "social-service", "/posts"),
        (
            "/swagger-ui/index.html",
            "social-service",
            "/swagger-ui/index.html",
        ),
        ("/api/notifications/send", "notificationservice", "/send"),
        ("/ws", "notificationservice", "/ws"),
        ("/upload", "nextjs", "/upload"),
        ("/formulario-post/x", "formulario-post", "/x"),
        ("/anything-else", "frontend", "/anything-else"),
    ];
    let mut replicas_of: Vec<(String, Vec<String>)> = Vec::new();
    for (service, replicas, service_labels) in &services {
        let mut names = Vec::new();
        for i in 1..=*replicas {
            let name = format!("{project}-{service}-{i}");
            for (_, s, upstream_path) in table.iter().filter(|t| t.1 == service) {
                engine.serve_file(&name, upstream_path, &format!("{s} {upstream_path}"));
            }
            engine.serve_file(&name, "health", "ok");
            let port = free_port();
            // Same labels, the port remapped to a free loopback port per replica.
            let mut pairs: Vec<(String, String)> = service_labels
                .iter()
                .map(|l| {
                    let (k, v) = l.split_once('=').expect("label is key=value");
                    let v = if k.ends_with("loadbalancer.server.port") {
                        port.to_string()
                    } else {
                        v.to_string()
                    };
                    (k.to_string(), v)
                })
                .collect();
            pairs.push(("com.docker.compose.project".into(), project.clone()));
            pairs.push(("com.docker.compose.service".into(), service.clone()));
            let pairs: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            engine.run_httpd(&name, port, &scoped(&scope, &pairs), &[]);
            names.push(name);
        }
        replicas_of.push((service.clone(), names));
    }
    let original = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/musicshare/traefik.toml"
    ))
    .expect("fixture");
    let (web, websecure, admin) = (free_port(), free_port(), free_port());
    let config = original
        .replace(
            "[entryPoints.web]\n",
            &format!(
                "[entryPoints.traefik]\naddress = \"127.0.0.1:{admin}\"\n\n[entryPoints.web]\n"
            ),
        )
        .replace(
            "address = \":80\"",
            &format!("address = \"127.0.0.1:{web}\""),
        )
        .replace(
            "address = \":443\"",
            &format!("address = \"127.0.0.1:{websecure}\""),
        )
        .replace("unix:///var/run/docker.sock", &engine.endpoint())
        .replace(
            "exposedByDefault = false",
            &format!("exposedByDefault = false\n{}", constraint(&scope)),
        );
    let gw = TestGateway::start(&config, &[web, websecure, admin]).await;
    let c = client();
    for (path, service, upstream_path) in table {
        let expected = format!("{service} {upstream_path}");
        let ok = eventually(Duration::from_secs(5), || async {
            let r = c
                .get(format!("https://127.0.0.1:{websecure}{path}"))
                .send()
                .await
                .ok()?;
            (r.status() == 200 && r.text().await.ok()? == expected).then_some(())
        })
        .await;
        assert!(
            ok.is_some(),
            "{path} did not reach {service} as {upstream_path}; log:\n{}",
            gw.log()
        );
    }
    // web redirects to websecure; the replicas of userservice share one sticky service.
    let r = c
        .get(format!("http://127.0.0.1:{web}/api/music/tracks"))
        .send()
        .await
        .expect("web");
    assert_eq!(r.status(), 301);
    let r = c
        .get(format!(
            "https://127.0.0.1:{websecure}/api/users/auth/token"
        ))
        .send()
        .await
        .expect("users");
    let cookie = r
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap_or_default().to_string());
    assert!(
        cookie
            .as_deref()
            .is_some_and(|c| c.starts_with("userservice_session=")),
        "sticky cookie: {cookie:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_restart_is_survived() {
    let engine = tokio::task::spawn_blocking(|| DockerEngine::start(true))
        .await
        .expect("engine");
    let scope = unique("scope");
    let web = free_port();
    let gw = TestGateway::start(&static_config(web, &engine, &scope), &[web]).await;
    let route = |name: &str| {
        let port = free_port();
        let rule = format!("Host(`{name}.test`)");
        let port_label = port.to_string();
        engine.serve_file(name, "index.html", name);
        let l = scoped(
            &scope,
            &[
                ("traefik.enable", "true"),
                ("traefik.http.routers.r.rule", &rule),
                (
                    "traefik.http.services.s.loadbalancer.server.port",
                    &port_label,
                ),
            ],
        );
        engine.run_httpd(name, port, &l, &[]);
    };
    route("before");
    assert!(wait_for(
        web,
        "before.test",
        "/",
        200,
        "before",
        Duration::from_secs(2)
    )
    .await
    .is_some());
    engine.stop_daemon();
    // The engine is gone: the last known containers are still served (live-restore keeps them).
    for _ in 0..10 {
        assert_eq!(
            get(web, "before.test", "/").await,
            Some((200, "before".to_string()))
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    engine.start_daemon();
    engine.docker(&["rm", "-f", "before"]).expect("rm");
    route("after");
    let back = wait_for(
        web,
        "after.test",
        "/",
        200,
        "after",
        Duration::from_secs(10),
    )
    .await;
    assert!(
        back.is_some(),
        "no route for a container started after the restart; log:\n{}",
        gw.log()
    );
    assert!(
        wait_for(web, "before.test", "/", 404, "", Duration::from_secs(2))
            .await
            .is_some()
    );
    let log = gw.log();
    assert!(log.contains("keeping the last known containers"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn references_cross_providers_with_at() {
    let engine = DockerEngine::shared();
    let scope = unique("scope");
    let web = free_port();
    let name = unique("cross");
    let dir = tempfile::tempdir().expect("dir");
    // A file router using the container's service, and a file middleware the container uses.
    let dynamic =
        "[http.routers.from-file]\nrule = \"Host(`file.test`)\"\nservice = \"app@docker\"\n\
                   [http.middlewares.strip.stripPrefix]\nprefixes = [\"/svc\"]\n";
    std::fs::write(dir.path().join("dynamic.toml"), dynamic).expect("dynamic");
    let config = format!(
        "{}[providers.file]\nfilename = \"dynamic.toml\"\n",
        static_config(web, engine, &scope)
    );
    let gw = TestGateway::start_in(dir, &config, &[web]).await;
    // Before the container exists, the file router is left out (404), not the whole config.
    assert_eq!(get(web, "file.test", "/").await.map(|r| r.0), Some(404));
    engine.serve_file(&name, "index.html", &name);
    engine.serve_file(&name, "page", "page");
    let port = free_port();
    let port_label = port.to_string();
    let l = scoped(
        &scope,
        &[
            ("traefik.enable", "true"),
            ("traefik.http.routers.app.rule", "Host(`docker.test`)"),
            ("traefik.http.routers.app.middlewares", "strip@file"),
            (
                "traefik.http.services.app.loadbalancer.server.port",
                &port_label,
            ),
        ],
    );
    engine.run_httpd(&name, port, &l, &[]);
    let via_docker = wait_for(
        web,
        "docker.test",
        "/svc/page",
        200,
        "page",
        Duration::from_secs(2),
    )
    .await;
    assert!(
        via_docker.is_some(),
        "docker router with a file middleware; log:\n{}",
        gw.log()
    );
    let via_file = wait_for(web, "file.test", "/", 200, &name, Duration::from_secs(2)).await;
    assert!(
        via_file.is_some(),
        "file router to a docker service; log:\n{}",
        gw.log()
    );
    engine.docker(&["rm", "-f", &name]).expect("rm");
    // The container is gone: its service too, and the file router is left out again.
    assert!(
        wait_for(web, "file.test", "/", 404, "", Duration::from_secs(2))
            .await
            .is_some()
    );
    assert!(gw.log().contains("router left out"), "{}", gw.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_watch_the_containers_are_listed_once() {
    let engine = DockerEngine::shared();
    let scope = unique("scope");
    let route = |name: &str| {
        engine.serve_file(name, "index.html", name);
        let port = free_port();
        let rule = format!("Host(`{name}.test`)");
        let port_label = port.to_string();
        let l = scoped(
            &scope,
            &[
                ("traefik.enable", "true"),
                (&*format!("traefik.http.routers.{name}.rule"), &rule),
                (
                    &*format!("traefik.http.services.{name}.loadbalancer.server.port"),
                    &port_label,
                ),
            ],
        );
        engine.run_httpd(name, port, &l, &[]);
    };
    let early = unique("early");
    route(&early);
    let web = free_port();
    let config = static_config(web, engine, &scope) + "watch = false\n";
    let gw = TestGateway::start(&config, &[web]).await;
    let listed = wait_for(
        web,
        &format!("{early}.test"),
        "/",
        200,
        &early,
        Duration::from_secs(3),
    )
    .await;
    assert!(listed.is_some(), "listed at start; log:\n{}", gw.log());
    let late = unique("late");
    route(&late);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        get(web, &format!("{late}.test"), "/").await.map(|r| r.0),
        Some(404)
    );
}

/// Starts `name` (httpd on a fresh port serving its own name) with `pairs` as labels.
fn start_labelled(engine: &DockerEngine, scope: &str, name: &str, pairs: &[(String, String)]) {
    engine.serve_file(name, "index.html", name);
    let port = free_port();
    let mut all: Vec<(String, String)> = vec![
        ("traefik.enable".into(), "true".into()),
        (
            format!("traefik.http.routers.{name}.rule"),
            format!("Host(`{name}.test`)"),
        ),
    ];
    if !pairs.iter().any(|(k, _)| k.contains(".services.")) {
        all.push((
            format!("traefik.http.services.{name}.loadbalancer.server.port"),
            port.to_string(),
        ));
    }
    all.extend(pairs.iter().cloned());
    let all: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    engine.run_httpd(name, port, &scoped(scope, &all), &[]);
}

/// The `/api/leftout` entry of `container`, once it is there.
async fn left_out(admin: u16, container: &str) -> Option<serde_json::Value> {
    eventually(Duration::from_secs(5), || async {
        let (_, left) = get_json(format!("http://127.0.0.1:{admin}/api/leftout")).await;
        left.as_array()?
            .iter()
            .find(|e| e["container"] == container)
            .cloned()
    })
    .await
}

// Fails without the fix in src/provider/merge.rs: the `tls.stores.default` error was blamed on
// the file provider, so the update was refused and the good container never routed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_tls_store_label_leaves_out_only_its_container() {
    let engine = DockerEngine::shared();
    let scope = unique("scope");
    let (web, admin) = (free_port(), free_port());
    let allowed = tempfile::tempdir().expect("dir");
    let junk = allowed.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate\n").expect("junk");
    let config = format!(
        "{}allowedPaths = [\"{}\"]\n[entryPoints.traefik]\naddress = \"127.0.0.1:{admin}\"\n[api]\ninsecure = true\n",
        static_config(web, engine, &scope),
        allowed.path().display()
    );
    let gw = TestGateway::start(&config, &[web, admin]).await;
    let (bad, good) = (unique("tlsstore"), unique("good"));
    let junk = junk.display().to_string();
    start_labelled(
        engine,
        &scope,
        &bad,
        &[
            (
                "traefik.tls.stores.default.defaultcertificate.certfile".into(),
                junk.clone(),
            ),
            (
                "traefik.tls.stores.default.defaultcertificate.keyfile".into(),
                junk,
            ),
        ],
    );
    start_labelled(engine, &scope, &good, &[]);
    let routed = wait_for(
        web,
        &format!("{good}.test"),
        "/",
        200,
        &good,
        Duration::from_secs(5),
    )
    .await;
    assert!(
        routed.is_some(),
        "the good container is not routed:\n{}",
        gw.log()
    );
    let entry = left_out(admin, &bad).await;
    let entry = entry.unwrap_or_else(|| panic!("{bad} is not left out:\n{}", gw.log()));
    assert!(
        entry["error"]
            .as_str()
            .unwrap_or("")
            .contains("tls.stores.default"),
        "{entry}"
    );
    assert_eq!(
        get(web, &format!("{bad}.test"), "/").await.map(|r| r.0),
        Some(404)
    );
}

// Each refusal fails without src/provider/docker/policy.rs and names.rs: the API container
// answered /api/version, the loopback and file containers were routed, the thief's server
// joined the victim's service.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labels_may_not_reach_internal_services_other_addresses_files_or_others_names() {
    let engine = DockerEngine::shared();
    let scope = unique("scope");
    let (web, admin) = (free_port(), free_port());
    let config = format!(
        "{}[entryPoints.traefik]\naddress = \"127.0.0.1:{admin}\"\n[api]\ninsecure = true\n",
        static_config(web, engine, &scope)
    );
    let gw = TestGateway::start(&config, &[web, admin]).await;
    let (api, lo, file, victim, thief) = (
        unique("api"),
        unique("loop"),
        unique("file"),
        unique("victim"),
        unique("thief"),
    );
    let router = |n: &str, field: &str| format!("traefik.http.routers.{n}.{field}");
    start_labelled(
        engine,
        &scope,
        &api,
        &[(router(&api, "service"), "api@internal".into())],
    );
    start_labelled(
        engine,
        &scope,
        &lo,
        &[(
            format!("traefik.http.services.{lo}.loadbalancer.server.url"),
            format!("http://127.0.0.2:{admin}"),
        )],
    );
    start_labelled(
        engine,
        &scope,
        &file,
        &[
            (router(&file, "middlewares"), "steal".into()),
            (
                "traefik.http.middlewares.steal.basicauth.usersfile".into(),
                "/etc/passwd".into(),
            ),
        ],
    );
    // The victim first (creation order decides), then the thief with the same service name.
    let shared = format!("shared-{victim}");
    let run_with_shared = |name: &str| {
        engine.serve_file(name, "index.html", name);
        let port = free_port();
        let pairs: Vec<(String, String)> = vec![
            ("traefik.enable".into(), "true".into()),
            (router(name, "rule"), format!("Host(`{name}.test`)")),
            (router(name, "service"), shared.clone()),
            (
                format!("traefik.http.services.{shared}.loadbalancer.server.port"),
                port.to_string(),
            ),
        ];
        let pairs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        engine.run_httpd(name, port, &scoped(&scope, &pairs), &[]);
    };
    run_with_shared(&victim);
    let routed = wait_for(
        web,
        &format!("{victim}.test"),
        "/",
        200,
        &victim,
        Duration::from_secs(5),
    )
    .await;
    assert!(routed.is_some(), "the victim is not routed:\n{}", gw.log());
    run_with_shared(&thief);

    for (container, label) in [
        (&api, "service"),
        (&lo, "server.url"),
        (&file, "usersfile"),
        (&thief, "services"),
    ] {
        let entry = left_out(admin, container).await;
        let entry = entry.unwrap_or_else(|| panic!("{container} is not left out:\n{}", gw.log()));
        assert!(
            entry["label"].as_str().unwrap_or("").contains(label),
            "{container}: the label at fault is named: {entry}"
        );
        assert_eq!(
            get(web, &format!("{container}.test"), "/api/version")
                .await
                .map(|r| r.0),
            Some(404),
            "{container} is not routed"
        );
    }
    for _ in 0..8 {
        let answer = get(web, &format!("{victim}.test"), "/").await;
        assert_eq!(
            answer.map(|r| r.1),
            Some(victim.clone()),
            "only the victim serves its service"
        );
    }
}

// Fails without the policy keys (unknown keys): the operator lets labels reach what Traefik lets them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_label_policy_opens_to_what_the_operator_allows() {
    let engine = DockerEngine::shared();
    let scope = unique("scope");
    let web = free_port();
    let config = format!(
        "{}allowedInternalServices = [\"api@internal\"]\nallowedServerAddresses = [\"127.0.0.0/8\"]\n[api]\n",
        static_config(web, engine, &scope)
    );
    let gw = TestGateway::start(&config, &[web]).await;
    let api = unique("api");
    start_labelled(
        engine,
        &scope,
        &api,
        &[(
            format!("traefik.http.routers.{api}.service"),
            "api@internal".into(),
        )],
    );
    let served = eventually(Duration::from_secs(5), || async {
        let (status, body) = get(web, &format!("{api}.test"), "/api/version").await?;
        (status == 200 && body.contains("Version")).then_some(())
    })
    .await;
    assert!(
        served.is_some(),
        "api@internal allowed to labels:\n{}",
        gw.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_labels_route_connections_to_the_container() {
    let engine = DockerEngine::shared();
    let scope = unique("scope");
    let (web, tcp) = (free_port(), free_port());
    let config = format!(
        "{}[entryPoints.tcp]\naddress = \"127.0.0.1:{tcp}\"\n",
        static_config(web, engine, &scope)
    );
    let gw = TestGateway::start(&config, &[web, tcp]).await;
    let name = unique("tcpapp");
    engine.serve_file(&name, "index.html", &name);
    let port = free_port();
    let port_label = port.to_string();
    let l = scoped(
        &scope,
        &[
            ("traefik.enable", "true"),
            ("traefik.tcp.routers.raw.rule", "HostSNI(`*`)"),
            ("traefik.tcp.routers.raw.entrypoints", "tcp"),
            (
                "traefik.tcp.services.raw.loadbalancer.server.port",
                &port_label,
            ),
        ],
    );
    engine.run_httpd(&name, port, &l, &[]);
    // raw bytes through the TCP router to the container's server
    let fetch = || {
        let name = name.clone();
        async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut s = tokio::net::TcpStream::connect(("127.0.0.1", tcp))
                .await
                .ok()?;
            s.write_all(b"GET /index.html HTTP/1.0\r\n\r\n")
                .await
                .ok()?;
            let mut out = String::new();
            tokio::time::timeout(Duration::from_secs(2), s.read_to_string(&mut out))
                .await
                .ok()?
                .ok()?;
            out.contains(&name).then_some(out)
        }
    };
    let routed = eventually(Duration::from_secs(5), fetch).await;
    assert!(routed.is_some(), "no TCP route; pylon log:\n{}", gw.log());
    // TCP labels only: no default HTTP router for the container
    let default_host = name.clone();
    assert_eq!(
        get(web, &default_host, "/index.html").await.map(|r| r.0),
        Some(404)
    );
    engine.docker(&["rm", "-f", &name]).expect("rm");
}
