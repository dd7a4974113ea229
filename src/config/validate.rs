//! Validation of a whole configuration: collects EVERY error, each with its key path and fix;
//! the middlewares are built while they are checked (`middlewares`), and come out of it.

use super::dynamic::DynamicConfig;
use super::error::{ConfigError, ConfigErrors};
use super::observability::is_status_filter;
use super::static_config::{parse_address, parse_level, parse_net, StaticConfig};
use crate::rule::ParsedRules;
use std::collections::BTreeMap;

mod chain;
mod composite_services;
pub mod middlewares;
mod not_yet;
mod services;
mod transport;
use middlewares::BuiltMiddlewares;
use services::validate_service;

/// Services every configuration has (Traefik's `@internal` services).
const INTERNAL_SERVICES: [&str; 5] = [
    "api@internal",
    "dashboard@internal",
    "noop@internal",
    "ping@internal",
    "prometheus@internal",
];

/// Traefik v3 reserves priorities above this for its internal routers.
const MAX_USER_PRIORITY: i64 = i64::MAX - 1000;

const TLS_VERSIONS: [&str; 4] = [
    "VersionTLS10",
    "VersionTLS11",
    "VersionTLS12",
    "VersionTLS13",
];

struct Collector<'a> {
    origin: &'a str,
    errors: Vec<ConfigError>,
}

impl Collector<'_> {
    fn push(&mut self, key: impl Into<String>, message: impl Into<String>, hint: Option<String>) {
        let mut e = ConfigError::new(self.origin, key, message);
        e.hint = hint;
        self.errors.push(e);
    }

    /// What a middleware's build gave, its problems collected.
    fn built<T>(&mut self, result: pylon_plugins::BuildResult<T>) -> Option<T> {
        match result {
            Ok(built) => Some(built),
            Err(problems) => {
                for p in problems {
                    self.push(p.key_path, p.message, p.hint);
                }
                None
            }
        }
    }
}

/// Whether `reference` (maybe `name@provider`) names an entry of `map` (the merged config:
/// the file provider's names are bare, other providers' carry their suffix).
fn exists<V>(map: &BTreeMap<String, V>, reference: &str) -> bool {
    map.contains_key(reference)
        || reference
            .strip_suffix("@file")
            .is_some_and(|name| map.contains_key(name))
}

fn names<'a>(it: impl Iterator<Item = &'a String>) -> String {
    let v: Vec<String> = it.map(|n| format!("`{n}`")).collect();
    if v.is_empty() {
        "(none defined)".to_string()
    } else {
        v.join(", ")
    }
}

/// The routers' rules of `dynamic`, each parsed once (validation and compilation share them).
pub fn parse_rules(dynamic: &DynamicConfig) -> ParsedRules {
    ParsedRules::parse_all(
        dynamic
            .http
            .routers
            .iter()
            .map(|(name, r)| (name, r.rule.as_str())),
    )
}

/// Checks the static and dynamic configuration together; `Ok` only when nothing is wrong.
pub fn validate(
    static_cfg: &StaticConfig,
    dynamic: &DynamicConfig,
    origin: &str,
) -> Result<(), ConfigErrors> {
    validate_with_rules(static_cfg, dynamic, &parse_rules(dynamic), origin).map(|_| ())
}

/// [`validate`] with the rules already parsed (see [`parse_rules`]); gives the middlewares,
/// built while they were checked.
pub fn validate_with_rules(
    static_cfg: &StaticConfig,
    dynamic: &DynamicConfig,
    rules: &ParsedRules,
    origin: &str,
) -> Result<BuiltMiddlewares, ConfigErrors> {
    let mut c = Collector {
        origin,
        errors: Vec::new(),
    };
    validate_static(static_cfg, dynamic, &mut c);
    not_yet::validate_static(static_cfg, &mut c);
    not_yet::validate_dynamic(dynamic, &mut c);
    c.errors
        .extend(super::acme::validate(static_cfg, dynamic, origin));
    validate_routers(static_cfg, dynamic, rules, &mut c);
    let middlewares = middlewares::build_all(dynamic, &mut c);
    chain::validate(dynamic, &mut c);
    for (name, svc) in &dynamic.http.services {
        validate_service(name, svc, dynamic, &mut c);
    }
    validate_tls(dynamic, &mut c);
    if c.errors.is_empty() {
        Ok(middlewares)
    } else {
        Err(ConfigErrors(c.errors))
    }
}

