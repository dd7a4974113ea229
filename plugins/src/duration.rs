//! Durations as Traefik writes them: "10s", "500ms", "1m30s", or a plain number of seconds.

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::time::Duration as StdDuration;

/// A configured duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Duration(pub StdDuration);

impl Duration {
    pub fn from_secs(s: u64) -> Self {
        Duration(StdDuration::from_secs(s))
    }
    pub fn get(self) -> StdDuration {
        self.0
    }
}

/// Written as Traefik prints durations: whole milliseconds or seconds with their unit.
impl serde::Serialize for Duration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.0;
        let text = if d.subsec_nanos() == 0 {
            format!("{}s", d.as_secs())
        } else if d.subsec_nanos() % 1_000_000 == 0 {
            format!("{}ms", d.as_millis())
        } else {
            format!("{}ns", d.as_nanos())
        };
        s.serialize_str(&text)
    }
}

/// Parses "1h2m3s", "500ms", "250us", "10ns", "1.5s" or plain seconds ("30").
pub fn parse(text: &str) -> Result<StdDuration, String> {
    let t = text.trim();
    let bad = || {
        format!("`{text}` is not a duration: write e.g. \"10s\", \"500ms\", \"1m30s\" or a number of seconds")
    };
    if t.is_empty() {
        return Err(bad());
    }
    if let Ok(secs) = t.parse::<u64>() {
        return Ok(StdDuration::from_secs(secs));
    }
    let mut total = 0f64;
    let mut rest = t;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        if num_len == 0 {
            return Err(bad());
        }
        let value: f64 = rest[..num_len].parse().map_err(|_| bad())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return Err(bad()),
        };
        total += value * scale;
        rest = &rest[unit_len..];
    }
    StdDuration::try_from_secs_f64(total).map_err(|_| bad())
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a duration such as \"10s\" or \"500ms\", or a number of seconds")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
                u64::try_from(v).map(Duration::from_secs).map_err(|_| {
                    E::custom(format!("`{v}` is not a duration: it must not be negative"))
                })
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
                Ok(Duration::from_secs(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
                parse(v).map(Duration).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_traefik_forms() {
        assert_eq!(parse("10s").unwrap(), StdDuration::from_secs(10));
        assert_eq!(parse("500ms").unwrap(), StdDuration::from_millis(500));
        assert_eq!(parse("1m30s").unwrap(), StdDuration::from_secs(90));
        assert_eq!(parse("1h30m").unwrap(), StdDuration::from_secs(5400));
        assert_eq!(parse("250us").unwrap(), StdDuration::from_micros(250));
        assert_eq!(parse("1h").unwrap(), StdDuration::from_secs(3600));
        assert_eq!(parse("42").unwrap(), StdDuration::from_secs(42));
        assert_eq!(parse("1.5s").unwrap(), StdDuration::from_millis(1500));
    }

    #[test]
    fn rejects_garbage_with_a_hint() {
        for bad in [
            "",
            "ten",
            "10x",
            "s",
            "-1s",
            "10 s",
            "1e400h",
            "99999999999999999999h",
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains("\"500ms\""), "{bad}: {e}");
        }
    }

    #[test]
    fn toml_integers_are_seconds() {
        #[derive(serde::Deserialize, serde::Serialize)]
        struct T {
            d: Duration,
        }
        let t: T = toml::from_str("d = 30").unwrap();
        assert_eq!(t.d.get(), StdDuration::from_secs(30));
        let e = toml::from_str::<T>("d = -1")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("must not be negative"), "{e}");
    }
}
