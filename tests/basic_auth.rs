//! The `basicAuth` middleware end to end: challenge, each hash kind, usersFile (relative path),
//! headerField/removeHeader, equal timing for unknown users, 429 after repeated failures,
//! and no password in pylon's log.

mod common;

use common::gateway::run_pylon;
use common::{client, free_port, TestGateway, TestUpstream};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// bcrypt (cost 8) of `correct horse battery`.
const BCRYPT_8: &str = "$2y$08$wV418p/fGUPlqOpjOIjzu.D0jCp6TwEFVYGx3u9iSZk9mfSXWCVkW";
const BCRYPT_PASSWORD: &str = "correct horse battery";
/// `htpasswd -nb test test` (APR1) and `htpasswd -nbs sha test` (SHA1): password `test`.
const APR1_TEST: &str = "apr:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/";
const SHA_TEST: &str = "sha:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=";

fn config(port: u16, upstream: &str, auth: &str) -> String {
    format!(
        r#"[entryPoints.web]
address = "127.0.0.1:{port}"

[http.routers.r]
rule = "PathPrefix(`/`)"
service = "s"
middlewares = ["auth"]

[http.middlewares.auth.basicAuth]
{auth}

[http.services.s.loadBalancer]
servers = [{{ url = "{upstream}" }}]
"#
    )
}

/// `path` written relative to the test's working directory (pylon runs in the same one).
fn relative_to_cwd(path: &std::path::Path) -> String {
    let cwd = std::env::current_dir().unwrap();
    let ups = "../".repeat(cwd.components().count() - 1);
    format!(
        "{ups}{}",
        path.display().to_string().trim_start_matches('/')
    )
}

