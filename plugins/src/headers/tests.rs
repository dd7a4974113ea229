//! Unit tests of the headers middleware on bare request/response headers.

use super::*;

fn hv(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap()
}

fn hn(s: &str) -> HeaderName {
    HeaderName::from_bytes(s.as_bytes()).unwrap()
}

fn req(method: &str, headers: &[(&str, &str)]) -> RequestHeader {
    let mut r = RequestHeader::build(method, b"/x", None).unwrap();
    for (n, v) in headers {
        r.append_header(hn(n), hv(v)).unwrap();
    }
    r
}

fn resp(headers: &[(&str, &str)]) -> ResponseHeader {
    let mut r = ResponseHeader::build(200, None).unwrap();
    for (n, v) in headers {
        r.append_header(hn(n), hv(v)).unwrap();
    }
    r
}

fn get<'a>(r: &'a ResponseHeader, name: &str) -> Option<&'a str> {
    r.headers.get(name).map(|v| v.to_str().unwrap())
}

fn cors() -> Cors {
    Cors {
        allow_origins: vec![hv("https://a.example")],
        allow_origin_regexes: Some(RegexSet::new([r"^https://.*\.b\.example$"]).unwrap()),
        allow_credentials: true,
        allow_headers: Some(hv("X-One,X-Two")),
        allow_methods: Some(hv("GET,PUT")),
        expose_headers: Some(hv("X-Exp")),
        max_age: hv("100"),
        add_vary_header: true,
    }
}

#[test]
fn preflight_is_answered_with_the_cors_headers() {
    let h = Headers {
        cors: Some(cors()),
        ..Headers::default()
    };
    let mut r = req(
        "OPTIONS",
        &[
            ("Origin", "https://x.b.example"),
            ("Access-Control-Request-Method", "PUT"),
        ],
    );
    let reply = h.on_request(&mut r).unwrap().expect("answered");
    assert_eq!(reply.status, StatusCode::OK);
    let find = |n: HeaderName| {
        reply
            .headers
            .iter()
            .find(|(k, _)| *k == n)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        find(ACCESS_CONTROL_ALLOW_ORIGIN),
        Some(hv("https://x.b.example"))
    );
    assert_eq!(find(ACCESS_CONTROL_ALLOW_METHODS), Some(hv("GET,PUT")));
    assert_eq!(find(ACCESS_CONTROL_ALLOW_HEADERS), Some(hv("X-One,X-Two")));
    assert_eq!(find(ACCESS_CONTROL_ALLOW_CREDENTIALS), Some(hv("true")));
    assert_eq!(find(ACCESS_CONTROL_MAX_AGE), Some(hv("100")));
    // a disallowed origin gets no Allow-Origin, the rest as in Traefik
    let mut r = req(
        "OPTIONS",
        &[
            ("Origin", "https://evil.example"),
            ("Access-Control-Request-Method", "GET"),
        ],
    );
    let reply = h.on_request(&mut r).unwrap().expect("answered");
    assert!(!reply
        .headers
        .iter()
        .any(|(k, _)| *k == ACCESS_CONTROL_ALLOW_ORIGIN));
}

#[test]
fn not_a_preflight_goes_on() {
    let h = Headers {
        cors: Some(cors()),
        ..Headers::default()
    };
    for (m, hs) in [
        ("OPTIONS", vec![("Origin", "https://a.example")]),
        (
            "GET",
            vec![
                ("Origin", "https://a.example"),
                ("Access-Control-Request-Method", "GET"),
            ],
        ),
        ("OPTIONS", vec![("Access-Control-Request-Method", "GET")]),
    ] {
        assert!(
            h.on_request(&mut req(m, &hs)).unwrap().is_none(),
            "{m} {hs:?}"
        );
    }
}

#[test]
fn cors_response_headers_and_vary() {
    let c = cors();
    let mut r = resp(&[("Vary", "Accept-Encoding")]);
    c.apply(&req("GET", &[("Origin", "https://a.example")]), &mut r)
        .unwrap();
    assert_eq!(
        get(&r, "access-control-allow-origin"),
        Some("https://a.example")
    );
    assert_eq!(get(&r, "access-control-allow-credentials"), Some("true"));
    assert_eq!(get(&r, "access-control-expose-headers"), Some("X-Exp"));
    assert_eq!(get(&r, "vary"), Some("Accept-Encoding,Origin"));
    let mut r = resp(&[("Vary", "origin")]);
    c.apply(&req("GET", &[("Origin", "https://nope")]), &mut r)
        .unwrap();
    assert_eq!(get(&r, "access-control-allow-origin"), None);
    assert_eq!(get(&r, "vary"), Some("origin"), "Origin is not added twice");
    let star = Cors {
        allow_origins: vec![hv("*")],
        ..cors()
    };
    let mut r = resp(&[]);
    star.apply(&req("GET", &[]), &mut r).unwrap();
    assert_eq!(get(&r, "access-control-allow-origin"), Some("*"));
    assert_eq!(get(&r, "vary"), Some("Origin"));
}

