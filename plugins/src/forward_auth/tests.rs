//! forwardAuth's build errors by key, and its header rules on plain values.

use super::config::{build, Config, TlsConfig};
use super::headers::{self, RequestFacts};
use crate::build::test_cx;
use http::{HeaderMap, HeaderName, HeaderValue, Uri};
use regex::Regex;

fn config(address: &str) -> Config {
    Config {
        address: Some(address.to_string()),
        ..Config::default()
    }
}

fn errors_of(cfg: &Config) -> Vec<(String, String)> {
    match build(cfg, &test_cx()) {
        Ok(_) => Vec::new(),
        Err(errors) => errors
            .into_iter()
            .map(|e| (e.key_path, e.message))
            .collect(),
    }
}

fn key_paths(cfg: &Config) -> Vec<String> {
    errors_of(cfg).into_iter().map(|(k, _)| k).collect()
}

#[test]
fn a_plain_address_builds() {
    assert!(errors_of(&config("http://127.0.0.1:9091/api/verify")).is_empty());
    assert!(errors_of(&config("https://auth.example.com/verify")).is_empty());
}

#[test]
fn the_address_must_be_an_http_url_with_a_host() {
    for bad in ["", "auth:9091", "ftp://auth/x", "http://", "/verify"] {
        assert_eq!(
            key_paths(&config(bad)),
            ["http.middlewares.m.forwardAuth.address"],
            "{bad:?}"
        );
    }
    assert_eq!(
        key_paths(&Config::default()),
        ["http.middlewares.m.forwardAuth.address"]
    );
}

#[test]
fn every_bad_key_is_named() {
    let cfg = Config {
        auth_response_headers: Some(vec!["Remote-User".into(), "bad header".into()]),
        auth_request_headers: Some(vec!["Cookie".into(), "x\ny".into()]),
        auth_response_headers_regex: Some("(".into()),
        header_field: Some("no good".into()),
        max_response_body_size: Some(-5),
        auth_signin_url: Some("not a url\n".into()),
        timeout: Some(crate::duration::Duration::from_secs(0)),
        ..config("http://127.0.0.1:1/")
    };
    let mut keys = key_paths(&cfg);
    keys.sort();
    let mut expected: Vec<String> = [
        "authRequestHeaders[1]",
        "authResponseHeaders[1]",
        "authResponseHeadersRegex",
        "authSigninURL",
        "headerField",
        "maxResponseBodySize",
        "timeout",
    ]
    .iter()
    .map(|k| format!("http.middlewares.m.forwardAuth.{k}"))
    .collect();
    expected.sort();
    assert_eq!(keys, expected);
}

#[test]
fn forwarded_bodies_are_bounded_by_what_pingora_replays() {
    let body = |forward: bool, max: Option<i64>| Config {
        forward_body: Some(forward),
        max_body_size: max,
        ..config("http://127.0.0.1:1/")
    };
    assert!(errors_of(&body(true, None)).is_empty());
    assert!(errors_of(&body(true, Some(1024))).is_empty());
    let too_big = errors_of(&body(true, Some(1 << 20)));
    assert_eq!(too_big[0].0, "http.middlewares.m.forwardAuth.maxBodySize");
    assert!(too_big[0].1.contains("64 KiB"), "{too_big:?}");
    assert_eq!(
        key_paths(&body(true, Some(-1))),
        ["http.middlewares.m.forwardAuth.maxBodySize"]
    );
    // A limit on a body that is not sent is a mistake worth saying.
    assert_eq!(
        key_paths(&body(false, Some(1024))),
        ["http.middlewares.m.forwardAuth.maxBodySize"]
    );
}

#[test]
fn tls_files_are_read_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not pem").unwrap();
    let junk = junk.to_str().unwrap().to_string();
    let with_tls = |tls: TlsConfig| Config {
        tls: Some(tls),
        ..config("https://127.0.0.1:1/")
    };
    assert_eq!(
        key_paths(&with_tls(TlsConfig {
            ca: Some(junk.clone()),
            ..TlsConfig::default()
        })),
        ["http.middlewares.m.forwardAuth.tls.ca"]
    );
    assert_eq!(
        key_paths(&with_tls(TlsConfig {
            ca: Some("/nonexistent/ca.pem".into()),
            ..TlsConfig::default()
        })),
        ["http.middlewares.m.forwardAuth.tls.ca"]
    );
    assert_eq!(
        key_paths(&with_tls(TlsConfig {
            cert: Some(junk.clone()),
            ..TlsConfig::default()
        })),
        ["http.middlewares.m.forwardAuth.tls.key"]
    );
    assert_eq!(
        key_paths(&with_tls(TlsConfig {
            ca_optional: Some(true),
            ..TlsConfig::default()
        })),
        ["http.middlewares.m.forwardAuth.tls.caOptional"]
    );
    assert!(errors_of(&with_tls(TlsConfig {
        insecure_skip_verify: Some(true),
        ..TlsConfig::default()
    }))
    .is_empty());
}

