//! `chain`: its member names (see `pylon_plugins::chain`), expanded in place where routers'
//! middlewares resolve.

use super::{resolve, Built, Resolved};
use crate::runtime::compile::CompileError;
use crate::runtime::services::local_name;
use std::collections::HashMap;

/// Appends the chain `name`'s `members` to `into`, in order; a chain member is expanded in
/// turn. A chain reached again while it is being expanded is a cycle: reported, not followed.
pub fn expand(
    built: &HashMap<String, Built>,
    name: &str,
    members: &[String],
    key: &str,
    into: &mut Resolved,
    errors: &mut Vec<CompileError>,
) {
    walk(built, name, members, key, into, errors, &mut Vec::new());
}

fn walk(
    built: &HashMap<String, Built>,
    name: &str,
    members: &[String],
    key: &str,
    into: &mut Resolved,
    errors: &mut Vec<CompileError>,
    stack: &mut Vec<String>,
) {
    let local = local_name(name).to_string();
    if stack.contains(&local) {
        stack.push(local);
        errors.push(CompileError {
            key_path: key.to_string(),
            message: format!("chain refers back to itself: {}", stack.join(" -> ")),
        });
        stack.pop();
        return;
    }
    stack.push(local);
    for member in members {
        match built.get(local_name(member)) {
            Some(Built::Chain(inner)) => walk(built, member, inner, key, into, errors, stack),
            _ => resolve(built, std::slice::from_ref(member), key, into, errors),
        }
    }
    stack.pop();
}

#[cfg(test)]
mod tests {
    use super::*;
    use pylon_plugins::{Plugin, StripPrefix};
    use std::sync::Arc;

    fn plugin(prefix: &str) -> Built {
        Built::Plugin(Arc::new(StripPrefix::new(vec![prefix.to_string()])))
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn chain_of(built: &HashMap<String, Built>, router: &[&str]) -> (usize, Vec<String>) {
        let mut into = Resolved::default();
        let mut errors = Vec::new();
        resolve(built, &names(router), "r", &mut into, &mut errors);
        let kinds: Vec<&str> = into
            .chain
            .iter()
            .map(|p: &Arc<dyn Plugin>| p.kind())
            .collect();
        assert!(kinds.iter().all(|k| *k == "stripPrefix"));
        (
            into.chain.len(),
            errors.into_iter().map(|e| e.message).collect(),
        )
    }

    #[test]
    fn chains_expand_in_order_and_nest() {
        let mut built = HashMap::new();
        built.insert("a".to_string(), plugin("/a"));
        built.insert("b".to_string(), plugin("/b"));
        built.insert("inner".to_string(), Built::Chain(names(&["b", "a"])));
        built.insert(
            "outer".to_string(),
            Built::Chain(names(&["a", "inner@file"])),
        );
        let (n, errors) = chain_of(&built, &["outer", "b"]);
        assert_eq!(n, 4);
        assert!(errors.is_empty());
    }

    #[test]
    fn a_cycle_is_reported_not_followed() {
        let mut built = HashMap::new();
        built.insert("a".to_string(), plugin("/a"));
        built.insert("x".to_string(), Built::Chain(names(&["a", "y"])));
        built.insert("y".to_string(), Built::Chain(names(&["x"])));
        let (n, errors) = chain_of(&built, &["x"]);
        assert_eq!(n, 1);
        assert_eq!(errors, vec!["chain refers back to itself: x -> y -> x"]);
    }
}
