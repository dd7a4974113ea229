//! A serde Deserializer over a TOML value tree that matches struct keys case-insensitively.
//!
//! Traefik reads keys without regard to case (`stripprefix` = `stripPrefix`), and Docker labels
//! arrive as strings. This deserializer gives the one config model both: struct fields match
//! any case (exact spelling preferred), map keys (user-chosen names) keep theirs, and a string
//! is coerced where the model wants a bool, a number or a list (`"a,b"`).

use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::forward_to_deserialize_any;
use toml::Value;

/// Deserializes a model from `value` with Traefik's key rules.
pub struct TreeDeserializer(pub Value);

/// The error type: serde's custom message.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeError(pub String);

impl std::fmt::Display for TreeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for TreeError {}
impl de::Error for TreeError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        TreeError(msg.to_string())
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a datetime",
        Value::Array(_) => "a list",
        Value::Table(_) => "a table",
    }
}

impl TreeDeserializer {
    fn mismatch(&self, wanted: &str) -> TreeError {
        TreeError(format!("expected {wanted}, found {}", kind(&self.0)))
    }
}

impl<'de> de::Deserializer<'de> for TreeDeserializer {
    type Error = TreeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        match self.0 {
            Value::String(s) => visitor.visit_string(s),
            Value::Integer(i) => visitor.visit_i64(i),
            Value::Float(f) => visitor.visit_f64(f),
            Value::Boolean(b) => visitor.visit_bool(b),
            Value::Datetime(d) => visitor.visit_string(d.to_string()),
            Value::Array(a) => visitor.visit_seq(Seq(a.into_iter())),
            Value::Table(t) => visitor.visit_map(Map::new(t.into_iter().collect(), None)),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        match &self.0 {
            Value::Boolean(b) => visitor.visit_bool(*b),
            Value::String(s) if s.eq_ignore_ascii_case("true") => visitor.visit_bool(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => visitor.visit_bool(false),
            _ => Err(self.mismatch("true or false")),
        }
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        match &self.0 {
            Value::Integer(i) => visitor.visit_i64(*i),
            Value::String(s) => match s.trim().parse::<i64>() {
                Ok(i) => visitor.visit_i64(i),
                Err(_) => Err(TreeError(format!("expected an integer, found `{s}`"))),
            },
            _ => Err(self.mismatch("an integer")),
        }
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        match &self.0 {
            Value::Float(f) => visitor.visit_f64(*f),
            Value::Integer(i) => visitor.visit_f64(*i as f64),
            Value::String(s) => match s.trim().parse::<f64>() {
                Ok(f) => visitor.visit_f64(f),
                Err(_) => Err(TreeError(format!("expected a number, found `{s}`"))),
            },
            _ => Err(self.mismatch("a number")),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        match self.0 {
            Value::String(s) => visitor.visit_string(s),
            Value::Integer(i) => visitor.visit_string(i.to_string()),
            Value::Float(f) => visitor.visit_string(f.to_string()),
            Value::Boolean(b) => visitor.visit_string(b.to_string()),
            other => Err(TreeDeserializer(other).mismatch("a string")),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        self.deserialize_string(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, TreeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        match self.0 {
            Value::Array(a) => visitor.visit_seq(Seq(a.into_iter())),
            Value::String(s) => {
                let items: Vec<Value> = s
                    .split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(|p| Value::String(p.to_string()))
                    .collect();
                visitor.visit_seq(Seq(items.into_iter()))
            }
            other => Err(TreeDeserializer(other).mismatch("a list")),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        match self.0 {
            Value::Table(t) => visitor.visit_map(Map::new(t.into_iter().collect(), None)),
            other => Err(TreeDeserializer(other).mismatch("a table")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TreeError> {
        match self.0 {
            Value::Table(t) => visitor.visit_map(Map::new(t.into_iter().collect(), Some(fields))),
            // Let types such as `Toggle` accept `true` where a table may stand.
            other => TreeDeserializer(other).deserialize_any(visitor),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TreeError> {
        match self.0 {
            Value::String(s) => visitor.visit_enum(canonical(&s, Some(variants)).into_deserializer()),
            Value::Table(t) if t.len() == 1 => {
                let Some((k, v)) = t.into_iter().next() else {
                    return Err(TreeError("expected one key".into()));
                };
                visitor.visit_enum(Enum {
                    variant: canonical(&k, Some(variants)),
                    value: v,
                })
            }
            other => Err(TreeDeserializer(other).mismatch("one of the variants")),
        }
    }

    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        self.deserialize_i64(visitor)
    }
    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        self.deserialize_i64(visitor)
    }
    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        self.deserialize_i64(visitor)
    }
    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        self.deserialize_i64(visitor)
    }
    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        self.deserialize_i64(visitor)
    }
    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        self.deserialize_i64(visitor)
    }
    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        self.deserialize_f64(visitor)
    }

    forward_to_deserialize_any! {
        i128 u128 char bytes byte_buf unit unit_struct tuple tuple_struct identifier ignored_any
    }
}

/// The field name `key` stands for: exact spelling first, else a case-insensitive match.
fn canonical(key: &str, fields: Option<&'static [&'static str]>) -> String {
    let Some(fields) = fields else {
        return key.to_string();
    };
    if fields.contains(&key) {
        return key.to_string();
    }
    fields
        .iter()
        .find(|f| f.eq_ignore_ascii_case(key))
        .map_or_else(|| key.to_string(), |f| f.to_string())
}

struct Seq(std::vec::IntoIter<Value>);

impl<'de> SeqAccess<'de> for Seq {
    type Error = TreeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, TreeError> {
        self.0.next().map(|v| seed.deserialize(TreeDeserializer(v))).transpose()
    }
}

struct Map {
    entries: std::vec::IntoIter<(String, Value)>,
    fields: Option<&'static [&'static str]>,
    pending: Option<Value>,
}

impl Map {
    fn new(entries: Vec<(String, Value)>, fields: Option<&'static [&'static str]>) -> Self {
        Map {
            entries: entries.into_iter(),
            fields,
            pending: None,
        }
    }
}

