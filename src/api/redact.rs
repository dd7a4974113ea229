//! Config objects as the API shows them: JSON without nulls, every secret replaced.

use serde::Serialize;
use serde_json::{Map, Value};

/// Keys whose values are secrets wherever they appear (basicAuth users and their hashes,
/// Redis passwords, tokens, key material), compared case-insensitively.
const SECRET_KEYS: [&str; 8] = [
    "users",
    "password",
    "secret",
    "token",
    "apikey",
    "privatekey",
    "key",
    "keyfile",
];

/// What a secret's value becomes.
pub const REDACTED: &str = "REDACTED";

/// The value as a JSON object without nulls, with secrets replaced by `REDACTED`.
pub fn clean<T: Serialize>(value: &T) -> Map<String, Value> {
    let mut v = serde_json::to_value(value).unwrap_or(Value::Null);
    scrub(&mut v);
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn scrub(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            for (k, x) in m.iter_mut() {
                if SECRET_KEYS.contains(&k.to_ascii_lowercase().as_str()) {
                    redact(x);
                } else {
                    scrub(x);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(scrub),
        _ => {}
    }
}

/// Replaces every leaf under `v` by `REDACTED`, keeping the shape (a list stays a list).
fn redact(v: &mut Value) {
    match v {
        Value::Array(a) => a.iter_mut().for_each(redact),
        Value::Object(m) => m.values_mut().for_each(redact),
        Value::Null => {}
        other => *other = Value::from(REDACTED),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_redacted_and_nulls_dropped() {
        let v = json!({
            "basicAuth": {"users": ["bob:$apr1$x$y"], "realm": "r", "headerField": null},
            "rateLimit": {"redis": {"password": "hunter2", "endpoints": ["127.0.0.1:6379"]}},
            "tls": {"certificates": [{"certFile": "/c.pem", "keyFile": "/k.pem"}]},
        });
        let m = clean(&v);
        let text = serde_json::to_string(&m).unwrap();
        assert!(
            !text.contains("apr1") && !text.contains("hunter2") && !text.contains("k.pem"),
            "{text}"
        );
        assert_eq!(m["basicAuth"]["users"], json!([REDACTED]));
        assert!(m["basicAuth"].get("headerField").is_none());
        assert_eq!(m["rateLimit"]["redis"]["endpoints"][0], "127.0.0.1:6379");
        assert_eq!(m["tls"]["certificates"][0]["certFile"], "/c.pem");
    }
}
