//! Checks `errors`: status ranges parse, the service is named and exists, the query is a path.

use super::{exists, names, Collector};
use crate::config::dynamic::DynamicConfig;
use crate::config::middlewares::errors::{parse_status_range, ErrorsConfig};

pub(super) fn validate(
    base: &str,
    cfg: Option<&ErrorsConfig>,
    dynamic: &DynamicConfig,
    c: &mut Collector<'_>,
) {
    let Some(cfg) = cfg else { return };
    let key = format!("{base}.errors");
    if cfg.status.is_empty() {
        c.push(
            format!("{key}.status"),
            "no status is listed, so no error page would ever be served",
            Some("list codes or ranges, e.g. status = [\"500-599\", \"404\"]".to_string()),
        );
    }
    for (i, s) in cfg.status.iter().enumerate() {
        if parse_status_range(s).is_none() {
            c.push(
                format!("{key}.status[{i}]"),
                format!("`{s}` is not a status code or range"),
                Some("write a code (\"404\") or a range (\"500-599\") within 100-599".to_string()),
            );
        }
    }
    for (range, to) in &cfg.status_rewrites {
        if parse_status_range(range).is_none() {
            c.push(
                format!("{key}.statusRewrites.{range}"),
                format!("`{range}` is not a status code or range"),
                Some("write e.g. \"500-503\" = 500".to_string()),
            );
        }
        if !(100..=599).contains(to) {
            c.push(
                format!("{key}.statusRewrites.{range}"),
                format!("{to} is not an HTTP status code"),
                Some("use a code between 100 and 599".to_string()),
            );
        }
    }
    match cfg.service.as_deref() {
        None | Some("") => c.push(
            format!("{key}.service"),
            "no service is named to answer the error pages",
            Some("set service = \"<a service of http.services>\"".to_string()),
        ),
        Some(s) if !exists(&dynamic.http.services, s) => c.push(
            format!("{key}.service"),
            format!("service `{s}` does not exist"),
            Some(format!(
                "define [http.services.{s}] or use one of {}",
                names(dynamic.http.services.keys())
            )),
        ),
        Some(_) => {}
    }
    if let Some(q) = cfg.query.as_deref().filter(|q| !q.starts_with('/')) {
        c.push(
            format!("{key}.query"),
            format!("`{q}` is not a path"),
            Some("start it with `/`, e.g. query = \"/{status}.html\"".to_string()),
        );
    }
}
