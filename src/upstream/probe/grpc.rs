//! gRPC health checks (`healthCheck.mode = "grpc"`): one `grpc.health.v1.Health/Check` call
//! for the whole server (empty `service`, as Traefik sends), over h2c or TLS with ALPN `h2`.
//! `SERVING` keeps the server up; any other status, a gRPC error (`UNIMPLEMENTED`: the server
//! does not speak the health protocol) or a transport failure takes it down.

use super::ProbeError;
use bytes::{BufMut, Bytes, BytesMut};
use http::HeaderMap;
use prost::Message;

/// The health service's method, as a gRPC path.
pub const CHECK_PATH: &str = "/grpc.health.v1.Health/Check";

/// `grpc.health.v1.HealthCheckRequest`.
#[derive(Clone, PartialEq, Message)]
struct HealthCheckRequest {
    #[prost(string, tag = "1")]
    service: String,
}

/// `grpc.health.v1.HealthCheckResponse`.
#[derive(Clone, PartialEq, Message)]
struct HealthCheckResponse {
    #[prost(int32, tag = "1")]
    status: i32,
}

/// `HealthCheckResponse.ServingStatus.SERVING`.
const SERVING: i32 = 1;

/// The request body: one length-prefixed, uncompressed gRPC message.
pub fn request_body() -> Bytes {
    let message = HealthCheckRequest {
        service: String::new(),
    }
    .encode_to_vec();
    let mut body = BytesMut::with_capacity(5 + message.len());
    body.put_u8(0);
    body.put_u32(message.len() as u32);
    body.put_slice(&message);
    body.freeze()
}

/// Judges an answer to [`request_body`]: `Ok(())` when the server is `SERVING`.
pub fn judge(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    trailers: Option<&HeaderMap>,
) -> Result<(), ProbeError> {
    let grpc_error = |what: String| ProbeError::Grpc(what);
    if status != 200 {
        return Err(grpc_error(format!("HTTP status {status}, expected 200")));
    }
    // a trailers-only answer carries grpc-status in the headers
    let code = trailers
        .and_then(|t| t.get("grpc-status"))
        .or_else(|| headers.get("grpc-status"))
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| grpc_error("no grpc-status in the answer".into()))?;
    if code != "0" {
        let message = trailers
            .and_then(|t| t.get("grpc-message"))
            .or_else(|| headers.get("grpc-message"))
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let hint = match code {
            "12" => " (the server does not implement grpc.health.v1.Health)",
            _ => "",
        };
        return Err(grpc_error(format!(
            "grpc-status {code}{hint} {}",
            message.escape_debug()
        )));
    }
    let serving = decode(body)?.status;
    match serving {
        SERVING => Ok(()),
        other => Err(grpc_error(format!(
            "status {}, expected SERVING",
            status_name(other)
        ))),
    }
}

fn decode(body: &[u8]) -> Result<HealthCheckResponse, ProbeError> {
    let bad = |what: &str| ProbeError::BadResponse(format!("gRPC health answer: {what}"));
    let (prefix, rest) = body
        .split_at_checked(5)
        .ok_or_else(|| bad("shorter than a message prefix"))?;
    if prefix[0] != 0 {
        return Err(bad("compressed message (pylon asks for none)"));
    }
    let length = u32::from_be_bytes([prefix[1], prefix[2], prefix[3], prefix[4]]) as usize;
    let message = rest.get(..length).ok_or_else(|| bad("message cut short"))?;
    HealthCheckResponse::decode(message).map_err(|e| bad(&e.to_string()))
}

fn status_name(status: i32) -> String {
    match status {
        0 => "UNKNOWN".into(),
        1 => "SERVING".into(),
        2 => "NOT_SERVING".into(),
        3 => "SERVICE_UNKNOWN".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: i32) -> Vec<u8> {
        let message = HealthCheckResponse { status }.encode_to_vec();
        let mut body = vec![0, 0, 0, 0, message.len() as u8];
        body.extend_from_slice(&message);
        body
    }

    fn ok_trailers() -> HeaderMap {
        let mut t = HeaderMap::new();
        t.insert("grpc-status", "0".parse().unwrap());
        t
    }

    #[test]
    fn request_is_an_empty_message_with_its_prefix() {
        assert_eq!(&request_body()[..], &[0, 0, 0, 0, 0]);
    }

    #[test]
    fn serving_passes_and_other_statuses_fail() {
        let h = HeaderMap::new();
        assert!(judge(200, &h, &answer(SERVING), Some(&ok_trailers())).is_ok());
        let e = judge(200, &h, &answer(2), Some(&ok_trailers())).unwrap_err();
        assert!(e.to_string().contains("NOT_SERVING"), "{e}");
        assert!(judge(503, &h, &answer(SERVING), Some(&ok_trailers())).is_err());
    }

    #[test]
    fn grpc_errors_and_broken_bodies_fail() {
        let mut only = HeaderMap::new();
        only.insert("grpc-status", "12".parse().unwrap());
        let e = judge(200, &only, b"", None).unwrap_err();
        assert!(e.to_string().contains("does not implement"), "{e}");
        let h = HeaderMap::new();
        assert!(judge(200, &h, &answer(SERVING), None).is_err(), "no status");
        assert!(judge(200, &h, &[0, 0, 0, 0, 9, 8], Some(&ok_trailers())).is_err());
        assert!(judge(200, &h, &[1, 0, 0, 0, 0], Some(&ok_trailers())).is_err());
    }
}
