//! Every invalid fixture in `tests/fixtures/invalid` fails with an error that names its key path
//! and what is wrong; the MusicShare static configuration loads and validates unchanged.

use pylon::config::{self, ConfigErrors};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The whole start-up check: the static file, the file provider's config, then validation.
fn check(path: &Path) -> Result<(), ConfigErrors> {
    let static_cfg = config::load_static(path)?;
    let dynamic = config::load_dynamic_for(&static_cfg, path)?;
    config::validate(&static_cfg, &dynamic, &path.display().to_string())
}

/// Fixture file name -> a piece of the error text it must produce.
const EXPECTED: &[(&str, &str)] = &[
    (
        "unknown-static-key.toml",
        "logs: unknown key `logs`: expected one of `entryPoints`, `providers`",
    ),
    (
        "unknown-nested-key.toml",
        "unknown key `entryPoints.web.http.redirections.entryPoint.tto`: \
         expected one of `to`, `scheme`, `permanent`, `priority`",
    ),
    (
        "bad-duration.toml",
        "entryPoints.web.transport.lifeCycle.graceTimeOut: `ten seconds` is not a duration: \
         write e.g. \"10s\"",
    ),
    (
        "header-timeout-over-read-timeout.toml",
        "entryPoints.web.transport.respondingTimeouts.headerTimeout: 30s is longer than \
         readTimeout (5s)",
    ),
    (
        "negative-max-connections.toml",
        "entryPoints.web.transport.maxConnections: -1 is negative\n  \
         hint: write e.g. maxConnections = 10000 (0 means no limit)",
    ),
    (
        "bad-address.toml",
        "entryPoints.web.address: `:99999` has no valid port (1-65535)",
    ),
    (
        "redirect-missing-entrypoint.toml",
        "entryPoints.web.http.redirections.entryPoint.to: entry point `websecure` does not exist",
    ),
    (
        "bad-rule.toml",
        "http.routers.api.rule: invalid rule: unknown matcher `Hots`",
    ),
    (
        "missing-service.toml",
        "http.routers.api.service: service `api-svc` does not exist",
    ),
    (
        "missing-middleware.toml",
        "http.routers.api.middlewares[0]: middleware `api-strip` does not exist",
    ),
    (
        "unsupported-middleware.toml",
        "http.middlewares.ext.plugin: middleware type `plugin` is not supported yet by pylon",
    ),
    (
        "bad-server-url.toml",
        "http.services.api.loadBalancer.servers[0].url: `ftp://127.0.0.1:21` uses scheme `ftp`",
    ),
    (
        "file-provider-both.toml",
        "providers.file: both `filename` and `directory` are set",
    ),
    ("toml-syntax.toml", "TOML parse error at line 4"),
    (
        "unknown-entrypoint.toml",
        "http.routers.api.entryPoints[0]: entry point `websecure` does not exist",
    ),
    (
        "two-middleware-types.toml",
        "http.middlewares.api: more than one middleware type is set: stripPrefix, addPrefix",
    ),
    ("duplicate-name.toml", "http.routers.api: also defined in "),
    (
        "ping-default-entrypoint.toml",
        "ping.entryPoint: entry point `traefik` does not exist",
    ),
    (
        "weighted-missing-service.toml",
        "http.services.canary.weighted.services[1].name: service `green` does not exist",
    ),
    (
        "strip-prefix-no-slash.toml",
        "http.middlewares.strip.stripPrefix.prefixes[0]: `api` does not start with `/`",
    ),
    (
        "bad-trusted-ip.toml",
        "entryPoints.web.forwardedHeaders.trustedIPs[1]: `ten.0.0.1` is neither an IP address",
    ),
    (
        "bad-log-format.toml",
        "log.format: unknown value `xml` for `log.format`: expected one of `common`, `json`",
    ),
    (
        "three-errors.toml",
        "http.routers.b.service: service `nope` does not exist",
    ),
    (
        "three-typos.toml",
        "unknown key `entryPoints.web.adress`: expected one of `address`, `http`, \
         `forwardedHeaders`, `transport`",
    ),
];

