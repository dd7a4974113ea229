//! Request sanity checks done before routing: framing (RFC 9112), Host, header size.

use http::{header, StatusCode, Version};
use pingora::http::RequestHeader;

/// A request pylon refuses, and whether the connection must be closed after the answer.
#[derive(Debug, PartialEq, Eq)]
pub struct Rejection {
    pub status: StatusCode,
    pub reason: &'static str,
    pub close: bool,
}

fn reject(status: StatusCode, reason: &'static str, close: bool) -> Option<Rejection> {
    Some(Rejection {
        status,
        reason,
        close,
    })
}

/// Checks framing, Host and size; `None` means the request may proceed.
///
/// `raw_head` is the request head as received on HTTP/1 (Pingora drops `Content-Length` from the
/// parsed headers when `Transfer-Encoding` is present, so the conflict is only visible there).
pub fn check_request(
    req: &RequestHeader,
    raw_head: Option<&[u8]>,
    max_header_bytes: usize,
) -> Option<Rejection> {
    let headers = &req.headers;
    if let Some(raw) = raw_head {
        if let Some(rejection) = check_raw_head(raw) {
            return Some(rejection);
        }
    }
    let te = headers.contains_key(header::TRANSFER_ENCODING);
    let cl_in_raw = || raw_head.is_some_and(|raw| has_header_line(raw, b"content-length"));
    if te && (headers.contains_key(header::CONTENT_LENGTH) || cl_in_raw()) {
        return reject(
            StatusCode::BAD_REQUEST,
            "both Content-Length and Transfer-Encoding\n",
            true,
        );
    }
    if te {
        if let Some(rejection) = check_transfer_encoding(req) {
            return Some(rejection);
        }
    }
    // One Content-Length of digits only: a list (`5, 5`) or a repeated line is refused even when
    // the values agree, so no hop after pylon can read a different length.
    let mut lengths = headers.get_all(header::CONTENT_LENGTH).iter();
    if let Some(value) = lengths.next() {
        if lengths.next().is_some() {
            return reject(
                StatusCode::BAD_REQUEST,
                "more than one Content-Length\n",
                true,
            );
        }
        let v = value.as_bytes();
        if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
            return reject(StatusCode::BAD_REQUEST, "invalid Content-Length\n", true);
        }
    }
    if req.version == Version::HTTP_11 {
        match headers.get_all(header::HOST).iter().count() {
            0 => return reject(StatusCode::BAD_REQUEST, "missing Host header\n", true),
            1 => {}
            _ => return reject(StatusCode::BAD_REQUEST, "duplicate Host header\n", true),
        }
    }
    let size = match raw_head {
        Some(raw) => raw.len(),
        None => headers
            .iter()
            .map(|(k, v)| k.as_str().len() + v.len() + 4)
            .sum(),
    };
    if size > max_header_bytes {
        return reject(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "request header fields too large\n",
            true,
        );
    }
    None
}

/// Transfer-Encoding must be exactly one `chunked` (RFC 9112 6.1: a request's final coding must
/// be chunked; pylon decodes no other coding, so anything else is 501, a repeated one 400).
fn check_transfer_encoding(req: &RequestHeader) -> Option<Rejection> {
    if req.version != Version::HTTP_11 {
        return reject(
            StatusCode::BAD_REQUEST,
            "Transfer-Encoding needs HTTP/1.1\n",
            true,
        );
    }
    let mut values = req.headers.get_all(header::TRANSFER_ENCODING).iter();
    let single = match (values.next(), values.next()) {
        (Some(v), None) => v.as_bytes().trim_ascii(),
        _ => {
            return reject(
                StatusCode::BAD_REQUEST,
                "more than one Transfer-Encoding\n",
                true,
            )
        }
    };
    if single.eq_ignore_ascii_case(b"chunked") {
        return None;
    }
    let codings = single.split(|b| *b == b',').map(<[u8]>::trim_ascii);
    if codings
        .filter(|c| c.eq_ignore_ascii_case(b"chunked"))
        .count()
        > 1
    {
        return reject(
            StatusCode::BAD_REQUEST,
            "chunked applied more than once\n",
            true,
        );
    }
    reject(
        StatusCode::NOT_IMPLEMENTED,
        "unsupported Transfer-Encoding\n",
        true,
    )
}