fn validate_static(s: &StaticConfig, d: &DynamicConfig, c: &mut Collector<'_>) {
    if let Some(roots) = s
        .servers_transport
        .as_ref()
        .and_then(|t| t.root_cas.as_deref())
    {
        if let Err(e) = crate::upstream::tls::build(None, roots, &[]) {
            c.push(
                format!("serversTransport.{}", e.key),
                e.message,
                Some("point it at a readable PEM CA certificate (or write the PEM itself)".into()),
            );
        }
    }
    let dns_servers = s
        .servers_transport
        .as_ref()
        .and_then(|t| t.dns.as_ref())
        .and_then(|d| d.servers.as_ref());
    for (i, value) in dns_servers.into_iter().flatten().enumerate() {
        if let Err(e) = crate::config::static_config::UpstreamDns::parse_server(value) {
            c.push(
                format!("serversTransport.dns.servers[{i}]"),
                e,
                Some("write `ip:port`, e.g. \"127.0.0.1:53\" or \"[::1]:53\"; leave `servers` out for the system's resolvers".into()),
            );
        }
    }
    if s.entry_points.is_empty() {
        c.push(
            "entryPoints",
            "no entry point is defined",
            Some("add e.g. `[entryPoints.web] address = \":8000\"`".into()),
        );
    }
    let entry_point_names = || names(s.entry_points.keys());
    for (name, ep) in &s.entry_points {
        let base = format!("entryPoints.{name}");
        if let Err(e) = parse_address(&ep.address) {
            c.push(format!("{base}.address"), e, None);
        }
        let http = ep.http.as_ref();
        if let Some(r) = http
            .and_then(|h| h.redirections.as_ref())
            .and_then(|r| r.entry_point.as_ref())
        {
            let key = format!("{base}.http.redirections.entryPoint");
            if !s.entry_points.contains_key(&r.to) {
                c.push(
                    format!("{key}.to"),
                    format!("entry point `{}` does not exist", r.to),
                    Some(format!("use one of: {}", entry_point_names())),
                );
            } else if &r.to == name {
                c.push(
                    format!("{key}.to"),
                    "an entry point cannot redirect to itself",
                    None,
                );
            }
            if let Some(scheme) = r
                .scheme
                .as_deref()
                .filter(|s| !matches!(*s, "http" | "https"))
            {
                c.push(
                    format!("{key}.scheme"),
                    format!("`{scheme}` is not a scheme pylon redirects to"),
                    Some("use \"https\" or \"http\"".into()),
                );
            }
        }
        if let Some(options) = http
            .and_then(|h| h.tls.as_ref())
            .and_then(|t| t.options.as_deref())
        {
            check_tls_options(&format!("{base}.http.tls.options"), options, d, c);
        }
        if let Some(pp) = &ep.proxy_protocol {
            for (i, ip) in pp.trusted_ips.iter().enumerate() {
                if let Err(e) = parse_net(ip) {
                    c.push(format!("{base}.proxyProtocol.trustedIPs[{i}]"), e, None);
                }
            }
            if pp.trusted_ips.is_empty() && !pp.insecure {
                c.push(
                    format!("{base}.proxyProtocol.trustedIPs"),
                    "no peer may send a PROXY header: the section would do nothing",
                    Some("list the load balancers' addresses, e.g. trustedIPs = [\"10.0.0.0/8\"], or set insecure = true".into()),
                );
            }
        }
        if let Some(fh) = &ep.forwarded_headers {
            for (i, ip) in fh.trusted_ips.iter().enumerate() {
                if let Err(e) = parse_net(ip) {
                    c.push(format!("{base}.forwardedHeaders.trustedIPs[{i}]"), e, None);
                }
            }
        }
        transport::validate(&base, ep.transport.as_ref(), c);
        if http.and_then(|h| h.max_header_bytes) == Some(0) {
            c.push(
                format!("{base}.http.maxHeaderBytes"),
                "must be greater than 0",
                None,
            );
        }
    }
    if let Some(syntax) = s
        .core
        .as_ref()
        .and_then(|c| c.default_rule_syntax.as_deref())
    {
        if syntax != "v3" {
            c.push(
                "core.defaultRuleSyntax",
                format!("`{syntax}`: pylon reads Traefik v3's rule syntax only"),
                Some("rewrite the rules in v3 syntax (e.g. HostRegexp(`^.+\\.example\\.com$`)) and set `v3` or leave the key out".into()),
            );
        }
    }
    if let Some(ping) = &s.ping {
        if let Some(code) = ping
            .terminating_status_code
            .filter(|code| !(100..=599).contains(code))
        {
            c.push(
                "ping.terminatingStatusCode",
                format!("{code} is not an HTTP status code"),
                Some("write a code from 100 to 599 (default 503)".into()),
            );
        }
        if !s.entry_points.contains_key(&ping.entry_point) {
            let hint = if ping.entry_point == "traefik" {
                format!(
                    "`traefik` is the default: set `ping.entryPoint` to one of {}, or define \
                     `[entryPoints.traefik]`",
                    entry_point_names()
                )
            } else {
                format!("set `ping.entryPoint` to one of: {}", entry_point_names())
            };
            c.push(
                "ping.entryPoint",
                format!("entry point `{}` does not exist", ping.entry_point),
                Some(hint),
            );
        }
    }
    let metrics = s.metrics.as_ref().and_then(|m| m.prometheus.as_ref());
    if let Some(ep) = metrics.and_then(|p| p.entry_point.as_ref()) {
        if !s.entry_points.contains_key(ep) {
            c.push(
                "metrics.prometheus.entryPoint",
                format!("entry point `{ep}` does not exist"),
                Some(format!("use one of: {}", entry_point_names())),
            );
        }
    }
    if let Some(level) = s.log.as_ref().and_then(|l| l.level.as_deref()) {
        if parse_level(level).is_none() {
            c.push(
                "log.level",
                format!("`{level}` is not a log level"),
                Some("use TRACE, DEBUG, INFO, WARN, ERROR, FATAL or PANIC".into()),
            );
        }
    }
    let filters = s.access_log.as_ref().and_then(|a| a.filters.as_ref());
    for (i, code) in filters
        .iter()
        .flat_map(|f| f.status_codes.iter())
        .enumerate()
    {
        if !is_status_filter(code) {
            c.push(
                format!("accessLog.filters.statusCodes[{i}]"),
                format!("`{code}` is not a status code or range"),
                Some("write e.g. \"404\" or \"500-599\"".into()),
            );
        }
    }
    if let Some(file) = &s.providers.file {
        if let Err(e) = file.source(c.origin) {
            c.errors.push(e);
        }
    }
}

