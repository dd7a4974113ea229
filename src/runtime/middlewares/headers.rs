//! Builds the `headers` plugin: every header name, value, joined list and origin regex is
//! made here once, so requests never read the config.

use super::Built;
use crate::config::middlewares::headers::HeadersConfig;
use crate::runtime::compile::CompileError;
use http::{header, HeaderName, HeaderValue};
use pylon_plugins::headers::{Cors, HeaderEdit, Headers, Secure};
use regex::RegexSet;
use std::collections::BTreeMap;
use std::sync::Arc;

type Fail = (String, String);

pub fn build(name: &str, cfg: &HeadersConfig) -> Result<Built, CompileError> {
    let base = format!("http.middlewares.{name}.headers");
    for (key, instead) in cfg.ignored_deprecated() {
        log::warn!("{base}.{key} has no effect (deprecated in Traefik): use {instead}");
    }
    if cfg.feature_policy.is_some() {
        log::warn!("{base}.featurePolicy is deprecated in Traefik: use permissionsPolicy");
    }
    plan(cfg)
        .map(|h| Built::Plugin(Arc::new(h)) as Built)
        .map_err(|(field, message)| CompileError {
            key_path: format!("{base}.{field}"),
            message,
        })
}

/// The plugin for `cfg`; errors are (field, message).
fn plan(cfg: &HeadersConfig) -> Result<Headers, Fail> {
    let mut request = edits("customRequestHeaders", &cfg.custom_request_headers)?;
    // Deleting `Host` does nothing in Traefik (Go keeps `Request.Host`): keep it.
    request.retain(|e| !matches!(e, HeaderEdit::Remove(n) if n == header::HOST));
    Ok(Headers {
        request,
        response: edits("customResponseHeaders", &cfg.custom_response_headers)?,
        cors: if cfg.has_cors() {
            Some(cors(cfg)?)
        } else {
            None
        },
        secure: if cfg.has_secure() {
            Some(secure(cfg)?)
        } else {
            None
        },
    })
}

fn name(field: &str, n: &str) -> Result<HeaderName, Fail> {
    HeaderName::from_bytes(n.as_bytes())
        .map_err(|_| (field.to_string(), format!("`{n}` is not a header name")))
}

fn value(field: &str, v: &str) -> Result<HeaderValue, Fail> {
    HeaderValue::from_str(v).map_err(|_| {
        (
            field.to_string(),
            format!("{v:?} cannot be sent in a header"),
        )
    })
}

/// A list joined with `,` as Traefik sends it; `None` when empty.
fn joined(field: &str, list: &[String]) -> Result<Option<HeaderValue>, Fail> {
    match list.is_empty() {
        true => Ok(None),
        false => value(field, &list.join(",")).map(Some),
    }
}

fn edits(field: &str, map: &BTreeMap<String, String>) -> Result<Vec<HeaderEdit>, Fail> {
    map.iter()
        .map(|(n, v)| {
            let key = format!("{field}.{n}");
            let n = name(&key, n)?;
            Ok(match v.is_empty() {
                true => HeaderEdit::Remove(n),
                false => HeaderEdit::Set(n, value(&key, v)?),
            })
        })
        .collect()
}

fn cors(cfg: &HeadersConfig) -> Result<Cors, Fail> {
    let origins = &cfg.access_control_allow_origin_list;
    let regexes = &cfg.access_control_allow_origin_list_regex;
    Ok(Cors {
        allow_origins: origins
            .iter()
            .map(|o| value("accessControlAllowOriginList", o))
            .collect::<Result<_, _>>()?,
        allow_origin_regexes: match regexes.is_empty() {
            true => None,
            false => Some(RegexSet::new(regexes).map_err(|e| {
                let field = "accessControlAllowOriginListRegex".to_string();
                (field, format!("not a valid regular expression: {e}"))
            })?),
        },
        allow_credentials: cfg.access_control_allow_credentials == Some(true),
        allow_headers: joined(
            "accessControlAllowHeaders",
            &cfg.access_control_allow_headers,
        )?,
        allow_methods: joined(
            "accessControlAllowMethods",
            &cfg.access_control_allow_methods,
        )?,
        expose_headers: joined(
            "accessControlExposeHeaders",
            &cfg.access_control_expose_headers,
        )?,
        max_age: HeaderValue::from(cfg.access_control_max_age.unwrap_or(0)),
        add_vary_header: cfg.add_vary_header == Some(true),
    })
}