/// Line endings of the raw head: every LF must follow a CR (no bare LF), and no CR may stand
/// alone; no NUL anywhere. Parsers that disagree on these are a classic smuggling vector.
fn check_raw_head(raw: &[u8]) -> Option<Rejection> {
    for (i, b) in raw.iter().enumerate() {
        let bad = match b {
            b'\n' => i == 0 || raw[i - 1] != b'\r',
            b'\r' => raw.get(i + 1) != Some(&b'\n'),
            0 => true,
            _ => false,
        };
        if bad {
            return reject(
                StatusCode::BAD_REQUEST,
                "bad line ending or NUL in the request head\n",
                true,
            );
        }
    }
    None
}

/// Whether a header line named `name` (lower case) appears in a raw request head.
fn has_header_line(raw: &[u8], name: &[u8]) -> bool {
    raw.split(|b| *b == b'\n').skip(1).any(|line| {
        line.len() > name.len() && line[..name.len()].eq_ignore_ascii_case(name) && {
            let rest = line[name.len()..].trim_ascii_start();
            rest.first() == Some(&b':')
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_request_h(r: &RequestHeader, max: usize) -> Option<Rejection> {
        check_request(r, None, max)
    }

    #[test]
    fn finds_content_length_in_the_raw_head() {
        let mut r = req(&[("host", "a"), ("transfer-encoding", "chunked")]);
        let raw = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(check_request(&r, Some(raw), 32768).unwrap().status, 400);
        let clean = b"POST / HTTP/1.1\r\nHost: a\r\nX-Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(check_request(&r, Some(clean), 32768), None);
        r.remove_header("transfer-encoding");
        assert_eq!(
            check_request(&r, Some(&[b'x'; 100]), 50).unwrap().status,
            431
        );
    }

    use crate::proxy::test_request::get_with as req;

    #[test]
    fn accepts_a_normal_request() {
        assert_eq!(
            check_request_h(&req(&[("host", "a"), ("content-length", "5")]), 32768),
            None
        );
    }

    #[test]
    fn rejects_cl_and_te_together() {
        let r = check_request_h(
            &req(&[
                ("host", "a"),
                ("content-length", "5"),
                ("transfer-encoding", "chunked"),
            ]),
            32768,
        )
        .unwrap();
        assert_eq!(r.status, 400);
        assert!(r.close);
    }

    #[test]
    fn rejects_conflicting_or_bad_content_length() {
        for cls in [
            &["5", "6"][..],
            &["5, 6"],
            &["+5"],
            &["0x5"],
            &[""],
            &["-1"],
        ] {
            let mut h = vec![("host", "a")];
            h.extend(cls.iter().map(|v| ("content-length", *v)));
            assert_eq!(
                check_request_h(&req(&h), 32768).unwrap().status,
                400,
                "{cls:?}"
            );
        }
        // identical repeated values are refused too (RFC 9110 allows either)
        for cls in [&["5, 5"][..], &["5", "5"]] {
            let mut h = vec![("host", "a")];
            h.extend(cls.iter().map(|v| ("content-length", *v)));
            assert_eq!(check_request_h(&req(&h), 32768).unwrap().status, 400);
        }
    }

    #[test]
    fn transfer_encoding_must_be_one_chunked() {
        let te = |v: &[&str]| {
            let mut h = vec![("host", "a")];
            h.extend(v.iter().map(|v| ("transfer-encoding", *v)));
            check_request_h(&req(&h), 32768).map(|r| r.status.as_u16())
        };
        assert_eq!(te(&["chunked"]), None);
        assert_eq!(te(&["Chunked "]), None);
        assert_eq!(te(&["gzip"]), Some(501));
        assert_eq!(te(&["chunked, gzip"]), Some(501));
        assert_eq!(te(&["gzip, chunked"]), Some(501));
        assert_eq!(te(&["chunked, chunked"]), Some(400));
        assert_eq!(te(&["chunked", "chunked"]), Some(400));
    }

    #[test]
    fn raw_head_line_endings() {
        assert_eq!(check_raw_head(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"), None);
        for bad in [
            &b"GET / HTTP/1.1\nHost: a\n\n"[..],
            b"GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n",
            b"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",
            b"GET / HTTP/1.1\r\nX: a\0b\r\n\r\n",
        ] {
            assert_eq!(check_raw_head(bad).unwrap().status, 400);
        }
    }

    #[test]
    fn rejects_missing_or_duplicate_host() {
        assert_eq!(check_request_h(&req(&[]), 32768).unwrap().status, 400);
        assert_eq!(
            check_request_h(&req(&[("host", "a"), ("host", "b")]), 32768)
                .unwrap()
                .status,
            400
        );
    }

    #[test]
    fn rejects_oversized_headers_with_431() {
        let big = "x".repeat(100);
        assert_eq!(
            check_request_h(&req(&[("host", "a"), ("x-big", &big)]), 64)
                .unwrap()
                .status,
            431
        );
    }
}
