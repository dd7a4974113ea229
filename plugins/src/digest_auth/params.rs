//! The `Authorization: Digest …` header (RFC 7616 §3.4) and the MD5 computations of RFC 2617
//! `qop="auth"` (go-http-auth's, which Traefik uses).

use std::collections::HashMap;

/// The parameters of a `Digest` authorization (scheme in any case); `None`: not Digest.
/// Values may be quoted (`\` escapes inside quotes) or bare tokens; names are lower-cased.
pub fn parse(value: &[u8]) -> Option<HashMap<String, String>> {
    let text = std::str::from_utf8(value).ok()?;
    let (scheme, rest) = text.trim_start().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("digest") {
        return None;
    }
    let mut params = HashMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars
            .peek()
            .is_some_and(|c| *c == ',' || c.is_ascii_whitespace())
        {
            chars.next();
        }
        let mut name = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && *c != ',') {
            name.push(c);
        }
        if name.is_empty() {
            break;
        }
        if chars.next() != Some('=') {
            return None;
        }
        let mut val = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' => break,
                    '\\' => val.push(chars.next()?),
                    c => val.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| *c != ',') {
                val.push(c);
            }
        }
        params.insert(name.trim().to_ascii_lowercase(), val.trim().to_string());
    }
    Some(params)
}

/// Lower-case hex MD5 of `parts` joined by `:`.
pub fn md5_hex(parts: &[&str]) -> String {
    let mut h = match openssl::hash::Hasher::new(openssl::hash::MessageDigest::md5()) {
        Ok(h) => h,
        Err(_) => return String::new(),
    };
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            let _ = h.update(b":");
        }
        let _ = h.update(part.as_bytes());
    }
    h.finish().map(|d| hex(&d)).unwrap_or_default()
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The expected `response` of a `qop="auth"` request:
/// `MD5(HA1:nonce:nc:cnonce:qop:MD5(method:uri))`.
pub fn expected_response(ha1: &str, method: &str, p: &HashMap<String, String>) -> String {
    let get = |k: &str| p.get(k).map_or("", String::as_str);
    let ha2 = md5_hex(&[method, get("uri")]);
    md5_hex(&[
        ha1,
        get("nonce"),
        get("nc"),
        get("cnonce"),
        get("qop"),
        &ha2,
    ])
}

/// Whether `a` and `b` are equal, in time independent of where they differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && openssl::memcmp::eq(a.as_bytes(), b.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quoted_and_bare_values() {
        let p = parse(
            br#"Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, response="8ca523f5e9506fed4657c9700eebdbec", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", x="a\"b""#,
        )
        .unwrap();
        assert_eq!(p["username"], "Mufasa");
        assert_eq!(p["nc"], "00000001");
        assert_eq!(p["qop"], "auth");
        assert_eq!(p["x"], "a\"b");
        assert!(parse(b"Basic dXNlcjpwYXNz").is_none());
        assert!(parse(b"Digest username=\"open").is_none());
    }

    #[test]
    fn computes_rfc_2617s_example() {
        // RFC 2617 §3.5: Mufasa / Circle Of Life at testrealm@host.com.
        let ha1 = md5_hex(&["Mufasa", "testrealm@host.com", "Circle Of Life"]);
        let p: HashMap<String, String> = [
            ("uri", "/dir/index.html"),
            ("nonce", "dcd98b7102dd2f0e8b11d0f600bfb0c093"),
            ("nc", "00000001"),
            ("cnonce", "0a4f113b"),
            ("qop", "auth"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(
            expected_response(&ha1, "GET", &p),
            "6629fae49393a05397450978507c4ef1"
        );
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }
}
