//! `mirroring` services at request time: the copy of a request kept while it is proxied (the
//! head as sent upstream, the body as it streams, up to the service's limit), sent to the
//! chosen mirrors once the client has its answer. Copies never delay or fail the main request:
//! they run on their own tasks, bounded in number and time, and their answers are dropped.

use crate::upstream::Mirroring;
use bytes::{Bytes, BytesMut};
use http::header;
use pingora::connectors::http::Connector;
use pingora_http::RequestHeader;
use std::sync::{Arc, LazyLock};
use std::time::Duration;
use tokio::sync::Semaphore;

/// Copies in flight at once, all mirroring services together; more are dropped (and logged at
/// debug level) rather than queued.
const MAX_IN_FLIGHT: usize = 512;
/// A mirror gets this long to take a copy and answer.
const MIRROR_TIMEOUT: Duration = Duration::from_secs(30);

static IN_FLIGHT: LazyLock<Arc<Semaphore>> =
    LazyLock::new(|| Arc::new(Semaphore::new(MAX_IN_FLIGHT)));
/// Pooled connections to the mirrors' servers (the pools' own peers: TLS, h2c and timeouts as
/// configured for them).
static CONNECTOR: LazyLock<Arc<Connector>> = LazyLock::new(|| Arc::new(Connector::new(None)));

/// One request's copy for its mirrors.
pub struct MirrorCopy {
    mirroring: Arc<Mirroring>,
    /// Bit i: mirror i gets this request.
    chosen: u32,
    head: Option<RequestHeader>,
    body: BytesMut,
    /// The body outgrew the limit: nothing is mirrored.
    too_large: bool,
}

impl MirrorCopy {
    pub fn new(mirroring: Arc<Mirroring>, chosen: u32) -> MirrorCopy {
        MirrorCopy {
            mirroring,
            chosen,
            head: None,
            body: BytesMut::new(),
            too_large: false,
        }
    }

    /// The request as it goes upstream (each attempt starts the copy again).
    pub fn set_head(&mut self, upstream: &RequestHeader) {
        self.head = Some(upstream.clone());
        self.body.clear();
        self.too_large = false;
    }

    /// A chunk of the request body on its way upstream.
    pub fn add_body(&mut self, chunk: Option<&Bytes>) {
        let Some(chunk) = chunk.filter(|_| self.mirroring.mirror_body && !self.too_large) else {
            return;
        };
        if self
            .mirroring
            .max_body
            .is_some_and(|max| self.body.len() + chunk.len() > max)
        {
            self.too_large = true;
            self.body = BytesMut::new();
            return;
        }
        self.body.extend_from_slice(chunk);
    }

    /// Sends the copies on their own tasks (after the client's answer).
    pub fn send(self) {
        let Some(head) = self.head else {
            return;
        };
        if self.too_large {
            log::debug!(
                "mirroring {}: body larger than maxBodySize, not mirrored",
                self.mirroring.name
            );
            return;
        }
        let body = self.body.freeze();
        for (i, mirror) in self.mirroring.mirrors.iter().enumerate() {
            if i >= 32 || self.chosen & (1 << i) == 0 {
                continue;
            }
            let Ok(permit) = IN_FLIGHT.clone().try_acquire_owned() else {
                log::debug!(
                    "mirroring {}: {MAX_IN_FLIGHT} copies in flight, one dropped",
                    self.mirroring.name
                );
                continue;
            };
            let service = mirror.service.clone();
            let (head, body) = (head.clone(), body.clone());
            let name = self.mirroring.name.clone();
            tokio::spawn(async move {
                let sent = tokio::time::timeout(MIRROR_TIMEOUT, send_one(&service, head, body));
                match sent.await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => log::debug!("mirroring {name}: a copy failed: {e}"),
                    Err(_) => log::debug!("mirroring {name}: a copy took over {MIRROR_TIMEOUT:?}"),
                }
                drop(permit);
            });
        }
    }
}

/// Sends one copy to a server of `service` and reads (and drops) its answer.
async fn send_one(
    service: &crate::upstream::Balancer,
    mut head: RequestHeader,
    body: Bytes,
) -> Result<(), String> {
    let pool = service
        .resolve(&head.headers, &mut Vec::new())
        .ok_or("the mirror has no pool")?;
    let index = pool.pick().ok_or("the mirror has no available server")?;
    let peer = pool
        .peer(index)
        .ok_or("the mirror's host does not resolve")?;
    if !pool.pass_host_header {
        if let Some(server) = pool.servers().get(index) {
            head.insert_header(header::HOST, server.authority.clone())
                .map_err(|e| e.to_string())?;
        }
    }
    head.remove_header(&header::TRANSFER_ENCODING);
    if body.is_empty() {
        head.remove_header(&header::CONTENT_LENGTH);
    } else {
        head.insert_header(header::CONTENT_LENGTH, body.len())
            .map_err(|e| e.to_string())?;
    }
    let connector = &*CONNECTOR;
    let (mut session, _reused) = connector
        .get_http_session(&*peer)
        .await
        .map_err(|e| e.to_string())?;
    session
        .write_request_header(Box::new(head))
        .await
        .map_err(|e| e.to_string())?;
    if !body.is_empty() {
        session
            .write_request_body(body, true)
            .await
            .map_err(|e| e.to_string())?;
    }
    session
        .finish_request_body()
        .await
        .map_err(|e| e.to_string())?;
    session
        .read_response_header()
        .await
        .map_err(|e| e.to_string())?;
    while session
        .read_response_body()
        .await
        .map_err(|e| e.to_string())?
        .is_some()
    {}
    connector
        .release_http_session(session, &*peer, Some(Duration::from_secs(60)))
        .await;
    Ok(())
}
