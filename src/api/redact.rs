//! Config objects as the API shows them: JSON without nulls, every secret replaced.
//!
//! Secrets are the values of [`SECRET_KEYS`], every value of [`SECRET_MAPS`] (the header
//! values a `headers` middleware adds to requests: `Authorization`, API keys), and the
//! userinfo of any URL (`http://user:pass@host` → `http://REDACTED@host`).

use serde::Serialize;
use serde_json::{Map, Value};
use std::borrow::Cow;

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

/// Keys whose object values map names to secrets: the names stay, every value is redacted.
const SECRET_MAPS: [&str; 1] = ["customrequestheaders"];

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
                let k = k.to_ascii_lowercase();
                if SECRET_KEYS.contains(&k.as_str()) || SECRET_MAPS.contains(&k.as_str()) {
                    redact(x);
                } else {
                    scrub(x);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(scrub),
        Value::String(s) => {
            if let Cow::Owned(clean) = redact_url(s) {
                *s = clean;
            }
        }
        _ => {}
    }
}

/// `scheme://user:pass@host/...` with the userinfo replaced by `REDACTED`; anything else as is.
pub fn redact_url(text: &str) -> Cow<'_, str> {
    let Some(start) = text.find("://").map(|i| i + 3) else {
        return Cow::Borrowed(text);
    };
    let authority_end = text[start..]
        .find(['/', '?', '#'])
        .map_or(text.len(), |i| start + i);
    match text[start..authority_end].rfind('@') {
        Some(at) => Cow::Owned(format!(
            "{}{REDACTED}{}",
            &text[..start],
            &text[start + at..]
        )),
        None => Cow::Borrowed(text),
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

    #[test]
    fn custom_request_header_values_and_url_userinfo_are_redacted() {
        let v = json!({
            "headers": {"customRequestHeaders": {"X-Api-Key": "s3cret", "Authorization": "Bearer t"}},
            "loadBalancer": {"servers": [{"url": "http://bob:hunter2@10.0.0.1:80/x"}]},
        });
        let m = clean(&v);
        let text = serde_json::to_string(&m).unwrap();
        assert!(
            !text.contains("s3cret") && !text.contains("Bearer") && !text.contains("hunter2"),
            "{text}"
        );
        assert_eq!(m["headers"]["customRequestHeaders"]["X-Api-Key"], REDACTED);
        assert_eq!(
            m["loadBalancer"]["servers"][0]["url"],
            "http://REDACTED@10.0.0.1:80/x"
        );
        assert_eq!(redact_url("http://10.0.0.1/a@b"), "http://10.0.0.1/a@b");
    }
}
