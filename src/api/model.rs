//! The API's JSON objects in Traefik's shapes: routers, services and middlewares with `name`,
//! `provider`, `status`, `error`, `using`/`usedBy`, `serverStatus`; secrets redacted.

use super::redact::clean;
use super::View;
use crate::config::internal::INTERNAL_ENTRYPOINT;
use crate::config::StaticConfig;
use crate::provider::namespace::display_name;
use serde_json::{json, Map, Value};

fn provider_of(full: &str) -> &str {
    full.rsplit_once('@').map_or("file", |(_, p)| p)
}

/// The entry points a router without `entryPoints` is bound to (all but `traefik`).
pub(super) fn default_entrypoints(s: &StaticConfig) -> Vec<String> {
    s.entry_points
        .keys()
        .filter(|n| s.is_default_entrypoint(n))
        .cloned()
        .collect()
}

/// Every router (user ones, left-out ones and pylon's internal ones), sorted by name.
pub fn routers(view: &View<'_>) -> Vec<Value> {
    let s = &view.context.static_config;
    let mut out: Vec<Value> = Vec::new();
    for (name, r) in &view.snapshot.dynamic.http.routers {
        let mut m = clean(r);
        let using = if r.entry_points.is_empty() {
            default_entrypoints(s)
        } else {
            r.entry_points.clone()
        };
        match m.get("tls") {
            Some(Value::Bool(true)) => {
                m.insert("tls".into(), json!({}));
            }
            Some(Value::Bool(false)) => {
                m.remove("tls");
            }
            _ => {}
        }
        if let Some(svc) = &r.service {
            m.insert("service".into(), Value::from(display_name(svc)));
        }
        if !r.middlewares.is_empty() {
            let mws: Vec<String> = r.middlewares.iter().map(|n| display_name(n)).collect();
            m.insert("middlewares".into(), json!(mws));
        }
        m.insert("entryPoints".into(), json!(using));
        let full = display_name(name);
        m.insert(
            "priority".into(),
            json!(r.priority.unwrap_or(r.rule.chars().count() as i64)),
        );
        m.insert("provider".into(), Value::from(provider_of(&full)));
        m.insert("name".into(), Value::from(full));
        m.insert("status".into(), Value::from("enabled"));
        m.insert("using".into(), json!(using));
        out.push(Value::Object(m));
    }
    for e in &view.snapshot.left_out.routers {
        let name = e
            .key_path
            .strip_prefix("http.routers.")
            .unwrap_or(&e.key_path);
        let full = display_name(name);
        out.push(json!({
            "name": full, "provider": provider_of(&full), "status": "disabled",
            "error": [e.message.clone()],
        }));
    }
    out.extend(internal_routers(s));
    out.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    out
}

/// The routers pylon adds itself (as Traefik does for the insecure API and ping).
fn internal_routers(s: &StaticConfig) -> Vec<Value> {
    let top = i64::MAX - 1;
    let mut out = Vec::new();
    let mut add = |name: &str, ep: &str, rule: &str| {
        out.push(json!({
            "entryPoints": [ep], "service": name, "rule": rule, "priority": top,
            "name": name, "provider": "internal", "status": "enabled", "using": [ep],
        }));
    };
    if s.api_on_entrypoint() {
        add("api@internal", INTERNAL_ENTRYPOINT, "PathPrefix(`/api`)");
        if s.dashboard_enabled() {
            add(
                "dashboard@internal",
                INTERNAL_ENTRYPOINT,
                "PathPrefix(`/dashboard`)",
            );
        }
    }
    if let Some(p) = s
        .ping
        .as_ref()
        .filter(|p| !p.manual_routing.unwrap_or(false))
    {
        add("ping@internal", &p.entry_point, "PathPrefix(`/ping`)");
    }
    out
}

