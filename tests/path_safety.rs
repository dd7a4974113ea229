//! Path safety: encoded traversal and separator tricks never reach a protected route without its
//! middlewares (the class of Traefik CVE-2025-32431, CVE-2025-47952, CVE-2025-66490).
//!
//! A protected router ``PathPrefix(`/admin`)`` carries an `ipAllowList` that refuses the test
//! client; a catch-all ``PathPrefix(`/`)`` goes to another upstream. Each tricky request line is
//! sent raw and must be refused (400) or routed to the protected router (403); the catch-all's
//! upstream must never receive a path that a lenient backend would read as `/admin`.

mod common;

use common::{free_port, raw_request, TestGateway, TestUpstream};

/// Request targets a backend may read as `/admin` (or below it).
const CASES: &[&str] = &[
    "/admin",
    "/admin/x",
    "//admin",
    "///admin/x",
    "/./admin",
    "/public/../admin",
    "/public/./../admin/x",
    "/public/%2e%2e/admin",
    "/public/%2E%2E/admin",
    "/public/.%2e/admin",
    "/%2e/admin",
    "/%61dmin",
    "/%2fadmin",
    "/%2Fadmin",
    "/public/..%2fadmin",
    "/public%2f..%2fadmin",
    "/admin/..%2f",
    "/public/..%5cadmin",
    "/%5cadmin",
    "/public\\..\\admin",
    "/\\admin",
    "/admin%00",
    "/%00/../admin",
    "/admin;x=1",
    "/admin#frag",
    "/public%23/../admin",
    "/public%3f/../admin",
    "http://localhost/admin",
    "http://localhost/public/../admin",
    "http://localhost//admin",
];

/// Rewriting routers (below) must not turn a path into a traversal after routing.
/// The `..;` cases (`/re..;/admin` becomes `/..;/admin` once `/re` is stripped) were forwarded
/// before rewritten paths had to pass the client path's checks (issue 13 point 7).
const REWRITES: &[&str] = &[
    "/re../admin",
    "/old../admin",
    "/old/../../admin",
    "/re..;/admin",
    "/re%2e%2e;/admin",
    "/re.%2e;x/admin",
    "/old..;/admin",
    "/old%2E%2E;/admin",
    "/public..;/admin",
];

/// Path parameters must not let a request skip an exact router: a Tomcat-style upstream reads
/// `/admin;x` as `/admin`. Routed to the catch-all before routers matched the path without
/// its segment parameters (issue 13 point 7).
const PARAMETERS: &[&str] = &[
    "/admin;x",
    "/admin;",
    "/admin;jsessionid=1/x",
    "/admin;x/y;z",
    "/admin/x;a",
];

/// The protected router's rule for the `PARAMETERS` cases: exact, no prefix of `/admin` alone.
const EXACT_ADMIN: &str = "Path(`/admin`) || PathPrefix(`/admin/`)";

/// Path parameters on dot segments, encoded `;` and double encoding: refused (400).
const PARAMETER_TRICKS: &[&str] = &[
    // Tomcat/Jetty read `..;` as `..` and drop `;params` from segments
    "/public/..;/admin",
    "/public/%2e%2e;/admin",
    "/;/admin",
    "/;x=1/admin",
    // an encoded `;` decoded by the backend is the same trick
    "/public/..%3b/admin",
    // double encoding, for backends that decode twice
    "/public/%252e%252e/admin",
    "/%2561dmin",
    // stripPrefix cuts mid-segment: `/public../admin` becomes `/../admin` (CVE-2026-48020)
    "/public../admin",
];

/// Routers to the catch-all's service whose middlewares rewrite the path.
const REWRITING_ROUTERS: &str = r#"
[http.routers.strip]
rule = "PathPrefix(`/public`)"
service = "public"
middlewares = ["strip-public"]
[http.middlewares.strip-public.stripPrefix]
prefixes = ["/public"]

[http.routers.strip-re]
rule = "PathPrefix(`/re`)"
service = "public"
middlewares = ["strip-re"]
[http.middlewares.strip-re.stripPrefixRegex]
regex = ["^/re"]

[http.routers.rewrite]
rule = "PathPrefix(`/old`)"
service = "public"
middlewares = ["old-to-new"]
[http.middlewares.old-to-new.replacePathRegex]
regex = "^/old(.*)"
replacement = "/new/$1"
"#;