fn error_text(name: &str) -> String {
    let path = fixtures().join("invalid").join(name);
    match check(&path) {
        Ok(()) => panic!("{name}: expected an error, the configuration was accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn every_invalid_fixture_reports_its_error() {
    let mut failures = Vec::new();
    for (name, expected) in EXPECTED {
        let text = error_text(name);
        if !text.contains(expected) {
            failures.push(format!("{name}: expected `{expected}` in:\n{text}\n"));
        }
        let origin = fixtures().join("invalid").display().to_string();
        assert!(
            text.contains(&origin),
            "{name}: the error names no file:\n{text}"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_invalid_fixture_is_in_the_table() {
    let dir = fixtures().join("invalid");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if path.extension().is_some_and(|e| e == "toml") {
            assert!(
                EXPECTED.iter().any(|(n, _)| *n == name),
                "fixture {name} has no expected error in EXPECTED"
            );
        }
    }
}

#[test]
fn a_bad_rule_shows_the_rule_with_a_caret_under_the_column() {
    let text = error_text("bad-rule.toml");
    let rule = "PathPrefix(`/api`) && Hots(`example.com`)";
    let column = rule.find("Hots").unwrap();
    let expected = format!("\n  {rule}\n  {}^", " ".repeat(column));
    assert!(
        text.contains(&expected),
        "no caret under `Hots` in:\n{text}"
    );
}

#[test]
fn a_toml_syntax_error_keeps_line_and_column() {
    let text = error_text("toml-syntax.toml");
    assert!(text.contains("line 4, column 23"), "{text}");
}

#[test]
fn a_name_defined_in_two_files_names_both_files() {
    let text = error_text("duplicate-name.toml");
    assert!(text.contains("duplicate-name.d/a.toml"), "{text}");
    assert!(text.contains("duplicate-name.d/b.toml"), "{text}");
}

#[test]
fn three_different_validation_errors_are_all_reported() {
    let path = fixtures().join("invalid/three-errors.toml");
    let errors = check(&path).unwrap_err();
    let keys: Vec<&str> = errors.iter().map(|e| e.key_path.as_str()).collect();
    assert_eq!(
        keys,
        [
            "http.routers.a.rule",
            "http.routers.b.service",
            "http.routers.c.middlewares[0]"
        ],
        "{errors}"
    );
}

#[test]
fn three_misspelt_keys_are_all_reported() {
    let path = fixtures().join("invalid/three-typos.toml");
    let errors = config::load_static(&path).unwrap_err();
    let keys: Vec<&str> = errors.iter().map(|e| e.key_path.as_str()).collect();
    assert_eq!(
        keys,
        ["api.dashbord", "entryPoints.web.adress", "log.levle"],
        "{errors}"
    );
    let hints: Vec<_> = errors.iter().filter_map(|e| e.hint.as_deref()).collect();
    assert!(hints[1].contains("did you mean `address`?"), "{errors}");
}

#[test]
fn the_musicshare_static_config_loads_unchanged() {
    let path = fixtures().join("valid/musicshare-static.toml");
    let shared =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/musicshare/traefik.toml");
    if let Ok(original) = std::fs::read_to_string(shared) {
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            original,
            "fixture differs from shared/"
        );
    }
    check(&path).unwrap();
    let cfg = config::load_static(&path).unwrap();
    assert_eq!(cfg.entry_points["web"].bind_addrs(), ["0.0.0.0:80"]);
    assert_eq!(cfg.entry_points["websecure"].bind_addrs(), ["0.0.0.0:443"]);
    let redirect = cfg.entry_points["web"]
        .http
        .as_ref()
        .unwrap()
        .redirections
        .as_ref();
    let to = redirect
        .and_then(|r| r.entry_point.as_ref())
        .map(|e| e.to.as_str());
    assert_eq!(to, Some("websecure"));
    assert_eq!(cfg.ping.as_ref().unwrap().entry_point, "web");
    assert_eq!(cfg.log_level_filter(), log::LevelFilter::Info);
    let docker = cfg.providers.docker.as_ref().unwrap();
    assert_eq!(docker.exposed_by_default, Some(false));
    assert_eq!(docker.network.as_deref(), Some("backend_net"));
    let prometheus = cfg.metrics.as_ref().unwrap().prometheus.as_ref().unwrap();
    assert_eq!(
        prometheus.buckets.as_deref(),
        Some(&[0.1, 0.3, 1.2, 5.0][..])
    );
    assert!(cfg.api.as_ref().unwrap().dashboard_enabled());
    assert!(cfg.access_log.is_some());
}
