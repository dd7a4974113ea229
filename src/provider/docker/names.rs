//! Who owns a router, service or middleware name among containers (pylon's label trust
//! policy): the earliest-created container that defines it; others may share it only as
//! replicas of the same compose service with the same definition.
//!
//! Traefik merges every container's definitions by name: a container that defines a service
//! named like another container's adds its servers to it (and receives its traffic), one that
//! defines a router differently makes both disappear. pylon keeps the owner's definition and
//! leaves the newcomer out, unless `allowSharedNames = true` restores Traefik's merge.

use super::inspect::Inspected;
use crate::config::dynamic::{DynamicConfig, ServiceConfig};
use crate::config::labels::LabelError;
use std::collections::BTreeMap;

/// The kind and name of one definition, e.g. `("routers", "web")`.
type Name = (&'static str, String);

struct Owner {
    container: String,
    replica_group: String,
    definition: String,
}

/// Splits `built` (containers in creation order with their configs) into the ones kept and
/// the refusals, each naming the container and a label of the name it tried to take.
pub fn claim(
    built: Vec<(&Inspected, DynamicConfig)>,
) -> (Vec<(String, DynamicConfig)>, Vec<LabelError>) {
    let mut owners: BTreeMap<Name, Owner> = BTreeMap::new();
    let mut kept = Vec::new();
    let mut refused = Vec::new();
    for (c, config) in built {
        let group = replica_group(c);
        let names = definitions(&config);
        let taken = names.iter().find_map(|(name, definition)| {
            let owner = owners.get(name)?;
            let shares = owner.replica_group == group && owner.definition == *definition;
            (!shares).then_some((name, owner))
        });
        if let Some(((kind, name), owner)) = taken {
            let singular = kind.trim_end_matches('s');
            let label = label_under(c, &format!("http.{kind}.{name}."));
            refused.push(
                LabelError::new(
                    &c.info.name,
                    label,
                    format!(
                        "{singular} `{name}` is already defined by container {:?}: a container cannot take or join another container's {singular}",
                        owner.container
                    ),
                )
                .with_hint(
                    "give it another name; replicas (one compose service) share names when their labels agree; \
                     [providers.docker] allowSharedNames = true merges any containers' definitions, as Traefik"
                ),
            );
            continue;
        }
        for (name, definition) in names {
            owners.entry(name).or_insert_with(|| Owner {
                container: c.info.name.clone(),
                replica_group: group.clone(),
                definition,
            });
        }
        kept.push((c.info.name.clone(), config));
    }
    (kept, refused)
}

/// Replicas are the containers of one compose service (`--scale`); any other container is a
/// group of its own.
fn replica_group(c: &Inspected) -> String {
    let label = |k: &str| c.info.labels.get(k).filter(|v| !v.is_empty());
    match (
        label("com.docker.compose.project"),
        label("com.docker.compose.service"),
    ) {
        (Some(project), Some(service)) => format!("compose {project}/{service}"),
        _ => format!("container {}", c.info.name),
    }
}

/// Each name `config` defines with its definition's text (a service's without its servers,
/// which replicas add up).
fn definitions(config: &DynamicConfig) -> Vec<(Name, String)> {
    let http = &config.http;
    let mut out: Vec<(Name, String)> = Vec::new();
    out.extend(
        http.routers
            .iter()
            .map(|(n, r)| (("routers", n.clone()), format!("{r:?}"))),
    );
    out.extend(
        http.middlewares
            .iter()
            .map(|(n, m)| (("middlewares", n.clone()), format!("{m:?}"))),
    );
    out.extend(
        http.services
            .iter()
            .map(|(n, s)| (("services", n.clone()), without_servers(s))),
    );
    out
}

fn without_servers(s: &ServiceConfig) -> String {
    let mut s = s.clone();
    if let Some(lb) = s.load_balancer.as_mut() {
        lb.servers.clear();
        lb.server = None;
    }
    format!("{s:?}")
}

/// The first `traefik.`/`pylon.` label of `c` under `path` (lower case, without the prefix).
fn label_under<'c>(c: &'c Inspected, path: &str) -> Option<&'c str> {
    c.info.labels.keys().map(String::as_str).find(|k| {
        k.split_once('.').is_some_and(|(head, rest)| {
            (head.eq_ignore_ascii_case("traefik") || head.eq_ignore_ascii_case("pylon"))
                && rest
                    .to_ascii_lowercase()
                    .starts_with(&path.to_ascii_lowercase())
        })
    })
}