fn validate_routers(
    s: &StaticConfig,
    d: &DynamicConfig,
    rules: &ParsedRules,
    c: &mut Collector<'_>,
) {
    for (name, router) in &d.http.routers {
        let base = format!("http.routers.{name}");
        // The rule module's words: message, rule, caret under the column.
        if let Some(e) = rules.error(name) {
            c.push(format!("{base}.rule"), format!("invalid rule: {e}"), None);
        }
        if let Some(syntax) = router.rule_syntax.as_deref().filter(|s| *s != "v3") {
            c.push(
                format!("{base}.ruleSyntax"),
                format!("rule syntax `{syntax}` is not supported"),
                Some(
                    "pylon reads Traefik v3 rules: remove `ruleSyntax` or set it to \"v3\"".into(),
                ),
            );
        }
        match router.service.as_deref() {
            None => c.push(
                format!("{base}.service"),
                format!("missing required key `{base}.service`"),
                Some("name the service this router sends requests to".into()),
            ),
            Some(svc) if INTERNAL_SERVICES.contains(&svc) => {}
            Some(svc) if exists(&d.http.services, svc) => {}
            Some(svc) => c.push(
                format!("{base}.service"),
                format!("service `{svc}` does not exist"),
                Some(format!(
                    "define [http.services.{svc}] or use one of: {}",
                    names(d.http.services.keys())
                )),
            ),
        }
        for (i, mw) in router.middlewares.iter().enumerate() {
            if !exists(&d.http.middlewares, mw) {
                c.push(
                    format!("{base}.middlewares[{i}]"),
                    format!("middleware `{mw}` does not exist"),
                    Some(format!(
                        "define [http.middlewares.{mw}] or remove it from the list"
                    )),
                );
            }
        }
        for (i, ep) in router.entry_points.iter().enumerate() {
            if !s.entry_points.contains_key(ep) {
                c.push(
                    format!("{base}.entryPoints[{i}]"),
                    format!("entry point `{ep}` does not exist"),
                    Some(format!("use one of: {}", names(s.entry_points.keys()))),
                );
            }
        }
        if let Some(p) = router.priority.filter(|p| *p > MAX_USER_PRIORITY) {
            c.push(
                format!("{base}.priority"),
                format!("priority {p} exceeds the highest user priority {MAX_USER_PRIORITY}"),
                None,
            );
        }
        if let Some(options) = router
            .tls
            .as_ref()
            .and_then(|t| t.options())
            .and_then(|t| t.options.as_deref())
        {
            check_tls_options(&format!("{base}.tls.options"), options, d, c);
        }
    }
    for (name, ep) in &s.entry_points {
        for (i, mw) in ep
            .http
            .iter()
            .flat_map(|h| h.middlewares.iter())
            .enumerate()
        {
            if !exists(&d.http.middlewares, mw) {
                c.push(
                    format!("entryPoints.{name}.http.middlewares[{i}]"),
                    format!("middleware `{mw}` does not exist"),
                    Some(format!(
                        "define [http.middlewares.{mw}] or remove it from the list"
                    )),
                );
            }
        }
    }
}