#[test]
fn custom_headers_set_replace_and_remove() {
    let h = Headers {
        request: vec![
            HeaderEdit::Set(hn("X-Script-Name"), hv("test")),
            HeaderEdit::Remove(hn("X-Drop")),
        ],
        response: vec![
            HeaderEdit::Set(hn("X-Custom-Response-Header"), hv("v")),
            HeaderEdit::Remove(hn("Server")),
        ],
        ..Headers::default()
    };
    let mut r = req(
        "GET",
        &[
            ("X-Script-Name", "a"),
            ("X-Script-Name", "b"),
            ("X-Drop", "1"),
        ],
    );
    assert!(h.on_request(&mut r).unwrap().is_none());
    let vals: Vec<_> = r.headers.get_all("x-script-name").iter().collect();
    assert_eq!(vals, vec![&hv("test")]);
    assert!(r.headers.get("x-drop").is_none());
    let mut out = resp(&[("Server", "upstream"), ("X-Custom-Response-Header", "old")]);
    h.on_response(&r, false, &mut out).unwrap();
    assert_eq!(get(&out, "server"), None);
    assert_eq!(get(&out, "x-custom-response-header"), Some("v"));
}

fn secure() -> Secure {
    Secure {
        sts: Secure::sts_value(31536000, true, true, false),
        public_key: Some(hv("pin-sha256=\"x\"; max-age=5")),
        always: vec![(hn("X-Frame-Options"), hv("DENY"))],
        ssl_proxy_headers: vec![(hn("X-Forwarded-Proto"), hv("https"))],
        ..Secure::default()
    }
}

#[test]
fn sts_only_over_tls_unless_forced() {
    assert_eq!(
        Secure::sts_value(31536000, true, true, false),
        Some(hv("max-age=31536000; includeSubDomains; preload"))
    );
    assert_eq!(
        Secure::sts_value(60, false, false, true),
        None,
        "isDevelopment"
    );
    assert_eq!(Secure::sts_value(0, true, false, false), None);
    let s = secure();
    let plain = req("GET", &[]);
    let mut r = resp(&[("X-Frame-Options", "ALLOWALL")]);
    s.apply(&plain, false, &mut r).unwrap();
    assert_eq!(get(&r, "strict-transport-security"), None);
    assert_eq!(get(&r, "public-key-pins"), None);
    assert_eq!(
        get(&r, "x-frame-options"),
        Some("DENY"),
        "replaces the upstream's"
    );
    let mut r = resp(&[]);
    s.apply(&plain, true, &mut r).unwrap();
    assert!(get(&r, "strict-transport-security").is_some());
    assert!(get(&r, "public-key-pins").is_some());
    let mut r = resp(&[]);
    s.apply(
        &req("GET", &[("X-Forwarded-Proto", "https")]),
        false,
        &mut r,
    )
    .unwrap();
    assert!(
        get(&r, "strict-transport-security").is_some(),
        "sslProxyHeaders"
    );
    let forced = Secure {
        force_sts: true,
        ..secure()
    };
    let mut r = resp(&[]);
    forced.apply(&plain, false, &mut r).unwrap();
    assert!(get(&r, "strict-transport-security").is_some());
    assert_eq!(
        get(&r, "public-key-pins"),
        None,
        "HPKP never over plain HTTP"
    );
}

#[test]
fn allowed_hosts_refuse_others_with_500_unless_development() {
    let s = Secure {
        allowed_hosts: vec!["ok.example".into()],
        hosts_proxy_headers: vec![hn("X-Forwarded-Host")],
        ..Secure::default()
    };
    let h = Headers {
        secure: Some(s.clone()),
        ..Headers::default()
    };
    assert!(h
        .on_request(&mut req("GET", &[("Host", "OK.example")]))
        .unwrap()
        .is_none());
    let bad = h
        .on_request(&mut req("GET", &[("Host", "evil.example")]))
        .unwrap();
    assert_eq!(
        bad.map(|r| r.status),
        Some(StatusCode::INTERNAL_SERVER_ERROR)
    );
    let proxied = req(
        "GET",
        &[("Host", "evil.example"), ("X-Forwarded-Host", "ok.example")],
    );
    assert!(s.host_allowed(&proxied));
    let dev = Secure {
        is_development: true,
        ..s
    };
    assert!(dev.host_allowed(&req("GET", &[("Host", "evil.example")])));
}

#[test]
fn response_order_is_secure_then_custom_then_cors() {
    let h = Headers {
        response: vec![HeaderEdit::Remove(hn("X-Frame-Options"))],
        secure: Some(secure()),
        cors: Some(Cors {
            allow_origins: vec![hv("*")],
            ..cors()
        }),
        ..Headers::default()
    };
    let mut r = resp(&[]);
    h.on_response(&req("GET", &[]), true, &mut r).unwrap();
    assert_eq!(
        get(&r, "x-frame-options"),
        None,
        "custom headers can remove secure ones"
    );
    assert_eq!(get(&r, "access-control-allow-origin"), Some("*"));
}
