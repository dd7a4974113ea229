//! Validation of the services of the dynamic configuration.

use super::{exists, names, Collector};
use crate::config::dynamic::{DynamicConfig, LoadBalancerConfig, ServiceConfig, StickyConfig};
use crate::upstream::Server;

pub(super) fn validate_service(
    name: &str,
    svc: &ServiceConfig,
    d: &DynamicConfig,
    c: &mut Collector<'_>,
) {
    let base = format!("http.services.{name}");
    match svc.kinds().as_slice() {
        [] => c.push(
            &base,
            "no service type is set",
            Some("add `[http.services.NAME.loadBalancer]`".into()),
        ),
        [_] => {}
        many => c.push(
            &base,
            format!("more than one service type is set: {}", many.join(", ")),
            Some("a service has exactly one type: keep one of them".into()),
        ),
    }
    if let Some(lb) = &svc.load_balancer {
        validate_load_balancer(&format!("{base}.loadBalancer"), lb, d, c);
    }
    if let Some(m) = &svc.mirroring {
        super::composite_services::validate_mirroring(&format!("{base}.mirroring"), m, d, c);
    }
    if let Some(f) = &svc.failover {
        super::composite_services::validate_failover(&format!("{base}.failover"), f, d, c);
    }
    if let Some(path) = service_cycle(name, d) {
        c.push(
            match svc.kinds().first().copied() {
                Some("weighted") | None => format!("{base}.weighted.services"),
                Some(kind) => format!("{base}.{kind}"),
            },
            format!("services refer back to themselves: {}", path.join(" -> ")),
            Some("a service cannot contain itself, directly or through others".into()),
        );
    }
    if let Some(w) = &svc.weighted {
        let key = format!("{base}.weighted");
        let mut total = 0i64;
        for (i, child) in w.services.iter().enumerate() {
            if !exists(&d.http.services, &child.name) {
                c.push(
                    format!("{key}.services[{i}].name"),
                    format!("service `{}` does not exist", child.name),
                    Some(format!("use one of: {}", names(d.http.services.keys()))),
                );
            }
            let weight = child.weight.unwrap_or(1);
            if weight < 0 {
                c.push(
                    format!("{key}.services[{i}].weight"),
                    format!("weight {weight} is negative"),
                    None,
                );
            }
            total = total.saturating_add(weight.max(0));
        }
        if w.services.is_empty() {
            c.push(
                format!("{key}.services"),
                "is empty",
                Some("list the services to balance between".into()),
            );
        } else if total == 0 {
            c.push(
                format!("{key}.services"),
                "every weight is 0: no service would get a request",
                None,
            );
        }
        check_sticky(&key, w.sticky.as_ref(), c);
    }
}