fn check_tls_options(key: &str, options: &str, d: &DynamicConfig, c: &mut Collector<'_>) {
    if options != "default" && !exists(&d.tls.options, options) {
        c.push(
            key,
            format!("TLS options `{options}` do not exist"),
            Some(format!("define [tls.options.{options}] or use `default`")),
        );
    }
}

/// `curvePreferences`, `alpnProtocols` and `clientAuth` of one `tls.options`.
fn validate_tls_extras(
    name: &str,
    options: &crate::config::dynamic::TlsOptions,
    c: &mut Collector<'_>,
) {
    use crate::tls::client_auth::{load_cas, ClientAuthType, CLIENT_AUTH_TYPES};
    use crate::tls::policy::{ALPN_PROTOCOLS, CURVES};
    let base = format!("tls.options.{name}");
    for (i, curve) in options.curve_preferences.iter().enumerate() {
        if !CURVES.iter().any(|(go, _)| go == curve) {
            let known: Vec<&str> = CURVES.iter().map(|(go, _)| *go).collect();
            c.push(
                format!("{base}.curvePreferences[{i}]"),
                format!("`{curve}` is not a curve pylon offers"),
                Some(format!(
                    "use Go's names as Traefik does: {}",
                    known.join(", ")
                )),
            );
        }
    }
    for (i, protocol) in options.alpn_protocols.iter().enumerate() {
        if !ALPN_PROTOCOLS.contains(&protocol.as_str()) {
            c.push(
                format!("{base}.alpnProtocols[{i}]"),
                format!("pylon does not speak `{protocol}`"),
                Some(format!("use some of: {}", ALPN_PROTOCOLS.join(", "))),
            );
        }
    }
    let speaks = |p: &str| options.alpn_protocols.iter().any(|x| x == p);
    if !options.alpn_protocols.is_empty() && !speaks("h2") && !speaks("http/1.1") {
        c.push(
            format!("{base}.alpnProtocols"),
            "neither `h2` nor `http/1.1`: no protocol would be left for requests",
            Some("add `http/1.1` (and `h2` for HTTP/2), or leave alpnProtocols out".into()),
        );
    }
    let Some(auth) = &options.client_auth else {
        return;
    };
    let kind = match auth.client_auth_type.as_deref() {
        None => Some(ClientAuthType::NoClientCert),
        Some(t) => {
            let kind = ClientAuthType::parse(t);
            if kind.is_none() {
                c.push(
                    format!("{base}.clientAuth.clientAuthType"),
                    format!("`{t}` is not a client authentication type"),
                    Some(format!("use one of: {}", CLIENT_AUTH_TYPES.join(", "))),
                );
            }
            kind
        }
    };
    if kind.is_some_and(ClientAuthType::verifies) && auth.ca_files.is_empty() {
        c.push(
            format!("{base}.clientAuth.caFiles"),
            "client certificates are to be verified, but no CA is given",
            Some("list the CA certificates (PEM files, or the PEM itself) in caFiles".into()),
        );
    }
    for (i, ca) in auth.ca_files.iter().enumerate() {
        if let Err(e) = load_cas(std::slice::from_ref(ca)) {
            c.push(
                format!("{base}.clientAuth.caFiles[{i}]"),
                e,
                Some("point it at a readable PEM CA certificate (or write the PEM itself)".into()),
            );
        }
    }
}

