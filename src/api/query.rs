//! API answers and Traefik's list query: `search`, `status`, `page`, `per_page`, `X-Next-Page`.

use bytes::Bytes;
use http::StatusCode;
use serde_json::Value;

/// One API response.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Bytes,
    pub content_type: &'static str,
    /// Traefik's `X-Next-Page` for lists (1 when there is no further page).
    pub next_page: Option<usize>,
}

const JSON: &str = "application/json";
const DEFAULT_PER_PAGE: usize = 100;

impl Answer {
    pub fn json(status: StatusCode, v: &Value) -> Answer {
        Answer {
            status,
            body: Bytes::from(serde_json::to_vec(v).unwrap_or_default()),
            content_type: JSON,
            next_page: None,
        }
    }

    pub fn text(status: StatusCode, body: &'static str) -> Answer {
        Answer {
            status,
            body: Bytes::from_static(body.as_bytes()),
            content_type: "text/plain; charset=utf-8",
            next_page: None,
        }
    }

    /// Traefik's `{"message": ...}` error body.
    pub fn message(status: StatusCode, message: String) -> Answer {
        Answer::json(status, &serde_json::json!({ "message": message }))
    }
}

/// The value of `key` in a query string, `+` and `%XX` decoded.
pub fn param(query: Option<&str>, key: &str) -> Option<String> {
    query?
        .split('&')
        .map(|kv| kv.split_once('=').unwrap_or((kv, "")))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| percent_decode(&v.replace('+', " ")))
}

/// Applies `search`, `status`, `page` and `per_page` to a list (Traefik's rules).
pub fn paginate(items: Vec<Value>, query: Option<&str>) -> Answer {
    let number = |key: &str, default: usize| match param(query, key) {
        None => Ok(default),
        Some(v) => v.parse::<usize>().ok().filter(|n| *n > 0).ok_or(()),
    };
    let (Ok(per_page), Ok(page)) = (number("per_page", DEFAULT_PER_PAGE), number("page", 1)) else {
        return Answer::text(
            StatusCode::BAD_REQUEST,
            "invalid request: page and per_page are positive numbers\n",
        );
    };
    let search = param(query, "search").map(|s| s.to_ascii_lowercase());
    let status = param(query, "status");
    let items: Vec<Value> = items
        .into_iter()
        .filter(|v| {
            search.as_ref().is_none_or(|s| {
                v["name"]
                    .as_str()
                    .is_some_and(|n| n.to_ascii_lowercase().contains(s.as_str()))
            })
        })
        .filter(|v| {
            status
                .as_ref()
                .is_none_or(|s| v["status"].as_str() == Some(s))
        })
        .collect();
    let start = (page - 1).saturating_mul(per_page);
    if start != 0 && start >= items.len() {
        return Answer::text(
            StatusCode::BAD_REQUEST,
            "invalid request: page out of range\n",
        );
    }
    let end = start.saturating_add(per_page).min(items.len());
    let next = if page.saturating_mul(per_page) < items.len() {
        page + 1
    } else {
        1
    };
    let mut answer = Answer::json(StatusCode::OK, &Value::Array(items[start..end].to_vec()));
    answer.next_page = Some(next);
    answer
}

/// Decodes `%XX` escapes (invalid ones are kept as they are).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn items(n: usize) -> Vec<Value> {
        (0..n)
            .map(|i| json!({"name": format!("r{i}@file"), "status": "enabled"}))
            .collect()
    }

    fn body(a: &Answer) -> Value {
        serde_json::from_slice(&a.body).unwrap()
    }

    #[test]
    fn pages_like_traefik() {
        let a = paginate(items(5), Some("per_page=2&page=2"));
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(
            body(&a),
            json!([{"name": "r2@file", "status": "enabled"}, {"name": "r3@file", "status": "enabled"}])
        );
        assert_eq!(a.next_page, Some(3));
        let last = paginate(items(5), Some("per_page=2&page=3"));
        assert_eq!(last.next_page, Some(1));
        let out_of_range = paginate(items(5), Some("page=9"));
        assert_eq!(out_of_range.status, StatusCode::BAD_REQUEST);
        let bad = paginate(items(5), Some("per_page=x"));
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert_eq!(paginate(Vec::new(), None).status, StatusCode::OK);
    }

    #[test]
    fn search_and_status_filter() {
        let a = paginate(items(12), Some("search=R1"));
        let names: Vec<String> = body(&a)
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(names, ["r1@file", "r10@file", "r11@file"]);
        let none = paginate(items(3), Some("status=disabled"));
        assert_eq!(body(&none), json!([]));
    }

    #[test]
    fn decodes_escapes() {
        assert_eq!(percent_decode("a%40file"), "a@file");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%4"), "%4");
    }
}
