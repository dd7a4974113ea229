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
    let te = headers.contains_key(header::TRANSFER_ENCODING);
    let cl_in_raw = || raw_head.is_some_and(|raw| has_header_line(raw, b"content-length"));
    if te && (headers.contains_key(header::CONTENT_LENGTH) || cl_in_raw()) {
        return reject(
            StatusCode::BAD_REQUEST,
            "both Content-Length and Transfer-Encoding\n",
            true,
        );
    }
    let mut first: Option<&[u8]> = None;
    for value in headers.get_all(header::CONTENT_LENGTH) {
        for part in value.as_bytes().split(|b| *b == b',') {
            let part = part.trim_ascii();
            if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
                return reject(StatusCode::BAD_REQUEST, "invalid Content-Length\n", true);
            }
            match first {
                Some(prev) if prev != part => {
                    return reject(
                        StatusCode::BAD_REQUEST,
                        "conflicting Content-Length values\n",
                        true,
                    )
                }
                _ => first = Some(part),
            }
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

    fn req(headers: &[(&str, &str)]) -> RequestHeader {
        let mut r = RequestHeader::build("GET", b"/", None).unwrap();
        for (k, v) in headers {
            r.append_header(k.to_string(), *v).unwrap();
        }
        r
    }

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
        // identical repeated values are tolerated, as RFC 9110 allows
        assert_eq!(
            check_request_h(&req(&[("host", "a"), ("content-length", "5, 5")]), 32768),
            None
        );
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
