//! Builds the `headers` plugin while checking its settings: every header name, value, joined
//! list and origin regex is made here once (so requests never read the config), and every
//! problem is reported at its key.

use super::config::Config;
use super::{Cors, HeaderEdit, Headers, Secure};
use crate::build::{BuildCx, BuildResult, Problems};
use http::{header, HeaderName, HeaderValue};
use regex::RegexSet;
use std::collections::BTreeMap;

/// Checks every setting and builds the plugin.
pub fn build(cfg: &Config, cx: &BuildCx) -> BuildResult<Headers> {
    let mut problems = Problems::new(cx, "headers");
    for (key, instead) in cfg.ignored_deprecated() {
        log::warn!(
            "{}.{key} has no effect (deprecated in Traefik): use {instead}",
            problems.key()
        );
    }
    if cfg.feature_policy.is_some() {
        log::warn!(
            "{}.featurePolicy is deprecated in Traefik: use permissionsPolicy",
            problems.key()
        );
    }
    if !cfg.has_custom() && !cfg.has_cors() && !cfg.has_secure() {
        problems.push(
            "",
            "no header option is set (Traefik refuses such a headers middleware too)",
            Some(
                "set e.g. customResponseHeaders, accessControlAllowOriginList or frameDeny".into(),
            ),
        );
    }
    let mut request = edits(
        "customRequestHeaders",
        &cfg.custom_request_headers,
        &mut problems,
    );
    // Deleting `Host` does nothing in Traefik (Go keeps `Request.Host`): keep it.
    request.retain(|e| !matches!(e, HeaderEdit::Remove(n) if n == header::HOST));
    let response = edits(
        "customResponseHeaders",
        &cfg.custom_response_headers,
        &mut problems,
    );
    let cors = cors(cfg, &mut problems);
    let secure = secure(cfg, &mut problems);
    problems.finish(|| Headers {
        request,
        response,
        cors: cfg.has_cors().then_some(cors),
        secure: cfg.has_secure().then_some(secure),
    })
}

fn name(field: &str, n: &str, problems: &mut Problems) -> Option<HeaderName> {
    let parsed = HeaderName::from_bytes(n.as_bytes()).ok();
    if parsed.is_none() {
        problems.push(field, format!("`{n}` is not a header name"), None);
    }
    parsed
}

fn value(field: &str, v: &str, problems: &mut Problems) -> Option<HeaderValue> {
    let parsed = HeaderValue::from_str(v).ok();
    if parsed.is_none() {
        problems.push(field, format!("{v:?} cannot be sent in a header"), None);
    }
    parsed
}

/// Each entry checked at `field[i]`, then the list joined with `,` as Traefik sends it.
fn joined(field: &str, list: &[String], problems: &mut Problems) -> Option<HeaderValue> {
    let mut all_valid = true;
    for (i, v) in list.iter().enumerate() {
        all_valid &= value(&format!("{field}[{i}]"), v, problems).is_some();
    }
    if list.is_empty() || !all_valid {
        return None;
    }
    HeaderValue::from_str(&list.join(",")).ok()
}

/// A map of headers to set (an empty value removes the header), each at `field.<name>`.
fn edits(field: &str, map: &BTreeMap<String, String>, problems: &mut Problems) -> Vec<HeaderEdit> {
    let mut out = Vec::with_capacity(map.len());
    for (n, v) in map {
        let key = format!("{field}.{n}");
        let Some(n) = name(&key, n, problems) else {
            continue;
        };
        match v.is_empty() {
            true => out.push(HeaderEdit::Remove(n)),
            false => out.extend(value(&key, v, problems).map(|v| HeaderEdit::Set(n, v))),
        }
    }
    out
}

