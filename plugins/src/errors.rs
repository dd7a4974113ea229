//! The `errors` middleware: custom error pages fetched from a service when a response's status
//! matches. Its settings (Traefik's keys), their checks, and the pages built from them; the
//! host joins each to its service (`ErrorPages<S>`: `S` is the service, its name when built)
//! and fetches the pages.

use crate::build::{BuildCx, BuildResult, Problems};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Traefik's `errors`: when the response status is in `status`, the body is replaced by the
/// page `service` answers at `query` (`{status}`, `{originalStatus}` and `{url}` filled in);
/// the status sent stays the original one unless `statusRewrites` maps it.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    /// Codes and ranges: "500-599", "404".
    #[serde(default)]
    pub status: Vec<String>,
    /// The service answering the error pages (`name` or `name@provider`).
    pub service: Option<String>,
    /// The page's path and query; default "/".
    pub query: Option<String>,
    /// Status sent instead of the original: `"500-503" = 500`.
    #[serde(default)]
    pub status_rewrites: BTreeMap<String, i64>,
}

/// A compiled `errors` middleware; `service` is what answers the pages.
pub struct ErrorPages<S> {
    /// The middleware's name, for logs.
    pub name: String,
    statuses: Vec<(u16, u16)>,
    rewrites: Vec<((u16, u16), u16)>,
    query: String,
    pub service: S,
}

impl<S> std::fmt::Debug for ErrorPages<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ErrorPages")
            .field("name", &self.name)
            .field("statuses", &self.statuses)
            .field("query", &self.query)
            .finish()
    }
}

impl<S> ErrorPages<S> {
    /// The same pages, answered by `service` (named `name` in logs).
    pub fn with_service<T>(self, name: String, service: T) -> ErrorPages<T> {
        ErrorPages {
            name,
            statuses: self.statuses,
            rewrites: self.rewrites,
            query: self.query,
            service,
        }
    }

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
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Parses "404" or "500-599" into an inclusive range; `None` if it is neither.
pub fn parse_status_range(text: &str) -> Option<(u16, u16)> {
    let code = |s: &str| {
        s.trim()
            .parse::<u16>()
            .ok()
            .filter(|c| (100..=599).contains(c))
    };
    match text.split_once('-') {
        Some((lo, hi)) => {
            let (lo, hi) = (code(lo)?, code(hi)?);
            (lo <= hi).then_some((lo, hi))
        }
        None => code(text).map(|c| (c, c)),
    }
}

/// Checks the statuses, rewrites, service name and query, and builds the pages (answered by
/// the service of that name: whether it exists is the host's to check).
pub fn build(cfg: &Config, cx: &BuildCx) -> BuildResult<ErrorPages<String>> {
    let mut problems = Problems::new(cx, "errors");
    if cfg.status.is_empty() {
        problems.push(
            "status",
            "no status is listed, so no error page would ever be served",
            Some("list codes or ranges, e.g. status = [\"500-599\", \"404\"]".to_string()),
        );
    }
    let mut statuses = Vec::with_capacity(cfg.status.len());
    for (i, s) in cfg.status.iter().enumerate() {
        match parse_status_range(s) {
            Some(range) => statuses.push(range),
            None => problems.push(
                &format!("status[{i}]"),
                format!("`{s}` is not a status code or range"),
                Some("write a code (\"404\") or a range (\"500-599\") within 100-599".to_string()),
            ),
        }
    }
    let mut rewrites = Vec::with_capacity(cfg.status_rewrites.len());
    for (range, to) in &cfg.status_rewrites {
        let field = format!("statusRewrites.{range}");
        let parsed = parse_status_range(range);
        if parsed.is_none() {
            problems.push(
                &field,
                format!("`{range}` is not a status code or range"),
                Some("write e.g. \"500-503\" = 500".to_string()),
            );
        }
        let code = u16::try_from(*to).ok().filter(|c| (100..=599).contains(c));
        if code.is_none() {
            problems.push(
                &field,
                format!("{to} is not an HTTP status code"),
                Some("use a code between 100 and 599".to_string()),
            );
        }
        if let (Some(range), Some(code)) = (parsed, code) {
            rewrites.push((range, code));
        }
    }
    let service = cfg.service.clone().filter(|s| !s.is_empty());
    if service.is_none() {
        problems.push(
            "service",
            "no service is named to answer the error pages",
            Some("set service = \"<a service of http.services>\"".to_string()),
        );
    }
    if let Some(q) = cfg.query.as_deref().filter(|q| !q.starts_with('/')) {
        problems.push(
            "query",
            format!("`{q}` is not a path"),
            Some("start it with `/`, e.g. query = \"/{status}.html\"".to_string()),
        );
    }
    problems.finish(|| ErrorPages {
        name: cx.name.to_string(),
        statuses,
        rewrites,
        query: cfg.query.clone().unwrap_or_else(|| "/".to_string()),
        service: service.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pages(query: &str) -> ErrorPages<String> {
        let cfg: Config = toml::from_str(&format!(
            "status = [\"500-599\", \"404\"]\nservice = \"pages\"\nquery = \"{query}\"\n\
             [statusRewrites]\n\"502-504\" = 503\n"
        ))
        .unwrap();
        build(&cfg, &crate::build::test_cx()).unwrap()
    }

    #[test]
    fn statuses_rewrites_and_the_page_path() {
        let p = pages("/{status}.html?from={originalStatus}&url={url}");
        assert_eq!(p.service, "pages");
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
    fn bad_settings_name_their_keys() {
        let cfg: Config =
            toml::from_str("status = [\"5xx\"]\nquery = \"x\"\n[statusRewrites]\n\"a\" = 700\n")
                .unwrap();
        let keys: Vec<_> = build(&cfg, &crate::build::test_cx())
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.key_path)
            .collect();
        let key = "http.middlewares.m.errors";
        assert_eq!(
            keys,
            [
                format!("{key}.status[0]"),
                format!("{key}.statusRewrites.a"),
                format!("{key}.statusRewrites.a"),
                format!("{key}.service"),
                format!("{key}.query"),
            ]
        );
        assert!(toml::from_str::<Config>("statuses = []").is_err());
    }

    #[test]
    fn status_ranges() {
        assert_eq!(parse_status_range("404"), Some((404, 404)));
        assert_eq!(parse_status_range("500-599"), Some((500, 599)));
        assert_eq!(parse_status_range(" 500 - 502 "), Some((500, 502)));
        assert_eq!(parse_status_range("599-500"), None);
        assert_eq!(parse_status_range("5xx"), None);
        assert_eq!(parse_status_range("700"), None);
    }
}