fn config(port: u16, admin: &TestUpstream, public: &TestUpstream, extra: &str) -> String {
    config_with_rule(port, admin, public, "PathPrefix(`/admin`)", extra)
}

/// `config` with another rule for the protected router.
fn config_with_rule(
    port: u16,
    admin: &TestUpstream,
    public: &TestUpstream,
    admin_rule: &str,
    extra: &str,
) -> String {
    format!(
        r#"[entryPoints.web]
address = "127.0.0.1:{port}"

[http.routers.admin]
rule = "{admin_rule}"
service = "admin"
middlewares = ["office-only"]
[http.middlewares.office-only.ipAllowList]
sourceRange = ["10.0.0.0/8"]

[http.routers.public]
rule = "PathPrefix(`/`)"
service = "public"

[http.services.admin.loadBalancer]
servers = [{{ url = "{}" }}]
[http.services.public.loadBalancer]
servers = [{{ url = "{}" }}]
{extra}"#,
        admin.url(),
        public.url()
    )
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

fn percent_decode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match (
            s[i],
            s.get(i + 1).and_then(|b| hex(*b)),
            s.get(i + 2).and_then(|b| hex(*b)),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push(h * 16 + l);
                i += 3;
            }
            (b, ..) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// The path a lenient backend makes of `target`: query and fragment off, decoded (twice), `\`
/// as `/`, cut at NUL if `cut_nul`, `;params` dropped from segments, dot segments resolved,
/// `//` merged.
fn lenient_path(target: &str, cut_nul: bool) -> String {
    let target = match target.find("://") {
        Some(i) => target[i + 3..]
            .find('/')
            .map_or("/", |j| &target[i + 3 + j..]),
        None => target,
    };
    let target = target.split(['?', '#']).next().unwrap_or("");
    let mut bytes = target.as_bytes().to_vec();
    for _ in 0..2 {
        bytes = percent_decode(&bytes);
    }
    let text = String::from_utf8_lossy(&bytes).replace('\\', "/");
    let text = match cut_nul {
        true => text.split('\0').next().unwrap_or(""),
        false => &text,
    };
    let mut segments: Vec<&str> = Vec::new();
    for seg in text.split('/') {
        match seg.split(';').next().unwrap_or("") {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    format!("/{}", segments.join("/"))
}

/// Whether some lenient backend reads `target` as `/admin` or a path below it.
fn reaches_admin(target: &str) -> bool {
    [true, false].into_iter().any(|cut_nul| {
        let p = lenient_path(target, cut_nul);
        p == "/admin" || p.starts_with("/admin/")
    })
}

fn status_of(response: &str) -> Option<u16> {
    response.split_whitespace().nth(1)?.parse().ok()
}

/// Sends every case; returns the failures (one line each).
async fn check(cases: &[&str], extra: &str) -> Vec<String> {
    check_with_rule(cases, "PathPrefix(`/admin`)", extra).await
}

/// `check` with another rule for the protected router.
async fn check_with_rule(cases: &[&str], admin_rule: &str, extra: &str) -> Vec<String> {
    let admin = TestUpstream::start("admin").await;
    let public = TestUpstream::start("public").await;
    let port = free_port();
    let config = config_with_rule(port, &admin, &public, admin_rule, extra);
    let _gw = TestGateway::start(&config, &[port]).await;
    let mut failures = Vec::new();
    for target in cases {
        let before = public.requests().len();
        let head = format!("GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        let response = raw_request(port, head.as_bytes()).await;
        let status = status_of(&response);
        let leaked: Vec<String> = public.requests()[before..]
            .iter()
            .map(|r| r.target.clone())
            .filter(|t| reaches_admin(t))
            .collect();
        if !matches!(status, Some(400) | Some(403)) || !leaked.is_empty() {
            failures.push(format!(
                "{target:?}: status {status:?}, the catch-all upstream got {leaked:?}"
            ));
        }
    }
    assert!(
        admin.requests().is_empty(),
        "the protected upstream was reached"
    );
    failures
}

#[test]
fn the_lenient_reading_finds_the_tricks() {
    assert_eq!(lenient_path("/public/..%2fadmin", true), "/admin");
    assert_eq!(lenient_path("/public/%252e%252e/admin", true), "/admin");
    assert_eq!(lenient_path("/public/..;/admin", true), "/admin");
    assert_eq!(lenient_path("http://h//admin?x", true), "/admin");
    assert_eq!(lenient_path("/admin%00.js", true), "/admin");
    assert_eq!(lenient_path("/public%3f/../admin", true), "/admin");
    assert!(reaches_admin("/%00/../admin"));
    assert!(!reaches_admin("/administrator") && !reaches_admin("/public/admin"));
    assert!(!reaches_admin("/public?/../admin") && !reaches_admin("/public#/../admin"));
    // every case is a trick by itself, except those a rewriting middleware completes
    for target in CASES.iter().chain(PARAMETER_TRICKS).chain(PARAMETERS) {
        let by_rewrite = target.starts_with("/public../") || REWRITES.contains(target);
        // `/admin/..%2f` escapes the protected prefix instead: it must not be proxied either
        let escapes = target.starts_with("/admin/..");
        assert!(
            by_rewrite || escapes || reaches_admin(target),
            "not a trick: {target}"
        );
    }
}

#[tokio::test]
async fn path_tricks_are_refused_or_meet_the_protected_router() {
    let failures = check(CASES, "").await;
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[tokio::test]
async fn rewriting_middlewares_never_forward_a_traversal() {
    let failures = check(REWRITES, REWRITING_ROUTERS).await;
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[tokio::test]
async fn path_parameters_do_not_skip_an_exact_router() {
    let failures = check_with_rule(PARAMETERS, EXACT_ADMIN, "").await;
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[tokio::test]
async fn path_parameter_and_double_encoding_tricks_are_refused() {
    let failures = check(PARAMETER_TRICKS, REWRITING_ROUTERS).await;
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

// Fails without the fix in src/proxy/path.rs: each byte of `é` became a character of its own
// (`/cafÃ©/carte`), so the upstream got another path than the client's.
#[tokio::test]
async fn non_ascii_paths_reach_the_upstream_intact() {
    let admin = TestUpstream::start("admin").await;
    let public = TestUpstream::start("public").await;
    let port = free_port();
    let _gw = TestGateway::start(&config(port, &admin, &public, ""), &[port]).await;
    let head = "GET /café//menu/../carte HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    let response = raw_request(port, head.as_bytes()).await;
    assert_eq!(status_of(&response), Some(200), "{response}");
    let seen = public.last().expect("reached the public upstream");
    assert_eq!(seen.target, "/café/carte");
}

// Fails without the absolute-form handling in src/proxy/gateway.rs (normalize_path): once the
// path was rebuilt the target's host was gone, so `http://a.test//x` routed with an empty Host
// to the catch-all, and a normal absolute-form target went upstream as `http://a.test/x`.
#[tokio::test]
async fn absolute_form_targets_route_by_the_host_they_name() {
    let named = TestUpstream::start("named").await;
    let other = TestUpstream::start("other").await;
    let port = free_port();
    let config = format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{port}\"\n\
         [http.routers.named]\nrule = \"Host(`a.test`)\"\nservice = \"named\"\n\
         [http.routers.all]\nrule = \"PathPrefix(`/`)\"\nservice = \"other\"\npriority = 1\n\
         [http.services.named.loadBalancer]\nservers = [{{ url = \"{}\" }}]\n\
         [http.services.other.loadBalancer]\nservers = [{{ url = \"{}\" }}]\n",
        named.url(),
        other.url()
    );
    let gw = TestGateway::start(&config, &[port]).await;
    for (head, target) in [
        ("GET http://a.test//x/../y HTTP/1.0\r\n\r\n", "/y"),
        ("GET http://a.test/z?q=1 HTTP/1.0\r\n\r\n", "/z?q=1"),
    ] {
        let response = raw_request(port, head.as_bytes()).await;
        assert_eq!(
            status_of(&response),
            Some(200),
            "{head:?}: {response}\n{}",
            gw.log()
        );
        let seen = named.last().unwrap_or_else(|| {
            panic!("{head:?} did not reach a.test's router: {:?}", other.last())
        });
        assert_eq!(seen.target, target, "{head:?}");
        assert_eq!(seen.header("host"), Some("a.test"), "{head:?}");
    }
    assert!(
        other.last().is_none(),
        "the catch-all was reached: {:?}",
        other.last()
    );
}
