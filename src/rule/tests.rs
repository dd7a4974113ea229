//! Tests for rule parsing, normalization and error reporting.

use super::*;

fn p(rule: &str) -> Expr {
    match parse(rule) {
        Ok(expr) => expr,
        Err(e) => panic!("{e}"),
    }
}

fn err(rule: &str) -> (usize, String) {
    match parse(rule) {
        Ok(expr) => panic!("`{rule}` parsed as {expr:?}"),
        Err(e) => {
            assert_eq!(e.rule, rule);
            (e.column, e.message)
        }
    }
}

#[test]
fn precedence_not_and_or() {
    let e = p("Path(`/a`) || Path(`/b`) && !Path(`/c`)");
    let path = |s: &str| Expr::Matcher(Matcher::Path(vec![s.to_owned()]));
    assert_eq!(
        e,
        Expr::Or(vec![
            path("/a"),
            Expr::And(vec![path("/b"), Expr::Not(Box::new(path("/c")))]),
        ])
    );
    let e = p("(Path(`/a`) || Path(`/b`)) && Path(`/c`)");
    assert_eq!(
        e,
        Expr::And(vec![Expr::Or(vec![path("/a"), path("/b")]), path("/c")])
    );
    // Same-operator groups flatten.
    assert_eq!(
        p("Path(`/a`) && (Path(`/b`) && Path(`/c`))"),
        Expr::And(vec![path("/a"), path("/b"), path("/c")])
    );
    assert_eq!(
        p("!!Path(`/a`)"),
        Expr::Not(Box::new(Expr::Not(Box::new(path("/a")))))
    );
}

#[test]
fn display_round_trips() {
    for rule in [
        "Host(`a.com`, `b.com`) && (PathPrefix(`/x`) || !Path(`/y`))",
        "!(Method(`GET`) && Header(`x-a`, `b`)) || ClientIP(`10.0.0.0/8`, `::1`)",
        "Query(`a`) && Query(`b`, \"with `tick`\") && QueryRegexp(`c`, `^d$`)",
        "HostRegexp(`^[a-z]+\\.com$`) && PathRegexp(`^/v[0-9]`) && HeaderRegexp(`X`, `y`)",
    ] {
        let once = p(rule);
        let twice = p(&once.to_string());
        assert_eq!(once, twice, "{rule} -> {once}");
    }
}

#[test]
fn arguments_are_normalized() {
    assert_eq!(
        p("Host(`Example.COM.`)"),
        Expr::Matcher(Matcher::Host(vec!["example.com".into()]))
    );
    assert_eq!(
        p("Method(`get`, \"Post\")"),
        Expr::Matcher(Matcher::Method(vec!["GET".into(), "POST".into()]))
    );
    assert_eq!(
        p("ClientIP(`::ffff:10.1.2.3`, `::ffff:10.0.0.0/104`, `192.168.1.7/24`)").to_string(),
        "ClientIP(`10.1.2.3`, `10.0.0.0/8`, `192.168.1.0/24`)"
    );
    assert_eq!(p("QueryRegexp(`k`)"), p("Query(`k`)"));
}

#[test]
fn error_empty_rule() {
    assert_eq!(err(""), (1, "empty rule".into()));
    assert_eq!(err("   "), (1, "empty rule".into()));
}

#[test]
fn error_unterminated_string() {
    assert_eq!(
        err("Host(`a.com)"),
        (6, "unterminated string: missing closing '`'".into())
    );
    let (col, msg) = err("Path(\"/abc)");
    assert_eq!(col, 6);
    assert!(msg.starts_with("unterminated string"), "{msg}");
}

#[test]
fn error_unknown_matcher() {
    let (col, msg) = err("Path(`/`) && Hots(`a`)");
    assert_eq!(col, 14);
    assert_eq!(
        msg,
        "unknown matcher `Hots`; valid matchers are: ClientIP, Header, HeaderRegexp, Host, \
         HostRegexp, Method, Path, PathPrefix, PathRegexp, Query, QueryRegexp"
    );
    let (col, msg) = err("host(`a`)");
    assert_eq!(col, 1);
    assert!(
        msg.contains("case-sensitive: did you mean `Host`?"),
        "{msg}"
    );
    // Traefik v2 names are not v3 names.
    assert!(err("Headers(`a`, `b`)")
        .1
        .starts_with("unknown matcher `Headers`"));
}

