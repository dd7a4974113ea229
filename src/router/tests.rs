//! Tests for router ordering, the MusicShare table and index-vs-linear equivalence.

use std::net::IpAddr;

use http::{HeaderMap, HeaderValue};

use super::*;
use crate::rule::parse;

fn spec(name: &str, rule: &str, priority: Option<i64>) -> RouteSpec<String> {
    let expr = match parse(rule) {
        Ok(expr) => expr,
        Err(e) => panic!("{e}"),
    };
    RouteSpec {
        name: name.to_owned(),
        rule: expr,
        rule_len: rule.chars().count(),
        priority,
        value: name.to_owned(),
    }
}

fn facts<'a>(host: &'a str, path: &'a str, headers: &'a HeaderMap) -> RequestFacts<'a> {
    RequestFacts {
        host,
        path,
        query: None,
        method: "GET",
        headers,
        client_ip: IpAddr::from([10, 0, 0, 1]),
    }
}

fn route_of<'r>(router: &'r Router<String>, host: &str, path: &str) -> Option<&'r str> {
    let headers = HeaderMap::new();
    let req = facts(host, path, &headers);
    let got = router.lookup(&req).map(String::as_str);
    assert_eq!(got, router.lookup_linear(&req).map(String::as_str));
    got
}

#[test]
fn music_share_table() {
    let router = Router::build(vec![
        spec("userservice", "PathPrefix(`/api/users`)", None),
        spec("music", "PathPrefix(`/api/music`)", None),
        spec("social", "PathPrefix(`/api/social`)", None),
        spec(
            "social-docs",
            "PathPrefix(`/swagger-ui`) || PathPrefix(`/v3/api-docs`)",
            None,
        ),
        spec("notifications", "PathPrefix(`/api/notifications`)", None),
        spec("notifications-ws", "PathPrefix(`/ws`)", None),
        spec("upload", "PathPrefix(`/upload`)", Some(2)),
        spec("formulario", "PathPrefix(`/formulario-post`)", None),
        spec("frontend", "PathPrefix(`/`)", Some(1)),
    ]);
    assert_eq!(router.len(), 9);
    for (path, want) in [
        ("/api/users/auth/token", "userservice"),
        ("/api/music/tracks", "music"),
        ("/api/social/posts", "social"),
        ("/swagger-ui/index.html", "social-docs"),
        ("/v3/api-docs/swagger-config", "social-docs"),
        ("/api/notifications/send", "notifications"),
        ("/ws", "notifications-ws"),
        ("/upload", "upload"),
        ("/formulario-post/x", "formulario"),
        ("/anything-else", "frontend"),
        ("/", "frontend"),
    ] {
        assert_eq!(
            route_of(&router, "musicshare.local", path),
            Some(want),
            "{path}"
        );
    }
    let order: Vec<&str> = router.ordered_names().collect();
    assert_eq!(
        order,
        vec![
            "social-docs",
            "notifications",
            "formulario",
            "social",
            "music",
            "userservice",
            "notifications-ws",
            "upload",
            "frontend",
        ]
    );
}

#[test]
fn low_priority_catch_all_never_shadows() {
    let router = Router::build(vec![
        spec("all", "PathPrefix(`/`)", Some(1)),
        spec("users", "PathPrefix(`/api/users`)", None),
    ]);
    assert_eq!(route_of(&router, "h", "/api/users/1"), Some("users"));
    assert_eq!(route_of(&router, "h", "/api/other"), Some("all"));
    assert_eq!(route_of(&router, "h", ""), None);
}

#[test]
fn ties_break_on_rule_length_then_name() {
    let router = Router::build(vec![
        spec("b", "PathPrefix(`/`)", Some(10)),
        spec("a", "PathPrefix(`/`)", Some(10)),
        spec("long", "PathPrefix(`/`) && !Path(`/x`)", Some(10)),
        spec("top", "Path(`/x`)", Some(11)),
        spec("zero", "PathPrefix(`/z`)", Some(0)), // 0 = unset: priority 16
        spec("neg", "PathPrefix(`/`)", Some(-5)),
    ]);
    let order: Vec<&str> = router.ordered_names().collect();
    assert_eq!(order, vec!["zero", "top", "long", "a", "b", "neg"]);
    let prios: Vec<i64> = router.entries().map(|(_, p, _)| p).collect();
    assert_eq!(prios, vec![16, 11, 10, 10, 10, -5]);
    assert_eq!(route_of(&router, "h", "/x"), Some("top"));
    assert_eq!(route_of(&router, "h", "/y"), Some("long"));
}