/// Names of the routers (from `routers`) whose `field` names `target`.
fn used_by(routers: &[Value], field: &str, target: &str) -> Vec<String> {
    routers
        .iter()
        .filter(|r| match &r[field] {
            Value::String(s) => s == target,
            Value::Array(a) => a.iter().any(|x| x.as_str() == Some(target)),
            _ => false,
        })
        .filter_map(|r| r["name"].as_str().map(str::to_string))
        .collect()
}

/// Every service, with its servers' health, sorted by name.
pub fn services(view: &View<'_>) -> Vec<Value> {
    let routers = routers(view);
    let mut out = Vec::new();
    for (name, svc) in &view.snapshot.dynamic.http.services {
        let full = display_name(name);
        let mut m = clean(svc);
        let kind = if svc.load_balancer.is_some() {
            "loadbalancer"
        } else if svc.weighted.is_some() {
            "weighted"
        } else if svc.mirroring.is_some() {
            "mirroring"
        } else if svc.failover.is_some() {
            "failover"
        } else {
            "unknown"
        };
        if let Some(pool) = view.snapshot.pools.iter().find(|p| *p.name == *full) {
            let mut status = Map::new();
            let mut health = Map::new();
            for (i, server) in pool.servers().iter().enumerate() {
                let up = if pool.is_up(i) { "UP" } else { "DOWN" };
                let url = super::redact::redact_url(&server.url).into_owned();
                status.insert(url.clone(), Value::from(up));
                if let Some(h) = pool.health(i) {
                    let v = h.view();
                    // a host name that does not resolve keeps the server out, whatever its health
                    let (up, reason) = match pool.address_problem(i) {
                        Some(problem) => (false, problem),
                        None => (v.up, v.reason),
                    };
                    health.insert(
                        url,
                        json!({"up": up, "sinceMs": v.since_ms, "reason": reason}),
                    );
                }
            }
            m.insert("serverStatus".into(), Value::Object(status));
            m.insert("serverHealth".into(), Value::Object(health));
        }
        m.insert("status".into(), Value::from("enabled"));
        m.insert("usedBy".into(), json!(used_by(&routers, "service", &full)));
        m.insert("provider".into(), Value::from(provider_of(&full)));
        m.insert("name".into(), Value::from(full));
        m.insert("type".into(), Value::from(kind));
        out.push(Value::Object(m));
    }
    for name in internal_services(&routers) {
        out.push(json!({
            "status": "enabled", "usedBy": used_by(&routers, "service", &name),
            "provider": "internal", "name": name,
        }));
    }
    out.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    out
}