fn validate_load_balancer(
    key: &str,
    lb: &LoadBalancerConfig,
    d: &DynamicConfig,
    c: &mut Collector<'_>,
) {
    for (i, server) in lb.servers.iter().enumerate() {
        let k = format!("{key}.servers[{i}].url");
        if server.url.is_empty() {
            c.push(
                k,
                "missing required key `url`",
                Some("write e.g. url = \"http://127.0.0.1:8080\"".into()),
            );
        } else if let Err(e) = Server::parse(&server.url, server.weight.unwrap_or(1)) {
            c.push(
                k,
                e.to_string(),
                Some("write e.g. url = \"http://127.0.0.1:8080\"".into()),
            );
        }
    }
    if let Some(server) = &lb.server {
        if !server.url.is_empty() {
            if let Err(e) = Server::parse(&server.url, 1) {
                c.push(format!("{key}.server.url"), e.to_string(), None);
            }
        }
        if server.port == Some(0) {
            c.push(
                format!("{key}.server.port"),
                "port 0 is not a port",
                Some("use 1-65535".into()),
            );
        }
        if let Some(scheme) = server
            .scheme
            .as_deref()
            .filter(|s| !matches!(*s, "http" | "https" | "h2c"))
        {
            c.push(
                format!("{key}.server.scheme"),
                format!("`{scheme}` is not supported"),
                Some("use http, https or h2c".into()),
            );
        }
    }
    if let Some(t) = &lb.servers_transport {
        if !exists(&d.http.servers_transports, t) {
            c.push(
                format!("{key}.serversTransport"),
                format!("servers transport `{t}` does not exist"),
                Some(format!("define [http.serversTransports.{t}]")),
            );
        }
    }
    check_sticky(key, lb.sticky.as_ref(), c);
    if let Some(hc) = &lb.health_check {
        if let Some(path) = hc.path.as_deref().filter(|p| !p.starts_with('/')) {
            c.push(
                format!("{key}.healthCheck.path"),
                format!("`{path}` does not start with `/`"),
                Some(format!("write \"/{path}\"")),
            );
        }
        if let Some(scheme) = hc
            .scheme
            .as_deref()
            .filter(|s| !matches!(*s, "http" | "https" | "h2c"))
        {
            c.push(
                format!("{key}.healthCheck.scheme"),
                format!("`{scheme}` is not supported"),
                Some("use http, https or h2c".into()),
            );
        }
        let grpc = hc
            .mode
            .as_deref()
            .and_then(crate::upstream::checks::CheckMode::parse)
            == Some(crate::upstream::checks::CheckMode::Grpc);
        let http_only = [
            ("status", hc.status.is_some()),
            ("method", hc.method.is_some()),
            ("followRedirects", hc.follow_redirects.is_some()),
        ];
        for (name, _) in http_only.iter().filter(|(_, set)| grpc && *set) {
            c.push(
                format!("{key}.healthCheck.{name}"),
                "applies to HTTP health checks only: a gRPC check passes when the server answers SERVING",
                Some("remove the key, or use mode = \"http\"".into()),
            );
        }
        if hc.interval.is_some_and(|i| i.get().is_zero()) {
            c.push(
                format!("{key}.healthCheck.interval"),
                "must be greater than 0",
                Some("Traefik's default is \"30s\"".into()),
            );
        }
    }
}

fn check_sticky(key: &str, sticky: Option<&StickyConfig>, c: &mut Collector<'_>) {
    let cookie = sticky
        .and_then(|s| s.cookie.as_ref())
        .and_then(|t| t.options());
    if let Some(same_site) = cookie.and_then(|ck| ck.same_site.as_deref()) {
        if !["none", "lax", "strict", ""].contains(&same_site.to_ascii_lowercase().as_str()) {
            c.push(
                format!("{key}.sticky.cookie.sameSite"),
                format!("`{same_site}` is not a SameSite mode"),
                Some("use none, lax or strict".into()),
            );
        }
    }
}

/// A path of services (weighted, mirroring, failover) from `start` back to itself, if any.
fn service_cycle(start: &str, d: &DynamicConfig) -> Option<Vec<String>> {
    let children = |name: &str| -> Vec<String> {
        let local = name.strip_suffix("@file").unwrap_or(name);
        let svc = d
            .http
            .services
            .get(name)
            .or_else(|| d.http.services.get(local));
        let Some(s) = svc else {
            return Vec::new();
        };
        let mut out: Vec<String> = Vec::new();
        if let Some(w) = &s.weighted {
            out.extend(w.services.iter().map(|c| c.name.clone()));
        }
        if let Some(m) = &s.mirroring {
            out.push(m.service.clone());
            out.extend(m.mirrors.iter().map(|m| m.name.clone()));
        }
        if let Some(f) = &s.failover {
            out.push(f.service.clone());
            out.push(f.fallback.clone());
        }
        out
    };
    let mut stack = vec![vec![start.to_string()]];
    let mut seen = std::collections::HashSet::new();
    while let Some(path) = stack.pop() {
        let last = path.last().cloned().unwrap_or_default();
        for child in children(&last) {
            let mut next = path.clone();
            next.push(child.clone());
            if child == start {
                return Some(next);
            }
            if seen.insert(child) {
                stack.push(next);
            }
        }
    }
    None
}
