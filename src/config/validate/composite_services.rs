//! Validation of `mirroring` and `failover` services: their references, shares, limits and
//! statuses (cycles through any kind of service are checked in `services`).

use super::{exists, names, Collector};
use crate::config::dynamic::{DynamicConfig, FailoverConfig, MirroringConfig};
use crate::upstream::composite::MAX_MIRRORS;

/// The most of a request body pylon can send a second time (Pingora's replay buffer).
pub const MAX_REPLAYED_BODY: i64 = 64 * 1024;

/// A reference to another service at `key`.
fn check_reference(key: String, name: &str, d: &DynamicConfig, c: &mut Collector<'_>) {
    if name.is_empty() {
        c.push(
            key,
            "no service is named",
            Some("name a service of http.services".into()),
        );
    } else if !exists(&d.http.services, name) {
        c.push(
            key,
            format!("service `{name}` does not exist"),
            Some(format!("use one of: {}", names(d.http.services.keys()))),
        );
    }
}

pub(super) fn validate_mirroring(
    key: &str,
    m: &MirroringConfig,
    d: &DynamicConfig,
    c: &mut Collector<'_>,
) {
    check_reference(format!("{key}.service"), &m.service, d, c);
    for (i, mirror) in m.mirrors.iter().enumerate() {
        check_reference(format!("{key}.mirrors[{i}].name"), &mirror.name, d, c);
        if !(0..=100).contains(&mirror.percent) {
            c.push(
                format!("{key}.mirrors[{i}].percent"),
                format!("{} is not a percentage", mirror.percent),
                Some("write 0 to 100".into()),
            );
        }
    }
    if m.mirrors.len() > MAX_MIRRORS {
        c.push(
            format!("{key}.mirrors"),
            format!("{} mirrors: at most {MAX_MIRRORS}", m.mirrors.len()),
            None,
        );
    }
    if m.max_body_size.is_some_and(|n| n < -1) {
        c.push(
            format!("{key}.maxBodySize"),
            "is not a size",
            Some("write a size in bytes (-1: no limit; default 1048576)".into()),
        );
    }
}

pub(super) fn validate_failover(
    key: &str,
    f: &FailoverConfig,
    d: &DynamicConfig,
    c: &mut Collector<'_>,
) {
    check_reference(format!("{key}.service"), &f.service, d, c);
    check_reference(format!("{key}.fallback"), &f.fallback, d, c);
    let Some(errors) = &f.errors else {
        return;
    };
    for (i, text) in errors.status.iter().enumerate() {
        if pylon_plugins::errors::parse_status_range(text).is_none() {
            c.push(
                format!("{key}.errors.status[{i}]"),
                format!("`{text}` is not a status code or range"),
                Some("write e.g. \"500-599\" or \"429\"".into()),
            );
        }
    }
    if errors
        .max_request_body_bytes
        .is_some_and(|n| !(0..=MAX_REPLAYED_BODY).contains(&n))
    {
        c.push(
            format!("{key}.errors.maxRequestBodyBytes"),
            format!("pylon sends at most {MAX_REPLAYED_BODY} bytes of a body again (Pingora's replay buffer)"),
            Some(format!("write 0 to {MAX_REPLAYED_BODY} (the default); requests with larger bodies get the main service's answer")),
        );
    }
}