fn map(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut m = HeaderMap::new();
    for (k, v) in pairs {
        m.append(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    m
}

fn facts() -> RequestFacts<'static> {
    RequestFacts {
        method: "POST",
        uri: "/app/page?x=1",
        host: Some("app.example.com:8443"),
        tls: true,
        peer: Some("::ffff:10.1.2.3".parse().unwrap()),
    }
}

fn get<'a>(m: &'a HeaderMap, name: &str) -> Option<&'a str> {
    m.get(name).map(|v| v.to_str().unwrap())
}

#[test]
fn the_auth_request_carries_the_facts_not_the_clients_claims() {
    let client = map(&[
        ("host", "app.example.com:8443"),
        ("cookie", "session=abc"),
        ("x-forwarded-uri", "/public"),
        ("x-forwarded-for", "6.6.6.6"),
        ("connection", "keep-alive, x-secret"),
        ("x-secret", "hop"),
        ("content-length", "12"),
    ]);
    let out = headers::auth_request_headers(&client, None, false, &facts());
    assert_eq!(get(&out, "cookie"), Some("session=abc"));
    assert_eq!(get(&out, "x-forwarded-uri"), Some("/app/page?x=1"));
    assert_eq!(get(&out, "x-forwarded-for"), Some("10.1.2.3"));
    assert_eq!(get(&out, "x-forwarded-method"), Some("POST"));
    assert_eq!(get(&out, "x-forwarded-proto"), Some("https"));
    assert_eq!(get(&out, "x-forwarded-host"), Some("app.example.com:8443"));
    assert_eq!(get(&out, "x-forwarded-port"), Some("8443"));
    for dropped in ["host", "connection", "x-secret", "content-length"] {
        assert_eq!(get(&out, dropped), None, "{dropped}");
    }
}

#[test]
fn trusted_forwarded_headers_are_kept_and_the_peer_appended() {
    let client = map(&[
        ("x-forwarded-uri", "/orig"),
        ("x-forwarded-for", "1.1.1.1"),
        ("x-forwarded-proto", "http"),
    ]);
    let out = headers::auth_request_headers(&client, None, true, &facts());
    assert_eq!(get(&out, "x-forwarded-uri"), Some("/orig"));
    assert_eq!(get(&out, "x-forwarded-for"), Some("1.1.1.1, 10.1.2.3"));
    assert_eq!(get(&out, "x-forwarded-proto"), Some("http"));
    assert_eq!(get(&out, "x-forwarded-port"), Some("8443"));
}

#[test]
fn auth_request_headers_choose_what_is_copied() {
    let client = map(&[("cookie", "a=1"), ("authorization", "Bearer t")]);
    let allowed = headers::allowed_request_headers(vec![HeaderName::from_static("cookie")], false);
    let out = headers::auth_request_headers(&client, allowed.as_deref(), false, &facts());
    assert_eq!(get(&out, "cookie"), Some("a=1"));
    assert_eq!(get(&out, "authorization"), None);
    // The facts are always sent.
    assert_eq!(get(&out, "x-forwarded-uri"), Some("/app/page?x=1"));
}

#[test]
fn answer_headers_replace_what_the_client_sent() {
    let request = map(&[("remote-user", "mallory"), ("x-auth-role", "admin")]);
    let answer = map(&[("remote-user", "alice"), ("x-auth-email", "a@x")]);
    let names = [HeaderName::from_static("remote-user")];
    let re = Regex::new("(?i)^X-Auth-").unwrap();
    let (remove, add) = headers::auth_response_headers(&request, &answer, &names, Some(&re));
    let remove: Vec<&str> = remove.iter().map(|n| n.as_str()).collect();
    assert_eq!(remove, ["remote-user", "x-auth-role"]);
    let add: Vec<(&str, &str)> = add
        .iter()
        .map(|(n, v)| (n.as_str(), v.to_str().unwrap()))
        .collect();
    assert_eq!(add, [("remote-user", "alice"), ("x-auth-email", "a@x")]);
}

#[test]
fn locations_resolve_against_the_auth_address() {
    let address: Uri = "http://auth:9091/api/verify".parse().unwrap();
    let loc = |v: &str, preserve: bool| {
        headers::location(&HeaderValue::from_str(v).unwrap(), &address, preserve)
            .map(|h| h.to_str().unwrap().to_string())
    };
    assert_eq!(loc("/login", false).unwrap(), "http://auth:9091/login");
    assert_eq!(loc("login", false).unwrap(), "http://auth:9091/api/login");
    assert_eq!(
        loc("//sso.example.com/x", false).unwrap(),
        "http://sso.example.com/x"
    );
    assert_eq!(
        loc("https://sso.example.com/?rd=1", false).unwrap(),
        "https://sso.example.com/?rd=1"
    );
    assert_eq!(loc("/login", true).unwrap(), "/login");
}

#[test]
fn cookie_names_are_read_from_set_cookie() {
    let v = HeaderValue::from_static("authelia_session=xyz; Path=/; HttpOnly");
    assert_eq!(headers::cookie_name(&v), Some("authelia_session"));
    assert_eq!(
        headers::cookie_name(&HeaderValue::from_static("garbage")),
        None
    );
}
