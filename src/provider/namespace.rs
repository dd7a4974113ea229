//! `name@provider`: the names each provider's part of the dynamic config gets once merged.
//!
//! Traefik's scheme: every router, service and middleware belongs to the provider that defined
//! it (`web@file`, `whoami@docker`); a reference without `@` means "of my own provider", one
//! with `@` names the provider. pylon keeps the file provider's names bare inside the merged
//! config (so file errors read `http.routers.web.rule`, as the user wrote them) and gives every
//! other provider's names their suffix. [`qualify`] rewrites one provider's part that way,
//! references included; [`display_name`] gives any merged name its `@provider` form.

use crate::config::dynamic::{DynamicConfig, HttpConfig, MiddlewareConfig};
use crate::config::ConfigError;
use std::collections::BTreeMap;

/// The provider whose names stay bare in the merged config.
pub const FILE: &str = "file";

/// `name@provider` for a name of the merged config: file names get `@file`.
pub fn display_name(name: &str) -> String {
    if name.contains('@') {
        name.to_string()
    } else {
        format!("{name}@{FILE}")
    }
}

/// A reference written in `provider`'s part, as the merged config names it: `x` → `x@provider`
/// (bare for the file provider), `x@file` → `x`, `y@other` unchanged.
pub fn resolve_reference(reference: &str, provider: &str) -> String {
    match reference.split_once('@') {
        Some((name, p)) if p == FILE => name.to_string(),
        Some(_) => reference.to_string(),
        None if provider == FILE => reference.to_string(),
        None => format!("{reference}@{provider}"),
    }
}

/// Rewrites `part` (defined by `provider`) into the merged config's names: its own names get
/// `@provider` (none for the file provider), its references are resolved with
/// [`resolve_reference`].
pub fn qualify(part: DynamicConfig, provider: &str) -> DynamicConfig {
    let own = |name: String| {
        if provider == FILE {
            name
        } else {
            format!("{name}@{provider}")
        }
    };
    let refer = |r: &str| resolve_reference(r, provider);
    let HttpConfig {
        routers,
        middlewares,
        services,
        servers_transports,
    } = part.http;
    let routers = routers
        .into_iter()
        .map(|(name, mut r)| {
            r.service = r.service.as_deref().map(refer);
            r.middlewares = r.middlewares.iter().map(|m| refer(m)).collect();
            (own(name), r)
        })
        .collect();
    let middlewares = middlewares
        .into_iter()
        .map(|(name, mut m)| {
            match &mut m {
                MiddlewareConfig::Chain(chain) => {
                    chain.middlewares = chain.middlewares.iter().map(|x| refer(x)).collect();
                }
                MiddlewareConfig::Errors(errors) => {
                    errors.service = errors.service.as_deref().map(refer);
                }
                _ => {}
            }
            (own(name), m)
        })
        .collect();
    let services = services
        .into_iter()
        .map(|(name, mut s)| {
            if let Some(w) = s.weighted.as_mut() {
                for child in &mut w.services {
                    child.name = refer(&child.name);
                }
            }
            if let Some(lb) = s.load_balancer.as_mut() {
                lb.servers_transport = lb.servers_transport.as_deref().map(refer);
            }
            if let Some(m) = s.mirroring.as_mut() {
                m.service = refer(&m.service);
                for mirror in &mut m.mirrors {
                    mirror.name = refer(&mirror.name);
                }
            }
            if let Some(f) = s.failover.as_mut() {
                f.service = refer(&f.service);
                f.fallback = refer(&f.fallback);
            }
            (own(name), s)
        })
        .collect();
    let servers_transports = servers_transports
        .into_iter()
        .map(|(name, t)| (own(name), t))
        .collect();
    DynamicConfig {
        http: HttpConfig {
            routers,
            middlewares,
            services,
            servers_transports,
        },
        tcp: qualify_tcp(part.tcp, &own, &refer),
        tls: part.tls,
    }
}

/// The file provider's names must not carry `@` (it would read as another provider's).
pub fn check_file_names(config: &DynamicConfig, origin: &str) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    let mut check = |kind: &str, names: Vec<&String>| {
        for name in names.into_iter().filter(|n| n.contains('@')) {
            errors.push(
                ConfigError::new(
                    origin,
                    format!("http.{kind}.{name}"),
                    format!("the name `{name}` contains `@`, which separates a name from its provider"),
                )
                .with_hint("rename it without `@`; write `name@provider` only to refer to another provider's object"),
            );
        }
    };
    let http = &config.http;
    check("routers", http.routers.keys().collect());
    check("middlewares", http.middlewares.keys().collect());
    check("services", http.services.keys().collect());
    check(
        "serversTransports",
        http.servers_transports.keys().collect(),
    );
    errors
}