impl<'de> MapAccess<'de> for Map {
    type Error = TreeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, TreeError> {
        let Some((k, v)) = self.entries.next() else {
            return Ok(None);
        };
        self.pending = Some(v);
        let key: de::value::StringDeserializer<TreeError> = canonical(&k, self.fields).into_deserializer();
        seed.deserialize(key).map(Some)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, TreeError> {
        let v = self
            .pending
            .take()
            .ok_or_else(|| TreeError("value requested before key".into()))?;
        seed.deserialize(TreeDeserializer(v))
    }
}

struct Enum {
    variant: String,
    value: Value,
}

impl<'de> de::EnumAccess<'de> for Enum {
    type Error = TreeError;
    type Variant = TreeDeserializer;
    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, TreeDeserializer), TreeError> {
        let key: de::value::StringDeserializer<TreeError> = self.variant.into_deserializer();
        Ok((seed.deserialize(key)?, TreeDeserializer(self.value)))
    }
}

impl<'de> de::VariantAccess<'de> for TreeDeserializer {
    type Error = TreeError;
    fn unit_variant(self) -> Result<(), TreeError> {
        Ok(())
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, TreeError> {
        seed.deserialize(self)
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, TreeError> {
        de::Deserializer::deserialize_seq(self, visitor)
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TreeError> {
        de::Deserializer::deserialize_struct(self, "", fields, visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Inner {
        strip_prefix: Option<Vec<String>>,
        pass_host_header: Option<bool>,
        port: Option<u16>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Outer {
        load_balancers: BTreeMap<String, Inner>,
    }

    fn parse<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T, TreeError> {
        let v: Value = toml::from_str(text).unwrap();
        T::deserialize(TreeDeserializer(v))
    }

    #[test]
    fn struct_keys_match_any_case_but_map_keys_keep_theirs() {
        let o: Outer = parse("[loadbalancers.MyName]\nSTRIPPREFIX = ['/a']\n").unwrap();
        assert_eq!(o.load_balancers["MyName"].strip_prefix, Some(vec!["/a".to_string()]));
    }

    #[test]
    fn strings_are_coerced_like_labels() {
        let o: Outer = parse("[loadBalancers.x]\npasshostheader = 'false'\nport = '8080'\nstripprefix = '/a, /b'\n").unwrap();
        let i = &o.load_balancers["x"];
        assert_eq!(i.pass_host_header, Some(false));
        assert_eq!(i.port, Some(8080));
        assert_eq!(i.strip_prefix, Some(vec!["/a".to_string(), "/b".to_string()]));
    }

    #[test]
    fn unknown_keys_are_errors() {
        let e = parse::<Outer>("[loadBalancers.x]\nprot = 1\n").unwrap_err();
        assert!(e.0.contains("unknown field `prot`"), "{e}");
    }
}
