//! One health-probe request over HTTP/2 (the `h2` crate): for `h2c://` servers and gRPC health
//! checks. The connection is made for the probe and closed after it; the answer's status,
//! headers, body (bounded) and trailers are returned.

use super::ProbeError;
use bytes::Bytes;
use http::{HeaderMap, Request};
use tokio::io::{AsyncRead, AsyncWrite};

/// Largest body a probe reads; a longer one is a bad response.
const MAX_BODY: usize = 64 * 1024;

/// What an HTTP/2 server answered to one probe request.
#[derive(Debug, Default)]
pub struct H2Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub trailers: Option<HeaderMap>,
}

/// Sends `request` (with `body`, if any) on a new HTTP/2 connection over `io` and reads the
/// whole answer. The connection is driven in this task and dropped (closed) at the end.
pub async fn exchange<S>(
    io: S,
    request: Request<()>,
    body: Option<Bytes>,
) -> Result<H2Answer, ProbeError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let h2_error = |e: h2::Error| ProbeError::Io(format!("HTTP/2: {e}"));
    let (client, mut connection) = h2::client::handshake(io).await.map_err(h2_error)?;
    let work = async move {
        let mut client = client.ready().await.map_err(h2_error)?;
        let (response, mut send) = client
            .send_request(request, body.is_none())
            .map_err(h2_error)?;
        if let Some(body) = body {
            send.send_data(body, true).map_err(h2_error)?;
        }
        let response = response.await.map_err(h2_error)?;
        let status = response.status().as_u16();
        let (parts, mut received) = response.into_parts();
        let mut answer = H2Answer {
            status,
            headers: parts.headers,
            ..H2Answer::default()
        };
        while let Some(chunk) = received.data().await {
            let chunk = chunk.map_err(h2_error)?;
            let _ = received.flow_control().release_capacity(chunk.len());
            if answer.body.len() + chunk.len() > MAX_BODY {
                return Err(ProbeError::BadResponse(format!(
                    "body larger than {} KiB",
                    MAX_BODY / 1024
                )));
            }
            answer.body.extend_from_slice(&chunk);
        }
        answer.trailers = received.trailers().await.map_err(h2_error)?;
        Ok(answer)
    };
    tokio::select! {
        answer = work => answer,
        ended = &mut connection => Err(match ended {
            Ok(()) => ProbeError::Closed,
            Err(e) => h2_error(e),
        }),
    }
}
