//! The Redis key-value provider through the real pylon binary and a private `redis-server` on
//! loopback: Traefik's key layout routes requests (middlewares applied), edits and deletions
//! are picked up within the poll interval, a bad key leaves out only its object (logged with
//! the key), an outage keeps the last config, and `rootKey`, `db` and `password` are honoured.

mod common;

use common::gateway::run_pylon;
use common::redis::{del, set, Redis};
use common::{client, eventually, free_port, get_json, TestGateway, TestUpstream};
use std::time::Duration;

/// Poll interval given to pylon; changes must show within a few of them.
const POLL: &str = "200ms";
const WITHIN: Duration = Duration::from_secs(10);

fn config(web: u16, admin: u16, redis: &Redis, extra: &str) -> String {
    format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{web}\"\n\
         [entryPoints.traefik]\naddress = \"127.0.0.1:{admin}\"\n[api]\ninsecure = true\n\
         [providers.redis]\nendpoints = [\"127.0.0.1:{}\"]\npollInterval = \"{POLL}\"\n{extra}",
        redis.port
    )
}

/// Status and body of `GET http://127.0.0.1:<port><path>`.
async fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let r = client()
        .get(format!("http://127.0.0.1:{port}{path}"))
        .send()
        .await
        .ok()?;
    let status = r.status().as_u16();
    Some((status, r.text().await.ok()?))
}

/// Waits until `GET path` answers `status` with a body starting with `body`.
async fn until(port: u16, path: &str, status: u16, body: &str) -> bool {
    eventually(WITHIN, || async move {
        get(port, path)
            .await
            .filter(|(s, b)| *s == status && b.starts_with(body))
            .map(|_| ())
    })
    .await
    .is_some()
}

