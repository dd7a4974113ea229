//! The API (`[api]`): Traefik's read-only endpoints over the configuration in force —
//! `/api/overview`, `/api/entrypoints`, `/api/http/{routers,services,middlewares}[/{name}]`,
//! `/api/rawdata`, `/api/version` — plus pylon's `/api/leftout` (what the providers' updates
//! left out, and why), `/api/reloads` (recent reloads) and `/api/acme` (certificate resolvers
//! and their certificates). Served on the insecure `traefik`
//! entry point or through a router to `api@internal` (after that router's middlewares).

pub mod dashboard;
pub mod history;
pub mod model;
pub mod query;
pub mod redact;
pub mod serve;
pub mod stats;
pub mod tcp_model;

use crate::config::StaticConfig;
use crate::runtime::Snapshot;
use http::{Method, StatusCode};
use query::{paginate, percent_decode, Answer};
use serde_json::{json, Value};
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

/// What the API knows besides the Snapshot: the static side, the start time, the reloads.
pub struct Context {
    pub static_config: StaticConfig,
    pub started: SystemTime,
    pub reloads: history::ReloadHistory,
}

static GLOBAL: OnceLock<Arc<Context>> = OnceLock::new();

/// The process's API context, once `run` has set it up.
pub fn global() -> Option<&'static Arc<Context>> {
    GLOBAL.get()
}

/// Makes `context` the process's API context (the first call wins).
pub fn install(context: Arc<Context>) {
    let _ = GLOBAL.set(context);
}

/// One request's view: the Snapshot it loaded and the context.
pub struct View<'a> {
    pub snapshot: &'a Snapshot,
    pub context: &'a Context,
}

/// Answers one API request; `path` is the normalized request path.
pub fn handle(method: &Method, path: &str, query: Option<&str>, view: &View<'_>) -> Answer {
    if method != Method::GET && method != Method::HEAD {
        return Answer::text(StatusCode::METHOD_NOT_ALLOWED, "405 method not allowed\n");
    }
    let rest = path.trim_end_matches('/');
    let list = |items: Vec<Value>| paginate(items, query);
    let one = |items: Vec<Value>, kind: &str, name: &str| {
        let wanted = percent_decode(name);
        match items
            .into_iter()
            .find(|v| v["name"].as_str() == Some(&wanted))
        {
            Some(v) => Answer::json(StatusCode::OK, &v),
            None => Answer::message(StatusCode::NOT_FOUND, format!("{kind} not found: {wanted}")),
        }
    };
    let statics = &view.context.static_config;
    match rest {
        "/api/version" => Answer::json(
            StatusCode::OK,
            &json!({
                "Version": env!("CARGO_PKG_VERSION"),
                "Codename": "pylon",
                "startDate": crate::access_log::time::rfc3339(view.context.started),
            }),
        ),
        "/api/overview" => Answer::json(StatusCode::OK, &model::overview(view)),
        "/api/rawdata" => Answer::json(StatusCode::OK, &model::rawdata(view)),
        "/api/leftout" => Answer::json(StatusCode::OK, &Value::from(model::left_out(view))),
        "/api/reloads" => Answer::json(StatusCode::OK, &json!(view.context.reloads.recent())),
        "/api/acme" => Answer::json(StatusCode::OK, &crate::acme::live::global().status_json()),
        "/api/entrypoints" => list(model::entrypoints(statics)),
        "/api/http/routers" => list(model::routers(view)),
        "/api/http/services" => list(model::services(view)),
        "/api/http/middlewares" => list(model::middlewares(view)),
        "/api/tcp/routers" => list(tcp_model::routers(view)),
        "/api/tcp/services" => list(tcp_model::services(view)),
        "/api/tcp/middlewares" => list(tcp_model::middlewares(view)),
        "/api/udp/routers" | "/api/udp/services" => list(Vec::new()),
        _ => {
            if let Some(name) = rest.strip_prefix("/api/entrypoints/") {
                one(model::entrypoints(statics), "entry point", name)
            } else if let Some(name) = rest.strip_prefix("/api/http/routers/") {
                one(model::routers(view), "router", name)
            } else if let Some(name) = rest.strip_prefix("/api/http/services/") {
                one(model::services(view), "service", name)
            } else if let Some(name) = rest.strip_prefix("/api/http/middlewares/") {
                one(model::middlewares(view), "middleware", name)
            } else if let Some(name) = rest.strip_prefix("/api/tcp/routers/") {
                one(tcp_model::routers(view), "TCP router", name)
            } else if let Some(name) = rest.strip_prefix("/api/tcp/services/") {
                one(tcp_model::services(view), "TCP service", name)
            } else if let Some(name) = rest.strip_prefix("/api/tcp/middlewares/") {
                one(tcp_model::middlewares(view), "TCP middleware", name)
            } else {
                Answer::text(StatusCode::NOT_FOUND, "404 page not found\n")
            }
        }
    }
}
