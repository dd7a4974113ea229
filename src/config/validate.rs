//! Validation of a whole configuration: collects EVERY error, each with its key path and fix.

use super::dynamic::{DynamicConfig, MiddlewareConfig, ServiceConfig};
use super::error::{ConfigError, ConfigErrors};
use super::static_config::{parse_address, parse_level, parse_net, StaticConfig};
use crate::upstream::Server;
use std::path::Path;

/// Services every configuration has (Traefik's `@internal` services).
const INTERNAL_SERVICES: [&str; 5] = [
    "api@internal",
    "dashboard@internal",
    "noop@internal",
    "ping@internal",
    "prometheus@internal",
];

/// Middleware types pylon implements today.
const SUPPORTED_MIDDLEWARES: [&str; 1] = ["stripPrefix"];

struct Collector<'a> {
    origin: &'a str,
    errors: Vec<ConfigError>,
}

impl Collector<'_> {
    fn push(&mut self, key: impl Into<String>, message: impl Into<String>, hint: Option<String>) {
        let mut e = ConfigError::new(self.origin, key, message);
        e.hint = hint;
        self.errors.push(e);
    }
}

/// The part of a reference before `@provider`; `None` for a provider pylon doesn't know.
fn local_name(reference: &str) -> Option<&str> {
    match reference.split_once('@') {
        None => Some(reference),
        Some((name, "file")) => Some(name),
        Some(_) => None,
    }
}

/// Checks the static and dynamic configuration together; `Ok` only when nothing is wrong.
pub fn validate(static_cfg: &StaticConfig, dynamic: &DynamicConfig, origin: &str) -> Result<(), ConfigErrors> {
    let mut c = Collector {
        origin,
        errors: Vec::new(),
    };
    validate_static(static_cfg, &mut c);
    validate_routers(static_cfg, dynamic, &mut c);
    for (name, mw) in &dynamic.http.middlewares {
        validate_middleware(name, mw, &mut c);
    }
    for (name, svc) in &dynamic.http.services {
        validate_service(name, svc, dynamic, &mut c);
    }
    for (i, cert) in dynamic.tls.certificates.iter().enumerate() {
        let key = format!("tls.certificates[{i}]");
        if let Err(e) = crate::tls::CertPair::from_files(Path::new(&cert.cert_file), Path::new(&cert.key_file)) {
            c.push(key, e.to_string(), Some("point certFile/keyFile at a readable PEM pair".into()));
        }
    }
    if c.errors.is_empty() {
        Ok(())
    } else {
        Err(ConfigErrors(c.errors))
    }
}

fn validate_static(s: &StaticConfig, c: &mut Collector<'_>) {
    if s.entry_points.is_empty() {
        c.push(
            "entryPoints",
            "no entry point is defined",
            Some("add e.g. `[entryPoints.web] address = \":8000\"`".into()),
        );
    }
    for (name, ep) in &s.entry_points {
        let base = format!("entryPoints.{name}");
        if let Err(e) = parse_address(&ep.address) {
            c.push(format!("{base}.address"), e, None);
        }
        if let Some(r) = ep.http.as_ref().and_then(|h| h.redirections.as_ref()).and_then(|r| r.entry_point.as_ref()) {
            if !s.entry_points.contains_key(&r.to) {
                c.push(
                    format!("{base}.http.redirections.entryPoint.to"),
                    format!("entry point `{}` does not exist", r.to),
                    Some(format!("use one of: {}", names(s.entry_points.keys()))),
                );
            }
            if let Some(scheme) = &r.scheme {
                if scheme != "http" && scheme != "https" {
                    c.push(
                        format!("{base}.http.redirections.entryPoint.scheme"),
                        format!("`{scheme}` is not a scheme pylon redirects to"),
                        Some("use \"https\" or \"http\"".into()),
                    );
                }
            }
        }
        if let Some(fh) = &ep.forwarded_headers {
            for (i, ip) in fh.trusted_ips.iter().enumerate() {
                if let Err(e) = parse_net(ip) {
                    c.push(format!("{base}.forwardedHeaders.trustedIPs[{i}]"), e, None);
                }
            }
        }
        if ep.http.as_ref().and_then(|h| h.max_header_bytes) == Some(0) {
            c.push(format!("{base}.http.maxHeaderBytes"), "must be greater than 0", None);
        }
    }
    if let Some(ping) = &s.ping {
        if !s.entry_points.contains_key(&ping.entry_point) {
            c.push(
                "ping.entryPoint",
                format!("entry point `{}` does not exist", ping.entry_point),
                Some(format!(
                    "set `ping.entryPoint` to one of: {} (Traefik's default is `traefik`)",
                    names(s.entry_points.keys())
                )),
            );
        }
    }
    let metrics_ep = s.metrics.as_ref().and_then(|m| m.prometheus.as_ref()).and_then(|p| p.entry_point.as_ref());
    if let Some(ep) = metrics_ep {
        if !s.entry_points.contains_key(ep) {
            c.push("metrics.prometheus.entryPoint", format!("entry point `{ep}` does not exist"), None);
        }
    }
    if let Some(level) = s.log.as_ref().and_then(|l| l.level.as_deref()) {
        if parse_level(level).is_none() {
            c.push(
                "log.level",
                format!("`{level}` is not a log level"),
                Some("use DEBUG, INFO, WARN or ERROR".into()),
            );
        }
    }
}

