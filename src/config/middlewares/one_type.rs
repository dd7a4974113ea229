//! Decodes a middleware's table as Traefik does: exactly one key, naming its type (any case).
//!
//! The derived (`remote = "Self"`) decoder of [`MiddlewareConfig`] knows the variants; this
//! wrapper reads the table itself so that zero or several type keys get pylon's own message at
//! the middleware's key path, an unknown type gets the did-you-mean error of an unknown key,
//! and the chosen type's settings are decoded in place (errors keep their full key path).
//! The types Traefik has and pylon does not implement yet decode too, to be refused by name.

use super::MiddlewareConfig;
use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, VariantAccess, Visitor,
};
use serde::forward_to_deserialize_any;

impl serde::Serialize for MiddlewareConfig {
    /// `{"<type>": {...}}`: Traefik's JSON shape of a middleware.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        MiddlewareConfig::serialize(self, s)
    }
}

impl<'de> serde::Deserialize<'de> for MiddlewareConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(OneType)
    }
}

/// The Traefik type names, in declaration order (taken from the derived decoder).
pub fn type_names() -> &'static [&'static str] {
    struct Probe<'a>(&'a mut &'static [&'static str]);
    impl<'de> Deserializer<'de> for Probe<'_> {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not an enum"))
        }
        fn deserialize_enum<V: Visitor<'de>>(
            self,
            _name: &'static str,
            variants: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = variants;
            Err(de::Error::custom("probe"))
        }
        forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map struct identifier
            ignored_any
        }
    }
    let mut names: &'static [&'static str] = &[];
    let _ = MiddlewareConfig::deserialize(Probe(&mut names));
    names
}

/// The error of a Traefik type pylon does not implement, naming those it does.
pub fn not_supported_yet(
    kind: &str,
    cx: &pylon_plugins::BuildCx,
) -> Vec<pylon_plugins::BuildError> {
    const NOT_YET: [&str; 1] = ["plugin"];
    let supported: Vec<&str> = type_names()
        .iter()
        .copied()
        .filter(|n| !NOT_YET.contains(n))
        .collect();
    vec![pylon_plugins::BuildError {
        key_path: cx.key(kind),
        message: format!("middleware type `{kind}` is not supported yet by pylon"),
        hint: Some(format!("supported today: {}", supported.join(", "))),
    }]
}

/// The type name `key` stands for: exact spelling first, then any case.
fn canonical(key: &str, names: &'static [&'static str]) -> Option<&'static str> {
    names
        .iter()
        .find(|n| **n == key)
        .or_else(|| names.iter().find(|n| n.eq_ignore_ascii_case(key)))
        .copied()
}

struct OneType;

impl<'de> Visitor<'de> for OneType {
    type Value = MiddlewareConfig;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a table with one middleware type, e.g. `stripPrefix`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MiddlewareConfig, A::Error> {
        let names = type_names();
        let type_of =
            |key: &str| canonical(key, names).ok_or_else(|| de::Error::unknown_field(key, names));
        let Some(first) = map.next_key::<String>()? else {
            return Err(de::Error::custom(
                "no middleware type is set: add e.g. `[http.middlewares.NAME.stripPrefix]`",
            ));
        };
        let first = type_of(&first)?;
        let config = map.next_value_seed(TypeSeed(first))?;
        let mut set = vec![first];
        while let Some(key) = map.next_key::<String>()? {
            set.push(type_of(&key)?);
            map.next_value::<de::IgnoredAny>()?;
        }
        if set.len() > 1 {
            set.sort_by_key(|n| names.iter().position(|x| x == n));
            return Err(de::Error::custom(format!(
                "more than one middleware type is set: {} (a middleware has exactly one type: \
                 define one middleware per type and list them all on the router)",
                set.join(", ")
            )));
        }
        Ok(config)
    }
}

