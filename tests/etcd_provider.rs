//! The etcd key-value provider through the real pylon binary and a private etcd member on
//! loopback: Traefik's key layout routes requests (middlewares applied), a key added later
//! shows within 2 s (the watch), a deleted router goes, a bad key leaves out only its object
//! (logged with the key), etcd going away keeps the last config and a restart resumes the
//! updates, an unreachable etcd at start is retried while the file provider serves, and
//! `username`/`password` are honoured (a wrong password is said plainly).

mod common;

use common::etcd::{Etcd, TlsFiles};
use common::gateway::run_pylon;
use common::{client, eventually, free_port, get_json, route_all_to, TestGateway, TestUpstream};
use std::time::{Duration, Instant};

/// Changes must show within this (reconnections included).
const WITHIN: Duration = Duration::from_secs(20);
/// A change while the watch is open must show within this (issue 17: watch, not polling).
const WATCHED_WITHIN: Duration = Duration::from_secs(2);

fn config(web: u16, admin: u16, etcd_port: u16, extra: &str) -> String {
    format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{web}\"\n\
         [entryPoints.traefik]\naddress = \"127.0.0.1:{admin}\"\n[api]\ninsecure = true\n\
         [providers.etcd]\nendpoints = [\"127.0.0.1:{etcd_port}\"]\n{extra}"
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

/// Waits up to `within` until `GET path` answers `status` with a body starting with `body`.
async fn until_within(within: Duration, port: u16, path: &str, status: u16, body: &str) -> bool {
    eventually(within, || async move {
        get(port, path)
            .await
            .filter(|(s, b)| *s == status && b.starts_with(body))
            .map(|_| ())
    })
    .await
    .is_some()
}

async fn until(port: u16, path: &str, status: u16, body: &str) -> bool {
    until_within(WITHIN, port, path, status, body).await
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

/// The keys of router `r` (rule `PathPrefix(/<prefix>)`) to service `s` at `url`.
fn route(prefix: &str, url: &str) -> Vec<(String, String)> {
    vec![
        (
            "traefik/http/routers/r/rule".into(),
            format!("PathPrefix(`/{prefix}`)"),
        ),
        ("traefik/http/routers/r/service".into(), "s".into()),
        (
            "traefik/http/services/s/loadBalancer/servers/0/url".into(),
            url.into(),
        ),
    ]
}

async fn put_owned(etcd: &Etcd, pairs: &[(String, String)]) {
    let pairs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    etcd.put(&pairs).await;
}

#[tokio::test]
async fn keys_route_and_the_watch_applies_additions_and_deletions() {
    let Some(etcd) = Etcd::start().await else {
        return;
    };
    let (one, two) = (
        TestUpstream::start("one").await,
        TestUpstream::start("two").await,
    );
    etcd.put(&[
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
    ])
    .await;
    let (web, admin) = (free_port(), free_port());
    let gw = TestGateway::start(&config(web, admin, etcd.port, ""), &[web, admin]).await;
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
    assert!(router_names(admin).await.contains(&"web@etcd".to_string()));
    let (_, m) = get_json(format!(
        "http://127.0.0.1:{admin}/api/http/middlewares/strip@etcd"
    ))
    .await;
    assert_eq!(m["name"], "strip@etcd", "{m}");

    // A router added later: shown within 2 s, through the watch.
    let added = Instant::now();
    etcd.put(&[
        ("traefik/http/routers/later/rule", "PathPrefix(`/later`)"),
        ("traefik/http/routers/later/service", "other"),
        (
            "traefik/http/services/other/loadBalancer/servers/0/url",
            &two.url(),
        ),
    ])
    .await;
    assert!(
        until_within(WATCHED_WITHIN, web, "/later", 200, "two").await,
        "a key added later applies within {WATCHED_WITHIN:?}:\n{}",
        gw.log()
    );
    eprintln!("added router served after {:?}", added.elapsed());

    // An edit of a value.
    etcd.put(&[(
        "traefik/http/services/app/loadBalancer/servers/0/url",
        &two.url(),
    )])
    .await;
    assert!(
        until_within(WATCHED_WITHIN, web, "/api/x", 200, "two").await,
        "an edit applies"
    );

    // Deleting the router's keys removes it.
    etcd.delete_prefix("traefik/http/routers/web/").await;
    assert!(
        until_within(WATCHED_WITHIN, web, "/api/x", 404, "").await,
        "deleted router gone"
    );
    assert!(!router_names(admin).await.contains(&"web@etcd".to_string()));
    assert!(until(web, "/later", 200, "two").await, "the others stay");
}

#[tokio::test]
async fn a_bad_key_leaves_out_only_its_object_and_names_the_key() {
    let Some(etcd) = Etcd::start().await else {
        return;
    };
    let up = TestUpstream::start("good").await;
    etcd.put(&[
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
    ])
    .await;
    let (web, admin) = (free_port(), free_port());
    let gw = TestGateway::start(&config(web, admin, etcd.port, ""), &[web, admin]).await;
    assert!(
        until(web, "/good", 200, "good").await,
        "the good router serves:\n{}",
        gw.log()
    );
    assert_eq!(get(web, "/weird").await.map(|r| r.0), Some(404));
    assert_eq!(get(web, "/bad").await.map(|r| r.0), Some(404));
    let names = router_names(admin).await;
    assert!(names.contains(&"good@etcd".to_string()), "{names:?}");
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
    assert!(
        log.contains("etcd provider: object left out: etcd object"),
        "{log}"
    );
    let (_, left) = get_json(format!("http://127.0.0.1:{admin}/api/leftout")).await;
    let providers: Vec<_> = left
        .as_array()
        .expect("list")
        .iter()
        .map(|e| e["provider"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        providers.iter().all(|p| p == "etcd") && providers.len() >= 3,
        "{left}"
    );

    // Fixing the rule brings that router back; the others are untouched.
    etcd.put(&[("traefik/http/routers/badrule/rule", "PathPrefix(`/bad`)")])
        .await;
    assert!(
        until(web, "/bad", 200, "good").await,
        "fixed router applied"
    );
    assert!(until(web, "/good", 200, "good").await);
}

#[tokio::test]
async fn an_etcd_outage_keeps_the_last_config_and_a_restart_resumes_updates() {
    let Some(mut etcd) = Etcd::start().await else {
        return;
    };
    let (kept, after) = (
        TestUpstream::start("kept").await,
        TestUpstream::start("after").await,
    );
    put_owned(&etcd, &route("", &kept.url())).await;
    let (web, admin) = (free_port(), free_port());
    let gw = TestGateway::start(&config(web, admin, etcd.port, ""), &[web, admin]).await;
    assert!(until(web, "/", 200, "kept").await, "{}", gw.log());

    etcd.stop();
    let warned = |log: &str| {
        log.lines()
            .filter(|l| l.contains("etcd provider:") && l.contains("keeping the last keys"))
            .count()
    };
    let said = eventually(WITHIN, || async { (warned(&gw.log()) > 0).then_some(()) }).await;
    assert!(said.is_some(), "the outage is logged:\n{}", gw.log());
    // Several reconnection attempts without etcd: still served, one warning.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        get(web, "/").await.map(|r| r.0),
        Some(200),
        "last good config kept"
    );
    assert_eq!(
        warned(&gw.log()),
        1,
        "one warning per outage:\n{}",
        gw.log()
    );

    // Back on the same port and data: a change applies again.
    etcd.restart().await;
    put_owned(&etcd, &route("", &after.url())).await;
    assert!(
        until(web, "/", 200, "after").await,
        "updates resume after the restart:\n{}",
        gw.log()
    );
    assert!(
        gw.log()
            .contains("etcd provider: the keys can be read again"),
        "{}",
        gw.log()
    );
    // And the watch is open again: the next change shows within 2 s.
    put_owned(&etcd, &route("", &kept.url())).await;
    assert!(
        until_within(WATCHED_WITHIN, web, "/", 200, "kept").await,
        "{}",
        gw.log()
    );
}

#[tokio::test]
async fn an_unreachable_etcd_at_start_is_retried_while_the_file_provider_serves() {
    let (file_up, etcd_up) = (
        TestUpstream::start("file").await,
        TestUpstream::start("etcd").await,
    );
    let etcd_port = free_port();
    let (web, admin) = (free_port(), free_port());
    let dir = tempfile::tempdir().expect("dir");
    let dynamic = route_all_to(&file_up.url()).replace("PathPrefix(`/`)", "PathPrefix(`/file`)");
    std::fs::write(dir.path().join("dynamic.toml"), dynamic).expect("write");
    let extra = "[providers.file]\nfilename = \"dynamic.toml\"\n";
    let gw = TestGateway::start_in(dir, &config(web, admin, etcd_port, extra), &[web, admin]).await;
    assert!(
        until(web, "/file", 200, "file").await,
        "the file provider serves without etcd:\n{}",
        gw.log()
    );
    let said = eventually(WITHIN, || async {
        gw.log()
            .contains("etcd provider: cannot read the keys from http://127.0.0.1:")
            .then_some(())
    })
    .await;
    assert!(
        said.is_some(),
        "the unreachable etcd is reported:\n{}",
        gw.log()
    );

    // etcd comes up later: its keys apply (reconnection with capped backoff).
    let Some(etcd) = Etcd::start_on(etcd_port).await else {
        return;
    };
    put_owned(&etcd, &route("etcd", &etcd_up.url())).await;
    assert!(
        until(web, "/etcd", 200, "etcd").await,
        "etcd's keys apply once it is up:\n{}",
        gw.log()
    );
    assert!(until(web, "/file", 200, "file").await);
}

#[tokio::test]
async fn members_that_are_down_are_skipped_for_one_that_answers() {
    let Some(mut etcd) = Etcd::start().await else {
        return;
    };
    let up = TestUpstream::start("live").await;
    put_owned(&etcd, &route("", &up.url())).await;
    // With authentication, the client authenticates as it connects: a balancer over all the
    // members would send that to a member that is down and fail.
    etcd.enable_auth("pw").await;
    let (web, admin) = (free_port(), free_port());
    // Three members listed first are down (nothing listens on their ports).
    let down: Vec<String> = (0..3)
        .map(|_| format!("\"127.0.0.1:{}\"", free_port()))
        .collect();
    let credentials = "username = \"root\"\npassword = \"pw\"\n";
    let text = config(web, admin, etcd.port, credentials).replace(
        "endpoints = [",
        &format!("endpoints = [{}, ", down.join(", ")),
    );
    let gw = TestGateway::start(&text, &[web, admin]).await;
    assert!(
        until_within(Duration::from_secs(5), web, "/", 200, "live").await,
        "{}",
        gw.log()
    );
    assert!(
        !gw.log().contains("cannot read the keys"),
        "the first read already went to the member that answers:\n{}",
        gw.log()
    );
}

#[tokio::test]
async fn username_and_password_are_honoured_and_a_wrong_password_is_said() {
    let Some(mut etcd) = Etcd::start().await else {
        return;
    };
    let up = TestUpstream::start("authed").await;
    put_owned(&etcd, &route("", &up.url())).await;
    etcd.enable_auth("s3cret-pw").await;

    let (web, admin) = (free_port(), free_port());
    let good = "username = \"root\"\npassword = \"s3cret-pw\"\n";
    let gw = TestGateway::start(&config(web, admin, etcd.port, good), &[web, admin]).await;
    assert!(until(web, "/", 200, "authed").await, "{}", gw.log());
    assert!(
        !gw.log().contains("s3cret-pw"),
        "the password is never logged"
    );

    // With a wrong password: a clear error naming the keys to fix, never the password.
    let (web2, admin2) = (free_port(), free_port());
    let wrong = "username = \"root\"\npassword = \"not-it\"\n";
    let denied = TestGateway::start(&config(web2, admin2, etcd.port, wrong), &[web2, admin2]).await;
    let said = eventually(WITHIN, || async {
        let log = denied.log();
        (log.contains("etcd provider:")
            && log.contains("authentication failed")
            && log.contains("providers.etcd.username and password"))
        .then_some(())
    })
    .await;
    assert!(said.is_some(), "{}", denied.log());
    assert!(
        !denied.log().contains("not-it"),
        "the password is never logged"
    );
    assert_eq!(get(web2, "/").await.map(|r| r.0), Some(404));

    // Without credentials: refused by etcd, said too.
    let (web3, admin3) = (free_port(), free_port());
    let anonymous = TestGateway::start(&config(web3, admin3, etcd.port, ""), &[web3, admin3]).await;
    let said = eventually(WITHIN, || async {
        anonymous.log().contains("etcd provider:").then_some(())
    })
    .await;
    assert!(said.is_some(), "{}", anonymous.log());
    assert_eq!(get(web3, "/").await.map(|r| r.0), Some(404));
}

#[tokio::test]
async fn tls_with_a_client_certificate_is_honoured() {
    let certs = tempfile::tempdir().expect("dir");
    let files = TlsFiles::write(certs.path());
    let Some(etcd) = Etcd::start_tls(files.clone()).await else {
        return;
    };
    let up = TestUpstream::start("tls").await;
    put_owned(&etcd, &route("", &up.url())).await;

    let (web, admin) = (free_port(), free_port());
    let tls = format!(
        "[providers.etcd.tls]\nca = \"{}\"\ncert = \"{}\"\nkey = \"{}\"\n",
        files.ca, files.client_cert, files.client_key
    );
    let gw = TestGateway::start(&config(web, admin, etcd.port, &tls), &[web, admin]).await;
    assert!(until(web, "/", 200, "tls").await, "{}", gw.log());
    // Still followed (the watch over TLS).
    let other = TestUpstream::start("tls2").await;
    put_owned(&etcd, &route("", &other.url())).await;
    assert!(
        until_within(WATCHED_WITHIN, web, "/", 200, "tls2").await,
        "{}",
        gw.log()
    );

    // Without the client certificate the member refuses the handshake: said, nothing routed.
    let (web2, admin2) = (free_port(), free_port());
    let ca_only = format!("[providers.etcd.tls]\nca = \"{}\"\n", files.ca);
    let refused =
        TestGateway::start(&config(web2, admin2, etcd.port, &ca_only), &[web2, admin2]).await;
    let said = eventually(WITHIN, || async {
        refused
            .log()
            .contains("etcd provider: cannot read the keys from https://127.0.0.1:")
            .then_some(())
    })
    .await;
    assert!(said.is_some(), "{}", refused.log());
    assert_eq!(get(web2, "/").await.map(|r| r.0), Some(404));
}

/// Revision continuity: a key written after the provider's read but before its watch opens is
/// still seen (the watch starts at the read's revision + 1, not "now").
#[tokio::test]
async fn a_change_between_the_read_and_the_watch_is_not_missed() {
    use pylon::config::static_config::EtcdProviderConfig;
    use pylon::provider::etcd::{client, EtcdSettings};
    let Some(etcd) = Etcd::start().await else {
        return;
    };
    etcd.put(&[("traefik/http/routers/a/rule", "Path(`/a`)")])
        .await;
    let c: EtcdProviderConfig =
        toml::from_str(&format!("endpoints = [\"127.0.0.1:{}\"]", etcd.port)).expect("toml");
    let settings = EtcdSettings::from_config(&c, None, std::path::Path::new("pylon.toml"), "test")
        .expect("settings");
    let session = client::open(&settings).await.expect("read");
    assert_eq!(session.keys.len(), 1);
    // Written after the read, before the watch.
    etcd.put(&[("traefik/http/routers/between/rule", "Path(`/b`)")])
        .await;
    let mut stream = client::watch_after(&session, "traefik")
        .await
        .expect("watch");
    let seen = tokio::time::timeout(WATCHED_WITHIN, async {
        loop {
            let response = stream
                .message()
                .await
                .expect("watch message")
                .expect("open");
            let keys: Vec<String> = response
                .events()
                .iter()
                .filter_map(|e| e.kv().and_then(|kv| kv.key_str().ok()).map(str::to_string))
                .collect();
            if !keys.is_empty() {
                return keys;
            }
        }
    })
    .await;
    assert_eq!(
        seen.ok(),
        Some(vec!["traefik/http/routers/between/rule".to_string()]),
        "the change made between the read and the watch arrives, and nothing before it"
    );
}

#[test]
fn unsupported_keys_and_other_kv_providers_are_refused_by_name() {
    let dir = tempfile::tempdir().expect("dir");
    for (section, said) in [
        (
            "[providers.etcd.tls]\ninsecureSkipVerify = true\n",
            "providers.etcd.tls.insecureSkipVerify",
        ),
        (
            "[providers.etcd]\npollInterval = \"1s\"\n",
            "providers.etcd.pollInterval",
        ),
        (
            "[providers.etcd]\nusername = \"u\"\n",
            "providers.etcd.password",
        ),
        (
            "[providers.consul]\nrootKey = \"traefik\"\n",
            "supported key-value providers: `providers.etcd`, `providers.redis`",
        ),
        (
            "[providers.zooKeeper]\nrootKey = \"traefik\"\n",
            "supported key-value providers: `providers.etcd`, `providers.redis`",
        ),
    ] {
        let path = dir.path().join("pylon.toml");
        let text = format!("[entryPoints.web]\naddress = \"127.0.0.1:1\"\n{section}");
        std::fs::write(&path, text).expect("write");
        let (code, out) = run_pylon(&["check", "--config", path.to_str().expect("utf-8")]);
        assert_ne!(code, 0, "{section} refused:\n{out}");
        assert!(out.contains(said), "{said} said:\n{out}");
    }
}
