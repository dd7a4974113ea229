//! Server URLs naming hosts (issue 19 point 5, "names that move"): a name is resolved when
//! connections are made, with its record's TTL, never only at load. A moved name is followed
//! without a reload; a name that does not resolve is a 502 for its service only, DOWN in the
//! API and one log line, until it resolves. pylon asks the DNS server named by the static
//! `serversTransport.dns.servers` (a pylon extension): here a server the test runs on
//! 127.0.0.1 (`common::dns`), so no query leaves the machine, and only names it answers (or
//! refuses) are used.

mod common;

use common::dns::{Entry, TestDns};
use common::gateway::run_pylon;
use common::{client, eventually, free_port, get_json, TestGateway, TestUpstream};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

/// Two upstreams on one port, at 127.0.0.2 and 127.0.0.3 (a name's address moves between them).
async fn two_upstreams_on_one_port() -> (TestUpstream, TestUpstream, u16) {
    for _ in 0..50 {
        let Some(two) = TestUpstream::start_at("two", "127.0.0.2:0".parse().unwrap()).await else {
            continue;
        };
        let port = two.port;
        let three: SocketAddr = format!("127.0.0.3:{port}").parse().unwrap();
        if let Some(three) = TestUpstream::start_at("three", three).await {
            return (two, three, port);
        }
    }
    panic!("no port free on both 127.0.0.2 and 127.0.0.3");
}

/// The body of `GET url` (status 200), or `None`.
async fn body_of(http: &reqwest::Client, url: &str) -> Option<String> {
    let r = http.get(url).send().await.ok()?;
    if r.status() != 200 {
        return None;
    }
    r.text().await.ok()
}

async fn status_of(http: &reqwest::Client, url: &str) -> u16 {
    http.get(url)
        .send()
        .await
        .map_or(0, |r| r.status().as_u16())
}

fn count_lines(log: &str, parts: &[&str]) -> usize {
    log.lines()
        .filter(|l| parts.iter().all(|p| l.contains(p)))
        .count()
}

#[tokio::test]
async fn a_moved_name_is_followed_after_its_ttl_without_a_reload() {
    let dns = TestDns::start().await;
    let (two, three, port) = two_upstreams_on_one_port().await;
    dns.set("app.pylon.test", Entry::A(Ipv4Addr::new(127, 0, 0, 2), 1));
    let web = free_port();
    let config = format!(
        r#"[entryPoints.web]
address = "127.0.0.1:{web}"
[serversTransport.dns]
servers = ["{}"]
[http.routers.app]
rule = "PathPrefix(`/`)"
service = "app"
[http.services.app.loadBalancer]
servers = [{{ url = "http://app.pylon.test:{port}" }}]
[http.services.app.loadBalancer.healthCheck]
path = "/health"
interval = "200ms"
timeout = "500ms"
"#,
        dns.addr
    );
    let gw = TestGateway::start(&config, &[web]).await;
    // one client, kept alive: pylon keeps its upstream connection to 127.0.0.2 idle between
    // requests
    let http = client();
    let url = format!("http://127.0.0.1:{web}/x");
    let first = eventually(Duration::from_secs(5), || body_of(&http, &url)).await;
    assert_eq!(first.as_deref(), Some("two /x"), "{}", gw.log());
    assert_eq!(body_of(&http, &url).await.as_deref(), Some("two /x"));
    assert!(dns.asked("app.pylon.test") >= 1);

    dns.set("app.pylon.test", Entry::A(Ipv4Addr::new(127, 0, 0, 3), 1));
    let moved = Instant::now();
    let followed = eventually(Duration::from_secs(10), || async {
        body_of(&http, &url)
            .await
            .filter(|b| b.starts_with("three"))
    })
    .await;
    assert!(
        followed.is_some(),
        "still not at the new address 10 s after the change (TTL 1 s): {}",
        gw.log()
    );
    // TTL 1 s: the next lookup is at most ~1 s after the change, plus the lookup itself
    assert!(
        moved.elapsed() < Duration::from_secs(4),
        "took {:?}",
        moved.elapsed()
    );
    // the idle connections to the old address are not reused for the name
    let before = two.requests().len();
    for _ in 0..10 {
        assert_eq!(body_of(&http, &url).await.as_deref(), Some("three /x"));
    }
    assert_eq!(
        two.requests().len(),
        before,
        "a request went to the old address"
    );
    // the active health check probes the current address
    let probed = eventually(Duration::from_secs(5), || async {
        (!three.health_probes().is_empty()).then_some(())
    })
    .await;
    assert!(probed.is_some(), "the new address was never probed");
    let log = gw.log();
    assert_eq!(
        count_lines(
            &log,
            &[
                "app@file http://app.pylon.test",
                "now resolves to 127.0.0.3 (was 127.0.0.2)"
            ]
        ),
        1,
        "{log}"
    );
    assert!(!log.contains("configuration reloaded"), "{log}");
}

