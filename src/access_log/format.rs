//! The two line formats: Traefik's Common Log Format and its JSON field names.

use super::entry::Entry;
use super::time;
use super::AccessLog;
use crate::config::observability::FieldMode;
use std::fmt::Write;

/// `<client> - <user> [<time>] "<method> <path> <proto>" <status> <size> "<referer>" "<agent>"
/// <count> "<router>" "<server url>" <duration>ms` (Traefik's CLF layout).
pub fn common(e: &Entry<'_>) -> String {
    let mut line = String::with_capacity(256);
    let _ = writeln!(
        line,
        "{} - {} [{}] \"{} {} {}\" {} {} \"{}\" \"{}\" {} \"{}\" \"{}\" {}ms",
        e.client_ip,
        e.user.unwrap_or("-"),
        time::clf(e.start),
        e.method,
        e.path,
        e.protocol,
        e.status,
        e.size,
        quoted(e.header("referer")),
        quoted(e.header("user-agent")),
        e.count,
        e.router.unwrap_or("-"),
        e.service_url.unwrap_or("-"),
        e.duration.as_millis()
    );
    line
}

/// CLF values inside quotes: `"` and control characters escaped.
fn quoted(value: &str) -> String {
    value
        .chars()
        .flat_map(|c| match c {
            '"' => vec!['\\', '"'],
            '\\' => vec!['\\', '\\'],
            c if c.is_control() => vec!['?'],
            c => vec![c],
        })
        .collect()
}

/// One JSON object with Traefik's field names; request headers as `request_<Name>` kept,
/// dropped or redacted per `fields.headers`.
pub fn json(e: &Entry<'_>, log: &AccessLog) -> String {
    let mut o = serde_json::Map::new();
    let mut put = |k: &str, v: serde_json::Value| {
        o.insert(k.to_string(), v);
    };
    put(
        "ClientAddr",
        format!("{}:{}", e.client_ip, e.client_port).into(),
    );
    put("ClientHost", e.client_ip.to_string().into());
    put("ClientPort", e.client_port.to_string().into());
    put("ClientUsername", e.user.unwrap_or("-").into());
    put("StartUTC", time::rfc3339(e.start).into());
    put("RequestMethod", e.method.into());
    put("RequestPath", e.path.into());
    put("RequestProtocol", e.protocol.into());
    put("RequestHost", e.host.into());
    put("DownstreamStatus", e.status.into());
    put("DownstreamContentSize", e.size.into());
    put("Duration", (e.duration.as_nanos() as u64).into());
    put("RetryAttempts", e.retries.into());
    put("RequestCount", e.count.into());
    put("entryPointName", e.entrypoint.into());
    if let Some(r) = e.router {
        put("RouterName", r.into());
    }
    if let Some(s) = e.service {
        put("ServiceName", s.into());
    }
    if let Some(u) = e.service_url {
        put("ServiceURL", u.into());
    }
    for (name, value) in e.request_headers {
        let key = format!("request_{}", canonical(name.as_str()));
        match log.header_mode(name.as_str()) {
            FieldMode::Drop => {}
            FieldMode::Redact => put(&key, "REDACTED".into()),
            FieldMode::Keep => put(&key, String::from_utf8_lossy(value.as_bytes()).into()),
        }
    }
    let mut line = serde_json::Value::Object(o).to_string();
    line.push('\n');
    line
}

/// `user-agent` → `User-Agent` (Go's canonical header form, as Traefik prints it).
fn canonical(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut c = part.chars();
            match c.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderMap;
    use std::time::{Duration, UNIX_EPOCH};

    fn entry(headers: &HeaderMap) -> Entry<'_> {
        Entry {
            client_ip: "10.0.0.1".parse().expect("ip"),
            client_port: 5555,
            user: None,
            start: UNIX_EPOCH + Duration::from_secs(1_795_344_562),
            method: "GET",
            path: "/a?b=1",
            protocol: "HTTP/1.1",
            host: "example.com",
            status: 200,
            size: 42,
            request_headers: headers,
            entrypoint: "web",
            router: Some("r@file"),
            service: Some("s@file"),
            service_url: Some("http://127.0.0.1:8081"),
            duration: Duration::from_millis(7),
            retries: 0,
            count: 3,
        }
    }

    #[test]
    fn common_log_format_as_traefik() {
        let mut h = HeaderMap::new();
        h.insert("user-agent", "curl/8".parse().expect("v"));
        assert_eq!(
            common(&entry(&h)),
            "10.0.0.1 - - [22/Nov/2026:10:49:22 +0000] \"GET /a?b=1 HTTP/1.1\" 200 42 \"-\" \"curl/8\" 3 \"r@file\" \"http://127.0.0.1:8081\" 7ms\n"
        );
    }

    #[test]
    fn quotes_in_values_are_escaped() {
        let mut h = HeaderMap::new();
        h.insert("user-agent", "a\"b".parse().expect("v"));
        assert!(common(&entry(&h)).contains("\"a\\\"b\""));
    }

    #[test]
    fn canonical_header_names() {
        assert_eq!(canonical("user-agent"), "User-Agent");
        assert_eq!(canonical("x-request-id"), "X-Request-Id");
    }
}
