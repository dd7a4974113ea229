//! The file provider's config plus the other providers' units (Docker's containers, the
//! key-value providers' objects) → one checked config.
//!
//! The file provider's part must be valid on its own: any error in it refuses the whole update
//! (the last good config stays). Another provider's part is the sum of its units (a key-value
//! provider's units are single objects, so there an error leaves out one object). The Docker
//! provider's part is the sum of its containers: an
//! error traced to a container's router, service or middleware (a bad rule, a reference to a
//! middleware that does not exist, ...) leaves that container out, is reported, and the others
//! still apply. File routers that refer to an object of another provider that is not there
//! (a `whoami@docker` service whose container stopped) are left out with a warning rather than
//! refusing the update, so a container going away always takes effect.
//!
//! Whatever key a container's labels set (`tls.stores.default.*` included), its errors stay
//! its own: an error the key path does not trace to a container is the file's only if the file
//! part fails on its own too; otherwise the containers are added one at a time and each one
//! whose addition fails is left out.

use super::namespace::{self, absorb, qualify};
use crate::config::dynamic::DynamicConfig;
use crate::config::labels::{merge_containers, LabelError};
use crate::config::{ConfigError, ConfigErrors};
use std::collections::{BTreeMap, BTreeSet};

/// One provider's latest view (Docker: its containers; Redis: its objects).
#[derive(Debug, Clone, Default)]
pub struct ProviderPart {
    /// Each unit's config (names as written), by unit name: an exposed container, or for
    /// Redis one object's key prefix (`traefik/http/routers/web`).
    pub containers: Vec<(String, DynamicConfig)>,
    /// Units left out by the provider itself (labels or keys that do not parse).
    pub errors: Vec<LabelError>,
}

/// What merging kept and left out.
#[derive(Debug)]
pub struct Merged<T> {
    /// What `check` made of the merged config.
    pub value: T,
    /// How many routers and services the merged config has.
    pub routers: usize,
    pub services: usize,
    /// Units left out, each with why (label errors, conflicts, errors in the merged config).
    pub skipped: Vec<LabelError>,
    /// File routers left out because what they refer to is gone.
    pub disabled_routers: Vec<ConfigError>,
}