fn secure(cfg: &HeadersConfig) -> Result<Secure, Fail> {
    let dev = cfg.is_development == Some(true);
    let on = |b: Option<bool>| b == Some(true);
    let mut always = Vec::new();
    let mut add = |h: HeaderName, field: &str, v: Option<&str>| -> Result<(), Fail> {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            always.push((h, value(field, v)?));
        }
        Ok(())
    };
    let frame = cfg
        .custom_frame_options_value
        .as_deref()
        .filter(|v| !v.is_empty())
        .or(on(cfg.frame_deny).then_some("DENY"));
    add(header::X_FRAME_OPTIONS, "customFrameOptionsValue", frame)?;
    let nosniff = on(cfg.content_type_nosniff).then_some("nosniff");
    add(
        header::X_CONTENT_TYPE_OPTIONS,
        "contentTypeNosniff",
        nosniff,
    )?;
    let xss = cfg
        .custom_browser_xss_value
        .as_deref()
        .filter(|v| !v.is_empty())
        .or(on(cfg.browser_xss_filter).then_some("1; mode=block"));
    add(header::X_XSS_PROTECTION, "customBrowserXSSValue", xss)?;
    let csp = cfg.content_security_policy.as_deref();
    add(
        header::CONTENT_SECURITY_POLICY,
        "contentSecurityPolicy",
        csp,
    )?;
    let csp_ro = cfg.content_security_policy_report_only.as_deref();
    let csp_ro_name = header::CONTENT_SECURITY_POLICY_REPORT_ONLY;
    add(csp_ro_name, "contentSecurityPolicyReportOnly", csp_ro)?;
    let referrer = cfg.referrer_policy.as_deref();
    add(header::REFERRER_POLICY, "referrerPolicy", referrer)?;
    let permissions = cfg.permissions_policy.as_deref();
    let permissions_name = HeaderName::from_static("permissions-policy");
    add(permissions_name, "permissionsPolicy", permissions)?;
    let feature = cfg.feature_policy.as_deref();
    add(
        HeaderName::from_static("feature-policy"),
        "featurePolicy",
        feature,
    )?;

    let sts_seconds = cfg.sts_seconds.unwrap_or(0);
    if sts_seconds < 0 {
        return Err(("stsSeconds".into(), "must be 0 or more".into()));
    }
    let public_key = match cfg.public_key.as_deref().filter(|k| !k.is_empty() && !dev) {
        Some(k) => Some(value("publicKey", k)?),
        None => None,
    };
    Ok(Secure {
        allowed_hosts: cfg.allowed_hosts.clone(),
        hosts_proxy_headers: cfg
            .hosts_proxy_headers
            .iter()
            .map(|h| name("hostsProxyHeaders", h))
            .collect::<Result<_, _>>()?,
        ssl_proxy_headers: cfg
            .ssl_proxy_headers
            .iter()
            .map(|(n, v)| {
                let key = format!("sslProxyHeaders.{n}");
                Ok((name(&key, n)?, value(&key, v)?))
            })
            .collect::<Result<_, Fail>>()?,
        sts: Secure::sts_value(
            sts_seconds,
            on(cfg.sts_include_subdomains),
            on(cfg.sts_preload),
            dev,
        ),
        force_sts: on(cfg.force_sts_header),
        public_key,
        always,
        is_development: dev,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precomputes_traefik_values() {
        let cfg = HeadersConfig {
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
            ..HeadersConfig::default()
        };
        let h = plan(&cfg).unwrap();
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
    fn bad_values_name_their_field() {
        let cfg = HeadersConfig {
            access_control_allow_origin_list_regex: vec!["(".into()],
            ..HeadersConfig::default()
        };
        let (field, _) = plan(&cfg).unwrap_err();
        assert_eq!(field, "accessControlAllowOriginListRegex");
        let cfg = HeadersConfig {
            custom_response_headers: BTreeMap::from([("Bad Name".into(), "x".into())]),
            ..HeadersConfig::default()
        };
        assert_eq!(plan(&cfg).unwrap_err().0, "customResponseHeaders.Bad Name");
    }

    #[test]
    fn development_drops_sts_and_hpkp() {
        let cfg = HeadersConfig {
            sts_seconds: Some(60),
            public_key: Some("pin".into()),
            is_development: Some(true),
            ..HeadersConfig::default()
        };
        let s = plan(&cfg).unwrap().secure.unwrap();
        assert!(s.sts.is_none() && s.public_key.is_none());
    }
}