fn names<'a>(it: impl Iterator<Item = &'a String>) -> String {
    let v: Vec<String> = it.map(|n| format!("`{n}`")).collect();
    if v.is_empty() {
        "(none defined)".to_string()
    } else {
        v.join(", ")
    }
}

fn validate_routers(s: &StaticConfig, d: &DynamicConfig, c: &mut Collector<'_>) {
    for (name, router) in &d.http.routers {
        let base = format!("http.routers.{name}");
        if let Err(e) = crate::rule::parse(&router.rule) {
            c.push(format!("{base}.rule"), format!("invalid rule: {e}"), None);
        }
        match router.service.as_deref() {
            None => c.push(
                format!("{base}.service"),
                "missing required key",
                Some("name the service this router sends requests to".into()),
            ),
            Some(svc) if INTERNAL_SERVICES.contains(&svc) => {}
            Some(svc) => {
                if !local_name(svc).is_some_and(|n| d.http.services.contains_key(n)) {
                    c.push(
                        format!("{base}.service"),
                        format!("service `{svc}` does not exist"),
                        Some(format!("define [http.services.{svc}] or use one of: {}", names(d.http.services.keys()))),
                    );
                }
            }
        }
        for (i, mw) in router.middlewares.iter().enumerate() {
            if !local_name(mw).is_some_and(|n| d.http.middlewares.contains_key(n)) {
                c.push(
                    format!("{base}.middlewares[{i}]"),
                    format!("middleware `{mw}` does not exist"),
                    Some(format!("define [http.middlewares.{mw}] or remove it from the list")),
                );
            }
        }
        for (i, ep) in router.entry_points.iter().enumerate() {
            if !s.entry_points.contains_key(ep) {
                c.push(
                    format!("{base}.entryPoints[{i}]"),
                    format!("entry point `{ep}` does not exist"),
                    Some(format!("use one of: {}", names(s.entry_points.keys()))),
                );
            }
        }
    }
    for (name, ep) in &s.entry_points {
        for (i, mw) in ep.http.iter().flat_map(|h| h.middlewares.iter()).enumerate() {
            if !local_name(mw).is_some_and(|n| d.http.middlewares.contains_key(n)) {
                c.push(
                    format!("entryPoints.{name}.http.middlewares[{i}]"),
                    format!("middleware `{mw}` does not exist"),
                    None,
                );
            }
        }
    }
}

fn validate_middleware(name: &str, mw: &MiddlewareConfig, c: &mut Collector<'_>) {
    let base = format!("http.middlewares.{name}");
    let kinds = mw.kinds();
    match kinds.as_slice() {
        [] => c.push(&base, "no middleware type is set", Some("add e.g. `[http.middlewares.NAME.stripPrefix]`".into())),
        [kind] if !SUPPORTED_MIDDLEWARES.contains(kind) => c.push(
            format!("{base}.{kind}"),
            format!("middleware type `{kind}` is not supported yet by pylon"),
            Some(format!("supported today: {}", SUPPORTED_MIDDLEWARES.join(", "))),
        ),
        [_] => {}
        many => c.push(
            &base,
            format!("more than one middleware type is set: {}", many.join(", ")),
            Some("a middleware has exactly one type; split it into several and use a chain".into()),
        ),
    }
    if let Some(sp) = &mw.strip_prefix {
        if sp.prefixes.is_empty() {
            c.push(format!("{base}.stripPrefix.prefixes"), "is empty", Some("list at least one prefix, e.g. [\"/api\"]".into()));
        }
        for (i, p) in sp.prefixes.iter().enumerate() {
            if !p.starts_with('/') {
                c.push(
                    format!("{base}.stripPrefix.prefixes[{i}]"),
                    format!("`{p}` does not start with `/`"),
                    Some(format!("write \"/{p}\"")),
                );
            }
        }
    }
}

fn validate_service(name: &str, svc: &ServiceConfig, d: &DynamicConfig, c: &mut Collector<'_>) {
    let base = format!("http.services.{name}");
    let set = [
        ("loadBalancer", svc.load_balancer.is_some()),
        ("weighted", svc.weighted.is_some()),
        ("mirroring", svc.mirroring.is_some()),
        ("failover", svc.failover.is_some()),
    ];
    let kinds: Vec<&str> = set.iter().filter(|(_, on)| *on).map(|(n, _)| *n).collect();
    match kinds.as_slice() {
        [] => c.push(&base, "no service type is set", Some("add `[http.services.NAME.loadBalancer]`".into())),
        ["loadBalancer"] => {}
        [kind] => c.push(
            format!("{base}.{kind}"),
            format!("service type `{kind}` is not supported yet by pylon"),
            Some("use a loadBalancer service".into()),
        ),
        many => c.push(&base, format!("more than one service type is set: {}", many.join(", ")), None),
    }
    let Some(lb) = &svc.load_balancer else {
        return;
    };
    for (i, server) in lb.servers.iter().enumerate() {
        let key = format!("{base}.loadBalancer.servers[{i}].url");
        if server.url.is_empty() {
            c.push(key, "missing required key", Some("write e.g. url = \"http://127.0.0.1:8080\"".into()));
        } else if let Err(e) = Server::parse(&server.url, server.weight.unwrap_or(1)) {
            c.push(key, e.to_string(), None);
        }
    }
    if let Some(t) = &lb.servers_transport {
        if !d.http.servers_transports.contains_key(t) {
            c.push(
                format!("{base}.loadBalancer.serversTransport"),
                format!("servers transport `{t}` does not exist"),
                Some(format!("define [http.serversTransports.{t}]")),
            );
        }
    }
}