#[tokio::test]
async fn a_name_that_does_not_resolve_is_a_502_for_its_service_only_until_it_does() {
    let dns = TestDns::start().await;
    let ok = TestUpstream::start("ok").await;
    let ghost = TestUpstream::start("ghost").await;
    dns.set("shy.pylon.test", Entry::Refused);
    let (web, admin) = (free_port(), free_port());
    let ghost_url = format!("http://ghost.pylon.test:{}", ghost.port);
    let config = format!(
        r#"[entryPoints.web]
address = "127.0.0.1:{web}"
[entryPoints.traefik]
address = "127.0.0.1:{admin}"
[api]
insecure = true
[serversTransport.dns]
servers = ["{dns}"]
[http.routers.ok]
rule = "PathPrefix(`/ok`)"
service = "ok"
[http.routers.ghost]
rule = "PathPrefix(`/ghost`)"
service = "ghost"
[http.routers.shy]
rule = "PathPrefix(`/shy`)"
service = "shy"
[http.services.ok.loadBalancer]
servers = [{{ url = "{ok}" }}]
[http.services.ghost.loadBalancer]
servers = [{{ url = "{ghost_url}" }}]
[http.services.shy.loadBalancer]
servers = [{{ url = "http://shy.pylon.test:{shy_port}" }}]
"#,
        dns = dns.addr,
        ok = ok.url(),
        shy_port = ghost.port,
    );
    // the config loads and serves although two of its names do not resolve
    let gw = TestGateway::start(&config, &[web, admin]).await;
    let http = client();
    let at = |p: &str| format!("http://127.0.0.1:{web}{p}");
    assert_eq!(status_of(&http, &at("/ok")).await, 200, "{}", gw.log());
    for _ in 0..5 {
        assert_eq!(status_of(&http, &at("/ghost")).await, 502);
        assert_eq!(status_of(&http, &at("/shy")).await, 502);
        assert_eq!(status_of(&http, &at("/ok")).await, 200);
    }
    assert!(ghost.requests().is_empty());

    let (s, services) = get_json(format!("http://127.0.0.1:{admin}/api/http/services")).await;
    assert_eq!(s, 200);
    let service = |name: &str| {
        services
            .as_array()
            .and_then(|all| all.iter().find(|v| v["name"] == name))
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(service("ghost@file")["serverStatus"][&ghost_url], "DOWN");
    let reason = service("ghost@file")["serverHealth"][&ghost_url]["reason"].clone();
    assert!(
        reason
            .as_str()
            .is_some_and(|r| r.contains("`ghost.pylon.test` does not resolve: NXDOMAIN")),
        "{reason}"
    );
    assert_eq!(service("ok@file")["serverStatus"][&ok.url()], "UP");

    // one line per server and change, none per request
    let logged = eventually(Duration::from_secs(5), || async {
        let log = gw.log();
        (count_lines(&log, &["shy@file", "is DOWN"]) > 0).then_some(log)
    })
    .await;
    let log = logged.unwrap_or_else(|| gw.log());
    assert_eq!(
        count_lines(&log, &["ghost@file", &ghost_url, "is DOWN", "NXDOMAIN"]),
        1,
        "{log}"
    );
    assert_eq!(count_lines(&log, &["shy@file", "is DOWN"]), 1, "{log}");
    assert_eq!(count_lines(&log, &["Fail to proxy"]), 0, "{log}");

    // the record appears: the service answers, without a reload (negative TTL 1 s)
    dns.set("ghost.pylon.test", Entry::A(Ipv4Addr::LOCALHOST, 1));
    let answered = eventually(Duration::from_secs(10), || async {
        (status_of(&http, &at("/ghost")).await == 200).then_some(())
    })
    .await;
    assert!(answered.is_some(), "{}", gw.log());
    assert_eq!(ghost.requests().len(), 1);
    let (_, services) = get_json(format!("http://127.0.0.1:{admin}/api/http/services")).await;
    let status = services
        .as_array()
        .and_then(|all| all.iter().find(|v| v["name"] == "ghost@file"))
        .map(|v| v["serverStatus"][&ghost_url].clone());
    assert_eq!(status, Some(serde_json::json!("UP")));
    let log = gw.log();
    assert_eq!(
        count_lines(
            &log,
            &["ghost@file", &ghost_url, "is UP again", "127.0.0.1"]
        ),
        1,
        "{log}"
    );
    assert_eq!(status_of(&http, &at("/shy")).await, 502);
}

#[test]
fn a_dns_server_that_is_not_an_address_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pylon.toml");
    std::fs::write(
        &path,
        r#"[entryPoints.web]
address = "127.0.0.1:8000"
[serversTransport.dns]
servers = ["dns.pylon.test:53", "127.0.0.1:5353"]
[http.routers.r]
rule = "PathPrefix(`/`)"
service = "s"
[http.services.s.loadBalancer]
servers = [{ url = "http://127.0.0.1:9" }]
"#,
    )
    .unwrap();
    let (code, out) = run_pylon(&["check", "--config", path.to_str().unwrap()]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("serversTransport.dns.servers[0]"), "{out}");
    assert!(
        out.contains("`dns.pylon.test:53` is not an IP address with a port"),
        "{out}"
    );
    assert!(out.contains("127.0.0.1:53"), "the fix is named: {out}");
    assert!(!out.contains("servers[1]"), "{out}");
}