#[test]
fn host_routes_and_fallbacks() {
    let router = Router::build(vec![
        spec("a-api", "Host(`a.com`) && PathPrefix(`/api`)", None),
        spec("a", "Host(`a.com`, `www.a.com`)", None),
        spec("b-or", "Host(`b.com`) || Host(`c.com`) && Path(`/c`)", None),
        spec("regexp", "HostRegexp(`^d\\.`)", None),
        spec("none", "Host(`a.com`) && Host(`b.com`)", None),
        spec("all", "PathPrefix(`/`)", Some(1)),
    ]);
    assert_eq!(route_of(&router, "A.COM.:8443", "/api/x"), Some("a-api"));
    assert_eq!(route_of(&router, "www.a.com", "/api/x"), Some("a"));
    assert_eq!(route_of(&router, "a.com", "/other"), Some("a"));
    assert_eq!(route_of(&router, "b.com", "/x"), Some("b-or"));
    assert_eq!(route_of(&router, "c.com", "/c"), Some("b-or"));
    assert_eq!(route_of(&router, "c.com", "/d"), Some("all"));
    assert_eq!(route_of(&router, "d.net", "/d"), Some("regexp"));
    assert_eq!(route_of(&router, "e.net", "/"), Some("all"));
    assert!(router.indexed_host_count() >= 4);
    let wild = Router::build(vec![
        spec("one-label", "Host(`*.a.com`) && PathPrefix(`/api`)", None),
        spec("both", "Host(`*.a.com`) && Host(`www.a.com`)", Some(100)),
        spec("any", "Host(`*`)", Some(2)),
        spec("all", "PathPrefix(`/`)", Some(1)),
    ]);
    assert_eq!(route_of(&wild, "X.A.com:80", "/api/1"), Some("one-label"));
    assert_eq!(route_of(&wild, "www.a.com", "/"), Some("both"));
    assert_eq!(
        route_of(&wild, "a.b.a.com", "/api"),
        Some("any"),
        "one label only"
    );
    assert_eq!(
        route_of(&wild, "a.com", "/api"),
        Some("any"),
        "not the parent"
    );
    assert_eq!(route_of(&wild, "", "/api"), Some("all"), "`*` needs a host");
    let empty: Router<String> = Router::build(Vec::new());
    assert!(empty.is_empty());
    assert_eq!(route_of(&empty, "a.com", "/"), None);
}

/// Deterministic xorshift64* generator, enough for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const HOSTS: [&str; 7] = [
    "a.com",
    "b.com",
    "api.c.org",
    "A.com.",
    "*.c.org",
    "*.A.com",
    "*",
];
const PATHS: [&str; 7] = [
    "/",
    "/api",
    "/api/users",
    "/api/v1",
    "/static",
    "/x",
    "/api/",
];

fn random_matcher(rng: &mut Rng) -> String {
    match rng.below(10) {
        0 | 1 => format!("Host(`{}`)", rng.pick(&HOSTS)),
        2 => format!("Host(`{}`, `{}`)", rng.pick(&HOSTS), rng.pick(&HOSTS)),
        3 | 4 => format!("PathPrefix(`{}`)", rng.pick(&PATHS)),
        5 => format!("Path(`{}`)", rng.pick(&PATHS)),
        6 => format!("Method(`{}`)", rng.pick(&["GET", "POST"])),
        7 => format!("Header(`X-Env`, `{}`)", rng.pick(&["prod", "dev"])),
        8 => format!("HostRegexp(`{}`)", rng.pick(&["^a\\.", "org$", "b"])),
        _ => format!(
            "PathRegexp(`{}`)",
            rng.pick(&["^/api/v[0-9]", "users", "^/$"])
        ),
    }
}

fn random_rule(rng: &mut Rng, depth: usize) -> String {
    if depth == 0 {
        return random_matcher(rng);
    }
    match rng.below(6) {
        0 | 1 => format!(
            "{} && {}",
            random_rule(rng, depth - 1),
            random_rule(rng, depth - 1)
        ),
        2 => format!(
            "({} || {})",
            random_rule(rng, depth - 1),
            random_rule(rng, depth - 1)
        ),
        3 => format!("!{}", random_matcher(rng)),
        _ => random_matcher(rng),
    }
}

#[test]
fn indexed_lookup_equals_linear_scan() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let req_hosts = [
        "a.com",
        "A.COM:80",
        "a.com.",
        "b.com",
        "api.c.org:8443",
        "x.api.c.org",
        "WWW.a.com.",
        ".a.com",
        "c.org",
        "zzz",
        "",
        "[::1]:80",
    ];
    let req_paths = [
        "/",
        "/api",
        "/api/",
        "/api/users",
        "/api/users/7",
        "/api/v1/x",
        "/apix",
        "/static/a.js",
        "/x",
        "/y",
        "",
    ];
    let mut checked = 0;
    for round in 0..60 {
        let n = 1 + rng.below(60);
        let specs: Vec<RouteSpec<String>> = (0..n)
            .map(|i| {
                let depth = 1 + rng.below(3);
                let rule = random_rule(&mut rng, depth);
                let priority = match rng.below(5) {
                    0 => Some(rng.below(40) as i64 - 5),
                    1 => Some(0),
                    _ => None,
                };
                spec(&format!("r{round}-{i}"), &rule, priority)
            })
            .collect();
        let router = Router::build(specs);
        for _ in 0..80 {
            let mut headers = HeaderMap::new();
            if rng.below(2) == 0 {
                headers.insert("x-env", HeaderValue::from_static("prod"));
            }
            let mut req = facts(rng.pick(&req_hosts), rng.pick(&req_paths), &headers);
            req.method = rng.pick(&["GET", "POST"]);
            assert_eq!(
                router.lookup_entry(&req).map(|(name, _)| name),
                router.lookup_linear(&req).map(String::as_str),
                "host {:?} path {:?}",
                req.host,
                req.path
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 60 * 80);
}