async fn router_names(admin: u16) -> Vec<String> {
    let (_, v) = get_json(format!("http://127.0.0.1:{admin}/api/http/routers")).await;
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn keys_route_with_middlewares_and_edits_and_deletions_apply() {
    let Some(redis) = Redis::start().await else {
        return;
    };
    let (one, two) = (
        TestUpstream::start("one").await,
        TestUpstream::start("two").await,
    );
    let mut kv = redis.client(0).await;
    set(
        &mut kv,
        &[
            ("traefik/http/routers/web/rule", "PathPrefix(`/api`)"),
            ("traefik/http/routers/web/entryPoints/0", "web"),
            ("traefik/http/routers/web/middlewares/0", "strip"),
            ("traefik/http/routers/web/service", "app"),
            (
                "traefik/http/middlewares/strip/stripPrefix/prefixes/0",
                "/api",
            ),
            (
                "traefik/http/services/app/loadBalancer/servers/0/url",
                &one.url(),
            ),
        ],
    )
    .await;
    let (web, admin) = (free_port(), free_port());
    let gw = TestGateway::start(&config(web, admin, &redis, ""), &[web, admin]).await;

    assert!(
        until(web, "/api/x", 200, "one").await,
        "routed from the keys:\n{}",
        gw.log()
    );
    assert_eq!(
        one.last().map(|s| s.target),
        Some("/x".into()),
        "stripPrefix applied"
    );
    let names = router_names(admin).await;
    assert!(names.contains(&"web@redis".to_string()), "{names:?}");
    let (_, m) = get_json(format!(
        "http://127.0.0.1:{admin}/api/http/middlewares/strip@redis"
    ))
    .await;
    assert_eq!(m["name"], "strip@redis", "{m}");

    // An edit of the server URL, then of the rule, without a restart.
    set(
        &mut kv,
        &[(
            "traefik/http/services/app/loadBalancer/servers/0/url",
            &two.url(),
        )],
    )
    .await;
    assert!(
        until(web, "/api/x", 200, "two").await,
        "server URL edit applied"
    );
    set(
        &mut kv,
        &[("traefik/http/routers/web/rule", "PathPrefix(`/v2`)")],
    )
    .await;
    assert!(until(web, "/api/x", 404, "").await, "old rule gone");
    assert!(until(web, "/v2/y", 200, "two").await, "new rule applied");

    // Deleting the router's keys removes it.
    del(
        &mut kv,
        &[
            "traefik/http/routers/web/rule",
            "traefik/http/routers/web/entryPoints/0",
            "traefik/http/routers/web/middlewares/0",
            "traefik/http/routers/web/service",
        ],
    )
    .await;
    assert!(until(web, "/v2/y", 404, "").await, "router deleted");
    assert!(!router_names(admin).await.contains(&"web@redis".to_string()));
}

#[tokio::test]
async fn a_bad_key_leaves_out_only_its_object_and_names_the_key() {
    let Some(redis) = Redis::start().await else {
        return;
    };
    let up = TestUpstream::start("good").await;
    let mut kv = redis.client(0).await;
    set(
        &mut kv,
        &[
            ("traefik/http/routers/good/rule", "PathPrefix(`/good`)"),
            ("traefik/http/routers/good/service", "app"),
            (
                "traefik/http/services/app/loadBalancer/servers/0/url",
                &up.url(),
            ),
            // An unknown middleware type: the middleware is left out, and so is its router.
            ("traefik/http/middlewares/weird/noSuchType/x", "1"),
            (
                "traefik/http/routers/usesweird/rule",
                "PathPrefix(`/weird`)",
            ),
            ("traefik/http/routers/usesweird/middlewares/0", "weird"),
            ("traefik/http/routers/usesweird/service", "app"),
            // A rule that does not parse.
            ("traefik/http/routers/badrule/rule", "PathPrefix(`/bad`"),
            ("traefik/http/routers/badrule/service", "app"),
        ],
    )
    .await;
    let (web, admin) = (free_port(), free_port());
    let gw = TestGateway::start(&config(web, admin, &redis, ""), &[web, admin]).await;

    assert!(
        until(web, "/good", 200, "good").await,
        "the good router serves:\n{}",
        gw.log()
    );
    assert_eq!(get(web, "/weird").await.map(|r| r.0), Some(404));
    assert_eq!(get(web, "/bad").await.map(|r| r.0), Some(404));
    let names = router_names(admin).await;
    assert!(names.contains(&"good@redis".to_string()), "{names:?}");
    assert!(!names
        .iter()
        .any(|n| n.starts_with("usesweird") || n.starts_with("badrule")));
    let log = gw.log();
    for key in [
        "traefik/http/middlewares/weird/noSuchType/x",
        "traefik/http/routers/badrule/rule",
        "traefik/http/routers/usesweird/middlewares",
    ] {
        assert!(log.contains(key), "the log names {key}:\n{log}");
    }
    let (_, left) = get_json(format!("http://127.0.0.1:{admin}/api/leftout")).await;
    let providers: Vec<_> = left
        .as_array()
        .expect("list")
        .iter()
        .map(|e| e["provider"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        providers.iter().all(|p| p == "redis") && providers.len() >= 3,
        "{left}"
    );

    // Fixing the rule brings that router back; the others are untouched.
    set(
        &mut kv,
        &[("traefik/http/routers/badrule/rule", "PathPrefix(`/bad`)")],
    )
    .await;
    assert!(
        until(web, "/bad", 200, "good").await,
        "fixed router applied"
    );
    assert!(until(web, "/good", 200, "good").await);
}

#[tokio::test]
async fn a_redis_outage_keeps_the_last_config_and_is_logged_once() {
    let port = free_port();
    let Some(mut redis) = Redis::start_on(port).await else {
        return;
    };
    let up = TestUpstream::start("kept").await;
    let mut kv = redis.client(0).await;
    set(
        &mut kv,
        &[
            ("traefik/http/routers/r/rule", "PathPrefix(`/`)"),
            ("traefik/http/routers/r/service", "s"),
            (
                "traefik/http/services/s/loadBalancer/servers/0/url",
                &up.url(),
            ),
        ],
    )
    .await;
    let (web, admin) = (free_port(), free_port());
    let gw = TestGateway::start(&config(web, admin, &redis, ""), &[web, admin]).await;
    assert!(until(web, "/", 200, "kept").await, "{}", gw.log());

    redis.stop();
    // Many poll intervals without Redis: still served, one warning.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(
        get(web, "/").await.map(|r| r.0),
        Some(200),
        "last good config kept"
    );
    let warned = |log: &str| {
        log.lines()
            .filter(|l| l.contains("redis provider:") && l.contains("keeping the last keys"))
            .count()
    };
    assert_eq!(
        warned(&gw.log()),
        1,
        "one warning per outage:\n{}",
        gw.log()
    );

    // Back, with other keys: they apply and the recovery is logged.
    let Some(redis) = Redis::start_on(port).await else {
        panic!("redis-server did not restart on {port}");
    };
    let other = TestUpstream::start("other").await;
    let mut kv = redis.client(0).await;
    set(
        &mut kv,
        &[
            ("traefik/http/routers/r/rule", "PathPrefix(`/`)"),
            ("traefik/http/routers/r/service", "s"),
            (
                "traefik/http/services/s/loadBalancer/servers/0/url",
                &other.url(),
            ),
        ],
    )
    .await;
    assert!(until(web, "/", 200, "other").await, "{}", gw.log());
    assert!(
        gw.log().contains("the keys can be read again"),
        "{}",
        gw.log()
    );
}

#[tokio::test]
async fn root_key_db_and_password_are_honoured() {
    let Some(redis) = Redis::start_with(free_port(), Some("s3cret")).await else {
        return;
    };
    let (wanted, decoy) = (
        TestUpstream::start("db3").await,
        TestUpstream::start("db0").await,
    );
    let mut db3 = redis.client(3).await;
    set(
        &mut db3,
        &[
            ("edge/pylon/http/routers/r/rule", "PathPrefix(`/`)"),
            ("edge/pylon/http/routers/r/service", "s"),
            (
                "edge/pylon/http/services/s/loadBalancer/servers/0/url",
                &wanted.url(),
            ),
            // Under the default root key: not read.
            ("traefik/http/routers/x/rule", "PathPrefix(`/x`)"),
        ],
    )
    .await;
    let mut db0 = redis.client(0).await;
    set(
        &mut db0,
        &[
            ("edge/pylon/http/routers/r/rule", "PathPrefix(`/`)"),
            ("edge/pylon/http/routers/r/service", "s"),
            (
                "edge/pylon/http/services/s/loadBalancer/servers/0/url",
                &decoy.url(),
            ),
        ],
    )
    .await;
    let (web, admin) = (free_port(), free_port());
    let extra = "rootKey = \"edge/pylon\"\ndb = 3\npassword = \"s3cret\"\n";
    let gw = TestGateway::start(&config(web, admin, &redis, extra), &[web, admin]).await;
    assert!(until(web, "/", 200, "db3").await, "{}", gw.log());
    assert_eq!(
        router_names(admin)
            .await
            .iter()
            .filter(|n| n.ends_with("@redis"))
            .count(),
        1
    );

    // Without the password nothing is read, and the log says why once.
    let (web2, admin2) = (free_port(), free_port());
    let no_pass = config(web2, admin2, &redis, "rootKey = \"edge/pylon\"\ndb = 3\n");
    let denied = TestGateway::start(&no_pass, &[web2, admin2]).await;
    let said = eventually(WITHIN, || async {
        denied
            .log()
            .contains("redis provider: cannot connect")
            .then_some(())
    })
    .await;
    assert!(said.is_some(), "{}", denied.log());
    assert_eq!(get(web2, "/").await.map(|r| r.0), Some(404));
}

#[test]
fn tls_sentinel_consul_and_zookeeper_are_refused_by_name() {
    let dir = tempfile::tempdir().expect("dir");
    for (section, said) in [
        (
            "[providers.redis.tls]\nca = \"ca.pem\"\n",
            "providers.redis.tls",
        ),
        (
            "[providers.redis.sentinel]\nmasterName = \"m\"\n",
            "providers.redis.sentinel",
        ),
        (
            "[providers.consul]\nrootKey = \"traefik\"\n",
            "providers.consul",
        ),
        (
            "[providers.zooKeeper]\nrootKey = \"traefik\"\n",
            "providers.zooKeeper",
        ),
    ] {
        let path = dir.path().join("pylon.toml");
        let text = format!("[entryPoints.web]\naddress = \"127.0.0.1:1\"\n{section}");
        std::fs::write(&path, text).expect("write");
        let (code, out) = run_pylon(&["check", "--config", path.to_str().expect("utf-8")]);
        assert_ne!(code, 0, "{section} refused:\n{out}");
        assert!(
            out.contains(said) && out.contains("not"),
            "{said} named:\n{out}"
        );
    }
}
