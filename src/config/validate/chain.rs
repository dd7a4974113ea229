//! Checks `chain` middlewares: every member exists, and no chain contains itself.

use super::{exists, names, Collector};
use crate::config::dynamic::{DynamicConfig, MiddlewareConfig};
use std::collections::BTreeMap;

/// Checks every chain of the config (members are other middlewares, hence the whole config).
pub(super) fn validate(d: &DynamicConfig, c: &mut Collector<'_>) {
    let middlewares = &d.http.middlewares;
    for (name, mw) in middlewares {
        let MiddlewareConfig::Chain(chain) = mw else {
            continue;
        };
        let key = format!("http.middlewares.{name}.chain.middlewares");
        for (i, member) in chain.middlewares.iter().enumerate() {
            if !exists(middlewares, member) {
                c.push(
                    format!("{key}[{i}]"),
                    format!("middleware `{member}` does not exist"),
                    Some(format!("use one of: {}", names(middlewares.keys()))),
                );
            }
        }
        // Each cycle is reported once, at its first member in name order.
        if let Some(cycle) = cycle_from(name, middlewares) {
            if cycle.iter().all(|n| n.as_str() >= name.as_str()) {
                c.push(
                    &key,
                    format!("chains refer back to themselves: {}", cycle.join(" -> ")),
                    Some("remove one of these references".into()),
                );
            }
        }
    }
}

fn local(name: &str) -> &str {
    name.strip_suffix("@file").unwrap_or(name)
}

/// The members of chain `name` (empty if it is not a chain).
fn members<'a>(name: &str, all: &'a BTreeMap<String, MiddlewareConfig>) -> &'a [String] {
    all.get(name)
        .or_else(|| all.get(local(name)))
        .map_or(&[], |m| match m {
            MiddlewareConfig::Chain(c) => c.middlewares.as_slice(),
            _ => &[],
        })
}

/// A path `start -> ... -> start` through chain members, if there is one.
fn cycle_from(start: &str, all: &BTreeMap<String, MiddlewareConfig>) -> Option<Vec<String>> {
    let mut stack = vec![vec![start.to_string()]];
    let mut seen = std::collections::HashSet::new();
    while let Some(path) = stack.pop() {
        let last = path.last().map_or(start, String::as_str);
        for member in members(last, all) {
            let member = local(member);
            let mut next = path.clone();
            next.push(member.to_string());
            if member == start {
                return Some(next);
            }
            if seen.insert(member.to_string()) {
                stack.push(next);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(members: &[&str]) -> MiddlewareConfig {
        MiddlewareConfig::Chain(pylon_plugins::chain::Config {
            middlewares: members.iter().map(|s| s.to_string()).collect(),
        })
    }

    #[test]
    fn finds_cycles_through_nested_chains() {
        let mut all = BTreeMap::new();
        all.insert("a".to_string(), chain(&["b@file"]));
        all.insert("b".to_string(), chain(&["plain", "c"]));
        all.insert("c".to_string(), chain(&["a"]));
        all.insert("d".to_string(), chain(&["a"]));
        all.insert("self".to_string(), chain(&["self"]));
        all.insert(
            "plain".to_string(),
            MiddlewareConfig::Retry(Default::default()),
        );
        assert_eq!(
            cycle_from("a", &all).unwrap().join(" -> "),
            "a -> b -> c -> a"
        );
        assert_eq!(
            cycle_from("self", &all).unwrap().join(" -> "),
            "self -> self"
        );
        assert_eq!(cycle_from("d", &all), None, "d only leads into a cycle");
        assert_eq!(cycle_from("plain", &all), None);
    }
}
