//! Traefik v3.7 additions (issue 18 point 7): wildcard `Host` rules and the entry point's
//! `http.encodedCharacters`, end to end against a real pylon.

mod common;

use common::{free_port, raw_request, TestGateway, TestUpstream};

fn status_of(response: &str) -> Option<u16> {
    response.split_whitespace().nth(1)?.parse().ok()
}

/// Sends `GET target` with `host` and returns the status.
async fn get(port: u16, host: &str, target: &str) -> Option<u16> {
    let head = format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    status_of(&raw_request(port, head.as_bytes()).await)
}

#[tokio::test]
async fn wildcard_hosts_match_one_label_and_star_matches_any_host() {
    let one = TestUpstream::start("one-label").await;
    let any = TestUpstream::start("any").await;
    let port = free_port();
    let config = format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{port}\"\n\
         [http.routers.sub]\nrule = \"Host(`*.apps.test`)\"\nservice = \"one\"\n\
         [http.routers.any]\nrule = \"Host(`*`)\"\nservice = \"any\"\npriority = 1\n\
         [http.services.one.loadBalancer]\nservers = [{{ url = \"{}\" }}]\n\
         [http.services.any.loadBalancer]\nservers = [{{ url = \"{}\" }}]\n",
        one.url(),
        any.url()
    );
    let _gw = TestGateway::start(&config, &[port]).await;
    for (host, upstream) in [
        ("shop.apps.test", "one-label"),
        ("SHOP.Apps.Test.:80", "one-label"),
        ("apps.test", "any"),
        ("a.shop.apps.test", "any"),
        ("elsewhere.example", "any"),
    ] {
        let before = (one.requests().len(), any.requests().len());
        assert_eq!(get(port, host, "/").await, Some(200), "{host}");
        let reached = match upstream {
            "one-label" => one.requests().len() > before.0,
            _ => any.requests().len() > before.1,
        };
        assert!(reached, "{host} should reach {upstream}");
    }
}

#[tokio::test]
async fn encoded_characters_are_refused_unless_the_entry_point_allows_them() {
    let up = TestUpstream::start("app").await;
    let (strict, open) = (free_port(), free_port());
    let config = format!(
        "[entryPoints.strict]\naddress = \"127.0.0.1:{strict}\"\n\
         [entryPoints.open]\naddress = \"127.0.0.1:{open}\"\n\
         [entryPoints.open.http.encodedCharacters]\nallowEncodedSlash = true\nallowEncodedSemicolon = true\n\
         [http.routers.r]\nrule = \"PathPrefix(`/files`)\"\nservice = \"s\"\n\
         middlewares = [\"strip\"]\n\
         [http.middlewares.strip.stripPrefix]\nprefixes = [\"/files\"]\n\
         [http.services.s.loadBalancer]\nservers = [{{ url = \"{}\" }}]\n",
        up.url()
    );
    let _gw = TestGateway::start(&config, &[strict, open]).await;
    assert_eq!(get(strict, "a", "/files/a%2fb").await, Some(400));
    assert_eq!(get(strict, "a", "/files/a%3Bb").await, Some(400));
    assert_eq!(get(open, "a", "/files/a%2fb").await, Some(200));
    assert_eq!(
        up.last().expect("reached the upstream").target,
        "/a%2Fb",
        "kept encoded, also after stripPrefix"
    );
    assert_eq!(get(open, "a", "/files/x%3bjsessionid=1").await, Some(200));
    assert_eq!(up.last().unwrap().target, "/x%3Bjsessionid=1");
    // what the entry point does not allow stays refused
    assert_eq!(get(open, "a", "/files/a%5cb").await, Some(400));
    assert_eq!(get(open, "a", "/files/%252e%252e/x").await, Some(400));
}

#[test]
fn an_unknown_encoded_characters_key_is_refused_naming_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pylon.toml");
    let config = format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{}\"\n\
         [entryPoints.web.http.encodedCharacters]\nallowEncodedSlashes = true\n",
        free_port()
    );
    std::fs::write(&path, config).unwrap();
    let (code, out) = common::gateway::run_pylon(&["check", "--config", path.to_str().unwrap()]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("entryPoints.web.http.encodedCharacters"),
        "{out}"
    );
    assert!(out.contains("allowEncodedSlash"), "did you mean: {out}");
}
