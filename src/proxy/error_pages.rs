//! The `errors` middleware at work: when a response's status matches, the page is fetched from
//! the middleware's service (through Pingora's pooled client) and replaces the body.

use crate::runtime::middlewares::error_pages::ErrorPages;
use crate::runtime::Route;
use bytes::{Bytes, BytesMut};
use http::{header, HeaderValue};
use pingora::connectors::http::Connector;
use pingora::http::{RequestHeader, ResponseHeader};
use std::time::Duration;

/// The longest error page pylon relays (a page is a page, not a download).
const MAX_PAGE_BYTES: usize = 1 << 20;
/// How long fetching a page may take before the original response is sent instead.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// An error page ready to send.
#[derive(Debug)]
pub struct ErrorPage {
    pub status: u16,
    pub content_type: Option<HeaderValue>,
    pub body: Bytes,
}

/// The route's first `errors` middleware that handles `status`, if any.
pub fn matching(route: &Route, status: u16) -> Option<&ErrorPages> {
    route
        .error_pages
        .iter()
        .find(|p| p.applies(status))
        .map(|p| &**p)
}

/// Fetches the page for `status` answering `req`. Errors say why (logged by the caller, and the
/// original response is sent instead).
pub async fn fetch(
    connector: &Connector,
    pages: &ErrorPages,
    status: u16,
    req: &RequestHeader,
) -> Result<ErrorPage, String> {
    let url = req.uri.path_and_query().map_or("/", |p| p.as_str());
    let path = pages.path_for(status, url);
    let mut cookies = Vec::new();
    let pool = pages
        .service
        .resolve(&req.headers, &mut cookies)
        .ok_or("its service has no pool")?;
    let index = pool.pick().ok_or("its service has no available server")?;
    let peer = pool
        .peer(index)
        .ok_or("its server's host name does not resolve")?;
    let server = pool
        .servers()
        .get(index)
        .ok_or("server index out of range")?;
    let mut page_req =
        RequestHeader::build("GET", path.as_bytes(), Some(4)).map_err(|e| e.to_string())?;
    let host = match req.headers.get(header::HOST) {
        Some(h) if pool.pass_host_header => h.clone(),
        _ => server.authority.clone(),
    };
    page_req
        .insert_header(header::HOST, host)
        .map_err(|e| e.to_string())?;
    for name in [header::ACCEPT, header::ACCEPT_LANGUAGE, header::USER_AGENT] {
        if let Some(v) = req.headers.get(&name) {
            page_req
                .insert_header(name, v.clone())
                .map_err(|e| e.to_string())?;
        }
    }
    let fetched = tokio::time::timeout(FETCH_TIMEOUT, async {
        let (mut session, _reused) = connector
            .get_http_session(&*peer)
            .await
            .map_err(|e| e.to_string())?;
        session
            .write_request_header(Box::new(page_req))
            .await
            .map_err(|e| e.to_string())?;
        session
            .finish_request_body()
            .await
            .map_err(|e| e.to_string())?;
        session
            .read_response_header()
            .await
            .map_err(|e| e.to_string())?;
        let content_type = session
            .response_header()
            .and_then(|r| r.headers.get(header::CONTENT_TYPE).cloned());
        let mut body = BytesMut::new();
        while let Some(chunk) = session
            .read_response_body()
            .await
            .map_err(|e| e.to_string())?
        {
            if body.len() + chunk.len() > MAX_PAGE_BYTES {
                return Err(format!("the page is larger than {MAX_PAGE_BYTES} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        connector
            .release_http_session(session, &*peer, Some(Duration::from_secs(60)))
            .await;
        Ok((content_type, body.freeze()))
    })
    .await
    .map_err(|_| format!("no page within {FETCH_TIMEOUT:?}"))??;
    Ok(ErrorPage {
        status: pages.sent_status(status),
        content_type: fetched.0,
        body: fetched.1,
    })
}

/// Makes `response` the page's: its status, type and length; the original body's framing and
/// validators go.
pub fn rewrite_header(response: &mut ResponseHeader, page: &ErrorPage) -> pingora::Result<()> {
    if let Ok(status) = http::StatusCode::from_u16(page.status) {
        response.set_status(status)?;
    }
    for name in [
        header::CONTENT_ENCODING,
        header::TRANSFER_ENCODING,
        header::ETAG,
        header::LAST_MODIFIED,
        header::CONTENT_RANGE,
        header::CONTENT_TYPE,
    ] {
        response.remove_header(&name);
    }
    if let Some(ct) = &page.content_type {
        response.insert_header(header::CONTENT_TYPE, ct.clone())?;
    }
    response.insert_header(header::CONTENT_LENGTH, page.body.len())?;
    Ok(())
}
