//! Tests of labels → model: exposure, case, precedence, defaults, servers, merging, errors.

use super::*;
use crate::config::dynamic::Toggle;
use std::time::Duration;

mod defaults;
mod errors;
mod merge;
mod musicshare;
mod tcp;
mod template;

/// A container on a bridge network (IP 10.0.0.2) with `labels` written `key=value`.
fn container(name: &str, labels: &[&str]) -> ContainerInfo {
    ContainerInfo {
        name: name.to_string(),
        labels: labels
            .iter()
            .map(|l| {
                let (k, v) = l.split_once('=').unwrap();
                (k.to_string(), v.to_string())
            })
            .collect(),
        ip: Some(IpAddr::from([10, 0, 0, 2])),
        ..ContainerInfo::default()
    }
}

fn config(c: &ContainerInfo) -> DynamicConfig {
    container_config(c, &LabelSettings::default())
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap()
}

fn errors(c: &ContainerInfo) -> Vec<LabelError> {
    match container_config(c, &LabelSettings::default()) {
        Err(e) => e.0,
        Ok(d) => panic!("expected errors, got {d:?}"),
    }
}

fn urls(d: &DynamicConfig, service: &str) -> Vec<String> {
    let lb = d.http.services[service].load_balancer.as_ref().unwrap();
    lb.servers.iter().map(|s| s.url.clone()).collect()
}

#[test]
fn exposure_follows_enable_then_exposed_by_default() {
    let hidden = LabelSettings {
        exposed_by_default: false,
        ..LabelSettings::default()
    };
    let shown = LabelSettings::default();
    let cases: &[(&[&str], &LabelSettings, bool)] = &[
        (&[], &shown, true),
        (&[], &hidden, false),
        (&["traefik.enable=true"], &hidden, true),
        (&["traefik.enable=false"], &shown, false),
        (&["traefik.enable=1"], &hidden, true),
        (&["TRAEFIK.ENABLE=False"], &shown, false),
        (
            &["traefik.enable=true", "pylon.enable=false"],
            &shown,
            false,
        ),
        (
            &["traefik.enable=false", "pylon.enable=true"],
            &hidden,
            true,
        ),
    ];
    for (labels, settings, exposed) in cases {
        let mut c = container("app", labels);
        c.ports = vec![80];
        let got = container_config(&c, settings).unwrap();
        assert_eq!(got.is_some(), *exposed, "{labels:?}");
    }
    let e = errors(&container("app", &["traefik.enable=yes"]));
    assert_eq!(e[0].label.as_deref(), Some("traefik.enable"));
}

#[test]
fn keys_are_case_insensitive_and_spellings_merge() {
    let c = container(
        "web-1",
        &[
            "traefik.http.routers.Web.Rule=Host(`a`)",
            "traefik.http.routers.web.EntryPoints=web,websecure",
            "traefik.http.routers.WEB.tls.certResolver=le",
            "traefik.http.routers.web.TLS=true",
            "traefik.http.services.web.loadBalancer.server.port=8080",
            "traefik.http.services.web.LoadBalancer.HealthCheck.Path=/h",
            "traefik.http.services.Web.loadbalancer.passHostHeader=false",
            "traefik.http.middlewares.m.StripPrefix.Prefixes=/a,/b",
        ],
    );
    let d = config(&c);
    // The first spelling in byte order names the router (paerser's EqualFold merge).
    assert_eq!(d.http.routers.keys().collect::<Vec<_>>(), ["WEB"]);
    let r = &d.http.routers["WEB"];
    assert_eq!(r.rule, "Host(`a`)");
    assert_eq!(r.entry_points, ["web", "websecure"]);
    let tls = r.tls.as_ref().and_then(Toggle::options).unwrap();
    assert_eq!(tls.cert_resolver.as_deref(), Some("le"));
    assert_eq!(r.service.as_deref(), Some("Web"));
    let lb = d.http.services["Web"].load_balancer.as_ref().unwrap();
    assert_eq!(urls(&d, "Web"), ["http://10.0.0.2:8080"]);
    assert_eq!(lb.pass_host_header, Some(false));
    assert_eq!(
        lb.health_check.as_ref().unwrap().path.as_deref(),
        Some("/h")
    );
    let crate::config::dynamic::MiddlewareConfig::StripPrefix(m) = &d.http.middlewares["m"] else {
        panic!("not stripPrefix")
    };
    assert_eq!(m.prefixes, ["/a", "/b"]);
}

