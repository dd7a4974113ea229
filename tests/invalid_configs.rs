//! Every fixture in tests/fixtures/invalid-configs/ is refused by `pylon check` (exit 2) with
//! the expected error text: the key path and what to fix.

mod common;

use common::gateway::run_pylon;

const CASES: &[(&str, &[&str])] = &[
    ("unknown-static-key", &["entryPoints.web.adress: unknown key", "expected one of `address`"]),
    ("unknown-nested-key", &["entryPoints.web.http.redirections.entryPoint.tto: unknown key", "`to`"]),
    ("unknown-router-key", &["http.routers.r.rulle: unknown key", "`rule`"]),
    ("bad-duration", &["entryPoints.web.transport.lifeCycle.graceTimeOut", "`10 seconds` is not a duration", "\"500ms\""]),
    ("bad-address", &["entryPoints.web.address: `8000` has no port", "\"127.0.0.1:8000\""]),
    ("redirect-to-missing-entrypoint", &["entryPoints.web.http.redirections.entryPoint.to: entry point `websecure` does not exist"]),
    ("bad-rule", &["http.routers.r.rule: invalid rule: missing `)`", "Host(`a`) && PathPrefix(`/x`\n", "^"]),
    ("missing-service", &["http.routers.r.service: service `nowhere` does not exist"]),
    ("missing-middleware", &["http.routers.r.middlewares[0]: middleware `auth` does not exist"]),
    ("unsupported-middleware", &["http.middlewares.limit.plugin: middleware type `plugin` is not supported yet"]),
    ("forward-auth", &["http.middlewares.sso.forwardAuth.address: `authelia:9091/api/verify` is not an http:// or https:// URL with a host", "http.middlewares.sso.forwardAuth.maxBodySize: 1048576 is outside 0..=65536"]),
    ("composite-services", &["http.services.copy.mirroring.mirrors[0].name: service `shadow` does not exist", "http.services.copy.mirroring.mirrors[0].percent: 150 is not a percentage", "http.services.safe.failover: services refer back to themselves: safe -> safe", "http.services.safe.failover.errors.status[0]: `5xx` is not a status code or range"]),
    ("content-type-detection", &["http.middlewares.sniff.contentType: detecting the Content-Type from the response body is not supported by pylon"]),
    ("grpc-web-origin", &["http.middlewares.web.grpcWeb.allowOrigins[0]: `https://app.example.com/` is not an origin"]),
    ("digest-auth", &["http.middlewares.staff.digestAuth.users[0]: the entry user `alice`: the HA1 is not 32 hex digits", "http.middlewares.staff.digestAuth.headerField: `X User` is not a header name"]),
    ("pass-tls-client-cert", &["http.middlewares.certs.passTLSClientCert.info.issuer.organizationalUnit: unknown key"]),
    ("two-middleware-types", &["http.middlewares.m: more than one middleware type is set: stripPrefix, addPrefix"]),
    ("strip-prefix-without-slash", &["http.middlewares.m.stripPrefix.prefixes[0]: `api` does not start with `/`"]),
    ("bad-circuit-breaker-expression", &["http.middlewares.cb.circuitBreaker.expression: `NetworkErrorRatio() > 0.5 && LatencyAtQuantileMS(50.0) => 100`: column 56: `=>` is not an operator: write `>=`"]),
    ("body-middlewares", &["http.middlewares.c.compress.encodings[1]: `lz4` is not a supported encoding", "http.middlewares.b.buffering.maxRequestBodyBytes: -1 is negative"]),
    ("bad-server-url", &["http.services.s.loadBalancer.servers[0].url: `127.0.0.1:8080` is not a valid URL"]),
    ("file-provider-both", &["providers.file: both `filename` and `directory` are set"]),
    ("toml-syntax", &["invalid TOML", "line 3"]),
    ("router-unknown-entrypoint", &["http.routers.r.entryPoints[0]: entry point `websecure` does not exist"]),
    ("ping-default-entrypoint-missing", &["ping.entryPoint: entry point `traefik` does not exist", "set `ping.entryPoint`"]),
    ("bad-trusted-ip", &["entryPoints.web.forwardedHeaders.trustedIPs[1]: `not-an-ip` is neither an IP address nor a CIDR"]),
    ("bad-log-level", &["log.level: `LOUD` is not a log level"]),
    ("missing-cert-file", &["tls.certificates[0]: cannot read `/nonexistent/pylon.crt`"]),
    ("duplicate-across-files", &["dup-dir/b.toml: http.services.shared: also defined in", "dup-dir/a.toml"]),
];

#[test]
fn every_invalid_fixture_is_refused_with_its_expected_error() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/invalid-configs"
    );
    let mut failures = Vec::new();
    for (name, expected) in CASES {
        let path = format!("{dir}/{name}.toml");
        let (code, out) = run_pylon(&["check", "--config", &path]);
        if code != 2 {
            failures.push(format!("{name}: exit code {code}, want 2\n{out}"));
        }
        for want in *expected {
            if !out.contains(want) {
                failures.push(format!("{name}: output lacks {want:?}\n{out}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n---\n"));
}

#[test]
fn every_fixture_file_has_a_case() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/invalid-configs"
    );
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
            assert!(
                CASES.iter().any(|(n, _)| *n == stem),
                "fixture {stem} has no expected error"
            );
        }
    }
}

#[test]
fn several_semantic_errors_in_one_file_are_all_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.toml");
    std::fs::write(
        &path,
        "[entryPoints.web]\naddress = \":8000\"\n[ping]\nentryPoint = \"nope\"\n[http.routers.a]\nrule = \"Path(`/a`)\"\nservice = \"x\"\n[http.routers.b]\nrule = \"Bad(`/b`)\"\nservice = \"y\"\n",
    )
    .unwrap();
    let (code, out) = run_pylon(&["check", "--config", path.to_str().unwrap()]);
    assert_eq!(code, 2);
    for want in [
        "ping.entryPoint",
        "http.routers.a.service",
        "http.routers.b.rule",
        "http.routers.b.service",
        "4 error(s)",
    ] {
        assert!(out.contains(want), "lacks {want}:\n{out}");
    }
}