/// The origin regexes as one set; on an error, each regex is compiled alone to name it.
fn origin_regexes(regexes: &[String], problems: &mut Problems) -> Option<RegexSet> {
    if regexes.is_empty() {
        return None;
    }
    match RegexSet::new(regexes) {
        Ok(set) => Some(set),
        Err(_) => {
            for (i, re) in regexes.iter().enumerate() {
                if let Err(e) = regex::Regex::new(re) {
                    problems.push(
                        &format!("accessControlAllowOriginListRegex[{i}]"),
                        format!("`{re}` is not a valid regular expression: {e}"),
                        None,
                    );
                }
            }
            None
        }
    }
}

fn cors(cfg: &Config, problems: &mut Problems) -> Cors {
    let allow_origins = cfg
        .access_control_allow_origin_list
        .iter()
        .enumerate()
        .filter_map(|(i, o)| value(&format!("accessControlAllowOriginList[{i}]"), o, problems))
        .collect();
    Cors {
        allow_origins,
        allow_origin_regexes: origin_regexes(&cfg.access_control_allow_origin_list_regex, problems),
        allow_credentials: cfg.access_control_allow_credentials == Some(true),
        allow_headers: joined(
            "accessControlAllowHeaders",
            &cfg.access_control_allow_headers,
            problems,
        ),
        allow_methods: joined(
            "accessControlAllowMethods",
            &cfg.access_control_allow_methods,
            problems,
        ),
        expose_headers: joined(
            "accessControlExposeHeaders",
            &cfg.access_control_expose_headers,
            problems,
        ),
        max_age: HeaderValue::from(cfg.access_control_max_age.unwrap_or(0)),
        add_vary_header: cfg.add_vary_header == Some(true),
    }
}

