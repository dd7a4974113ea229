//! Writing pylon's own answers (404, redirects, ping, errors) to the client; errors to gRPC
//! calls as gRPC statuses (see `grpc_status`).

use bytes::Bytes;
use http::{header, HeaderName, HeaderValue, StatusCode};
use pingora::http::ResponseHeader;
use pingora::protocols::http::HttpTask;
use pingora::Result;
use pingora_proxy::Session;

/// Sends a complete response with `body` as `text/plain`.
pub async fn text(session: &mut Session, status: StatusCode, body: &'static str) -> Result<()> {
    full(
        session,
        status,
        &[],
        Bytes::from_static(body.as_bytes()),
        "text/plain; charset=utf-8",
    )
    .await
}

/// Sends a complete response with extra headers and a body.
pub async fn full(
    session: &mut Session,
    status: StatusCode,
    headers: &[(HeaderName, HeaderValue)],
    body: Bytes,
    content_type: &'static str,
) -> Result<()> {
    let content_type = HeaderValue::from_static(content_type);
    typed(session, status, headers, body, content_type).await
}

/// Sends a complete response whose content type is only known at run time.
pub async fn typed(
    session: &mut Session,
    status: StatusCode,
    headers: &[(HeaderName, HeaderValue)],
    body: Bytes,
    content_type: HeaderValue,
) -> Result<()> {
    if status.as_u16() >= 400
        && session.is_http2()
        && super::grpc_status::is_grpc(session.req_header())
    {
        let message = std::str::from_utf8(&body).unwrap_or("");
        let mut resp = super::grpc_status::trailers_only(status, message.trim())?;
        for (name, value) in headers {
            resp.insert_header(name.clone(), value.clone())?;
        }
        // One HEADERS frame ending the stream (Session::write_response_header would leave the
        // stream open, and gRPC clients refuse the empty DATA frame that would end it).
        let tasks = vec![HttpTask::Header(Box::new(resp), true)];
        session
            .downstream_session
            .response_duplex_vec(tasks)
            .await?;
        return Ok(());
    }
    let mut resp = ResponseHeader::build(status, Some(headers.len() + 2))?;
    // Appended: a reply may carry a header more than once (forwardAuth's `Set-Cookie`s).
    for (name, value) in headers {
        resp.append_header(name.clone(), value.clone())?;
    }
    // 1xx, 204 and 304 carry no body, nor a Content-Length (RFC 9110 8.6, 15.3.5)
    let bodiless = status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED;
    let body = if bodiless { Bytes::new() } else { body };
    if !body.is_empty() && !headers.iter().any(|(name, _)| name == header::CONTENT_TYPE) {
        resp.insert_header(header::CONTENT_TYPE, content_type)?;
    }
    if !bodiless {
        resp.insert_header(header::CONTENT_LENGTH, body.len())?;
    }
    let is_head = session.req_header().method == http::Method::HEAD;
    let end = body.is_empty() || is_head;
    session.write_response_header(Box::new(resp), end).await?;
    if !end {
        session.write_response_body(Some(body), true).await?;
    }
    Ok(())
}
