//! Keys the model reads for Traefik's sake whose values pylon cannot honour yet: each is refused
//! at load, naming the key and why, rather than accepted and silently ignored. (Keys pylon
//! does not know at all are refused by the decoder, see `config::unsupported`.)

use super::Collector;
use crate::config::dynamic::{DynamicConfig, LoadBalancerConfig, ServersTransportConfig};
use crate::config::static_config::{ForwardingTimeouts, StaticConfig};

/// The hint for a key whose only fix today is to leave it out.
fn remove_it() -> Option<String> {
    Some("remove the key to run on pylon".to_string())
}

pub(super) fn validate_static(s: &StaticConfig, c: &mut Collector<'_>) {
    if let Some(api) = &s.api {
        if api.debug == Some(true) {
            c.push(
                "api.debug",
                "the debug endpoints (`/debug/vars`, `/debug/pprof`) are not supported yet",
                remove_it(),
            );
        }
        if let Some(base) = api
            .base_path
            .as_deref()
            .filter(|b| !b.is_empty() && *b != "/")
        {
            c.push(
                "api.basePath",
                format!("serving the API and dashboard under `{base}` is not supported yet: they are served at `/api` and `/dashboard`"),
                remove_it(),
            );
        }
    }
    let file = s.providers.file.as_ref();
    if file.and_then(|f| f.debug_log_generated_template) == Some(true) {
        c.push(
            "providers.file.debugLogGeneratedTemplate",
            "pylon's file provider reads files as they are (no Go templates), so there is no generated template to log",
            remove_it(),
        );
    }
    let static_timeouts = s
        .servers_transport
        .as_ref()
        .and_then(|t| t.forwarding_timeouts.as_ref());
    forwarding_timeouts("serversTransport.forwardingTimeouts", static_timeouts, c);
}

pub(super) fn validate_dynamic(d: &DynamicConfig, c: &mut Collector<'_>) {
    for (name, transport) in &d.http.servers_transports {
        servers_transport(&format!("http.serversTransports.{name}"), transport, c);
    }
    for (name, service) in &d.http.services {
        if let Some(lb) = &service.load_balancer {
            load_balancer(&format!("http.services.{name}.loadBalancer"), lb, c);
        }
    }
}

fn load_balancer(base: &str, lb: &LoadBalancerConfig, c: &mut Collector<'_>) {
    if let Some(strategy) = lb
        .strategy
        .as_deref()
        .filter(|s| crate::upstream::strategy::Strategy::parse(s).is_none())
    {
        c.push(
            format!("{base}.strategy"),
            format!("`{strategy}` is not a balancing strategy pylon knows"),
            Some(format!(
                "use one of: {}",
                crate::upstream::strategy::STRATEGIES.join(", ")
            )),
        );
    }
    let mode = lb.health_check.as_ref().and_then(|h| h.mode.as_deref());
    if let Some(mode) = mode.filter(|m| crate::upstream::checks::CheckMode::parse(m).is_none()) {
        c.push(
            format!("{base}.healthCheck.mode"),
            format!("`{mode}` is not a health check mode"),
            Some("use \"http\" (the default) or \"grpc\"".into()),
        );
    }
}

fn servers_transport(base: &str, t: &ServersTransportConfig, c: &mut Collector<'_>) {
    if t.max_idle_conns_per_host.is_some() {
        c.push(
            format!("{base}.maxIdleConnsPerHost"),
            "a per-transport idle pool size is not supported yet: Pingora keeps one pool, sized by the static serversTransport.maxIdleConnsPerHost",
            Some("move it to the static `serversTransport.maxIdleConnsPerHost`".into()),
        );
    }
    let pairs: Vec<crate::upstream::tls::ClientPair<'_>> = t
        .certificates
        .iter()
        .map(|p| crate::upstream::tls::ClientPair {
            cert: &p.cert_file,
            key: &p.key_file,
        })
        .collect();
    let roots = t.root_cas.as_deref().unwrap_or_default();
    if let Err(e) = crate::upstream::tls::build(t.server_name.as_deref(), roots, &pairs) {
        c.push(
            format!("{base}.{}", e.key),
            e.message,
            Some("point it at a readable PEM file (or write the PEM itself)".into()),
        );
    }
    forwarding_timeouts(
        &format!("{base}.forwardingTimeouts"),
        t.forwarding_timeouts.as_ref(),
        c,
    );
}