fn secure(cfg: &Config, problems: &mut Problems) -> Secure {
    let dev = cfg.is_development == Some(true);
    let on = |b: Option<bool>| b == Some(true);
    // Every text setting is checked, whether or not it ends up sent.
    let mut text = |field: &str, v: &Option<String>| {
        v.as_deref()
            .and_then(|v| value(field, v, problems))
            .filter(|v| !v.is_empty())
    };
    let frame = text("customFrameOptionsValue", &cfg.custom_frame_options_value)
        .or(on(cfg.frame_deny).then_some(HeaderValue::from_static("DENY")));
    let nosniff = on(cfg.content_type_nosniff).then_some(HeaderValue::from_static("nosniff"));
    let xss = text("customBrowserXSSValue", &cfg.custom_browser_xss_value)
        .or(on(cfg.browser_xss_filter).then_some(HeaderValue::from_static("1; mode=block")));
    let csp = text("contentSecurityPolicy", &cfg.content_security_policy);
    let csp_ro = text(
        "contentSecurityPolicyReportOnly",
        &cfg.content_security_policy_report_only,
    );
    let public_key = text("publicKey", &cfg.public_key).filter(|_| !dev);
    let referrer = text("referrerPolicy", &cfg.referrer_policy);
    let permissions = text("permissionsPolicy", &cfg.permissions_policy);
    let feature = text("featurePolicy", &cfg.feature_policy);
    let always = [
        (header::X_FRAME_OPTIONS, frame),
        (header::X_CONTENT_TYPE_OPTIONS, nosniff),
        (header::X_XSS_PROTECTION, xss),
        (header::CONTENT_SECURITY_POLICY, csp),
        (header::CONTENT_SECURITY_POLICY_REPORT_ONLY, csp_ro),
        (header::REFERRER_POLICY, referrer),
        (HeaderName::from_static("permissions-policy"), permissions),
        (HeaderName::from_static("feature-policy"), feature),
    ]
    .into_iter()
    .filter_map(|(name, value)| Some((name, value?)))
    .collect();
    let sts_seconds = cfg.sts_seconds.unwrap_or(0);
    if sts_seconds < 0 {
        problems.push(
            "stsSeconds",
            "must be 0 or more",
            Some("e.g. stsSeconds = 31536000 (one year)".into()),
        );
    }
    let hosts_proxy_headers = cfg
        .hosts_proxy_headers
        .iter()
        .enumerate()
        .filter_map(|(i, h)| name(&format!("hostsProxyHeaders[{i}]"), h, problems))
        .collect();
    let mut ssl_proxy_headers = Vec::with_capacity(cfg.ssl_proxy_headers.len());
    for (n, v) in &cfg.ssl_proxy_headers {
        let key = format!("sslProxyHeaders.{n}");
        if let Some(n) = name(&key, n, problems) {
            ssl_proxy_headers.extend(value(&key, v, problems).map(|v| (n, v)));
        }
    }
    Secure {
        allowed_hosts: cfg.allowed_hosts.clone(),
        hosts_proxy_headers,
        ssl_proxy_headers,
        sts: Secure::sts_value(
            sts_seconds.max(0),
            on(cfg.sts_include_subdomains),
            on(cfg.sts_preload),
            dev,
        ),
        force_sts: on(cfg.force_sts_header),
        public_key,
        always,
        is_development: dev,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn built(cfg: &Config) -> BuildResult<Headers> {
        build(cfg, &crate::build::test_cx())
    }

    #[test]
    fn precomputes_traefik_values() {
        let cfg = Config {
            frame_deny: Some(true),
            browser_xss_filter: Some(true),
            custom_browser_xss_value: Some("0".into()),
            content_type_nosniff: Some(true),
            sts_seconds: Some(60),
            sts_preload: Some(true),
            access_control_allow_methods: vec!["GET".into(), "PUT".into()],
            access_control_max_age: Some(100),
            custom_request_headers: BTreeMap::from([
                ("X-A".to_string(), "1".to_string()),
                ("Host".to_string(), String::new()),
                ("X-Gone".to_string(), String::new()),
            ]),
            ..Config::default()
        };
        let h = built(&cfg).unwrap();
        let s = h.secure.unwrap();
        let get = |n: HeaderName| {
            s.always
                .iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(get(header::X_FRAME_OPTIONS).unwrap(), "DENY");
        assert_eq!(
            get(header::X_XSS_PROTECTION).unwrap(),
            "0",
            "custom value wins"
        );
        assert_eq!(get(header::X_CONTENT_TYPE_OPTIONS).unwrap(), "nosniff");
        assert_eq!(s.sts.unwrap(), "max-age=60; preload");
        let cors = h.cors.unwrap();
        assert_eq!(cors.allow_methods.unwrap(), "GET,PUT");
        assert_eq!(cors.max_age, "100");
        assert_eq!(h.request.len(), 2, "removing Host is dropped");
        assert!(matches!(&h.request[1], HeaderEdit::Remove(n) if n == "x-gone"));
    }

    #[test]
    fn an_empty_headers_middleware_is_refused() {
        let e = built(&Config::default()).err().unwrap();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].key_path, "http.middlewares.m.headers");
        assert!(e[0].message.starts_with("no header option is set"));
    }

    #[test]
    fn bad_names_values_regexes_and_sts_are_reported_with_their_keys() {
        let cfg = Config {
            custom_request_headers: BTreeMap::from([("Bad Name".into(), "x".into())]),
            custom_response_headers: BTreeMap::from([("X-Ok".into(), "a\nb".into())]),
            access_control_allow_origin_list_regex: vec!["(".into()],
            sts_seconds: Some(-1),
            referrer_policy: Some("x\u{7}".into()),
            ..Config::default()
        };
        let e: Vec<String> = built(&cfg)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| format!("{}: {}", e.key_path, e.message))
            .collect();
        let e = e.join("\n");
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

    #[test]
    fn development_drops_sts_and_hpkp() {
        let cfg = Config {
            sts_seconds: Some(60),
            public_key: Some("pin".into()),
            is_development: Some(true),
            ..Config::default()
        };
        let s = built(&cfg).unwrap().secure.unwrap();
        assert!(s.sts.is_none() && s.public_key.is_none());
    }
}
