//! A serde Deserializer over a TOML value tree that matches struct keys case-insensitively.
//!
//! Traefik reads keys without regard to case (`stripprefix` = `stripPrefix`), and Docker labels
//! arrive as strings. This deserializer gives the one config model both: struct fields and enum
//! variants match any case (exact spelling preferred), map keys (user-chosen names such as router
//! names) keep theirs, and a string is coerced where the model wants a bool, a number or a list
//! (`"true"`, `"10"`, `"a,b"`). Native TOML types pass through unchanged.

pub use super::error::TreeError;
use super::error::{one_of, quoted};
use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::forward_to_deserialize_any;
use toml::Value;

/// Deserializes a model from `value` with Traefik's key rules.
pub struct TreeDeserializer(pub Value);

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

fn mismatch(value: &Value, wanted: &str) -> TreeError {
    let found = match value {
        Value::String(s) => format!("`{s}`"),
        other => kind(other).to_string(),
    };
    TreeError::Message(format!("expected {wanted}, found {found}"))
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
            Value::Table(t) => visitor.visit_map(Map::new(t, None)),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        match &self.0 {
            Value::Boolean(b) => visitor.visit_bool(*b),
            Value::String(s) if s.trim().eq_ignore_ascii_case("true") => visitor.visit_bool(true),
            Value::String(s) if s.trim().eq_ignore_ascii_case("false") => visitor.visit_bool(false),
            other => Err(mismatch(other, "true or false")),
        }
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        match &self.0 {
            Value::Integer(i) => visitor.visit_i64(*i),
            Value::String(s) => match s.trim().parse::<i64>() {
                Ok(i) => visitor.visit_i64(i),
                Err(_) => Err(mismatch(&self.0, "an integer")),
            },
            other => Err(mismatch(other, "an integer")),
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
                Err(_) => Err(mismatch(&self.0, "a number")),
            },
            other => Err(mismatch(other, "a number")),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        match self.0 {
            Value::String(s) => visitor.visit_string(s),
            Value::Integer(i) => visitor.visit_string(i.to_string()),
            Value::Float(f) => visitor.visit_string(f.to_string()),
            Value::Boolean(b) => visitor.visit_string(b.to_string()),
            other => Err(mismatch(&other, "a string")),
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
            // Labels write lists as "a,b".
            Value::String(s) => {
                let items: Vec<Value> = s
                    .split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(|p| Value::String(p.to_string()))
                    .collect();
                visitor.visit_seq(Seq(items.into_iter()))
            }
            other => Err(mismatch(&other, "a list")),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        match self.0 {
            Value::Table(t) => visitor.visit_map(Map::new(t, None)),
            other => Err(mismatch(&other, "a table")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TreeError> {
        match self.0 {
            Value::Table(t) => visitor.visit_map(Map::new(t, Some(fields))),
            // Lets types such as `Toggle` accept `true` where a table may stand.
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
            Value::String(s) => {
                let variant = canonical(s.trim(), Some(variants));
                visitor.visit_enum(de::value::StringDeserializer::<TreeError>::new(variant))
            }
            Value::Table(t) if t.len() == 1 => match t.into_iter().next() {
                Some((k, value)) => visitor.visit_enum(Enum {
                    variant: canonical(&k, Some(variants)),
                    value,
                }),
                None => Err(TreeError::Message("expected one key".into())),
            },
            Value::Table(t) => {
                let found: Vec<&str> = t.keys().map(String::as_str).collect();
                let found = if found.is_empty() {
                    "none".to_string()
                } else {
                    quoted(&found)
                };
                Err(TreeError::Message(format!(
                    "expected exactly one of {}, found {found}",
                    quoted(variants)
                )))
            }
            other => Err(mismatch(&other, &one_of(variants))),
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

/// The name `key` stands for: exact spelling first, else a case-insensitive match, else itself
/// (so serde reports it as unknown).
fn canonical(key: &str, names: Option<&'static [&'static str]>) -> String {
    let Some(names) = names else {
        return key.to_string();
    };
    if names.contains(&key) {
        return key.to_string();
    }
    names
        .iter()
        .find(|n| n.eq_ignore_ascii_case(key))
        .map_or_else(|| key.to_string(), |n| n.to_string())
}

struct Seq(std::vec::IntoIter<Value>);

impl<'de> SeqAccess<'de> for Seq {
    type Error = TreeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, TreeError> {
        self.0
            .next()
            .map(|v| seed.deserialize(TreeDeserializer(v)))
            .transpose()
    }
}

struct Map {
    entries: <toml::Table as IntoIterator>::IntoIter,
    fields: Option<&'static [&'static str]>,
    pending: Option<Value>,
}

impl Map {
    fn new(table: toml::Table, fields: Option<&'static [&'static str]>) -> Self {
        Map {
            entries: table.into_iter(),
            fields,
            pending: None,
        }
    }
}

impl<'de> MapAccess<'de> for Map {
    type Error = TreeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, TreeError> {
        let Some((k, v)) = self.entries.next() else {
            return Ok(None);
        };
        self.pending = Some(v);
        let key = canonical(&k, self.fields);
        seed.deserialize(de::value::StringDeserializer::<TreeError>::new(key))
            .map(Some)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, TreeError> {
        let v = self
            .pending
            .take()
            .ok_or_else(|| TreeError::Message("value requested before key".into()))?;
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
    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, TreeDeserializer), TreeError> {
        let key = self.variant.into_deserializer();
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
    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, TreeError> {
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

/// The field names serde's derive gave struct `T`, found by letting `T` ask for them.
///
/// Types that wrap a struct (such as `Toggle<T>`) use this so their table form still matches
/// keys case-insensitively, without repeating the field list by hand.
pub fn struct_fields<'de, T: serde::Deserialize<'de>>() -> &'static [&'static str] {
    struct Probe<'a>(&'a mut &'static [&'static str]);
    impl<'de> de::Deserializer<'de> for Probe<'_> {
        type Error = TreeError;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, TreeError> {
            Err(TreeError::Message("not a struct".into()))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, TreeError> {
            *self.0 = fields;
            Err(TreeError::Message("probe".into()))
        }
        forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Probe(&mut fields));
    fields
}

#[cfg(test)]
mod tests;
