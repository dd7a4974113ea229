//! Every router's rule parsed once per configuration, shared by validation, route compilation
//! and the TLS-options host mapping (regexes in `HostRegexp`/`PathRegexp` compile once too).

use super::{parse, Expr, RuleError};
use std::collections::HashMap;

/// Router name → its parsed rule, or why it does not parse.
#[derive(Debug, Default)]
pub struct ParsedRules(HashMap<String, Result<Expr, RuleError>>);

impl ParsedRules {
    /// Parses each `(router name, rule)` once.
    pub fn parse_all<'a>(routers: impl IntoIterator<Item = (&'a String, &'a str)>) -> Self {
        ParsedRules(
            routers
                .into_iter()
                .map(|(name, rule)| (name.clone(), parse(rule)))
                .collect(),
        )
    }

    /// The parsed rule of router `name`; `rule` (its text) is parsed here only if the router
    /// was not part of the set.
    pub fn get(&self, name: &str, rule: &str) -> Result<Expr, RuleError> {
        match self.0.get(name) {
            Some(parsed) => parsed.clone(),
            None => parse(rule),
        }
    }

    /// Whether router `name`'s rule parsed (its error, if not).
    pub fn error(&self, name: &str) -> Option<&RuleError> {
        self.0.get(name).and_then(|r| r.as_ref().err())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rule_is_parsed_once_and_errors_are_kept() {
        let (a, b) = ("a".to_string(), "b".to_string());
        let rules = ParsedRules::parse_all([(&a, "Host(`x`)"), (&b, "Host(`x`")]);
        assert_eq!(rules.get("a", "").unwrap().to_string(), "Host(`x`)");
        assert!(rules.error("b").is_some());
        assert!(rules.error("a").is_none());
        assert!(rules.get("b", "").is_err());
    }
}
