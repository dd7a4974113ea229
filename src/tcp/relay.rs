//! Relays a client connection to a backend: connects (the next server when one refuses), sends
//! the PROXY protocol header when the service asks for it, then pumps bytes both ways, passing
//! each half-close on, until both directions end or nothing moves for the idle timeout.

use super::service::TcpPool;
use pingora::protocols::Stream;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// A backend gets this long to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const BUFFER: usize = 16 * 1024;

/// Connects to one of `pool`'s servers and relays `client` to it.
pub async fn relay(
    client: Stream,
    pool: &TcpPool,
    client_addr: Option<SocketAddr>,
    local_addr: Option<SocketAddr>,
    idle: Duration,
) -> Result<(), String> {
    let mut backend = None;
    let mut last_error = String::from("the service has no server");
    for address in pool.attempt_order() {
        match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(address)).await {
            Ok(Ok(stream)) => {
                backend = Some(stream);
                break;
            }
            Ok(Err(e)) => last_error = format!("{address}: {e}"),
            Err(_) => last_error = format!("{address}: no connection within {CONNECT_TIMEOUT:?}"),
        }
    }
    let Some(mut backend) = backend else {
        return Err(format!("service {}: {last_error}", pool.name));
    };
    let _ = backend.set_nodelay(true);
    if let (Some(version), Some(source), Some(destination)) =
        (pool.proxy_protocol, client_addr, local_addr)
    {
        let header = proxy_header(version, source, destination)?;
        backend
            .write_all(&header)
            .await
            .map_err(|e| format!("sending the PROXY header: {e}"))?;
    }
    pump(client, backend, idle).await;
    Ok(())
}

/// A PROXY protocol header (v1 text or v2 binary) for a TCP connection from `source` to
/// `destination`.
pub fn proxy_header(
    version: u8,
    source: SocketAddr,
    destination: SocketAddr,
) -> Result<Vec<u8>, String> {
    let (source, destination) = same_family(source, destination);
    match version {
        1 => {
            let family = if source.is_ipv4() { "TCP4" } else { "TCP6" };
            Ok(format!(
                "PROXY {family} {} {} {} {}\r\n",
                source.ip(),
                destination.ip(),
                source.port(),
                destination.port()
            )
            .into_bytes())
        }
        _ => ppp::v2::Builder::with_addresses(
            ppp::v2::Version::Two | ppp::v2::Command::Proxy,
            ppp::v2::Protocol::Stream,
            (source, destination),
        )
        .build()
        .map_err(|e| format!("building the PROXY header: {e}")),
    }
}

/// Both addresses in one family (an IPv4 client on an IPv6 socket is sent as IPv4 when it can be).
fn same_family(source: SocketAddr, destination: SocketAddr) -> (SocketAddr, SocketAddr) {
    let v4 = |a: SocketAddr| match a {
        SocketAddr::V6(v6) => v6
            .ip()
            .to_ipv4_mapped()
            .map(|ip| SocketAddr::from((ip, v6.port()))),
        v4 => Some(v4),
    };
    match (v4(source), v4(destination)) {
        (Some(s), Some(d)) if s.is_ipv4() && d.is_ipv4() => (s, d),
        _ => {
            let v6 = |a: SocketAddr| match a {
                SocketAddr::V4(v4) => SocketAddr::from((v4.ip().to_ipv6_mapped(), v4.port())),
                v6 => v6,
            };
            (v6(source), v6(destination))
        }
    }
}

/// Pumps bytes both ways until both directions have ended, or nothing has moved either way
/// for `idle`.
pub async fn pump<C, B>(client: C, backend: B, idle: Duration)
where
    C: AsyncRead + AsyncWrite + Unpin,
    B: AsyncRead + AsyncWrite + Unpin,
{
    let started = Instant::now();
    let last = AtomicU64::new(0);
    let (mut client_read, mut client_write) = tokio::io::split(client);
    let (mut backend_read, mut backend_write) = tokio::io::split(backend);
    let both = async {
        tokio::join!(
            copy_half(&mut client_read, &mut backend_write, &last, started),
            copy_half(&mut backend_read, &mut client_write, &last, started)
        )
    };
    let watchdog = async {
        loop {
            tokio::time::sleep(idle / 4).await;
            let moved = Duration::from_millis(last.load(Ordering::Relaxed));
            if started.elapsed().saturating_sub(moved) >= idle {
                return;
            }
        }
    };
    tokio::select! {
        _ = both => {}
        _ = watchdog => log::debug!("TCP connection idle for {idle:?}: closed"),
    }
}

/// Copies one direction; at its end, half-closes the other side's writing.
async fn copy_half<R, W>(from: &mut R, to: &mut W, last: &AtomicU64, started: Instant)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; BUFFER];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        // Pingora's streams buffer writes: each chunk is flushed so it moves at once
        if to.write_all(&buf[..n]).await.is_err() || to.flush().await.is_err() {
            break;
        }
        let now = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        last.store(now, Ordering::Relaxed);
    }
    let _ = to.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_headers_v1_and_v2() {
        let s: SocketAddr = "10.0.0.1:5555".parse().unwrap();
        let d: SocketAddr = "10.0.0.2:443".parse().unwrap();
        assert_eq!(
            proxy_header(1, s, d).unwrap(),
            b"PROXY TCP4 10.0.0.1 10.0.0.2 5555 443\r\n"
        );
        let v2 = proxy_header(2, s, d).unwrap();
        assert_eq!(&v2[..12], b"\r\n\r\n\0\r\nQUIT\n");
        let mapped: SocketAddr = "[::ffff:10.0.0.1]:5555".parse().unwrap();
        assert_eq!(
            proxy_header(1, mapped, d).unwrap(),
            b"PROXY TCP4 10.0.0.1 10.0.0.2 5555 443\r\n"
        );
    }

    #[tokio::test]
    async fn half_closes_pass_and_idle_connections_close() {
        let (client, mut client_peer) = tokio::io::duplex(1024);
        let (backend, mut backend_peer) = tokio::io::duplex(1024);
        let pumping = tokio::spawn(pump(client, backend, Duration::from_millis(400)));
        client_peer.write_all(b"ping").await.unwrap();
        client_peer.shutdown().await.unwrap();
        let mut got = Vec::new();
        backend_peer.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"ping", "the client's half-close reached the backend");
        backend_peer.write_all(b"pong").await.unwrap();
        let mut back = [0u8; 4];
        client_peer.read_exact(&mut back).await.unwrap();
        assert_eq!(&back, b"pong", "the other direction still flows");
        // nothing moves: the pump ends within the idle timeout
        tokio::time::timeout(Duration::from_secs(2), pumping)
            .await
            .expect("idle connection closed")
            .unwrap();
    }
}
