//! Writing pylon's own answers (404, redirects, ping, errors) to the client.

use bytes::Bytes;
use http::{header, HeaderName, HeaderValue, StatusCode};
use pingora::http::ResponseHeader;
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
    let mut resp = ResponseHeader::build(status, Some(headers.len() + 2))?;
    for (name, value) in headers {
        resp.insert_header(name.clone(), value.clone())?;
    }
    // 1xx, 204 and 304 carry no body, nor a Content-Length (RFC 9110 8.6, 15.3.5)
    let bodiless = status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED;
    let body = if bodiless { Bytes::new() } else { body };
    if !body.is_empty() {
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
