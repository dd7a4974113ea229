//! Checks `headers`: at least one option is set, header names and values are valid, the
//! origin regexes compile and `stsSeconds` is not negative.

use super::Collector;
use crate::config::middlewares::headers::HeadersConfig;
use http::{HeaderName, HeaderValue};
use std::collections::BTreeMap;

pub(super) fn validate(base: &str, cfg: Option<&HeadersConfig>, c: &mut Collector<'_>) {
    let Some(cfg) = cfg else { return };
    let key = format!("{base}.headers");
    if !cfg.has_custom() && !cfg.has_cors() && !cfg.has_secure() {
        c.push(
            &key,
            "no header option is set (Traefik refuses such a headers middleware too)",
            Some(
                "set e.g. customResponseHeaders, accessControlAllowOriginList or frameDeny".into(),
            ),
        );
    }
    for (field, map) in [
        ("customRequestHeaders", &cfg.custom_request_headers),
        ("customResponseHeaders", &cfg.custom_response_headers),
        ("sslProxyHeaders", &cfg.ssl_proxy_headers),
    ] {
        check_map(&format!("{key}.{field}"), map, c);
    }
    for (field, list) in [
        (
            "accessControlAllowHeaders",
            &cfg.access_control_allow_headers,
        ),
        (
            "accessControlAllowMethods",
            &cfg.access_control_allow_methods,
        ),
        (
            "accessControlExposeHeaders",
            &cfg.access_control_expose_headers,
        ),
        (
            "accessControlAllowOriginList",
            &cfg.access_control_allow_origin_list,
        ),
    ] {
        for (i, v) in list.iter().enumerate() {
            if HeaderValue::from_str(v).is_err() {
                c.push(
                    format!("{key}.{field}[{i}]"),
                    format!("{v:?} cannot be sent in a header"),
                    None,
                );
            }
        }
    }
    for (i, h) in cfg.hosts_proxy_headers.iter().enumerate() {
        if HeaderName::from_bytes(h.as_bytes()).is_err() {
            c.push(
                format!("{key}.hostsProxyHeaders[{i}]"),
                format!("`{h}` is not a header name"),
                None,
            );
        }
    }
    for (i, re) in cfg
        .access_control_allow_origin_list_regex
        .iter()
        .enumerate()
    {
        if let Err(e) = regex::Regex::new(re) {
            c.push(
                format!("{key}.accessControlAllowOriginListRegex[{i}]"),
                format!("`{re}` is not a valid regular expression: {e}"),
                None,
            );
        }
    }
    if cfg.sts_seconds.is_some_and(|s| s < 0) {
        c.push(
            format!("{key}.stsSeconds"),
            "must be 0 or more",
            Some("e.g. stsSeconds = 31536000 (one year)".into()),
        );
    }
    for (field, value) in [
        ("customFrameOptionsValue", &cfg.custom_frame_options_value),
        ("customBrowserXSSValue", &cfg.custom_browser_xss_value),
        ("contentSecurityPolicy", &cfg.content_security_policy),
        (
            "contentSecurityPolicyReportOnly",
            &cfg.content_security_policy_report_only,
        ),
        ("publicKey", &cfg.public_key),
        ("referrerPolicy", &cfg.referrer_policy),
        ("permissionsPolicy", &cfg.permissions_policy),
        ("featurePolicy", &cfg.feature_policy),
    ] {
        if let Some(v) = value
            .as_deref()
            .filter(|v| HeaderValue::from_str(v).is_err())
        {
            c.push(
                format!("{key}.{field}"),
                format!("{v:?} cannot be sent in a header"),
                None,
            );
        }
    }
}

fn check_map(key: &str, map: &BTreeMap<String, String>, c: &mut Collector<'_>) {
    for (name, value) in map {
        if HeaderName::from_bytes(name.as_bytes()).is_err() {
            c.push(
                format!("{key}.{name}"),
                format!("`{name}` is not a header name"),
                None,
            );
        } else if HeaderValue::from_str(value).is_err() {
            c.push(
                format!("{key}.{name}"),
                format!("{value:?} cannot be sent in a header"),
                None,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(cfg: &HeadersConfig) -> Vec<String> {
        let mut c = Collector {
            origin: "t.toml",
            errors: Vec::new(),
        };
        validate("http.middlewares.h", Some(cfg), &mut c);
        c.errors.iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn an_empty_headers_middleware_is_refused() {
        let e = errors(&HeadersConfig::default());
        assert_eq!(e.len(), 1);
        assert!(e[0].contains("http.middlewares.h.headers: no header option is set"));
    }

    #[test]
    fn bad_names_values_regexes_and_sts_are_reported_with_their_keys() {
        let cfg = HeadersConfig {
            custom_request_headers: BTreeMap::from([("Bad Name".into(), "x".into())]),
            custom_response_headers: BTreeMap::from([("X-Ok".into(), "a\nb".into())]),
            access_control_allow_origin_list_regex: vec!["(".into()],
            sts_seconds: Some(-1),
            referrer_policy: Some("x\u{7}".into()),
            ..HeadersConfig::default()
        };
        let e = errors(&cfg).join("\n");
        for key in [
            "headers.customRequestHeaders.Bad Name:",
            "headers.customResponseHeaders.X-Ok:",
            "headers.accessControlAllowOriginListRegex[0]:",
            "headers.stsSeconds: must be 0 or more",
            "headers.referrerPolicy:",
        ] {
            assert!(e.contains(key), "{key} missing in:\n{e}");
        }
    }
}