#[test]
fn error_missing_paren() {
    assert_eq!(
        err("Path(`/a`"),
        (10, "missing `)` to close `Path(`".into())
    );
    assert_eq!(
        err("(Path(`/a`) || Path(`/b`)"),
        (26, "unclosed `(` from column 1: expected `)`".into())
    );
    assert_eq!(
        err("(Path(`/a`) Path(`/b`))"),
        (
            13,
            "unclosed `(` from column 1: expected `)`, found `Path`".into()
        )
    );
    assert_eq!(
        err("Path `/a`"),
        (6, "expected `(` after `Path`, found a string".into())
    );
}

#[test]
fn error_trailing_input() {
    assert_eq!(
        err("Path(`/a`) Path(`/b`)"),
        (
            12,
            "unexpected `Path` after a complete expression; expected `&&`, `||` or end of rule"
                .into()
        )
    );
    assert_eq!(err("Path(`/a`))"), (11, "unmatched `)`".into()));
    assert_eq!(
        err("Path(`/a`) &&"),
        (
            14,
            "expected a matcher, `!` or `(`, found end of rule".into()
        )
    );
    assert_eq!(
        err("Path(`/a`) && || Path(`/b`)"),
        (15, "expected a matcher, `!` or `(`, found `||`".into())
    );
}

#[test]
fn error_bad_argument_tokens() {
    assert_eq!(
        err("Host(example.com)"),
        (
            6,
            "expected a string in backticks or double quotes, found `example`".into()
        )
    );
    assert_eq!(
        err("Host(`a`,)"),
        (
            10,
            "expected a string in backticks or double quotes, found `)`".into()
        )
    );
}

#[test]
fn error_bad_regex() {
    let (col, msg) = err("Path(`/`) && PathRegexp(`/(css`)");
    assert_eq!(col, 25);
    assert_eq!(msg, "invalid regular expression `/(css`: unclosed group");
    assert_eq!(err("HostRegexp(`[a-`)").0, 12);
    assert_eq!(err("HeaderRegexp(`X`, `(`)").0, 19);
    assert_eq!(err("QueryRegexp(`q`, `(`)").0, 18);
}

#[test]
fn error_bad_cidr() {
    assert_eq!(
        err("ClientIP(`10.0.0.0/8`, `10.0.0.0/33`)"),
        (
            24,
            "invalid IP address or CIDR `10.0.0.0/33` in `ClientIP`".into()
        )
    );
    assert_eq!(err("ClientIP(`1`)").0, 10);
    assert_eq!(err("ClientIP(`fe80::1%eth0`)").0, 10);
}

#[test]
fn error_arg_count() {
    assert_eq!(
        err("Header(`X-A`)"),
        (
            13,
            "`Header` takes exactly 2 arguments (name, value), got 1".into()
        )
    );
    assert_eq!(
        err("Header(`X-A`, `b`, `c`)"),
        (
            20,
            "`Header` takes exactly 2 arguments (name, value), got 3".into()
        )
    );
    assert_eq!(
        err("Host()"),
        (6, "`Host` takes 1 or more arguments, got 0".into())
    );
    assert_eq!(
        err("PathRegexp(`a`, `b`)"),
        (17, "`PathRegexp` takes exactly 1 argument, got 2".into())
    );
    assert_eq!(
        err("Query(`a`, `b`, `c`)"),
        (
            17,
            "`Query` takes 1 or 2 arguments (key[, value]), got 3".into()
        )
    );
}

#[test]
fn error_path_without_slash() {
    assert_eq!(
        err("PathPrefix(`/a`, `b`)"),
        (18, "path `b` must start with `/`".into())
    );
    assert_eq!(err("Path(`css`)").0, 6);
}

