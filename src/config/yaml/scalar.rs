//! What a plain YAML scalar stands for under the YAML 1.2 core schema: null, a boolean, an
//! integer, a float, or a string.

use toml::Value;

/// A plain scalar resolved: `None` for null (`~`, `null`, nothing).
pub fn resolve_plain(text: &str) -> Option<Value> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return None,
        "true" | "True" | "TRUE" => return Some(Value::Boolean(true)),
        "false" | "False" | "FALSE" => return Some(Value::Boolean(false)),
        _ => {}
    }
    if let Some(i) = integer(text) {
        return Some(Value::Integer(i));
    }
    if let Some(f) = float(text) {
        return Some(Value::Float(f));
    }
    Some(Value::String(text.to_string()))
}

/// Whether a plain scalar is a string (and so may be a map key).
pub fn is_string(text: &str) -> bool {
    matches!(resolve_plain(text), Some(Value::String(_)))
}

fn integer(text: &str) -> Option<i64> {
    if let Some(octal) = text.strip_prefix("0o") {
        return digits(octal, |c| c.is_digit(8)).then(|| i64::from_str_radix(octal, 8).ok())?;
    }
    if let Some(hex) = text.strip_prefix("0x") {
        return digits(hex, |c| c.is_ascii_hexdigit())
            .then(|| i64::from_str_radix(hex, 16).ok())?;
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    digits(unsigned, |c| c.is_ascii_digit()).then(|| text.parse().ok())?
}

fn digits(text: &str, ok: impl Fn(char) -> bool) -> bool {
    !text.is_empty() && text.chars().all(ok)
}

fn float(text: &str) -> Option<f64> {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let negative = text.starts_with('-');
    match unsigned {
        ".inf" | ".Inf" | ".INF" => {
            return Some(if negative {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            })
        }
        _ => {}
    }
    if matches!(text, ".nan" | ".NaN" | ".NAN") {
        return Some(f64::NAN);
    }
    // [0-9]+(\.[0-9]*)?  or  \.[0-9]+ , then an optional exponent.
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => (&unsigned[..i], Some(&unsigned[i + 1..])),
        None => (unsigned, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (mantissa, None),
    };
    let all_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    let mantissa_ok = match fraction {
        Some(f) => all_digits(whole) && all_digits(f) && !(whole.is_empty() && f.is_empty()),
        None => digits(whole, |c| c.is_ascii_digit()),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        digits(e, |c| c.is_ascii_digit())
    });
    (mantissa_ok && exponent_ok).then(|| text.parse().ok())?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scalars_follow_the_core_schema() {
        assert_eq!(resolve_plain("~"), None);
        assert_eq!(resolve_plain(""), None);
        assert_eq!(resolve_plain("True"), Some(Value::Boolean(true)));
        assert_eq!(resolve_plain("42"), Some(Value::Integer(42)));
        assert_eq!(resolve_plain("-7"), Some(Value::Integer(-7)));
        assert_eq!(resolve_plain("0x1f"), Some(Value::Integer(31)));
        assert_eq!(resolve_plain("0o17"), Some(Value::Integer(15)));
        assert_eq!(resolve_plain("0.5"), Some(Value::Float(0.5)));
        assert_eq!(resolve_plain("1e3"), Some(Value::Float(1000.0)));
        assert_eq!(
            resolve_plain("-.inf"),
            Some(Value::Float(f64::NEG_INFINITY))
        );
        for text in [
            ":80",
            "10s",
            "yes",
            "on",
            "1.2.3",
            "0x",
            "1_000",
            "127.0.0.1:80",
        ] {
            assert_eq!(
                resolve_plain(text),
                Some(Value::String(text.into())),
                "{text}"
            );
        }
    }
}
