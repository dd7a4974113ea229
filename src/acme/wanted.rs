//! Which names each resolver must get certificates for: every TLS router with a `certResolver`
//! (its own, or its entry point's `http.tls.certResolver`) asks for its `tls.domains`, else for
//! the names of its `Host` rule — one certificate per domain set, the first name as main.

use crate::config::static_config::StaticConfig;
use crate::config::DynamicConfig;
use std::collections::{BTreeMap, BTreeSet};

/// Resolver name → the domain sets it must cover (each: main first, then SANs, lower case).
pub type Wanted = BTreeMap<String, BTreeSet<Vec<String>>>;

/// The certificates the merged configuration asks for.
pub fn wanted(s: &StaticConfig, d: &DynamicConfig) -> Wanted {
    let mut out = Wanted::new();
    for router in d.http.routers.values() {
        let tls = router.tls.as_ref().filter(|t| t.enabled());
        let options = tls.and_then(|t| t.options());
        let entry_points: Vec<&String> = if router.entry_points.is_empty() {
            s.entry_points.keys().collect()
        } else {
            router.entry_points.iter().collect()
        };
        let resolver = options.and_then(|o| o.cert_resolver.clone()).or_else(|| {
            entry_points.iter().find_map(|ep| {
                let ep_tls = s.entry_points.get(*ep)?.http.as_ref()?.tls.as_ref()?;
                ep_tls.cert_resolver.clone()
            })
        });
        let is_tls = tls.is_some()
            || entry_points
                .iter()
                .any(|ep| s.entry_points.get(*ep).is_some_and(|e| e.tls_by_default()));
        let Some(resolver) = resolver.filter(|_| is_tls) else {
            continue;
        };
        let sets = out.entry(resolver).or_default();
        let domains = options.map(|o| o.domains.as_slice()).unwrap_or_default();
        if domains.is_empty() {
            let names: Vec<String> = crate::rule::parse(&router.rule)
                .map(|e| e.hosts())
                .unwrap_or_default()
                .into_iter()
                .filter(|h| !h.contains('*'))
                .collect();
            if !names.is_empty() {
                sets.insert(dedup(names));
            }
        } else {
            for domain in domains {
                let names: Vec<String> = domain
                    .main
                    .iter()
                    .chain(&domain.sans)
                    .map(|n| n.trim_end_matches('.').to_ascii_lowercase())
                    .filter(|n| !n.is_empty())
                    .collect();
                if !names.is_empty() {
                    sets.insert(dedup(names));
                }
            }
        }
    }
    // `tls.stores.default.defaultGeneratedCert`: the default certificate from a resolver
    if let Some(g) = d
        .tls
        .stores
        .get("default")
        .and_then(|s| s.default_generated_cert.as_ref())
    {
        let names = g.names();
        if !names.is_empty() {
            out.entry(g.resolver.clone())
                .or_default()
                .insert(dedup(names));
        }
    }
    out.retain(|_, sets| !sets.is_empty());
    out
}

/// Keeps the first of each name, in order.
fn dedup(names: Vec<String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    names
        .into_iter()
        .filter(|n| seen.insert(n.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn configs(static_toml: &str, dynamic_toml: &str) -> (StaticConfig, DynamicConfig) {
        let s = crate::config::load_static_str(static_toml, "static.toml").unwrap();
        let d = crate::config::load_dynamic_str(dynamic_toml, "dynamic.toml").unwrap();
        (s, d)
    }

    const STATIC: &str = r#"
[entryPoints.web]
address = ":80"
[entryPoints.websecure]
address = ":443"
[entryPoints.websecure.http.tls]
certResolver = "ep"
"#;

    #[test]
    fn host_rule_domains_and_entry_point_default() {
        let (s, d) = configs(
            STATIC,
            r#"
[http.routers.a]
rule = "Host(`A.test`) || Host(`b.test`) && PathPrefix(`/x`)"
service = "s"
tls.certResolver = "le"
[http.routers.b]
rule = "Host(`c.test`)"
service = "s"
entryPoints = ["websecure"]
[http.routers.c]
rule = "Host(`d.test`)"
service = "s"
entryPoints = ["web"]
[http.routers.d]
rule = "Host(`e.test`)"
service = "s"
[http.routers.d.tls]
certResolver = "le"
[[http.routers.d.tls.domains]]
main = "example.test"
sans = ["www.example.test", "example.test"]
[http.services.s.loadBalancer]
servers = [{ url = "http://127.0.0.1:1" }]
"#,
        );
        let w = wanted(&s, &d);
        let le: Vec<_> = w["le"].iter().cloned().collect();
        assert_eq!(
            le,
            vec![
                vec!["a.test".to_string(), "b.test".to_string()],
                vec!["example.test".to_string(), "www.example.test".to_string()],
            ]
        );
        let ep: Vec<_> = w["ep"].iter().cloned().collect();
        assert_eq!(ep, vec![vec!["c.test".to_string()]]);
        assert_eq!(w.len(), 2, "router c is plain HTTP: {w:?}");
    }
}
