//! Sticky sessions by cookie: the cookie names a server by a stable hash of its URL.
//!
//! Same config → same cookie values, so stickiness survives restarts and holds across several
//! pylon instances. The raw address never appears in the cookie.

use http::HeaderValue;

/// `sticky.cookie` settings.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StickyCookie {
    pub name: String,
    pub secure: bool,
    pub http_only: bool,
    pub same_site: Option<String>,
    pub max_age: Option<i64>,
    pub path: String,
    pub domain: Option<String>,
}

impl StickyCookie {
    /// Settings with Traefik's defaults for service `service` (cookie name derived from it).
    pub fn defaults_for(service: &str) -> StickyCookie {
        StickyCookie {
            name: default_cookie_name(service),
            secure: false,
            http_only: false,
            same_site: None,
            max_age: None,
            path: "/".to_string(),
            domain: None,
        }
    }

    /// The `Set-Cookie` value naming `token`.
    pub fn set_cookie(&self, token: &str) -> Option<HeaderValue> {
        let mut v = format!("{}={}; Path={}", self.name, token, self.path);
        if let Some(d) = &self.domain {
            v.push_str("; Domain=");
            v.push_str(d);
        }
        if let Some(age) = self.max_age {
            v.push_str(&format!("; Max-Age={age}"));
        }
        if self.http_only {
            v.push_str("; HttpOnly");
        }
        if self.secure {
            v.push_str("; Secure");
        }
        if let Some(ss) = &self.same_site {
            let ss = match ss.to_ascii_lowercase().as_str() {
                "none" => "None",
                "lax" => "Lax",
                "strict" => "Strict",
                _ => "",
            };
            if !ss.is_empty() {
                v.push_str("; SameSite=");
                v.push_str(ss);
            }
        }
        HeaderValue::from_str(&v).ok()
    }

    /// The value of this cookie in the request's `Cookie` headers, if present.
    pub fn find<'a>(
        &self,
        cookie_headers: impl Iterator<Item = &'a HeaderValue>,
    ) -> Option<&'a str> {
        for header in cookie_headers {
            let Ok(text) = header.to_str() else { continue };
            for pair in text.split(';') {
                if let Some((k, v)) = pair.trim().split_once('=') {
                    if k == self.name {
                        return Some(v.trim_matches('"'));
                    }
                }
            }
        }
        None
    }
}

/// FNV-1a, 64 bits: small, stable across versions and machines.
fn fnv1a64(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The cookie value that stands for a server (a hash of its URL, never the address itself).
pub fn server_token(url: &str) -> String {
    format!("{:016x}", fnv1a64(url.as_bytes()))
}

/// Traefik's default cookie name: `_` and the first 6 hex digits of the SHA-1 of the service name.
pub fn default_cookie_name(service: &str) -> String {
    let digest = openssl::sha::sha1(service.as_bytes());
    let hex: String = digest.iter().take(3).map(|b| format!("{b:02x}")).collect();
    format!("_{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_stable_and_hide_the_address() {
        let t = server_token("http://10.0.0.1:8080");
        assert_eq!(t, server_token("http://10.0.0.1:8080"));
        assert_ne!(t, server_token("http://10.0.0.2:8080"));
        assert_eq!(t.len(), 16);
        assert!(!t.contains("10.0.0.1"));
    }

    #[test]
    fn default_name_is_a_short_stable_hash() {
        let n = default_cookie_name("userservice@docker");
        assert_eq!(n.len(), 7);
        assert!(n.starts_with('_'));
        assert_eq!(n, default_cookie_name("userservice@docker"));
    }

    #[test]
    fn set_cookie_carries_the_attributes() {
        let c = StickyCookie {
            name: "sess".into(),
            secure: true,
            http_only: true,
            same_site: Some("lax".into()),
            max_age: Some(60),
            path: "/app".into(),
            domain: Some("example.com".into()),
        };
        assert_eq!(
            c.set_cookie("abc").unwrap(),
            "sess=abc; Path=/app; Domain=example.com; Max-Age=60; HttpOnly; Secure; SameSite=Lax"
        );
    }

    #[test]
    fn finds_the_cookie_among_others() {
        let c = StickyCookie::defaults_for("s");
        let name = c.name.clone();
        let h = [
            HeaderValue::from_static("a=1; b=2"),
            HeaderValue::from_str(&format!("x=y; {name}=tok; z=1")).unwrap(),
        ];
        assert_eq!(c.find(h.iter()), Some("tok"));
        assert_eq!(c.find([HeaderValue::from_static("a=1")].iter()), None);
    }
}
