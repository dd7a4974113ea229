//! The API's view of TCP routers, services and middlewares (Traefik's `/api/tcp/*` shapes),
//! read from the running configuration.

use super::redact::clean;
use super::View;
use serde_json::{json, Value};

/// Every TCP router, sorted by name.
pub fn routers(view: &View<'_>) -> Vec<Value> {
    let mut out = Vec::new();
    for (name, r) in &view.snapshot.dynamic.tcp.routers {
        let mut m = clean(r);
        let using = if r.entry_points.is_empty() {
            super::model::default_entrypoints(&view.context.static_config)
        } else {
            r.entry_points.clone()
        };
        m.insert("entryPoints".into(), json!(using));
        m.insert(
            "priority".into(),
            json!(r.priority.unwrap_or(r.rule.chars().count() as i64)),
        );
        m.insert("name".into(), Value::from(format!("{name}@file")));
        m.insert("provider".into(), Value::from("file"));
        m.insert("status".into(), Value::from("enabled"));
        m.insert("using".into(), json!(using));
        out.push(Value::Object(m));
    }
    out
}

/// Every TCP service with the routers using it, sorted by name.
pub fn services(view: &View<'_>) -> Vec<Value> {
    let tcp = &view.snapshot.dynamic.tcp;
    let mut out = Vec::new();
    for (name, s) in &tcp.services {
        let mut m = clean(s);
        let used_by: Vec<String> = tcp
            .routers
            .iter()
            .filter(|(_, r)| r.service.strip_suffix("@file").unwrap_or(&r.service) == name)
            .map(|(r, _)| format!("{r}@file"))
            .collect();
        let kind = if s.load_balancer.is_some() {
            "loadbalancer"
        } else {
            "weighted"
        };
        m.insert("name".into(), Value::from(format!("{name}@file")));
        m.insert("provider".into(), Value::from("file"));
        m.insert("status".into(), Value::from("enabled"));
        m.insert("type".into(), Value::from(kind));
        m.insert("usedBy".into(), json!(used_by));
        out.push(Value::Object(m));
    }
    out
}

/// Every TCP middleware with the routers using it, sorted by name.
pub fn middlewares(view: &View<'_>) -> Vec<Value> {
    let tcp = &view.snapshot.dynamic.tcp;
    let mut out = Vec::new();
    for (name, mw) in &tcp.middlewares {
        let mut m = clean(mw);
        let used_by: Vec<String> = tcp
            .routers
            .iter()
            .filter(|(_, r)| {
                r.middlewares
                    .iter()
                    .any(|n| n.strip_suffix("@file").unwrap_or(n) == name)
            })
            .map(|(r, _)| format!("{r}@file"))
            .collect();
        let kind = if mw.ip_allow_list.is_some() {
            "ipallowlist"
        } else {
            "inflightconn"
        };
        m.insert("name".into(), Value::from(format!("{name}@file")));
        m.insert("provider".into(), Value::from("file"));
        m.insert("status".into(), Value::from("enabled"));
        m.insert("type".into(), Value::from(kind));
        m.insert("usedBy".into(), json!(used_by));
        out.push(Value::Object(m));
    }
    out
}
