//! An upgraded (WebSocket) connection after its `101`: bytes copied both ways until a side
//! closes or nothing moves for the entry point's `idleTimeout`.

use bytes::Bytes;
use pingora::protocols::Stream;
use pingora::{ErrorType, OrErr, Result};
use pingora_proxy::Session;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// After the `101` went to the client: relays `early` bytes, then copies both ways until one
/// side closes, or until nothing moved either way for `idle` (the entry point's `idleTimeout`;
/// a write the peer does not read counts as nothing moving). An idle tunnel is closed, and the
/// client connection's clock expired so that closing it cannot block either.
pub async fn relay(
    session: &mut Session,
    upstream: &mut Stream,
    early: Bytes,
    idle: Option<Duration>,
) -> Result<()> {
    let mut buf = vec![0u8; 16 * 1024];
    let mut client_open = true;
    let mut early = Some(early);
    loop {
        let turn = async {
            match early.take() {
                Some(bytes) if !bytes.is_empty() => {
                    session.write_response_body(Some(bytes), false).await?;
                    Ok(true)
                }
                _ => step(session, upstream, &mut buf, &mut client_open).await,
            }
        };
        let moved = match idle {
            Some(idle) => match tokio::time::timeout(idle, turn).await {
                Ok(moved) => moved?,
                Err(_) => {
                    log::debug!("upgrade: tunnel idle for {idle:?}, closed");
                    super::deadlines::expire(session);
                    return Ok(());
                }
            },
            None => turn.await?,
        };
        if !moved {
            break;
        }
    }
    match idle {
        Some(idle) => {
            match tokio::time::timeout(idle, session.write_response_body(None, true)).await {
                Ok(done) => done,
                Err(_) => {
                    super::deadlines::expire(session);
                    Ok(())
                }
            }
        }
        None => session.write_response_body(None, true).await,
    }
}

/// One relay step: a read from either side and its write to the other. `false`: the upstream
/// closed.
async fn step(
    session: &mut Session,
    upstream: &mut Stream,
    buf: &mut [u8],
    client_open: &mut bool,
) -> Result<bool> {
    tokio::select! {
        from_client = session.read_request_body(), if *client_open => {
            match from_client? {
                Some(data) => upstream
                    .write_all(&data)
                    .await
                    .or_err(ErrorType::WriteError, "relaying to the upstream")?,
                None => {
                    *client_open = false;
                    upstream.shutdown().await.ok();
                }
            }
            Ok(true)
        }
        from_upstream = upstream.read(buf) => {
            let n = from_upstream.or_err(ErrorType::ReadError, "relaying from the upstream")?;
            if n == 0 {
                return Ok(false);
            }
            session
                .write_response_body(Some(Bytes::copy_from_slice(&buf[..n])), false)
                .await?;
            Ok(true)
        }
    }
}