#[test]
fn pylon_labels_win_over_traefik_labels() {
    let c = container(
        "app",
        &[
            "traefik.http.routers.r.rule=Host(`old`)",
            "pylon.http.routers.r.rule=Host(`new`)",
            "traefik.http.routers.r.priority=5",
            "pylon.http.routers.R.Priority=7",
            "traefik.http.routers.r.entrypoints=web",
            "pylon.http.middlewares.only-pylon.stripprefix.prefixes=/p",
            "traefik.http.services.s.loadbalancer.server.port=80",
            "pylon.http.services.s.loadbalancer.server.port=81",
        ],
    );
    let d = config(&c);
    let r = &d.http.routers["r"];
    assert_eq!((r.rule.as_str(), r.priority), ("Host(`new`)", Some(7)));
    assert_eq!(r.entry_points, ["web"]);
    assert!(d.http.middlewares.contains_key("only-pylon"));
    assert_eq!(urls(&d, "s"), ["http://10.0.0.2:81"]);
}

#[test]
fn same_key_in_two_spellings_with_two_values_is_an_error() {
    let c = container(
        "app",
        &[
            "traefik.http.routers.r.rule=Host(`a`)",
            "traefik.http.routers.r.RULE=Host(`b`)",
        ],
    );
    let e = errors(&c);
    assert_eq!(e.len(), 1);
    assert!(
        e[0].message.contains("traefik.http.routers.r.RULE"),
        "{}",
        e[0]
    );
}

#[test]
fn bare_true_beside_sub_keys_becomes_a_table() {
    let c = container(
        "app",
        &[
            "traefik.http.services.s.loadbalancer.server.port=80",
            "traefik.http.services.s.loadbalancer.sticky.cookie=true",
            "traefik.http.services.s.loadbalancer.sticky.cookie.name=sess",
            "traefik.http.services.s.loadbalancer.sticky.cookie.httponly=true",
            "traefik.http.services.s.loadbalancer.healthcheck=true",
            "traefik.http.routers.r.rule=Path(`/`)",
            "traefik.http.routers.r.tls=true",
            "traefik.http.routers.r.tls.domains[0].main=example.com",
            "traefik.http.routers.r.tls.domains[0].sans=a.example.com,b.example.com",
            "traefik.http.routers.r.tls.domains[1].main=example.org",
        ],
    );
    let d = config(&c);
    let lb = d.http.services["s"].load_balancer.as_ref().unwrap();
    let cookie = lb.sticky.as_ref().unwrap().cookie.as_ref().unwrap();
    let cookie = cookie.options().unwrap();
    assert_eq!(cookie.name.as_deref(), Some("sess"));
    assert_eq!(cookie.http_only, Some(true));
    assert!(lb.health_check.is_some());
    let tls = d.http.routers["r"]
        .tls
        .as_ref()
        .and_then(Toggle::options)
        .unwrap();
    let mains: Vec<_> = tls
        .domains
        .iter()
        .map(|d| d.main.clone().unwrap())
        .collect();
    assert_eq!(mains, ["example.com", "example.org"]);
    assert_eq!(tls.domains[0].sans, ["a.example.com", "b.example.com"]);

    let off = container(
        "app",
        &[
            "traefik.http.services.s.loadbalancer.server.port=80",
            "traefik.http.services.s.loadbalancer.sticky.cookie=false",
            "traefik.http.services.s.loadbalancer.sticky.cookie.name=sess",
            "traefik.http.services.s.loadbalancer.healthcheck=false",
        ],
    );
    let d = config(&off);
    let lb = d.http.services["s"].load_balancer.as_ref().unwrap();
    assert!(!lb
        .sticky
        .as_ref()
        .unwrap()
        .cookie
        .as_ref()
        .unwrap()
        .enabled());
    assert!(lb.health_check.is_none());
}

