//! What the typed static model accepts at a key path, learnt by deserializing it from a probe.
//!
//! The probe is a serde Deserializer that follows one path: at a struct it records the field
//! names serde asks for (`deserialize_struct`'s `FIELDS`) and steps into the one the next
//! segment names (any case); at a map it steps into the name as written; at a scalar it stops
//! and reports which type the model wanted. The answer travels back as the "error".

use serde::de::{self, DeserializeOwned, IntoDeserializer, MapAccess, Visitor};
use serde::forward_to_deserialize_any;

/// The kind of value the model reads at a leaf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leaf {
    Bool,
    Integer,
    Float,
    Text,
    List,
    /// Several forms (e.g. durations: `"10s"` or `10`); the value is typed by its look.
    Any,
    /// A section (struct) or a map of names: only `true`/`false` may stand for it.
    Section,
}

/// Where a path leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The path with each key in the model's own spelling (map names as given).
    pub path: Vec<String>,
    pub leaf: Leaf,
}

/// Why a path does not lead anywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Miss {
    /// `key` is not a key of the section at `at`; `expected` lists its keys.
    Unknown {
        at: Vec<String>,
        key: String,
        expected: Vec<&'static str>,
    },
    /// The value at `at` is a scalar, so it has no `key` under it.
    NotASection { at: Vec<String>, key: String },
    /// The model could not be followed (a bug or an unsupported shape).
    Other(String),
}

/// Follows `segments` (keys matched case-insensitively) through the model `T`.
pub fn resolve<T: DeserializeOwned>(segments: &[String]) -> Result<Resolved, Miss> {
    let probe = Probe {
        rest: segments,
        done: Vec::new(),
    };
    match T::deserialize(probe) {
        Ok(_) => Err(Miss::Other("the model accepted the probe".into())),
        Err(Stop::Found(r)) => Ok(r),
        Err(Stop::Miss(m)) => Err(m),
        Err(Stop::Custom(m)) => Err(Miss::Other(m)),
    }
}

/// The probe's outcome, carried as a deserialization error.
#[derive(Debug)]
enum Stop {
    Found(Resolved),
    Miss(Miss),
    Custom(String),
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<M: std::fmt::Display>(msg: M) -> Self {
        Stop::Custom(msg.to_string())
    }
}

struct Probe<'a> {
    rest: &'a [String],
    done: Vec<String>,
}

impl Probe<'_> {
    fn leaf(self, leaf: Leaf) -> Stop {
        match self.rest.first() {
            Some(key) => Stop::Miss(Miss::NotASection {
                at: self.done,
                key: key.clone(),
            }),
            None => Stop::Found(Resolved {
                path: self.done,
                leaf,
            }),
        }
    }

    /// Steps into `key` (already in the model's spelling).
    fn enter<'de, V: Visitor<'de>>(self, key: String, visitor: V) -> Result<V::Value, Stop> {
        let mut done = self.done;
        done.push(key.clone());
        visitor.visit_map(One {
            key: Some(key),
            value: Some(Probe {
                rest: &self.rest[1..],
                done,
            }),
        })
    }
}

/// The model's spelling of `key` among `names`: exact first, then any case.
pub fn spelling(key: &str, names: &[&'static str]) -> Option<&'static str> {
    names
        .iter()
        .find(|n| **n == key)
        .or_else(|| names.iter().find(|n| n.eq_ignore_ascii_case(key)))
        .copied()
}

impl<'de> de::Deserializer<'de> for Probe<'_> {
    type Error = Stop;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(self.leaf(Leaf::Any))
    }
    fn deserialize_bool<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(self.leaf(Leaf::Bool))
    }
    fn deserialize_i64<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(self.leaf(Leaf::Integer))
    }
    fn deserialize_i8<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(self.leaf(Leaf::Integer))
    }
    fn deserialize_i16<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(self.leaf(Leaf::Integer))
    }
    fn deserialize_i32<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(self.leaf(Leaf::Integer))
    }
    fn deserialize_u8<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(self.leaf(Leaf::Integer))
    }
    fn deserialize_u16<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(self.leaf(Leaf::Integer))
    }
    fn deserialize_u32<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(self.leaf(Leaf::Integer))
    }
    fn deserialize_u64<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(self.leaf(Leaf::Integer))
    }
    fn deserialize_f32<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(self.leaf(Leaf::Float))
    }
    fn deserialize_f64<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(self.leaf(Leaf::Float))
    }
    fn deserialize_char<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(self.leaf(Leaf::Text))
    }
    fn deserialize_str<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(self.leaf(Leaf::Text))
    }
    fn deserialize_string<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(self.leaf(Leaf::Text))
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Stop> {
        Err(self.leaf(Leaf::Text))
    }
    fn deserialize_seq<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(self.leaf(Leaf::List))
    }
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        visitor.visit_some(self)
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Stop> {
        visitor.visit_newtype_struct(self)
    }
    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        match self.rest.first() {
            None => Err(self.leaf(Leaf::Section)),
            Some(name) => {
                let name = name.clone();
                self.enter(name, visitor)
            }
        }
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Stop> {
        let Some(key) = self.rest.first() else {
            return Err(self.leaf(Leaf::Section));
        };
        match spelling(key, fields) {
            Some(field) => self.enter(field.to_string(), visitor),
            None => Err(Stop::Miss(Miss::Unknown {
                at: self.done,
                key: key.clone(),
                expected: fields.to_vec(),
            })),
        }
    }

    forward_to_deserialize_any! {
        bytes byte_buf unit unit_struct tuple tuple_struct identifier ignored_any
    }
}

/// A map of one entry: the key on the path and the probe for the rest.
struct One<'a> {
    key: Option<String>,
    value: Option<Probe<'a>>,
}

impl<'de> MapAccess<'de> for One<'_> {
    type Error = Stop;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Stop> {
        match self.key.take() {
            Some(k) => seed.deserialize(k.into_deserializer()).map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Stop> {
        match self.value.take() {
            Some(probe) => seed.deserialize(probe),
            None => Err(Stop::Custom("value asked twice".into())),
        }
    }
}
