//! pylon's own error answers to gRPC calls (`content-type: application/grpc…`), written as gRPC
//! statuses: a "trailers-only" response (HTTP 200, `grpc-status`, `grpc-message`, no body), so
//! a gRPC client sees `UNAVAILABLE` or `UNIMPLEMENTED` instead of a protocol error. The codes
//! follow gRPC's HTTP-to-gRPC status mapping (doc/http-grpc-status-mapping.md).

use http::{header, HeaderValue, StatusCode};
use pingora::http::{RequestHeader, ResponseHeader};

/// Whether the request is a gRPC call (gRPC-Web is not: its clients read HTTP statuses).
pub fn is_grpc(request: &RequestHeader) -> bool {
    request
        .headers
        .get(header::CONTENT_TYPE)
        .map(HeaderValue::as_bytes)
        .is_some_and(|t| {
            t.strip_prefix(b"application/grpc")
                .is_some_and(|rest| rest.is_empty() || rest[0] == b'+' || rest[0] == b';')
        })
}

/// The gRPC status code for an HTTP error status pylon answers with.
pub fn code_for(status: StatusCode) -> u8 {
    match status.as_u16() {
        400 => 13,                   // INTERNAL
        401 => 16,                   // UNAUTHENTICATED
        403 => 7,                    // PERMISSION_DENIED
        404 => 12,                   // UNIMPLEMENTED
        429 | 502 | 503 | 504 => 14, // UNAVAILABLE
        _ => 2,                      // UNKNOWN
    }
}

/// A trailers-only gRPC answer standing for HTTP `status` with `message`.
pub fn trailers_only(status: StatusCode, message: &str) -> pingora::Result<ResponseHeader> {
    let mut resp = ResponseHeader::build(StatusCode::OK, Some(3))?;
    resp.insert_header(header::CONTENT_TYPE, "application/grpc")?;
    resp.insert_header("grpc-status", code_for(status).to_string())?;
    let message = if message.is_empty() {
        status.canonical_reason().unwrap_or("")
    } else {
        message
    };
    resp.insert_header("grpc-message", percent_encoded(message))?;
    Ok(resp)
}

/// `grpc-message` encoding: bytes outside printable ASCII, and `%`, as `%XX`.
fn percent_encoded(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if (0x20..=0x7e).contains(&b) && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(content_type: &str) -> RequestHeader {
        let mut r = RequestHeader::build("POST", b"/pkg.Svc/Method", None).unwrap();
        r.insert_header("content-type", content_type).unwrap();
        r
    }

    #[test]
    fn grpc_content_types_are_recognised() {
        assert!(is_grpc(&request("application/grpc")));
        assert!(is_grpc(&request("application/grpc+proto")));
        assert!(is_grpc(&request("application/grpc;charset=utf-8")));
        assert!(!is_grpc(&request("application/grpc-web")));
        assert!(!is_grpc(&request("application/grpcx")));
        assert!(!is_grpc(&request("application/json")));
        let plain = RequestHeader::build("GET", b"/", None).unwrap();
        assert!(!is_grpc(&plain));
    }

    #[test]
    fn statuses_map_as_grpc_documents() {
        assert_eq!(code_for(StatusCode::NOT_FOUND), 12);
        assert_eq!(code_for(StatusCode::BAD_GATEWAY), 14);
        assert_eq!(code_for(StatusCode::SERVICE_UNAVAILABLE), 14);
        assert_eq!(code_for(StatusCode::GATEWAY_TIMEOUT), 14);
        assert_eq!(code_for(StatusCode::UNAUTHORIZED), 16);
        assert_eq!(code_for(StatusCode::INTERNAL_SERVER_ERROR), 2);
    }

    #[test]
    fn the_answer_is_trailers_only_with_an_encoded_message() {
        let r = trailers_only(StatusCode::BAD_GATEWAY, "Bad Gateway 100%").unwrap();
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.headers["grpc-status"], "14");
        assert_eq!(r.headers["grpc-message"], "Bad Gateway 100%25");
        assert_eq!(r.headers["content-type"], "application/grpc");
    }
}
