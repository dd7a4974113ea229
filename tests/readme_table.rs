//! The README's Traefik compatibility table cannot drift from the code: every static top-level
//! key, provider, dynamic section, middleware type, service type and rule matcher the
//! configuration model accepts is named in the table. The names are read from the models
//! themselves (the field or variant names serde knows), so a new key without a row fails here.

use pylon::config::dynamic::{HttpConfig, ServiceConfig};
use pylon::config::middlewares::one_type::type_names as middleware_types;
use pylon::config::static_config::{ProvidersConfig, StaticConfig};
use serde::de::{self, Deserialize, Visitor};

/// The names a model's `Deserialize` announces: a struct's fields or an enum's variants.
fn names<T: for<'de> Deserialize<'de>>() -> Vec<&'static str> {
    let mut found = Vec::new();
    let _ = T::deserialize(Introspect(&mut found));
    assert!(
        !found.is_empty(),
        "no names read from {}",
        std::any::type_name::<T>()
    );
    found
}

/// A deserializer that records what the model asks for and then gives up.
struct Introspect<'a>(&'a mut Vec<&'static str>);

#[derive(Debug)]
struct Stop;

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("introspection only")
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<M: std::fmt::Display>(_: M) -> Self {
        Stop
    }
}

impl<'de> de::Deserializer<'de> for Introspect<'_> {
    type Error = Stop;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(Stop)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Stop> {
        self.0.extend(fields);
        Err(Stop)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        variants: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Stop> {
        self.0.extend(variants);
        Err(Stop)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map identifier
        ignored_any
    }
}

/// The compatibility table's rows.
fn table() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let start = readme
        .find("## Traefik compatibility")
        .expect("the README has a Traefik compatibility section");
    readme[start..]
        .lines()
        .skip(1)
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether `name` appears in `text` as a whole key (between backticks, dots, brackets or
/// spaces), not inside another word.
fn mentions(text: &str, name: &str) -> bool {
    let edge = |c: Option<char>| c.is_none_or(|c| !c.is_ascii_alphanumeric());
    text.match_indices(name).any(|(i, _)| {
        edge(text[..i].chars().next_back()) && edge(text[i + name.len()..].chars().next())
    })
}

fn missing_from_table(kind: &str, names: &[&str]) -> Vec<String> {
    let table = table();
    names
        .iter()
        .filter(|n| !mentions(&table, n))
        .map(|n| format!("{kind} `{n}`"))
        .collect()
}

#[test]
fn every_key_the_models_accept_has_a_row_in_the_compatibility_table() {
    let mut missing = Vec::new();
    missing.extend(missing_from_table("static key", &names::<StaticConfig>()));
    missing.extend(missing_from_table("provider", &names::<ProvidersConfig>()));
    missing.extend(missing_from_table(
        "dynamic http section",
        &names::<HttpConfig>(),
    ));
    assert!(!middleware_types().is_empty(), "no middleware types read");
    missing.extend(missing_from_table("middleware", middleware_types()));
    missing.extend(missing_from_table(
        "service type",
        &names::<ServiceConfig>(),
    ));
    missing.extend(missing_from_table(
        "rule matcher",
        &pylon::rule::ast::MATCHER_NAMES,
    ));
    assert!(
        missing.is_empty(),
        "README.md's compatibility table does not name:\n  {}",
        missing.join("\n  ")
    );
}

#[test]
fn the_check_itself_sees_a_missing_name() {
    // a control: the table is read, and a name it lacks is reported
    assert!(!table().is_empty());
    assert!(mentions(&table(), "stripPrefix"));
    assert!(!mentions(&table(), "stripPrefi"));
    assert_eq!(
        missing_from_table("middleware", &["noSuchMiddleware"]),
        vec!["middleware `noSuchMiddleware`"]
    );
}