/// A client whose connections come from `ip` (any 127.x address is this machine).
fn client_from(ip: IpAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

#[tokio::test]
async fn challenges_then_accepts_each_hash_kind_and_forwards_the_user() {
    let up = TestUpstream::start("app").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.htpasswd");
    std::fs::write(&file, format!("# team\n\nbc:{BCRYPT_8}\n")).unwrap();
    let port = free_port();
    let auth = format!(
        "users = [\"{APR1_TEST}\", \"{SHA_TEST}\"]\nusersFile = \"{}\"\nheaderField = \"X-WebAuth-User\"",
        relative_to_cwd(&file)
    );
    let _gw = TestGateway::start_in(dir, &config(port, &up.url(), &auth), &[port]).await;
    let url = format!("http://127.0.0.1:{port}/private");
    let c = client();

    let r = c.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Basic realm=\"traefik\"");
    assert_eq!(r.text().await.unwrap(), "401 Unauthorized\n");
    assert!(up.requests().is_empty(), "nothing reached the upstream");

    let r = c
        .get(&url)
        .basic_auth("apr", Some("nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    for (user, password) in [("apr", "test"), ("sha", "test"), ("bc", BCRYPT_PASSWORD)] {
        let r = c
            .get(&url)
            .basic_auth(user, Some(password))
            .header("X-WebAuth-User", "admin")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{user}");
        let seen = up.last().unwrap();
        assert_eq!(
            seen.header("x-webauth-user"),
            Some(user),
            "the client's copy is replaced"
        );
        assert_eq!(seen.header_count("x-webauth-user"), 1);
        assert!(
            seen.header("authorization").is_some(),
            "kept without removeHeader"
        );
    }
}

#[tokio::test]
async fn remove_header_strips_authorization_and_the_realm_is_configurable() {
    let up = TestUpstream::start("app").await;
    let port = free_port();
    let auth = format!("users = [\"{SHA_TEST}\"]\nrealm = \"Staff only\"\nremoveHeader = true");
    let _gw = TestGateway::start(&config(port, &up.url(), &auth), &[port]).await;
    let url = format!("http://127.0.0.1:{port}/");
    let r = client().get(&url).send().await.unwrap();
    assert_eq!(
        r.headers()["www-authenticate"],
        "Basic realm=\"Staff only\""
    );
    let r = client()
        .get(&url)
        .basic_auth("sha", Some("test"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(up.last().unwrap().header("authorization"), None);
}

#[tokio::test]
async fn repeated_failures_from_one_address_get_429_others_are_unaffected() {
    let up = TestUpstream::start("app").await;
    let port = free_port();
    let auth = format!("users = [\"{SHA_TEST}\"]");
    let _gw = TestGateway::start(&config(port, &up.url(), &auth), &[port]).await;
    let url = format!("http://127.0.0.1:{port}/");
    let attacker = client_from("127.0.0.77".parse().unwrap());
    for i in 0..10 {
        let r = attacker
            .get(&url)
            .basic_auth("sha", Some(format!("guess{i}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "guess {i}");
    }
    let r = attacker
        .get(&url)
        .basic_auth("sha", Some("test"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429, "blocked, even with the right password");
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    let other = client_from("127.0.0.78".parse().unwrap());
    let r = other
        .get(&url)
        .basic_auth("sha", Some("test"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::test]
async fn unknown_users_take_as_long_as_wrong_passwords_and_passwords_never_reach_the_log() {
    std::env::set_var("PYLON_TEST_LOG", "debug");
    let up = TestUpstream::start("app").await;
    let port = free_port();
    // two bcrypt users to one SHA1: unknown users are checked against bcrypt cost 8
    let auth = format!("users = [\"bc:{BCRYPT_8}\", \"bc2:{BCRYPT_8}\", \"{SHA_TEST}\"]");
    let gw = TestGateway::start(&config(port, &up.url(), &auth), &[port]).await;
    let url = format!("http://127.0.0.1:{port}/");
    let secret = "Tr0ub4dor&3-never-logged";
    const TRIES: usize = 200;
    // 4 pairs per source address keeps each address under the failure limit.
    let clients: Vec<_> = (0..TRIES / 4)
        .map(|i| client_from(format!("127.0.1.{}", i + 1).parse().unwrap()))
        .collect();
    for c in &clients {
        // opens the connection: not part of any measurement
        assert_eq!(c.get(&url).send().await.unwrap().status(), 401);
    }
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for j in 0..TRIES {
        let c = &clients[j / 4];
        let order = if j % 2 == 0 {
            ["bc", "ghost"]
        } else {
            ["ghost", "bc"]
        };
        for user in order {
            let started = Instant::now();
            let r = c
                .get(&url)
                .basic_auth(user, Some(secret))
                .send()
                .await
                .unwrap();
            let took = started.elapsed();
            assert_eq!(r.status(), 401);
            if user == "bc" {
                known.push(took)
            } else {
                unknown.push(took)
            }
        }
    }
    let (k, u) = (median(known), median(unknown));
    let ratio = u.as_secs_f64() / k.as_secs_f64();
    println!("median wrong password {k:?}, unknown user {u:?}, ratio {ratio:.3}");
    assert!(
        k > Duration::from_millis(2),
        "bcrypt cost 8 was really computed ({k:?})"
    );
    assert!(
        (0.8..=1.25).contains(&ratio),
        "ratio {ratio:.3} ({u:?} / {k:?})"
    );

    let r = client()
        .get(&url)
        .basic_auth("sha", Some("test"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let log = gw.log();
    assert!(
        log.contains("authentication failed"),
        "debug logging was on:\n{log}"
    );
    let b64 = openssl::base64::encode_block(format!("bc:{secret}").as_bytes());
    assert!(
        !log.contains(secret) && !log.contains(&b64),
        "a password reached the log"
    );
}

#[test]
fn a_missing_users_file_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pylon.toml");
    let missing = dir.path().join("nope.htpasswd");
    let auth = format!("usersFile = \"{}\"", missing.display());
    std::fs::write(&path, config(free_port(), "http://127.0.0.1:9", &auth)).unwrap();
    let (code, out) = run_pylon(&["check", "--config", path.to_str().unwrap()]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("http.middlewares.auth.basicAuth.usersFile"),
        "{out}"
    );
    assert!(out.contains("nope.htpasswd"), "{out}");
}

/// Sends `user:password` and returns the status.
async fn status_as(port: u16, user: &str, password: &str) -> u16 {
    client()
        .get(format!("http://127.0.0.1:{port}/"))
        .basic_auth(user, Some(password))
        .send()
        .await
        .map_or(0, |r| r.status().as_u16())
}

#[tokio::test]
async fn an_edited_users_file_is_picked_up_by_a_reload() {
    let up = TestUpstream::start("app").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.htpasswd");
    std::fs::write(&file, format!("{SHA_TEST}\n")).unwrap();
    let port = free_port();
    let auth = format!("usersFile = \"{}\"", relative_to_cwd(&file));
    let gw = TestGateway::start_in(dir, &config(port, &up.url(), &auth), &[port]).await;
    assert_eq!(status_as(port, "sha", "test").await, 200);
    assert_eq!(status_as(port, "apr", "test").await, 401);

    // SIGHUP ends a process that does not handle it yet: wait until pylon says it does.
    let listening = common::eventually(Duration::from_secs(20), || {
        let log = gw.log();
        async move { log.contains("listening for SIGHUP").then_some(()) }
    })
    .await;
    assert!(listening.is_some(), "no SIGHUP handler:\n{}", gw.log());
    // The config is unchanged: only the users file is, then SIGHUP asks for a reload.
    std::fs::write(&file, format!("{APR1_TEST}\n")).unwrap();
    let ok = std::process::Command::new("kill")
        .args(["-HUP", &gw.pid().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    let swapped = common::eventually(Duration::from_secs(10), || async move {
        (status_as(port, "apr", "test").await == 200).then_some(())
    })
    .await;
    assert!(
        swapped.is_some(),
        "the new user was not accepted after the reload:\n{}",
        gw.log()
    );
    assert_eq!(
        status_as(port, "sha", "test").await,
        401,
        "the removed user is refused"
    );
}

/// `config` with `127.0.0.1` as a trusted forwarder on the entry point.
fn config_behind_proxy(port: u16, upstream: &str, auth: &str) -> String {
    config(port, upstream, auth).replacen(
        "[http.routers.r]",
        "[entryPoints.web.forwardedHeaders]\ntrustedIPs = [\"127.0.0.1/32\"]\n\n[http.routers.r]",
        1,
    )
}

/// Sends `user:password` from the trusted proxy 127.0.0.1 on behalf of `client` (its
/// `X-Forwarded-For`); returns the status.
async fn status_for(port: u16, client: &str, user: &str, password: &str) -> u16 {
    client_from("127.0.0.1".parse().unwrap())
        .get(format!("http://127.0.0.1:{port}/"))
        .header("x-forwarded-for", client)
        .basic_auth(user, Some(password))
        .send()
        .await
        .map_or(0, |r| r.status().as_u16())
}

#[tokio::test]
async fn behind_a_trusted_proxy_failures_are_counted_per_forwarded_client() {
    let up = TestUpstream::start("app").await;
    let port = free_port();
    let auth = format!("users = [\"{SHA_TEST}\"]");
    let _gw = TestGateway::start(&config_behind_proxy(port, &up.url(), &auth), &[port]).await;
    // One attacker behind the CDN guesses until blocked...
    for i in 0..10 {
        let status = status_for(port, "203.0.113.9", "sha", &format!("guess{i}")).await;
        assert_eq!(status, 401, "guess {i}");
    }
    assert_eq!(status_for(port, "203.0.113.9", "sha", "test").await, 429);
    // ...and another client behind the same CDN still logs in (was: 429, keyed on the CDN).
    assert_eq!(
        status_for(port, "198.51.100.7", "sha", "test").await,
        200,
        "a client behind the same trusted proxy was locked out by another's guesses"
    );
    // A client cannot pick its key: hops before the trusted proxy's own are the client's.
    assert_eq!(
        status_for(port, "203.0.113.9, 127.0.0.1", "sha", "test").await,
        429,
        "a trusted hop appended by the client hides nothing"
    );
}

#[tokio::test]
async fn an_untrusted_client_cannot_escape_the_count_with_forwarded_headers() {
    let up = TestUpstream::start("app").await;
    let port = free_port();
    let auth = format!("users = [\"{SHA_TEST}\"]");
    let _gw = TestGateway::start(&config_behind_proxy(port, &up.url(), &auth), &[port]).await;
    let attacker = client_from("127.0.0.66".parse().unwrap());
    let url = format!("http://127.0.0.1:{port}/");
    for i in 0..10 {
        let r = attacker
            .get(&url)
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .basic_auth("sha", Some(format!("guess{i}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "guess {i}");
    }
    let r = attacker
        .get(&url)
        .header("x-forwarded-for", "198.51.100.200")
        .basic_auth("sha", Some("test"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429, "counted per peer, whatever it claims");
}

#[tokio::test]
async fn guesses_sent_at_once_are_counted_before_they_are_hashed() {
    let up = TestUpstream::start("app").await;
    let port = free_port();
    let auth = format!("users = [\"bc:{BCRYPT_8}\"]");
    let gw = TestGateway::start(&config(port, &up.url(), &auth), &[port]).await;
    let url = format!("http://127.0.0.1:{port}/");
    // 40 guesses from one address at once, each on its own connection: all of them reach the
    // check before any bcrypt hash (cost 8) is done.
    let guesses = (0..40).map(|i| {
        let url = url.clone();
        async move {
            client_from("127.0.0.55".parse().unwrap())
                .get(&url)
                .basic_auth("bc", Some(format!("guess{i}")))
                .send()
                .await
                .map_or(0, |r| r.status().as_u16())
        }
    });
    let statuses = futures_util::future::join_all(guesses).await;
    let hashed = statuses.iter().filter(|s| **s == 401).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    println!("401: {hashed}, 429: {throttled}");
    assert_eq!(hashed + throttled, 40, "{statuses:?}\n{}", gw.log());
    assert!(
        hashed <= 10,
        "{hashed} guesses were checked: at most 10 failures may be hashed before the block"
    );
}

#[test]
fn bcrypt_costs_above_the_maximum_are_refused_naming_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pylon.toml");
    // cost 15: a well-formed hash whose checks would take seconds each
    let costly = "$2y$15$wV418p/fGUPlqOpjOIjzu.D0jCp6TwEFVYGx3u9iSZk9mfSXWCVkW";
    let auth = format!("users = [\"{SHA_TEST}\", \"big:{costly}\"]");
    std::fs::write(&path, config(free_port(), "http://127.0.0.1:9", &auth)).unwrap();
    let (code, out) = run_pylon(&["check", "--config", path.to_str().unwrap()]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("http.middlewares.auth.basicAuth.users[1]"),
        "{out}"
    );
    assert!(
        out.contains("bcrypt cost 15") && out.contains("at most 14"),
        "{out}"
    );
    assert!(!out.contains("wV418p"), "the hash is not echoed: {out}");
}
