//! Traefik keys pylon does not take (not yet, or by design), each with the reason: an unknown
//! key that is one of them is reported with it, so `pylon check` on a Traefik file says what
//! will not carry over and why, rather than a bare "unknown key".

/// Why a Traefik key is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// Not implemented yet.
    NotYet(&'static str),
    /// pylon works differently here, on purpose.
    Difference(&'static str),
}

/// Key paths (`*`: any one name) and why pylon refuses them.
const KEYS: &[(&str, Why)] = &[
    // Static configuration.
    ("tcpServersTransport", Why::NotYet("TCP routers are not implemented yet: pylon proxies HTTP")),
    ("tracing", Why::NotYet("tracing (OpenTelemetry) is not implemented yet")),
    ("hostResolver", Why::NotYet("pylon resolves names with the system resolver; CNAME flattening is not implemented yet")),
    ("experimental", Why::Difference("pylon has no experimental features or plugins: its middlewares are compiled in")),
    ("spiffe", Why::NotYet("SPIFFE is not implemented yet")),
    ("ocsp", Why::NotYet("OCSP stapling is not implemented yet")),
    ("serversTransport.spiffe", Why::NotYet("SPIFFE is not implemented yet")),
    ("entryPoints.*.reusePort", Why::NotYet("SO_REUSEPORT listeners are not implemented yet (zero-downtime upgrades pass the sockets instead)")),
    ("entryPoints.*.asDefault", Why::NotYet("routers without `entryPoints` use every entry point (but `traefik`)")),
    ("entryPoints.*.http2", Why::NotYet("HTTP/2 settings (maxConcurrentStreams, header table sizes) are not configurable yet: Pingora's defaults and pylon's abuse limits apply")),
    ("entryPoints.*.http3", Why::NotYet("HTTP/3 (QUIC) is not implemented yet")),
    ("entryPoints.*.udp", Why::NotYet("UDP routers are not implemented yet: pylon proxies HTTP")),
    ("entryPoints.*.forwardedHeaders.connection", Why::NotYet("every header named in `Connection` is removed before the middlewares; keeping some is not implemented yet")),
    ("entryPoints.*.forwardedHeaders.addXForwardedSchemeHeaders", Why::NotYet("X-Forwarded-Scheme and X-Scheme are not implemented yet (X-Forwarded-Proto is set)")),
    ("entryPoints.*.http.underscoreHeadersStrategy", Why::NotYet("headers with underscores are passed as they are; `delete`/`reject` are not implemented yet")),
    ("entryPoints.*.http.encodeQuerySemicolons", Why::NotYet("query semicolons are passed as they are")),
    ("entryPoints.*.http.sanitizePath", Why::Difference("pylon always normalizes request paths before routing")),
    ("entryPoints.*.observability.traceVerbosity", Why::NotYet("tracing is not implemented yet")),
    ("providers.http", Why::NotYet("the HTTP provider (polling an endpoint for dynamic JSON) is not implemented yet: use the file provider")),
    ("providers.rest", Why::NotYet("the REST provider is not implemented yet: use the file provider")),
    ("providers.swarm", Why::NotYet("Docker Swarm services are not read yet: `providers.docker` reads containers")),
    ("providers.kubernetesIngress", Why::NotYet("Kubernetes providers are not implemented yet")),
    ("providers.kubernetesCRD", Why::NotYet("Kubernetes providers are not implemented yet")),
    ("providers.kubernetesGateway", Why::NotYet("Kubernetes providers are not implemented yet")),
    ("providers.knative", Why::NotYet("Kubernetes providers are not implemented yet")),
    ("providers.consul", Why::NotYet("the Consul key-value provider is not implemented yet; supported key-value providers: `providers.etcd`, `providers.redis`")),
    ("providers.consulCatalog", Why::NotYet("the Consul Catalog provider is not implemented yet")),
    ("providers.redis.tls", Why::NotYet("TLS to Redis is not supported yet (the redis client is built without TLS): reach Redis over loopback or a private network")),
    ("providers.redis.sentinel", Why::NotYet("Redis Sentinel is not supported yet: list the primary in `endpoints`")),
    ("providers.zooKeeper", Why::NotYet("the ZooKeeper key-value provider is not implemented yet; supported key-value providers: `providers.etcd`, `providers.redis`")),
    ("providers.nomad", Why::NotYet("the Nomad provider is not implemented yet")),
    ("providers.ecs", Why::NotYet("the ECS provider is not implemented yet")),
    ("providers.plugin", Why::Difference("pylon has no plugins: its middlewares are compiled in")),
    ("metrics.datadog", Why::NotYet("only Prometheus metrics are implemented")),
    ("metrics.statsD", Why::NotYet("only Prometheus metrics are implemented")),
    ("metrics.influxDB2", Why::NotYet("only Prometheus metrics are implemented")),
    ("metrics.otlp", Why::NotYet("only Prometheus metrics are implemented")),
    // Dynamic configuration.
    ("udp", Why::NotYet("UDP routers are not implemented yet: pylon proxies HTTP")),
    ("http.services.*.middlewares", Why::NotYet("service middlewares (Traefik v3.7) are not implemented yet: put them on the routers")),
    ("http.services.*.highestRandomWeight", Why::NotYet("the highestRandomWeight service is not implemented yet: use `weighted` or `loadBalancer.sticky`")),
    ("http.routers.*.observability", Why::NotYet("per-router observability switches are not implemented yet")),
];

/// Why pylon refuses the key at `path` (as an error names it), if it is a Traefik key it knows.
pub fn why(path: &str) -> Option<Why> {
    KEYS.iter()
        .find(|(pattern, _)| matches(pattern, path))
        .map(|(_, why)| *why)
}

/// Whether `path` is `pattern`, keys in any case, `*` standing for one name (which may hold
/// dots, so the pattern's next key is looked for at every later segment).
fn matches(pattern: &str, path: &str) -> bool {
    let pattern: Vec<&str> = pattern.split('.').collect();
    let path: Vec<&str> = path.split('.').collect();
    fn go(p: &[&str], s: &[&str]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(&"*"), Some(_)) => (1..=s.len()).any(|n| go(&p[1..], &s[n..])),
            (Some(k), Some(seg)) => k.eq_ignore_ascii_case(seg) && go(&p[1..], &s[1..]),
            _ => false,
        }
    }
    go(&pattern, &path)
}

/// The error message for a refused Traefik key.
pub fn message(path: &str, why: Why) -> String {
    match why {
        Why::NotYet(reason) => {
            format!("`{path}` is Traefik's, not supported by pylon yet: {reason}")
        }
        Why::Difference(reason) => {
            format!("`{path}` is Traefik's, refused by pylon by design: {reason}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_any_name_and_any_case() {
        assert!(why("entryPoints.web.http3").is_some());
        assert!(why("entrypoints.my.web.HTTP3").is_some());
        assert!(why("http.services.s.highestRandomWeight").is_some());
        assert!(why("entryPoints.web.address").is_none());
        assert!(why("entryPoints.http3").is_none());
        assert!(matches!(why("udp"), Some(Why::NotYet(_))));
        assert!(matches!(why("providers.plugin"), Some(Why::Difference(_))));
    }
}