fn validate_tls(d: &DynamicConfig, c: &mut Collector<'_>) {
    let check_pair = |c: &mut Collector<'_>, key: String, cert: &str, key_file: &str| {
        if let Err(e) = crate::tls::CertPair::from_file_or_content(cert, key_file) {
            c.push(
                key,
                e.to_string(),
                Some(
                    "point certFile/keyFile at a readable PEM pair (or write the PEM itself)"
                        .into(),
                ),
            );
        }
    };
    for (i, cert) in d.tls.certificates.iter().enumerate() {
        check_pair(
            c,
            format!("tls.certificates[{i}]"),
            &cert.cert_file,
            &cert.key_file,
        );
    }
    for (name, store) in &d.tls.stores {
        if name != "default" {
            c.push(
                format!("tls.stores.{name}"),
                "only the `default` store is used (as in Traefik, which ignores the others)",
                Some(format!(
                    "rename `tls.stores.{name}` to `tls.stores.default`"
                )),
            );
        }
        if store.default_generated_cert.is_some() && store.default_certificate.is_some() {
            c.push(
                format!("tls.stores.{name}.defaultGeneratedCert"),
                "the store has a defaultCertificate too: one default only",
                Some("keep `defaultCertificate` or `defaultGeneratedCert`".into()),
            );
        }
        if let Some(dc) = &store.default_certificate {
            check_pair(
                c,
                format!("tls.stores.{name}.defaultCertificate"),
                &dc.cert_file,
                &dc.key_file,
            );
        }
    }
    for (name, options) in &d.tls.options {
        for (field, version) in [
            ("minVersion", &options.min_version),
            ("maxVersion", &options.max_version),
        ] {
            if let Some(v) = version.as_deref().filter(|v| !TLS_VERSIONS.contains(v)) {
                c.push(
                    format!("tls.options.{name}.{field}"),
                    format!("`{v}` is not a TLS version"),
                    Some(format!("use one of: {}", TLS_VERSIONS.join(", "))),
                );
            }
        }
        validate_tls_extras(name, options, c);
        for (i, cipher) in options.cipher_suites.iter().enumerate() {
            if !crate::tls::policy::is_known_cipher(cipher) {
                c.push(
                    format!("tls.options.{name}.cipherSuites[{i}]"),
                    format!("`{cipher}` is not a cipher suite pylon knows"),
                    Some("use Go's names as Traefik does, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".to_string()),
                );
            }
        }
        if let (Some(min), Some(max)) = (
            options.min_version.as_deref(),
            options.max_version.as_deref(),
        ) {
            let rank = |v: &str| TLS_VERSIONS.iter().position(|x| *x == v);
            if rank(min) > rank(max) {
                c.push(
                    format!("tls.options.{name}.maxVersion"),
                    format!("{max} is below minVersion {min}: no version is left"),
                    Some("raise maxVersion or lower minVersion".to_string()),
                );
            }
        }
    }
}
