//! Which `Upgrade` requests pylon tunnels: HTTP/1.1, one `websocket` token, no request body.
//!
//! Any other `Upgrade` (`h2c`, a list, several lines, HTTP/1.0 or HTTP/2) is ignored, as RFC 9110
//! 7.8 allows a server to: the header and the `upgrade` connection option are removed, and the
//! request goes on as an ordinary one, so no byte after it is ever relayed as another protocol
//! (a client trying `h2c` simply stays on HTTP/1.1). A `websocket` upgrade carrying a body
//! (`Content-Length` above 0, or `Transfer-Encoding`) is refused with 400 before any upstream is
//! contacted: after the `101` its body bytes would be tunnelled as WebSocket frames.

use super::checks::Rejection;
use http::{header, HeaderValue, StatusCode, Version};
use pingora::http::RequestHeader;

/// The only protocol pylon tunnels.
const WEBSOCKET: &[u8] = b"websocket";

/// Leaves a `websocket` upgrade as it is, turns any other into an ordinary request, and
/// refuses a `websocket` upgrade with a body. `None`: the request may proceed.
pub fn screen(req: &mut RequestHeader) -> Option<Rejection> {
    if !req.headers.contains_key(header::UPGRADE) {
        return None;
    }
    if !is_websocket(req) {
        drop_upgrade(req);
        return None;
    }
    if has_body(req) {
        return Some(Rejection {
            status: StatusCode::BAD_REQUEST,
            reason: "an upgrade request cannot have a body\n",
            close: true,
        });
    }
    None
}

/// HTTP/1.1 with exactly one `Upgrade` line whose value is `websocket` (any case).
fn is_websocket(req: &RequestHeader) -> bool {
    let mut values = req.headers.get_all(header::UPGRADE).iter();
    match (values.next(), values.next()) {
        (Some(v), None) => {
            req.version == Version::HTTP_11
                && v.as_bytes().trim_ascii().eq_ignore_ascii_case(WEBSOCKET)
        }
        _ => false,
    }
}

fn has_body(req: &RequestHeader) -> bool {
    if req.headers.contains_key(header::TRANSFER_ENCODING) {
        return true;
    }
    req.headers
        .get_all(header::CONTENT_LENGTH)
        .iter()
        .any(|v| v.as_bytes().iter().any(|b| *b != b'0'))
}

/// Removes `Upgrade` and the `upgrade` option of `Connection` (`connection::sanitize` has already
/// reduced `Connection` to one line of plain options).
fn drop_upgrade(req: &mut RequestHeader) {
    req.remove_header(&header::UPGRADE);
    let Some(connection) = req.headers.get(header::CONNECTION) else {
        return;
    };
    let kept: Vec<&str> = connection
        .to_str()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case("upgrade"))
        .collect();
    let kept = kept.join(", ");
    req.remove_header(&header::CONNECTION);
    if !kept.is_empty() {
        if let Ok(value) = HeaderValue::from_str(&kept) {
            // cannot fail for a valid name and value; a failure only loses options
            let _ = req.insert_header(header::CONNECTION, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::test_request::get_with as req;

    #[test]
    fn websocket_stays_an_upgrade() {
        let mut r = req(&[("upgrade", "WebSocket"), ("connection", "upgrade")]);
        assert_eq!(screen(&mut r), None);
        assert_eq!(r.headers.get("upgrade").unwrap(), "WebSocket");
        assert_eq!(r.headers.get("connection").unwrap(), "upgrade");
    }

    #[test]
    fn other_protocols_become_ordinary_requests() {
        for value in ["h2c", "websocket, h2c", "foo"] {
            let mut r = req(&[("upgrade", value), ("connection", "keep-alive, upgrade")]);
            assert_eq!(screen(&mut r), None);
            assert!(r.headers.get("upgrade").is_none(), "{value}");
            assert_eq!(r.headers.get("connection").unwrap(), "keep-alive");
        }
        let mut r = req(&[("upgrade", "websocket"), ("upgrade", "websocket")]);
        assert_eq!(screen(&mut r), None);
        assert!(r.headers.get("upgrade").is_none());
        let mut r = req(&[("upgrade", "websocket"), ("connection", "upgrade")]);
        r.set_version(Version::HTTP_10);
        assert_eq!(screen(&mut r), None);
        assert!(r.headers.get("upgrade").is_none() && r.headers.get("connection").is_none());
    }

    #[test]
    fn a_websocket_upgrade_with_a_body_is_refused() {
        let with = |h: (&str, &str)| screen(&mut req(&[("upgrade", "websocket"), h]));
        assert_eq!(with(("content-length", "5")).unwrap().status, 400);
        assert_eq!(with(("transfer-encoding", "chunked")).unwrap().status, 400);
        assert_eq!(with(("content-length", "0")), None);
        assert_eq!(with(("content-length", "000")), None);
    }
}
