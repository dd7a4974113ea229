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

/// Checks framing and Host; `None` means the request may proceed.
pub fn check_request(req: &RequestHeader, max_header_bytes: usize) -> Option<Rejection> {
    let headers = &req.headers;
    let te = headers.get_all(header::TRANSFER_ENCODING).iter().count();
    let mut lengths = headers.get_all(header::CONTENT_LENGTH).iter();
    if te > 0 && lengths.next().is_some() {
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
    let size: usize = headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if size > max_header_bytes {
        return reject(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "request header fields too large\n",
            true,
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(headers: &[(&str, &str)]) -> RequestHeader {
        let mut r = RequestHeader::build("GET", b"/", None).unwrap();
        for (k, v) in headers {
            r.append_header(k.to_string(), *v).unwrap();
        }
        r
    }

    #[test]
    fn accepts_a_normal_request() {
        assert_eq!(check_request(&req(&[("host", "a"), ("content-length", "5")]), 32768), None);
    }

    #[test]
    fn rejects_cl_and_te_together() {
        let r = check_request(
            &req(&[("host", "a"), ("content-length", "5"), ("transfer-encoding", "chunked")]),
            32768,
        )
        .unwrap();
        assert_eq!(r.status, 400);
        assert!(r.close);
    }

    #[test]
    fn rejects_conflicting_or_bad_content_length() {
        for cls in [&["5", "6"][..], &["5, 6"], &["+5"], &["0x5"], &[""], &["-1"]] {
            let mut h = vec![("host", "a")];
            h.extend(cls.iter().map(|v| ("content-length", *v)));
            assert_eq!(check_request(&req(&h), 32768).unwrap().status, 400, "{cls:?}");
        }
        // identical repeated values are tolerated, as RFC 9110 allows
        assert_eq!(
            check_request(&req(&[("host", "a"), ("content-length", "5, 5")]), 32768),
            None
        );
    }

    #[test]
    fn rejects_missing_or_duplicate_host() {
        assert_eq!(check_request(&req(&[]), 32768).unwrap().status, 400);
        assert_eq!(check_request(&req(&[("host", "a"), ("host", "b")]), 32768).unwrap().status, 400);
    }

    #[test]
    fn rejects_oversized_headers_with_431() {
        let big = "x".repeat(100);
        assert_eq!(
            check_request(&req(&[("host", "a"), ("x-big", &big)]), 64).unwrap().status,
            431
        );
    }
}
