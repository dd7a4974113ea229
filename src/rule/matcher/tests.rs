//! Tests for the request-matching semantics of each matcher.

use std::net::IpAddr;

use http::{HeaderMap, HeaderValue};

use crate::rule::{parse, RequestFacts};

struct Req {
    host: &'static str,
    path: &'static str,
    query: Option<&'static str>,
    method: &'static str,
    headers: HeaderMap,
    ip: IpAddr,
}

impl Req {
    fn new(host: &'static str, path: &'static str) -> Self {
        Req {
            host,
            path,
            query: None,
            method: "GET",
            headers: HeaderMap::new(),
            ip: IpAddr::from([127, 0, 0, 1]),
        }
    }
    fn facts(&self) -> RequestFacts<'_> {
        RequestFacts {
            host: self.host,
            path: self.path,
            query: self.query,
            method: self.method,
            headers: &self.headers,
            client_ip: self.ip,
        }
    }
    fn hit(&self, rule: &str) -> bool {
        match parse(rule) {
            Ok(expr) => expr.matches(&self.facts()),
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn host_semantics() {
    let rule = "Host(`example.com`)";
    for host in [
        "example.com",
        "EXAMPLE.com:8080",
        "example.com.",
        "example.com.:443",
    ] {
        assert!(Req::new(host, "/").hit(rule), "{host}");
    }
    for host in ["example.org", "", "www.example.com", "example.com:8080:1"] {
        assert!(!Req::new(host, "/").hit(rule), "{host}");
    }
    assert!(Req::new("example.com", "/").hit("Host(`EXAMPLE.COM.`)"));
    assert!(Req::new("[::1]:8080", "/").hit("Host(`::1`)"));
    assert!(Req::new("::1", "/").hit("Host(`::1`)"));
    assert!(Req::new("b.com", "/").hit("Host(`a.com`, `b.com`)"));
}

#[test]
fn host_regexp_semantics() {
    let rule = r"HostRegexp(`^[a-z-]+\.com$`)";
    assert!(Req::new("Example.COM:8080", "/").hit(rule));
    assert!(!Req::new("example.org", "/").hit(rule));
    // Case-sensitive regexp against the lower-cased host.
    assert!(!Req::new("EXAMPLE.com", "/").hit(r"HostRegexp(`^[A-Z]+\.com$`)"));
    // Unanchored.
    assert!(Req::new("api.example.com", "/").hit("HostRegexp(`example`)"));
}

#[test]
fn path_semantics() {
    let r = |path| Req::new("h", path);
    assert!(r("/css").hit("Path(`/css`)"));
    assert!(!r("/css/").hit("Path(`/css`)"));
    assert!(!r("/CSS").hit("Path(`/css`)"));
    assert!(r("/apis").hit("PathPrefix(`/api`)"));
    assert!(r("/b/x").hit("PathPrefix(`/a`, `/b`)"));
    assert!(!r("/ap").hit("PathPrefix(`/api`)"));
    assert!(r("/js/main.js").hit("PathRegexp(`^/(css|js)`)"));
    assert!(r("/static/main.js").hit(r"PathRegexp(`\.js$`)"));
    assert!(!r("/CSS").hit("PathRegexp(`^/(css|js)`)"));
}

#[test]
fn method_semantics() {
    let mut req = Req::new("h", "/");
    assert!(req.hit("Method(`get`)"));
    assert!(req.hit("Method(`POST`, `GET`)"));
    req.method = "get";
    assert!(!req.hit("Method(`GET`)"));
    req.method = "POST";
    assert!(!req.hit("Method(`GET`)"));
}

#[test]
fn header_semantics() {
    let mut req = Req::new("h", "/");
    req.headers
        .append("x-forwarded-proto", HeaderValue::from_static("http"));
    req.headers
        .append("x-forwarded-proto", HeaderValue::from_static("https"));
    assert!(req.hit("Header(`X-Forwarded-Proto`, `https`)"));
    assert!(req.hit("Header(`x-forwarded-proto`, `http`)"));
    assert!(!req.hit("Header(`X-Forwarded-Proto`, `HTTPS`)"));
    assert!(!req.hit("Header(`X-Forwarded-Host`, `https`)"));
    assert!(req.hit("HeaderRegexp(`X-Forwarded-Proto`, `^https$`)"));
    assert!(req.hit("HeaderRegexp(`X-Forwarded-Proto`, `tp`)"));
    assert!(!req.hit("HeaderRegexp(`X-Forwarded-Proto`, `^HTTP`)"));
}

#[test]
fn query_semantics() {
    let with = |q: &'static str| {
        let mut req = Req::new("h", "/");
        req.query = Some(q);
        req
    };
    let rule = "Query(`q`, `traefik`)";
    for q in [
        "q=traefik",
        "rel=ddg&q=traefik",
        "q=awesome&q=traefik",
        "q=tr%61efik",
    ] {
        assert!(with(q).hit(rule), "{q}");
    }
    for q in [
        "",
        "q=nginx",
        "q=TRAEFIK",
        "Q=traefik",
        "rel=traefik",
        "q=traefik;x=1",
    ] {
        assert!(!with(q).hit(rule), "{q}");
    }
    assert!(!Req::new("h", "/").hit(rule));
    assert!(with("a+b=c%20d").hit("Query(`a b`, `c d`)"));
    // A bad escape drops the whole pair, as Go's url.ParseQuery does.
    assert!(!with("q=traefik%zz").hit("Query(`q`, `traefik%zz`)"));
    assert!(!with("q=%zz&q").hit("QueryRegexp(`q`, `zz`)"));
    // Traefik v3: Query(key) matches the key with an empty value only.
    assert!(with("mobile").hit("Query(`mobile`)"));
    assert!(with("a=1&mobile=").hit("Query(`mobile`)"));
    assert!(!with("mobile=true").hit("Query(`mobile`)"));
    assert!(with("q=nginx").hit("QueryRegexp(`q`, `^(traefik|nginx)$`)"));
    assert!(with("q=ng%69nx").hit("QueryRegexp(`q`, `^nginx$`)"));
    assert!(!with("q=haproxy").hit("QueryRegexp(`q`, `^(traefik|nginx)$`)"));
}

#[test]
fn client_ip_semantics() {
    let at = |ip: &str| {
        let mut req = Req::new("h", "/");
        req.ip = ip.parse().unwrap();
        req
    };
    let rule = "ClientIP(`192.168.1.0/24`, `10.0.0.1`, `2001:db8::/32`)";
    for ip in [
        "192.168.1.1",
        "192.168.1.200",
        "10.0.0.1",
        "::ffff:192.168.1.9",
        "2001:db8::5",
    ] {
        assert!(at(ip).hit(rule), "{ip}");
    }
    for ip in ["192.168.2.1", "10.0.0.2", "::1", "2001:db9::1"] {
        assert!(!at(ip).hit(rule), "{ip}");
    }
    assert!(at("127.0.0.1").hit("ClientIP(`::ffff:127.0.0.1`)"));
}

#[test]
fn boolean_semantics() {
    let req = Req::new("a.com", "/api/x");
    assert!(req.hit("Host(`a.com`) && PathPrefix(`/api`)"));
    assert!(!req.hit("Host(`a.com`) && !PathPrefix(`/api`)"));
    assert!(req.hit("Host(`b.com`) || PathPrefix(`/api`)"));
    assert!(req.hit("!(Host(`b.com`) || Path(`/`))"));
}