/// Adds `extra`'s objects to `into`; the names must not collide (callers pass parts whose
/// names carry different providers).
/// `qualify` for the `tcp` section: own names get `@provider`, references are resolved.
fn qualify_tcp(
    tcp: crate::config::tcp::TcpConfig,
    own: &dyn Fn(String) -> String,
    refer: &dyn Fn(&str) -> String,
) -> crate::config::tcp::TcpConfig {
    let routers = tcp
        .routers
        .into_iter()
        .map(|(name, mut r)| {
            r.service = refer(&r.service);
            r.middlewares = r.middlewares.iter().map(|m| refer(m)).collect();
            (own(name), r)
        })
        .collect();
    let services = tcp
        .services
        .into_iter()
        .map(|(name, mut s)| {
            if let Some(w) = s.weighted.as_mut() {
                for child in &mut w.services {
                    child.name = refer(&child.name);
                }
            }
            (own(name), s)
        })
        .collect();
    let middlewares = tcp
        .middlewares
        .into_iter()
        .map(|(name, m)| (own(name), m))
        .collect();
    crate::config::tcp::TcpConfig {
        routers,
        services,
        middlewares,
        servers_transports: tcp.servers_transports,
    }
}

pub fn absorb(into: &mut DynamicConfig, extra: DynamicConfig) {
    fn add<V>(into: &mut BTreeMap<String, V>, extra: BTreeMap<String, V>) {
        for (k, v) in extra {
            into.entry(k).or_insert(v);
        }
    }
    add(&mut into.http.routers, extra.http.routers);
    add(&mut into.http.middlewares, extra.http.middlewares);
    add(&mut into.http.services, extra.http.services);
    add(
        &mut into.http.servers_transports,
        extra.http.servers_transports,
    );
    add(&mut into.tcp.routers, extra.tcp.routers);
    add(&mut into.tcp.services, extra.tcp.services);
    add(&mut into.tcp.middlewares, extra.tcp.middlewares);
    into.tls.certificates.extend(extra.tls.certificates);
    add(&mut into.tls.options, extra.tls.options);
    add(&mut into.tls.stores, extra.tls.stores);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load::from_tree;

    fn config(text: &str) -> DynamicConfig {
        from_tree(toml::from_str(text).expect("toml"), "test").expect("config")
    }

    #[test]
    fn references_resolve_within_and_across_providers() {
        assert_eq!(resolve_reference("auth", "docker"), "auth@docker");
        assert_eq!(resolve_reference("auth@file", "docker"), "auth");
        assert_eq!(resolve_reference("auth@file", FILE), "auth");
        assert_eq!(resolve_reference("auth", FILE), "auth");
        assert_eq!(resolve_reference("api@internal", "docker"), "api@internal");
        assert_eq!(resolve_reference("whoami@docker", FILE), "whoami@docker");
    }

    #[test]
    fn qualify_renames_docker_objects_and_their_references() {
        let part = config(
            r#"
            [http.routers.web]
            rule = "Host(`a`)"
            service = "app"
            middlewares = ["strip", "auth@file"]
            [http.middlewares.strip.stripPrefix]
            prefixes = ["/a"]
            [http.middlewares.both.chain]
            middlewares = ["strip", "auth@file"]
            [http.middlewares.oops.errors]
            status = ["500-599"]
            service = "pages"
            [http.services.app.loadBalancer]
            servers = [{ url = "http://127.0.0.1:1" }]
            [http.services.split.weighted]
            services = [{ name = "app" }, { name = "legacy@file" }]
            "#,
        );
        let q = qualify(part, "docker");
        let web = &q.http.routers["web@docker"];
        assert_eq!(web.service.as_deref(), Some("app@docker"));
        assert_eq!(web.middlewares, ["strip@docker", "auth"]);
        let MiddlewareConfig::Chain(chain) = &q.http.middlewares["both@docker"] else {
            panic!("not a chain")
        };
        assert_eq!(chain.middlewares, ["strip@docker", "auth"]);
        let errors = match &q.http.middlewares["oops@docker"] {
            MiddlewareConfig::Errors(e) => Some(e),
            _ => None,
        };
        assert_eq!(
            errors.and_then(|e| e.service.as_deref()),
            Some("pages@docker")
        );
        let names: Vec<_> = q.http.services["split@docker"]
            .weighted
            .as_ref()
            .expect("weighted")
            .services
            .iter()
            .map(|s| s.name.clone())
            .collect();
        assert_eq!(names, ["app@docker", "legacy"]);
        assert!(q.http.services.contains_key("app@docker"));
    }

    #[test]
    fn qualify_leaves_file_names_bare() {
        let part = config(
            "[http.routers.web]\nrule = \"Host(`a`)\"\nservice = \"app@file\"\nmiddlewares = [\"x@docker\"]\n",
        );
        let q = qualify(part, FILE);
        let web = &q.http.routers["web"];
        assert_eq!(web.service.as_deref(), Some("app"));
        assert_eq!(web.middlewares, ["x@docker"]);
    }

    #[test]
    fn file_names_with_at_are_refused_with_their_key_path() {
        let part = config("[http.routers.\"a@b\"]\nrule = \"Host(`a`)\"\n");
        let errors = check_file_names(&part, "dyn.toml");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].key_path, "http.routers.a@b");
    }

    #[test]
    fn display_names_carry_their_provider() {
        assert_eq!(display_name("web"), "web@file");
        assert_eq!(display_name("web@docker"), "web@docker");
    }
}
