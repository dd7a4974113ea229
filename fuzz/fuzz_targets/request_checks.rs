//! Fuzz target: the request checks done before routing (`pylon::proxy::checks::check_request`)
//! never panic, over a request head built from the input as HTTP/1.1 (with the raw head) and
//! as HTTP/2 (no raw head); a raw head holding a NUL is always refused.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pingora_http::RequestHeader;
use pylon::proxy::checks::check_request;

/// `METHOD target` on the first line, then `name: value` lines; what the HTTP types refuse is
/// left out (Pingora's parser would have refused it before the checks).
fn head(text: &str, version: http::Version) -> Option<RequestHeader> {
    let mut lines = text.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next().filter(|m| !m.is_empty()).unwrap_or("GET");
    let target = first.next().unwrap_or("/");
    let mut req = RequestHeader::build(method, target.as_bytes(), None).ok()?;
    req.set_version(version);
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            let _ = req.append_header(name.to_string(), value.trim_start());
        }
    }
    Some(req)
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Some(req) = head(&text, http::Version::HTTP_11) {
        let verdict = check_request(&req, Some(data), 32 * 1024);
        if data.contains(&0) {
            assert!(verdict.is_some(), "a NUL in the raw head passed");
        }
        let _ = check_request(&req, None, 32 * 1024);
    }
    if let Some(req) = head(&text, http::Version::HTTP_2) {
        let _ = check_request(&req, None, 32 * 1024);
    }
});
