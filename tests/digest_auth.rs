//! The `digestAuth` middleware end to end: Traefik's challenge, a digest computed here and one
//! from curl (an independent client), htdigest `usersFile`, `headerField` / `removeHeader`, a
//! replayed request refused, a made-up nonce answered stale, and 429 after repeated failures
//! from one address while others are unaffected.

mod common;

use common::{client, free_port, TestGateway, TestUpstream};
use std::collections::HashMap;
use std::time::Duration;

/// htdigest's HA1 of `test:traefik:test`.
const HA1_TEST: &str = "a2688e031edb4be6a3797f3882655c05";

fn md5_hex(text: &str) -> String {
    let d = openssl::hash::hash(openssl::hash::MessageDigest::md5(), text.as_bytes()).unwrap();
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn config(port: u16, upstream: &str, auth: &str) -> String {
    format!(
        r#"[entryPoints.web]
address = "127.0.0.1:{port}"

[http.routers.r]
rule = "PathPrefix(`/`)"
service = "s"
middlewares = ["auth"]

[http.middlewares.auth.digestAuth]
{auth}

[http.services.s.loadBalancer]
servers = [{{ url = "{upstream}" }}]
"#
    )
}

/// The parameters of a `WWW-Authenticate: Digest …` challenge.
fn challenge(r: &reqwest::Response) -> HashMap<String, String> {
    let v = r.headers()["www-authenticate"].to_str().unwrap();
    let rest = v.strip_prefix("Digest ").unwrap();
    rest.split(", ")
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
        .collect()
}

/// `Authorization` for GET `uri` as `user` with `password`, under challenge `c`, count `nc`.
fn digest(c: &HashMap<String, String>, user: &str, password: &str, uri: &str, nc: u32) -> String {
    let ha1 = md5_hex(&format!("{user}:{}:{password}", c["realm"]));
    let ha2 = md5_hex(&format!("GET:{uri}"));
    let nc = format!("{nc:08x}");
    let response = md5_hex(&format!("{ha1}:{}:{nc}:4a5b:auth:{ha2}", c["nonce"]));
    format!(
        "Digest username=\"{user}\", realm=\"{}\", nonce=\"{}\", uri=\"{uri}\", algorithm=MD5, \
         qop=auth, nc={nc}, cnonce=\"4a5b\", response=\"{response}\", opaque=\"{}\"",
        c["realm"], c["nonce"], c["opaque"]
    )
}

#[tokio::test]
async fn challenges_then_accepts_a_right_digest_once_per_count() {
    let up = TestUpstream::start("app").await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("users.htdigest"),
        format!("# team\n\ntest:traefik:{HA1_TEST}\n"),
    )
    .unwrap();
    let port = free_port();
    let auth = format!(
        "usersFile = \"{}\"\nheaderField = \"X-WebAuth-User\"\nremoveHeader = true",
        dir.path().join("users.htdigest").display()
    );
    let _gw = TestGateway::start_in(dir, &config(port, &up.url(), &auth), &[port]).await;
    let url = format!("http://127.0.0.1:{port}/private?page=1");
    let c = client();

    let r = c.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let ch = challenge(&r);
    assert_eq!(ch["realm"], "traefik");
    assert_eq!(ch["algorithm"], "MD5");
    assert_eq!(ch["qop"], "auth");
    assert_eq!(r.text().await.unwrap(), "401 Unauthorized\n");
    assert!(up.requests().is_empty(), "nothing reached the upstream");

    let wrong = digest(&ch, "test", "nope", "/private?page=1", 1);
    let r = c
        .get(&url)
        .header("authorization", wrong)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let right = digest(&ch, "test", "test", "/private?page=1", 2);
    let r = c
        .get(&url)
        .header("authorization", &right)
        .header("X-WebAuth-User", "admin")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let seen = up.last().unwrap();
    assert_eq!(
        seen.header("x-webauth-user"),
        Some("test"),
        "the client's copy is replaced"
    );
    assert_eq!(seen.header_count("x-webauth-user"), 1);
    assert_eq!(seen.header("authorization"), None, "removeHeader");

    // the same request again (a capture replayed): refused
    let r = c
        .get(&url)
        .header("authorization", &right)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(up.requests().len(), 1);

    // a nonce pylon never handed out, with a right digest: stale, the client may retry
    let mut made_up = ch.clone();
    made_up.insert("nonce".into(), "00112233445566778899aabbccddeeff".into());
    let r = c
        .get(&url)
        .header(
            "authorization",
            digest(&made_up, "test", "test", "/private?page=1", 1),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .ends_with("stale=true"));
}

#[tokio::test]
async fn curl_logs_in_with_digest() {
    let up = TestUpstream::start("app").await;
    let port = free_port();
    let auth = format!("users = [\"test:traefik:{HA1_TEST}\"]");
    let _gw = TestGateway::start(&config(port, &up.url(), &auth), &[port]).await;
    let url = format!("http://127.0.0.1:{port}/files/a.txt");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "--digest",
                "-u",
            ])
            .arg("test:test")
            .arg(&url)
            .output()
    })
    .await
    .unwrap();
    let Ok(out) = out else {
        eprintln!("curl is not installed: skipped");
        return;
    };
    assert_eq!(String::from_utf8_lossy(&out.stdout), "200");
    assert_eq!(up.requests().len(), 1);
}

#[tokio::test]
async fn repeated_failures_from_one_address_get_429_others_are_unaffected() {
    let up = TestUpstream::start("app").await;
    let port = free_port();
    let auth = format!("users = [\"test:traefik:{HA1_TEST}\"]");
    let _gw = TestGateway::start(&config(port, &up.url(), &auth), &[port]).await;
    let url = format!("http://127.0.0.1:{port}/");
    let from = |ip: &str| {
        reqwest::Client::builder()
            .local_address(ip.parse::<std::net::IpAddr>().unwrap())
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap()
    };
    let attacker = from("127.0.0.77");
    let ch = challenge(&attacker.get(&url).send().await.unwrap());
    for i in 0..10 {
        let r = attacker
            .get(&url)
            .header(
                "authorization",
                digest(&ch, "test", &format!("guess{i}"), "/", i + 1),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "guess {i}");
    }
    // even the right password is not checked any more from there
    let r = attacker
        .get(&url)
        .header("authorization", digest(&ch, "test", "test", "/", 100))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_some());

    let other = from("127.0.0.78");
    let ch = challenge(&other.get(&url).send().await.unwrap());
    let r = other
        .get(&url)
        .header("authorization", digest(&ch, "test", "test", "/", 1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