fn forwarding_timeouts(base: &str, t: Option<&ForwardingTimeouts>, c: &mut Collector<'_>) {
    let Some(t) = t else { return };
    for (key, value) in [
        ("readIdleTimeout", t.read_idle_timeout),
        ("pingTimeout", t.ping_timeout),
    ] {
        if value.is_some() {
            c.push(
                format!("{base}.{key}"),
                "HTTP/2 health pings to upstreams are not supported yet (idle HTTP/2 upstream connections are closed after idleConnTimeout)",
                remove_it(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::load::{load_dynamic_str, load_static_str};

    /// The key paths `validate` refuses in a static and a dynamic file.
    fn refused(static_text: &str, dynamic_text: &str) -> Vec<String> {
        let static_cfg = load_static_str(static_text, "static.toml").unwrap();
        let dynamic = load_dynamic_str(dynamic_text, "dynamic.toml").unwrap();
        match crate::config::validate(&static_cfg, &dynamic, "test") {
            Ok(()) => Vec::new(),
            Err(errors) => errors.0.into_iter().map(|e| e.key_path).collect(),
        }
    }

    const EP: &str = "[entryPoints.web]\naddress = \":80\"\n";

    #[test]
    fn values_pylon_cannot_honour_are_refused_by_key() {
        let static_text = format!(
            "{EP}[api]\nbasePath = \"/traefik\"\n[providers.file]\nfilename = \"d.toml\"\ndebugLogGeneratedTemplate = true\n[serversTransport.forwardingTimeouts]\npingTimeout = \"5s\"\n"
        );
        let dynamic = r#"
[http.routers.r]
rule = "Path(`/`)"
service = "s"
middlewares = ["strip", "limit", "buffer"]
[http.services.s.loadBalancer]
servers = [{ url = "http://127.0.0.1:9" }]
serversTransport = "t"
[http.services.s.loadBalancer.healthCheck]
path = "/health"
mode = "tcp"
[http.serversTransports.t]
maxIdleConnsPerHost = 10
[http.serversTransports.t.forwardingTimeouts]
readIdleTimeout = "10s"
[http.middlewares.strip.stripPrefix]
prefixes = ["/a"]
forceSlash = false
[http.middlewares.limit.rateLimit]
average = 10
[http.middlewares.limit.rateLimit.redis]
endpoints = ["127.0.0.1:6379"]
poolSize = 4
[http.middlewares.buffer.buffering]
retryExpression = "IsNetworkError() && Attempts() < 2"
"#;
        let got = refused(&static_text, dynamic);
        for key in [
            "api.basePath",
            "providers.file.debugLogGeneratedTemplate",
            "serversTransport.forwardingTimeouts.pingTimeout",
            "http.services.s.loadBalancer.healthCheck.mode",
            "http.serversTransports.t.maxIdleConnsPerHost",
            "http.serversTransports.t.forwardingTimeouts.readIdleTimeout",
            "http.middlewares.strip.stripPrefix.forceSlash",
            "http.middlewares.limit.rateLimit.redis.poolSize",
            "http.middlewares.buffer.buffering.retryExpression",
        ] {
            assert!(got.iter().any(|k| k == key), "{key} not refused: {got:?}");
        }
    }

    #[test]
    fn the_values_pylon_does_honour_pass() {
        let static_text = format!("{EP}[api]\nbasePath = \"/\"\ndebug = false\n");
        let dynamic = r#"
[http.routers.r]
rule = "Path(`/`)"
service = "s"
[http.services.s.loadBalancer]
strategy = "WRR"
servers = [{ url = "http://127.0.0.1:9" }]
[http.services.s.loadBalancer.healthCheck]
path = "/health"
mode = "http"
[http.routers.g]
rule = "Path(`/g`)"
service = "g"
[http.services.g.loadBalancer]
servers = [{ url = "h2c://127.0.0.1:9" }]
[http.services.g.loadBalancer.healthCheck]
path = "/"
mode = "GRPC"
"#;
        assert_eq!(refused(&static_text, dynamic), Vec::<String>::new());
    }
}
