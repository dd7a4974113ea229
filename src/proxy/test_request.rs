//! Unit-test helper for the proxy's header handling: a `GET /` request head with given headers.

use pingora::http::RequestHeader;

/// `GET /` with `headers` appended in order (repeats kept).
pub fn get_with(headers: &[(&str, &str)]) -> RequestHeader {
    let mut r = RequestHeader::build("GET", b"/", None).expect("request head");
    for (k, v) in headers {
        r.append_header(k.to_string(), *v).expect("valid header");
    }
    r
}