/// The `@internal` services some router uses.
fn internal_services(routers: &[Value]) -> Vec<String> {
    let mut names: Vec<String> = routers
        .iter()
        .filter_map(|r| r["service"].as_str())
        .filter(|s| s.ends_with("@internal"))
        .map(str::to_string)
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Every middleware, sorted by name.
pub fn middlewares(view: &View<'_>) -> Vec<Value> {
    let routers = routers(view);
    let mut out = Vec::new();
    for (name, mw) in &view.snapshot.dynamic.http.middlewares {
        let full = display_name(name);
        let mut m = clean(mw);
        let kind = m
            .keys()
            .next()
            .map(|k| k.to_ascii_lowercase())
            .unwrap_or_default();
        if let Some(state) = breaker_state(view, name) {
            m.insert("circuitBreakerState".into(), state);
        }
        m.insert("status".into(), Value::from("enabled"));
        m.insert(
            "usedBy".into(),
            json!(used_by(&routers, "middlewares", &full)),
        );
        m.insert("provider".into(), Value::from(provider_of(&full)));
        m.insert("name".into(), Value::from(full));
        m.insert("type".into(), Value::from(kind));
        out.push(Value::Object(m));
    }
    out
}

/// A `circuitBreaker`'s live state (pylon's addition to Traefik's shape):
/// `{"state": "closed"|"open"|"recovering", "trips": n}`.
fn breaker_state(view: &View<'_>, name: &str) -> Option<Value> {
    use crate::runtime::middlewares::Built;
    let Some((_, Built::Plugin(plugin))) = view.snapshot.middlewares.get(name) else {
        return None;
    };
    let breaker = plugin
        .as_any()?
        .downcast_ref::<pylon_plugins::circuit_breaker::CircuitBreaker>()?;
    Some(json!({"state": breaker.state().name(), "trips": breaker.trips()}))
}

/// Every entry point with its settings, sorted by name.
pub fn entrypoints(s: &StaticConfig) -> Vec<Value> {
    s.entry_points
        .iter()
        .map(|(name, ep)| {
            let mut m = clean(ep);
            m.insert("name".into(), Value::from(name.clone()));
            Value::Object(m)
        })
        .collect()
}

/// What the configuration in force leaves out: containers with bad labels (for `redis` and
/// `etcd`: `container` is the object's key prefix, `label` the key), and file routers whose
/// other-provider object is gone, each with the error and the fix.
pub fn left_out(view: &View<'_>) -> Vec<Value> {
    let left = &view.snapshot.left_out;
    let containers = left.containers.iter().map(|e| {
        json!({
            "provider": e.provider, "container": e.container, "label": e.label,
            "error": e.message, "hint": e.hint,
        })
    });
    let routers = left.routers.iter().map(|e| {
        json!({
            "provider": "file", "router": display_name(
                e.key_path.strip_prefix("http.routers.").unwrap_or(&e.key_path)),
            "error": e.message, "hint": e.hint,
        })
    });
    containers.chain(routers).collect()
}

/// Counts of a list by status, as Traefik's overview sections.
fn section(items: &[Value]) -> Value {
    let count = |s: &str| items.iter().filter(|v| v["status"] == s).count();
    json!({"total": items.len(), "warnings": count("warning"), "errors": count("disabled")})
}

/// `/api/overview`: counts per section, features, providers, what is left out.
pub fn overview(view: &View<'_>) -> Value {
    let s = &view.context.static_config;
    let mut providers = Vec::new();
    if s.providers.file.is_some() {
        providers.push("File");
    }
    if s.providers.docker.is_some() {
        providers.push("Docker");
    }
    if s.providers.redis.is_some() {
        providers.push("Redis");
    }
    if s.providers.etcd.is_some() {
        providers.push("Etcd");
    }
    let empty = json!({"total": 0, "warnings": 0, "errors": 0});
    json!({
        "http": {
            "routers": section(&routers(view)),
            "services": section(&services(view)),
            "middlewares": section(&middlewares(view)),
        },
        "tcp": {
            "routers": section(&super::tcp_model::routers(view)),
            "services": section(&super::tcp_model::services(view)),
            "middlewares": section(&super::tcp_model::middlewares(view)),
        },
        "udp": {"routers": empty, "services": empty},
        "features": {
            "tracing": "",
            "metrics": if crate::metrics::global().is_some() { "Prometheus" } else { "" },
            "accessLog": crate::access_log::global().is_some(),
        },
        "providers": providers,
        "leftOut": left_out(view),
        "version": view.snapshot.version,
    })
}

/// `/api/rawdata`: routers, services and middlewares keyed by name, and what is left out.
pub fn rawdata(view: &View<'_>) -> Value {
    let by_name = |items: Vec<Value>| -> Map<String, Value> {
        items
            .into_iter()
            .filter_map(|v| Some((v["name"].as_str()?.to_string(), v)))
            .collect()
    };
    json!({
        "routers": by_name(routers(view)),
        "middlewares": by_name(middlewares(view)),
        "services": by_name(services(view)),
        "leftOut": left_out(view),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_come_from_the_name() {
        assert_eq!(provider_of("a@docker"), "docker");
        assert_eq!(provider_of("api@internal"), "internal");
        assert_eq!(provider_of("bare"), "file");
    }
}