/// One unit of a provider's part: `(provider, unit name)` identifies it.
type UnitId = (&'static str, String);

/// Merges `file` and the providers' parts (`(provider, part)`, e.g. `("docker", part)`), then
/// runs `check` (validate + compile) on the result; errors traced to a provider's unit leave
/// that unit out and the merge is tried again.
pub fn merge_and_check<T>(
    file: &DynamicConfig,
    providers: &[(&'static str, &ProviderPart)],
    mut check: impl FnMut(&DynamicConfig) -> Result<T, ConfigErrors>,
) -> Result<Merged<T>, ConfigErrors> {
    let mut skipped: Vec<LabelError> = providers
        .iter()
        .flat_map(|(_, part)| part.errors.iter().cloned())
        .collect();
    let mut excluded: BTreeSet<UnitId> = BTreeSet::new();
    let all: Vec<(UnitId, DynamicConfig)> = providers
        .iter()
        .flat_map(|(provider, part)| {
            part.containers
                .iter()
                .map(move |(name, config)| ((*provider, name.clone()), config.clone()))
        })
        .collect();
    let left_out = |id: &UnitId, key_path: &str, message: String, hint: Option<String>| {
        let hint = hint.unwrap_or_else(|| fix_hint(id.0).into());
        let key = super::kv::is_kv(id.0)
            .then(|| super::kv::key_of(id.0, &id.1, key_path))
            .flatten();
        LabelError::new(&id.1, key.as_deref(), message)
            .with_hint(hint)
            .in_provider(id.0)
    };
    loop {
        let parts: Vec<(UnitId, DynamicConfig)> = all
            .iter()
            .filter(|(id, _)| !excluded.contains(id))
            .cloned()
            .collect();
        let owners = owners(&parts);
        let (combined, conflicts, disabled_routers) = combine(file, parts.clone());
        let errors = match check(&combined) {
            Ok(value) => {
                skipped.extend(conflicts);
                return Ok(Merged {
                    value,
                    routers: combined.http.routers.len(),
                    services: combined.http.services.len(),
                    skipped,
                    disabled_routers,
                });
            }
            Err(errors) => errors,
        };
        let mut file_errors = Vec::new();
        let before = excluded.len();
        for e in errors.0 {
            match owner_of(&e.key_path, &owners) {
                Some(units) => {
                    for id in units {
                        excluded.insert(id.clone());
                        skipped.push(left_out(
                            id,
                            &e.key_path,
                            format!("{}: {}", e.key_path, e.message),
                            e.hint.clone(),
                        ));
                    }
                }
                None => file_errors.push(e),
            }
        }
        if !file_errors.is_empty() {
            let remaining: Vec<_> = parts
                .into_iter()
                .filter(|(id, _)| !excluded.contains(id))
                .collect();
            if remaining.is_empty() {
                return Err(ConfigErrors(file_errors));
            }
            let (file_only, _, _) = combine(file, Vec::new());
            check(&file_only)?;
            let mut accepted = Vec::new();
            for (id, config) in remaining {
                let mut trial = accepted.clone();
                trial.push((id.clone(), config.clone()));
                let (combined, _, _) = combine(file, trial);
                match check(&combined) {
                    Ok(_) => accepted.push((id, config)),
                    Err(errors) => {
                        let first = errors.0.first();
                        excluded.insert(id.clone());
                        skipped.push(left_out(
                            &id,
                            first.map_or("", |e| e.key_path.as_str()),
                            first.map_or_else(String::new, |e| {
                                format!("{}: {}", e.key_path, e.message)
                            }),
                            first.and_then(|e| e.hint.clone()),
                        ));
                    }
                }
            }
        }
        if excluded.len() == before {
            // Errors were traced to units already left out: cannot happen unless `check`
            // reports stale paths; refuse rather than loop.
            return Err(ConfigErrors(vec![ConfigError::new(
                providers.first().map_or("docker", |(p, _)| *p),
                "http",
                "the providers' configuration could not be made valid",
            )]));
        }
    }
}

/// How to fix a unit `provider` left out.
fn fix_hint(provider: &str) -> &'static str {
    if super::kv::is_kv(provider) {
        "fix the object's keys; the other objects are still served"
    } else {
        "fix the container's labels; the other containers are still served"
    }
}

/// The file's part plus the providers' units (merged per provider, qualified), with file
/// routers whose foreign objects are gone left out; also the units' name conflicts and those
/// routers.
fn combine(
    file: &DynamicConfig,
    parts: Vec<(UnitId, DynamicConfig)>,
) -> (DynamicConfig, Vec<LabelError>, Vec<ConfigError>) {
    let mut by_provider: Vec<(&'static str, Vec<(String, DynamicConfig)>)> = Vec::new();
    for ((provider, name), config) in parts {
        match by_provider.iter_mut().find(|(p, _)| *p == provider) {
            Some((_, units)) => units.push((name, config)),
            None => by_provider.push((provider, vec![(name, config)])),
        }
    }
    let mut combined = file.clone();
    let mut conflicts = Vec::new();
    for (provider, units) in by_provider {
        let (config, found) = merge_containers(units);
        conflicts.extend(found.into_iter().map(|e| e.in_provider(provider)));
        absorb(&mut combined, qualify(config, provider));
    }
    let disabled_routers = disable_dangling_file_routers(&mut combined);
    (combined, conflicts, disabled_routers)
}

/// `(kind, merged name)` → the units that define it.
type Owners = BTreeMap<(&'static str, String), Vec<UnitId>>;

fn owners(parts: &[(UnitId, DynamicConfig)]) -> Owners {
    let mut owners: Owners = BTreeMap::new();
    for (id, config) in parts {
        let http = &config.http;
        let mut own = |kind: &'static str, names: Vec<&String>| {
            for name in names {
                owners
                    .entry((kind, format!("{name}@{}", id.0)))
                    .or_default()
                    .push(id.clone());
            }
        };
        own("routers", http.routers.keys().collect());
        own("middlewares", http.middlewares.keys().collect());
        own("services", http.services.keys().collect());
        own(
            "serversTransports",
            http.servers_transports.keys().collect(),
        );
        let tcp = &config.tcp;
        own("tcp.routers", tcp.routers.keys().collect());
        own("tcp.middlewares", tcp.middlewares.keys().collect());
        own("tcp.services", tcp.services.keys().collect());
        // TLS names are global (not qualified by provider).
        let tls = &config.tls;
        for (kind, names) in [
            ("tls.options", tls.options.keys().collect::<Vec<_>>()),
            ("tls.stores", tls.stores.keys().collect()),
        ] {
            for name in names {
                owners
                    .entry((kind, name.clone()))
                    .or_default()
                    .push(id.clone());
            }
        }
    }
    owners
}

/// The units behind the object a key path (`http.routers.web@docker.rule`) is about.
fn owner_of<'a>(key_path: &str, owners: &'a Owners) -> Option<&'a Vec<UnitId>> {
    let mut segments = key_path.splitn(4, '.');
    let root = segments.next()?;
    if root == "tls" {
        let kind = match segments.next()? {
            "options" => "tls.options",
            "stores" => "tls.stores",
            _ => return None,
        };
        let name = segments.next()?;
        let name = name.split('[').next().unwrap_or(name);
        return owners.get(&(kind, name.to_string()));
    }
    if root == "tcp" {
        let kind = match segments.next()? {
            "routers" => "tcp.routers",
            "middlewares" => "tcp.middlewares",
            "services" => "tcp.services",
            _ => return None,
        };
        let name = segments.next()?;
        let name = name.split('[').next().unwrap_or(name);
        return owners.get(&(kind, name.to_string()));
    }
    if root != "http" {
        return None;
    }
    let kind = match segments.next()? {
        "routers" => "routers",
        "middlewares" => "middlewares",
        "services" => "services",
        "serversTransports" => "serversTransports",
        _ => return None,
    };
    let name = segments.next()?;
    let name = name.split('[').next().unwrap_or(name);
    owners.get(&(kind, name.to_string()))
}

/// Removes file routers whose service or middlewares name another provider's object that is
/// not in `combined`; returns a warning for each.
fn disable_dangling_file_routers(combined: &mut DynamicConfig) -> Vec<ConfigError> {
    let http = &combined.http;
    let foreign_missing = |reference: &str, present: &dyn Fn(&str) -> bool| {
        reference
            .split_once('@')
            .is_some_and(|(_, p)| p != namespace::FILE && p != "internal")
            && !present(reference)
    };
    let mut disabled = Vec::new();
    for (name, router) in &http.routers {
        if name.contains('@') {
            continue;
        }
        let service = router
            .service
            .as_deref()
            .filter(|s| foreign_missing(s, &|r: &str| http.services.contains_key(r)));
        let middleware = router
            .middlewares
            .iter()
            .find(|m| foreign_missing(m, &|r: &str| http.middlewares.contains_key(r)));
        let (what, missing) = match (service, middleware) {
            (Some(s), _) => ("service", s.to_string()),
            (None, Some(m)) => ("middleware", m.clone()),
            (None, None) => continue,
        };
        disabled.push(
            ConfigError::new(
                "file",
                format!("http.routers.{name}"),
                format!("router left out: its {what} `{missing}` is not defined (now)"),
            )
            .with_hint("it comes back when its provider defines it again"),
        );
    }
    for e in &disabled {
        let name = e.key_path.trim_start_matches("http.routers.").to_string();
        combined.http.routers.remove(&name);
    }
    disabled
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load::from_tree;

    fn config(text: &str) -> DynamicConfig {
        from_tree(toml::from_str(text).expect("toml"), "test").expect("config")
    }

    fn container(name: &str, text: &str) -> (String, DynamicConfig) {
        (name.to_string(), config(text))
    }

    /// A stand-in for validation: every router's service and middlewares must exist.
    fn references_exist(c: &DynamicConfig) -> Result<Vec<String>, ConfigErrors> {
        let mut errors = Vec::new();
        for (name, r) in &c.http.routers {
            let service = r.service.clone().unwrap_or_default();
            if !c.http.services.contains_key(&service) {
                errors.push(ConfigError::new(
                    "t",
                    format!("http.routers.{name}.service"),
                    "missing",
                ));
            }
            for m in &r.middlewares {
                if !c.http.middlewares.contains_key(m) {
                    errors.push(ConfigError::new(
                        "t",
                        format!("http.routers.{name}.middlewares"),
                        "missing",
                    ));
                }
            }
        }
        if errors.is_empty() {
            Ok(c.http.routers.keys().cloned().collect())
        } else {
            Err(ConfigErrors(errors))
        }
    }

    const GOOD: &str = "[http.routers.a]\nrule = \"Host(`a`)\"\nservice = \"a\"\n[http.services.a.loadBalancer]\nservers = [{ url = \"http://127.0.0.1:1\" }]\n";
    const BROKEN: &str = "[http.routers.b]\nrule = \"Host(`b`)\"\nservice = \"b\"\nmiddlewares = [\"nope\"]\n[http.services.b.loadBalancer]\nservers = [{ url = \"http://127.0.0.1:2\" }]\n";

    #[test]
    fn a_broken_container_is_left_out_and_the_others_apply() {
        let docker = ProviderPart {
            containers: vec![container("good", GOOD), container("broken", BROKEN)],
            errors: vec![],
        };
        let merged = merge_and_check(
            &DynamicConfig::default(),
            &[("docker", &docker)],
            references_exist,
        )
        .expect("merged");
        assert_eq!(merged.value, ["a@docker"]);
        assert_eq!(merged.skipped.len(), 1);
        assert_eq!(merged.skipped[0].container, "broken");
        assert!(merged.skipped[0]
            .message
            .contains("http.routers.b@docker.middlewares"));
    }

    #[test]
    fn providers_are_namespaced_and_left_out_units_name_their_provider() {
        let docker = ProviderPart {
            containers: vec![container("good", GOOD)],
            errors: vec![],
        };
        let redis = ProviderPart {
            containers: vec![container("traefik/http/routers/b", BROKEN)],
            errors: vec![],
        };
        let merged = merge_and_check(
            &DynamicConfig::default(),
            &[("docker", &docker), ("redis", &redis)],
            references_exist,
        )
        .expect("merged");
        assert_eq!(merged.value, ["a@docker"]);
        assert_eq!(merged.skipped[0].provider, "redis");
        assert_eq!(merged.skipped[0].container, "traefik/http/routers/b");
        assert_eq!(
            merged.skipped[0].label.as_deref(),
            Some("traefik/http/routers/b/middlewares")
        );
        let redis = ProviderPart {
            containers: vec![container("traefik/http/routers/a", GOOD)],
            errors: vec![],
        };
        let merged = merge_and_check(
            &DynamicConfig::default(),
            &[("docker", &docker), ("redis", &redis)],
            references_exist,
        )
        .expect("merged");
        assert_eq!(merged.value, ["a@docker", "a@redis"]);
    }

    #[test]
    fn an_error_in_the_file_part_refuses_the_update() {
        let file = config("[http.routers.f]\nrule = \"Host(`f`)\"\nservice = \"missing\"\n");
        let docker = ProviderPart {
            containers: vec![container("good", GOOD)],
            errors: vec![],
        };
        let errors =
            merge_and_check(&file, &[("docker", &docker)], references_exist).expect_err("refused");
        assert_eq!(errors.0[0].key_path, "http.routers.f.service");
    }

    #[test]
    fn file_routers_to_a_missing_docker_service_are_left_out_not_refused() {
        let file = config("[http.routers.f]\nrule = \"Host(`f`)\"\nservice = \"gone@docker\"\n");
        let merged = merge_and_check(
            &file,
            &[("docker", &ProviderPart::default())],
            references_exist,
        )
        .expect("merged");
        assert!(merged.value.is_empty());
        assert_eq!(merged.disabled_routers.len(), 1);
        assert_eq!(merged.disabled_routers[0].key_path, "http.routers.f");
    }

    #[test]
    fn file_routers_may_use_docker_services_and_docker_routers_file_middlewares() {
        let file = config("[http.routers.f]\nrule = \"Host(`f`)\"\nservice = \"a@docker\"\n[http.middlewares.auth.stripPrefix]\nprefixes = [\"/x\"]\n");
        let with_mw = "[http.routers.c]\nrule = \"Host(`c`)\"\nservice = \"c\"\nmiddlewares = [\"auth@file\"]\n[http.services.c.loadBalancer]\nservers = [{ url = \"http://127.0.0.1:3\" }]\n";
        let docker = ProviderPart {
            containers: vec![container("good", GOOD), container("c", with_mw)],
            errors: vec![],
        };
        let merged =
            merge_and_check(&file, &[("docker", &docker)], references_exist).expect("merged");
        assert_eq!(merged.value, ["a@docker", "c@docker", "f"]);
        assert!(merged.skipped.is_empty());
    }
}
