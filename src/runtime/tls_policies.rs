//! Which `tls.options` each server name gets: a TLS router's options (its own `tls.options`,
//! else its entry point's `http.tls.options`) apply to the hosts of its `Host` rule; a name
//! two routers give different options gets the default, as in Traefik, with a warning.

use super::services::local_name;
use crate::config::DynamicConfig;
use crate::provider::namespace::display_name;
use crate::rule::ParsedRules;
use crate::tls::policy::{TlsPolicies, TlsPolicy};
use crate::tls::server_name::normalize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The policies of `dynamic`; `entrypoint_options` maps entry point names to their
/// `http.tls.options`. Returns the warnings (conflicting names) too.
pub fn build(
    dynamic: &DynamicConfig,
    rules: &ParsedRules,
    entrypoint_options: &BTreeMap<String, String>,
) -> (TlsPolicies, Vec<String>) {
    let options = &dynamic.tls.options;
    let default = options.get("default").map_or_else(TlsPolicy::default, |o| {
        TlsPolicy::from_options("default", o)
    });
    let mut claimed: BTreeMap<String, String> = BTreeMap::new();
    let mut conflicts: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (router_name, router) in &dynamic.http.routers {
        if !router.is_tls() {
            continue;
        }
        let own = router
            .tls
            .as_ref()
            .and_then(|t| t.options())
            .and_then(|t| t.options.clone());
        let from_entrypoint = || {
            router
                .entry_points
                .iter()
                .find_map(|ep| entrypoint_options.get(ep).cloned())
        };
        let Some(name) = own.or_else(from_entrypoint) else {
            continue;
        };
        let name = local_name(&name).to_string();
        let Ok(rule) = rules.get(router_name, &router.rule) else {
            continue;
        };
        let hosts = rule.hosts().into_iter();
        for host in hosts.filter_map(|h| normalize(&h).map(|n| n.into_owned())) {
            match claimed.get(&host) {
                Some(existing) if *existing != name => conflicts
                    .entry(host)
                    .or_default()
                    .push(display_name(router_name)),
                Some(_) => {}
                None => {
                    claimed.insert(host, name.clone());
                }
            }
        }
    }
    let mut warnings = Vec::new();
    for (host, routers) in &conflicts {
        claimed.remove(host);
        warnings.push(format!(
            "TLS options for `{host}` differ between routers (e.g. {}); `{host}` gets the default options: give every router for a host the same tls.options",
            routers.join(", ")
        ));
    }
    let mut compiled: HashMap<String, Arc<TlsPolicy>> = HashMap::new();
    let mut by_name = HashMap::new();
    for (host, name) in claimed {
        if name == "default" {
            continue;
        }
        let Some(o) = options.get(&name) else {
            continue;
        };
        let policy = compiled
            .entry(name.clone())
            .or_insert_with(|| Arc::new(TlsPolicy::from_options(&display_name(&name), o)))
            .clone();
        by_name.insert(host, policy);
    }
    (TlsPolicies::new(default, by_name), warnings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_dynamic_str;

    const SVC: &str =
        "[http.services.s.loadBalancer]\nservers = [{ url = \"http://127.0.0.1:1\" }]\n";

    #[test]
    fn routers_give_their_hosts_their_options() {
        let d = load_dynamic_str(
            &format!(
                "{SVC}[http.routers.a]\nrule = \"Host(`a.test`)\"\nservice = \"s\"\n[http.routers.a.tls]\noptions = \"modern\"\n\
                 [http.routers.b]\nrule = \"Host(`b.test`)\"\nservice = \"s\"\nentryPoints = [\"secure\"]\ntls = true\n\
                 [http.routers.plain]\nrule = \"Host(`c.test`)\"\nservice = \"s\"\n\
                 [tls.options.modern]\nminVersion = \"VersionTLS13\"\n\
                 [tls.options.strict]\nsniStrict = true\n[tls.options.default]\nminVersion = \"VersionTLS12\"\n"
            ),
            "t.toml",
        )
        .unwrap();
        let eps = BTreeMap::from([("secure".to_string(), "strict".to_string())]);
        let (p, warnings) = build(&d, &crate::config::parse_rules(&d), &eps);
        assert!(warnings.is_empty());
        assert_eq!(p.for_name(Some("a.test")).name, "modern@file");
        assert_eq!(p.for_name(Some("b.test")).name, "strict@file");
        assert!(p.for_name(Some("b.test")).sni_strict);
        assert_eq!(p.for_name(Some("c.test")).name, "default");
    }

    #[test]
    fn conflicting_options_for_one_host_fall_back_to_the_default() {
        let d = load_dynamic_str(
            &format!(
                "{SVC}[http.routers.a]\nrule = \"Host(`a.test`)\"\nservice = \"s\"\n[http.routers.a.tls]\noptions = \"x\"\n\
                 [http.routers.b]\nrule = \"Host(`a.test`) && Path(`/b`)\"\nservice = \"s\"\n[http.routers.b.tls]\noptions = \"y\"\n\
                 [tls.options.x]\n[tls.options.y]\n"
            ),
            "t.toml",
        )
        .unwrap();
        let (p, warnings) = build(&d, &crate::config::parse_rules(&d), &BTreeMap::new());
        assert_eq!(p.for_name(Some("a.test")).name, "default");
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("a.test"), "{}", warnings[0]);
    }
}