#[test]
fn error_invalid_values() {
    assert_eq!(
        err("Query(`q`, ``)"),
        (12, "empty argument to `Query`".into())
    );
    assert_eq!(
        err("Host(`🦭.com`)"),
        (
            7,
            "non-ASCII character in `Host`; write the host in its punycode (xn--) form".into()
        )
    );
    assert_eq!(err("Host(`.`)"), (6, "empty host name in `Host`".into()));
    let wildcard_error = "a wildcard in `Host` is a whole first label (`*.example.com`, one \
                          label) or `*` alone; use `HostRegexp` for other patterns";
    assert_eq!(err("Host(`a.*.com`)"), (9, wildcard_error.into()));
    assert_eq!(err("Host(`*a.com`)"), (7, wildcard_error.into()));
    assert_eq!(err("Host(`*.*.com`)"), (9, wildcard_error.into()));
    assert!(crate::rule::parse("Host(`*.Example.com`) || Host(`*`)").is_ok());
    assert_eq!(
        err("Method(`GE T`)"),
        (8, "invalid HTTP method `GE T`".into())
    );
    assert_eq!(
        err("Header(`X A`, `b`)"),
        (8, "invalid header name `X A`".into())
    );
}

#[test]
fn hosts_with_empty_labels_or_control_characters_are_refused() {
    // Found by the `rule` fuzz target (fuzz/regressions/rule/host-trailing-dots): `example..`
    // lost one dot per print/parse round trip.
    for bad in [
        "Host(`example..`)",
        "Host(`.example.com`)",
        "Host(`a..b`)",
        "Host(`a\u{0}b`)",
        "Host(`a b`)",
    ] {
        let e = parse(bad).expect_err(bad).to_string();
        assert!(e.contains("Host"), "{bad}: {e}");
    }
    // One trailing dot is the fully qualified form: accepted and removed.
    assert_eq!(
        parse("Host(`example.com.`)").expect("fqdn").to_string(),
        "Host(`example.com`)"
    );
}

#[test]
fn hosts_lists_host_matchers_outside_negations() {
    let e = crate::rule::parse(
        "(Host(`A.test`) || Host(`b.test`, `c.test.`)) && !Host(`x.test`) && PathPrefix(`/`)",
    )
    .unwrap();
    assert_eq!(e.hosts(), ["a.test", "b.test", "c.test"]);
    assert!(crate::rule::parse("PathPrefix(`/`)")
        .unwrap()
        .hosts()
        .is_empty());
}

mod tcp {
    use crate::rule::{parse, parse_tcp, ConnectionFacts};
    use std::net::IpAddr;

    fn facts<'a>(sni: Option<&'a str>, alpn: &'a [String], ip: &str) -> ConnectionFacts<'a> {
        ConnectionFacts {
            sni,
            alpn,
            client_ip: ip.parse::<IpAddr>().unwrap(),
        }
    }

    #[test]
    fn tcp_rules_match_server_names_alpn_and_clients() {
        let none: [String; 0] = [];
        let h2 = ["h2".to_string()];
        let rule = parse_tcp("HostSNI(`DB.example.com`, `*.svc.test`) && !ClientIP(`10.0.0.0/8`)")
            .unwrap();
        assert!(rule.matches_connection(&facts(Some("db.example.com"), &none, "127.0.0.1")));
        assert!(rule.matches_connection(&facts(Some("a.svc.test"), &none, "127.0.0.1")));
        assert!(!rule.matches_connection(&facts(Some("db.example.com"), &none, "10.1.2.3")));
        assert!(!rule.matches_connection(&facts(None, &none, "127.0.0.1")));
        let any = parse_tcp("HostSNI(`*`)").unwrap();
        assert!(any.matches_connection(&facts(None, &none, "127.0.0.1")));
        let alpn = parse_tcp("ALPN(`h2`) && HostSNIRegexp(`^api[0-9]+\\.test$`)").unwrap();
        assert!(alpn.matches_connection(&facts(Some("api7.test"), &h2, "::1")));
        assert!(!alpn.matches_connection(&facts(Some("api7.test"), &none, "::1")));
    }

    #[test]
    fn each_kind_of_rule_refuses_the_others_matchers() {
        let e = parse_tcp("Host(`a`)").unwrap_err().to_string();
        assert!(e.contains("`Host` is an HTTP matcher"), "{e}");
        let e = parse("HostSNI(`a`)").unwrap_err().to_string();
        assert!(e.contains("`HostSNI` is a TCP matcher"), "{e}");
        assert!(parse_tcp("HostSNI(`a:443`)").is_err());
    }
}
