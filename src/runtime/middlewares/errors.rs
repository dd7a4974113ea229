//! Builds the `errors` middleware: which statuses get a page, from which service and path.

use super::Built;
use crate::config::middlewares::errors::{parse_status_range, ErrorsConfig};
use crate::runtime::compile::CompileError;
use crate::runtime::services::local_name;
use crate::upstream::Balancer;
use std::collections::HashMap;
use std::sync::Arc;

/// A compiled `errors` middleware.
pub struct ErrorPages {
    /// `name@provider`, for logs.
    pub name: String,
    statuses: Vec<(u16, u16)>,
    rewrites: Vec<((u16, u16), u16)>,
    query: String,
    /// The service answering the pages.
    pub service: Balancer,
}

impl std::fmt::Debug for ErrorPages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ErrorPages")
            .field("name", &self.name)
            .field("statuses", &self.statuses)
            .field("query", &self.query)
            .finish()
    }
}

impl ErrorPages {
    /// Whether a response with `status` gets this middleware's page.
    pub fn applies(&self, status: u16) -> bool {
        self.statuses
            .iter()
            .any(|(lo, hi)| (*lo..=*hi).contains(&status))
    }

    /// The status sent with the page (`statusRewrites`, else the original).
    pub fn sent_status(&self, status: u16) -> u16 {
        self.rewrites
            .iter()
            .find(|((lo, hi), _)| (*lo..=*hi).contains(&status))
            .map_or(status, |(_, to)| *to)
    }

    /// The page's path: `query` with `{status}` (the status sent), `{originalStatus}` and
    /// `{url}` (the request's path and query, percent-encoded) filled in.
    pub fn path_for(&self, status: u16, url: &str) -> String {
        let sent = self.sent_status(status);
        self.query
            .replace("{status}", &sent.to_string())
            .replace("{originalStatus}", &status.to_string())
            .replace("{url}", &encode(url))
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn build(
    name: &str,
    cfg: &ErrorsConfig,
    services: &HashMap<String, Balancer>,
) -> Result<Built, CompileError> {
    let key = format!("http.middlewares.{name}.errors");
    let bad = |what: &str, message: String| CompileError {
        key_path: format!("{key}.{what}"),
        message,
    };
    let statuses = cfg
        .status
        .iter()
        .map(|s| {
            parse_status_range(s).ok_or_else(|| bad("status", format!("`{s}` is not a status")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut rewrites = Vec::new();
    for (range, to) in &cfg.status_rewrites {
        let r = parse_status_range(range)
            .ok_or_else(|| bad("statusRewrites", format!("`{range}` is not a status")))?;
        let to = u16::try_from(*to)
            .ok()
            .filter(|c| (100..=599).contains(c))
            .ok_or_else(|| bad("statusRewrites", format!("{to} is not a status")))?;
        rewrites.push((r, to));
    }
    let service_name = cfg.service.as_deref().unwrap_or("");
    let service = services
        .get(local_name(service_name))
        .cloned()
        .ok_or_else(|| {
            bad(
                "service",
                format!("service `{service_name}` does not exist"),
            )
        })?;
    Ok(Built::Errors(Arc::new(ErrorPages {
        name: crate::provider::namespace::display_name(name),
        statuses,
        rewrites,
        query: cfg.query.clone().unwrap_or_else(|| "/".to_string()),
        service,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pages(query: &str) -> ErrorPages {
        let cfg: ErrorsConfig = toml::from_str(&format!(
            "status = [\"500-599\", \"404\"]\nservice = \"pages\"\nquery = \"{query}\"\n\
             [statusRewrites]\n\"502-504\" = 503\n"
        ))
        .unwrap();
        let services = HashMap::from([("pages".to_string(), Balancer::empty("pages@file"))]);
        match build("oops", &cfg, &services).unwrap() {
            Built::Errors(p) => Arc::try_unwrap(p).unwrap(),
            _ => panic!("not an errors middleware"),
        }
    }

    #[test]
    fn statuses_rewrites_and_the_page_path() {
        let p = pages("/{status}.html?from={originalStatus}&url={url}");
        assert!(p.applies(404) && p.applies(500) && p.applies(599));
        assert!(!p.applies(403) && !p.applies(200));
        assert_eq!(p.sent_status(502), 503);
        assert_eq!(p.sent_status(500), 500);
        assert_eq!(
            p.path_for(504, "/a b?x=1"),
            "/503.html?from=504&url=%2Fa%20b%3Fx%3D1"
        );
    }

    #[test]
    fn a_missing_service_names_the_key() {
        let cfg: ErrorsConfig = toml::from_str("status = [\"500\"]\nservice = \"nope\"\n").unwrap();
        let e = build("oops", &cfg, &HashMap::new()).err().unwrap();
        assert_eq!(e.key_path, "http.middlewares.oops.errors.service");
    }
}