/// Decodes the settings of type `.0` from the value under its key.
struct TypeSeed(&'static str);

impl<'de> DeserializeSeed<'de> for TypeSeed {
    type Value = MiddlewareConfig;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<MiddlewareConfig, D::Error> {
        MiddlewareConfig::deserialize(Tagged {
            variant: self.0,
            value: d,
        })
    }
}

/// A deserializer that presents `value` as the enum variant `variant` (a newtype variant).
struct Tagged<D> {
    variant: &'static str,
    value: D,
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Tagged<D> {
    type Error = D::Error;
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        visitor.visit_enum(self)
    }
    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier
        ignored_any
    }
}

impl<'de, D: Deserializer<'de>> EnumAccess<'de> for Tagged<D> {
    type Error = D::Error;
    type Variant = Settings<D>;
    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Settings<D>), D::Error> {
        let variant =
            seed.deserialize(de::value::StrDeserializer::<D::Error>::new(self.variant))?;
        Ok((variant, Settings(self.value)))
    }
}

/// The chosen variant's settings: every middleware type is a newtype variant.
struct Settings<D>(D);

impl<'de, D: Deserializer<'de>> VariantAccess<'de> for Settings<D> {
    type Error = D::Error;
    fn unit_variant(self) -> Result<(), D::Error> {
        Err(de::Error::custom("a middleware type needs its settings"))
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, D::Error> {
        seed.deserialize(self.0)
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _: V) -> Result<V::Value, D::Error> {
        Err(de::Error::custom(
            "a middleware type is a table of settings",
        ))
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, D::Error> {
        Err(de::Error::custom(
            "a middleware type is a table of settings",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{from_tree, DynamicConfig};

    fn decode(text: &str) -> Result<DynamicConfig, String> {
        from_tree(toml::from_str(text).unwrap(), "t.toml").map_err(|e| e.to_string())
    }

    #[test]
    fn one_type_key_in_any_case_is_its_variant() {
        let d = decode("[http.middlewares.m.STRIPprefix]\nprefixes = [\"/a\"]\n").unwrap();
        let MiddlewareConfig::StripPrefix(sp) = &d.http.middlewares["m"] else {
            panic!("not stripPrefix")
        };
        assert_eq!(sp.prefixes, ["/a"]);
        assert_eq!(d.http.middlewares["m"].kind(), "stripPrefix");
    }

    #[test]
    fn every_variant_has_its_traefik_name() {
        for name in type_names() {
            let text = format!("[http.middlewares.m.{name}]\n");
            // Some types require keys; what matters is that the type key is recognised.
            match decode(&text) {
                Ok(d) => assert_eq!(d.http.middlewares["m"].kind(), *name),
                Err(e) => assert!(!e.contains("unknown key"), "{name}: {e}"),
            }
        }
        assert_eq!(type_names().len(), 24);
    }

    #[test]
    fn zero_two_or_unknown_type_keys_are_refused_at_the_middleware() {
        let e = decode("[http.middlewares.m]\n").unwrap_err();
        assert!(
            e.contains("http.middlewares.m: no middleware type is set"),
            "{e}"
        );
        let e = decode(
            "[http.middlewares.m.addPrefix]\nprefix = \"/a\"\n[http.middlewares.m.stripPrefix]\nprefixes = [\"/a\"]\n",
        )
        .unwrap_err();
        assert!(
            e.contains(
                "http.middlewares.m: more than one middleware type is set: stripPrefix, addPrefix"
            ),
            "{e}"
        );
        let e = decode("[http.middlewares.m.stripPrefixx]\n").unwrap_err();
        assert!(
            e.contains("unknown key `http.middlewares.m.stripPrefixx`"),
            "{e}"
        );
        assert!(e.contains("did you mean `stripPrefix`"), "{e}");
    }

    #[test]
    fn settings_errors_keep_their_full_key_path() {
        let e = decode("[http.middlewares.m.stripPrefix]\nprefixs = [\"/a\"]\n").unwrap_err();
        assert!(
            e.contains("http.middlewares.m.stripPrefix.prefixs: unknown key"),
            "{e}"
        );
    }

    #[test]
    fn serializes_in_traefiks_json_shape() {
        let d = decode("[http.middlewares.m.addPrefix]\nprefix = \"/a\"\n").unwrap();
        let json = serde_json::to_value(&d.http.middlewares["m"]).unwrap();
        assert_eq!(json["addPrefix"]["prefix"], "/a");
    }
}