#[test]
fn provider_labels_stay_out_of_the_tree() {
    let mut c = container(
        "app",
        &[
            "traefik.docker.network=front",
            "pylon.docker.network=back",
            "traefik.port=80",
            "traefik.tls.options.x.minversion=VersionTLS12",
            "traefik.http.serverstransports.t.insecureskipverify=true",
            "traefik.tls.stores.default.defaultgeneratedcert.resolver=le",
        ],
    );
    c.ports = vec![80];
    assert_eq!(docker_network(&c.labels).as_deref(), Some("back"));
    let d = config(&c);
    assert!(d.tls.options.is_empty() && d.http.servers_transports.is_empty());
    assert!(d.tls.stores["default"].default_generated_cert.is_some());
    assert_eq!(urls(&d, "app"), ["http://10.0.0.2:80"]);
}

#[test]
fn health_check_interval_is_a_duration() {
    let c = container(
        "app",
        &[
            "traefik.http.services.s.loadbalancer.server.port=80",
            "traefik.http.services.s.loadbalancer.healthcheck.interval=1m30s",
        ],
    );
    let d = config(&c);
    let hc = d.http.services["s"]
        .load_balancer
        .as_ref()
        .unwrap()
        .health_check
        .clone();
    assert_eq!(
        hc.unwrap().interval.map(|i| i.get()),
        Some(Duration::from_secs(90))
    );
}

#[test]
fn body_middlewares_from_labels() {
    let c = container(
        "app",
        &[
            "traefik.http.routers.app.rule=Host(`a`)",
            "traefik.http.services.app.loadBalancer.server.port=8080",
            "traefik.http.middlewares.z.compress=true",
            "traefik.http.middlewares.zz.compress.encodings=zstd,br",
            "traefik.http.middlewares.zz.compress.minresponsebodybytes=10",
            "traefik.http.middlewares.b.buffering.maxRequestBodyBytes=2000000",
        ],
    );
    let d = config(&c);
    assert!(matches!(
        d.http.middlewares["z"],
        crate::config::dynamic::MiddlewareConfig::Compress(Toggle::Flag(true))
    ));
    let crate::config::dynamic::MiddlewareConfig::Compress(zz) = &d.http.middlewares["zz"] else {
        panic!("not compress")
    };
    let zz = zz.options().unwrap();
    assert_eq!(zz.encodings.as_deref().unwrap(), ["zstd", "br"]);
    assert_eq!(zz.min_response_body_bytes, Some(10));
    let crate::config::dynamic::MiddlewareConfig::Buffering(b) = &d.http.middlewares["b"] else {
        panic!("not buffering")
    };
    assert_eq!(b.max_request_body_bytes, Some(2_000_000));
}

#[test]
fn errors_middleware_from_labels() {
    let c = container(
        "app",
        &[
            "traefik.http.routers.app.rule=Host(`a`)",
            "traefik.http.services.app.loadBalancer.server.port=8080",
            "traefik.http.middlewares.oops.errors.status=500-599,404",
            "traefik.http.middlewares.oops.errors.service=pages@file",
            "traefik.http.middlewares.oops.errors.query=/{status}.html",
            "traefik.http.middlewares.oops.errors.statusrewrites.502-504=503",
        ],
    );
    let d = config(&c);
    let crate::config::dynamic::MiddlewareConfig::Errors(e) = &d.http.middlewares["oops"] else {
        panic!("not errors")
    };
    assert_eq!(e.status, ["500-599", "404"]);
    assert_eq!(e.service.as_deref(), Some("pages@file"));
    assert_eq!(e.query.as_deref(), Some("/{status}.html"));
    assert_eq!(e.status_rewrites["502-504"], 503);
}
