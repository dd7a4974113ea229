//! One active health probe of one upstream server: a bounded HTTP/1.1 request judged by status
//! (HTTP/2 with prior knowledge for `h2c` servers, see `http2`), or a gRPC health check
//! (`mode = "grpc"`, see `grpc`).
//!
//! The probe sends `{method} {path} HTTP/1.1` with `Host`, the check's headers,
//! `User-Agent: pylon-health-check` and `Connection: close`, reads only the status line and
//! headers (never the body) and returns the status. The whole probe, redirects included, is
//! bounded by `check.timeout`.
//!
//! - `scheme` and `port` from the check override the server URL's; `https` probes use OpenSSL
//!   **without certificate or hostname verification** (a health check asks "is it answering",
//!   not "is it who it claims to be"; like an insecure Traefik transport). SNI is the server
//!   URL's host name, as Traefik's transport sends it.
//! - `Host` is `check.hostname`, else a `Host` entry of `check.headers`, else the server's
//!   `host[:port]`.
//! - With `follow_redirects`, a 301/302/303/307/308 whose `Location` is on the same server
//!   (relative, or absolute with the same host and port) is followed, up to five hops; 301-303
//!   turn other methods into GET as browsers and Go do. A redirect elsewhere is not followed: its
//!   own 3xx status is judged (pylon never probes hosts that are not configured).

use super::checks::{ActiveCheck, CheckMode};
use super::Server;
use http::{HeaderName, HeaderValue, Method};
use pingora::tls::ssl::{Ssl, SslContext, SslMethod, SslVerifyMode};
use pingora::tls::tokio_ssl::SslStream;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// Redirects followed at most, after the first request.
pub const MAX_REDIRECTS: usize = 5;
/// Largest response head read; a longer one is a bad response.
const MAX_HEAD: usize = 16 * 1024;
const USER_AGENT: &str = "pylon-health-check";
/// Headers pylon writes itself; entries of `check.headers` with these names are not sent.
const OWN_HEADERS: [&str; 4] = ["host", "connection", "content-length", "transfer-encoding"];

/// Why a probe got no status; the text becomes the server's down reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    #[error("connection refused")]
    Refused,
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("TLS handshake failed: {0}")]
    Tls(String),
    #[error("connection error: {0}")]
    Io(String),
    #[error("connection closed before a response")]
    Closed,
    #[error("bad response: {0}")]
    BadResponse(String),
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects,
    #[error("invalid health check request: {0}")]
    InvalidRequest(String),
    #[error("gRPC health check: {0}")]
    Grpc(String),
    #[error("host `{0}` does not resolve")]
    NoAddress(String),
}

/// Probes `server` once as `check` says; the final status, or why there is none.
/// (A gRPC check that passes gives 200.)
pub async fn probe(server: &Server, check: &ActiveCheck) -> Result<u16, ProbeError> {
    let work = async {
        match check.mode {
            CheckMode::Http => probe_hops(server, check).await,
            CheckMode::Grpc => grpc_check(&first_target(server, check)?, &check.headers).await,
        }
    };
    tokio::time::timeout(check.timeout, work)
        .await
        .map_err(|_| ProbeError::Timeout(check.timeout))?
}

/// Where one request of a probe goes and what it asks.
#[derive(Debug, Clone)]
struct Target {
    addr: SocketAddr,
    tls: bool,
    /// Cleartext HTTP/2 with prior knowledge (an `h2c` server or check scheme).
    h2c: bool,
    /// The `Host` header.
    host: String,
    /// The server URL's host: SNI (unless an IP) and one of the names of "the same server".
    server_host: String,
    method: String,
    path: String,
}

/// A response head: the status and where it redirects to.
#[derive(Debug, PartialEq, Eq)]
struct Head {
    status: u16,
    location: Option<String>,
}

async fn probe_hops(server: &Server, check: &ActiveCheck) -> Result<u16, ProbeError> {
    let mut target = first_target(server, check)?;
    for _ in 0..=MAX_REDIRECTS {
        let head = exchange(&target, &check.headers).await?;
        let next = match (&head.location, check.follow_redirects) {
            (Some(location), true) => redirected(&target, head.status, location),
            _ => None,
        };
        match next {
            Some(next) => target = next,
            None => return Ok(head.status),
        }
    }
    Err(ProbeError::TooManyRedirects)
}

/// The first request: to the server's current address (`NoAddress` while its host name does
/// not resolve).
fn first_target(server: &Server, check: &ActiveCheck) -> Result<Target, ProbeError> {
    let tls = check
        .scheme
        .as_deref()
        .map_or(server.tls, |s| s.eq_ignore_ascii_case("https"));
    let h2c = check
        .scheme
        .as_deref()
        .map_or(server.h2c, |s| s.eq_ignore_ascii_case("h2c"));
    let explicit_port = server
        .authority
        .to_str()
        .ok()
        .and_then(|a| a.parse::<http::uri::Authority>().ok())
        .and_then(|a| a.port_u16());
    // Without a port anywhere, a scheme override also changes the default port (as in a URL).
    let port = check
        .port
        .or(explicit_port)
        .unwrap_or(if tls { 443 } else { 80 });
    let mut addr = server
        .addr()
        .ok_or_else(|| ProbeError::NoAddress(server.host.clone()))?;
    addr.set_port(port);
    let authority = match check.port {
        Some(p) => join_host_port(&server.host, p),
        None => server
            .authority
            .to_str()
            .unwrap_or(&server.host)
            .to_string(),
    };
    let host_header = check
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("host"))
        .map(|(_, v)| v.clone());
    let host = check
        .hostname
        .clone()
        .filter(|h| !h.is_empty())
        .or(host_header)
        .unwrap_or(authority);
    let path = if check.path.starts_with('/') {
        check.path.clone()
    } else {
        format!("/{}", check.path)
    };
    Ok(Target {
        addr,
        tls,
        h2c,
        host,
        server_host: server.host.clone(),
        method: check.method.clone(),
        path,
    })
}

fn join_host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// One request on a fresh connection; the response head.
async fn exchange(t: &Target, headers: &[(String, String)]) -> Result<Head, ProbeError> {
    if t.h2c {
        let request = h2_request(t, headers, None)?;
        let answer = http2::exchange(connect(t).await?, request, None).await?;
        let location = answer
            .headers
            .get(http::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        return Ok(Head {
            status: answer.status,
            location,
        });
    }
    let request = request_bytes(t, headers)?;
    let mut tcp = connect(t).await?;
    if t.tls {
        let mut tls = tls_connect(tcp, sni(t), b"\x08http/1.1").await?;
        round_trip(&mut tls, &request).await
    } else {
        round_trip(&mut tcp, &request).await
    }
}

/// `grpc.health.v1.Health/Check` over h2c, or TLS with ALPN `h2` for an `https` target.
async fn grpc_check(t: &Target, headers: &[(String, String)]) -> Result<u16, ProbeError> {
    let mut t = t.clone();
    t.method = "POST".into();
    t.path = grpc::CHECK_PATH.into();
    let request = h2_request(&t, headers, Some("application/grpc"))?;
    let tcp = connect(&t).await?;
    let body = Some(grpc::request_body());
    let answer = if t.tls {
        let tls = tls_connect(tcp, sni(&t), b"\x02h2").await?;
        if tls.ssl().selected_alpn_protocol() != Some(b"h2") {
            return Err(ProbeError::Grpc(
                "the server did not agree to HTTP/2 (ALPN h2)".into(),
            ));
        }
        http2::exchange(tls, request, body).await?
    } else {
        http2::exchange(tcp, request, body).await?
    };
    grpc::judge(
        answer.status,
        &answer.headers,
        &answer.body,
        answer.trailers.as_ref(),
    )?;
    Ok(200)
}

async fn connect(t: &Target) -> Result<TcpStream, ProbeError> {
    TcpStream::connect(t.addr)
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::ConnectionRefused => ProbeError::Refused,
            _ => ProbeError::Connect(e.to_string()),
        })
}

/// The SNI of a TLS probe: the server URL's host, unless it is an IP address.
fn sni(t: &Target) -> Option<&str> {
    let is_ip = t.server_host.parse::<std::net::IpAddr>().is_ok();
    (!is_ip).then_some(t.server_host.as_str())
}

/// An HTTP/2 probe request: `t`'s method, path and Host (as `:authority`), the check's
/// headers, and `content_type` for gRPC (with `te: trailers`).
fn h2_request(
    t: &Target,
    headers: &[(String, String)],
    content_type: Option<&str>,
) -> Result<http::Request<()>, ProbeError> {
    let invalid = |what: String| ProbeError::InvalidRequest(what);
    let scheme = if t.tls { "https" } else { "http" };
    let uri = format!("{scheme}://{}{}", t.host, t.path);
    let mut b = http::Request::builder()
        .method(t.method.as_str())
        .uri(uri.as_str())
        .version(http::Version::HTTP_2);
    let mut agent = false;
    for (name, value) in headers {
        if OWN_HEADERS.iter().any(|h| name.eq_ignore_ascii_case(h)) {
            continue;
        }
        agent |= name.eq_ignore_ascii_case("user-agent");
        b = b.header(name.to_ascii_lowercase(), value.as_str());
    }
    if !agent {
        b = b.header("user-agent", USER_AGENT);
    }
    if let Some(content_type) = content_type {
        b = b
            .header("content-type", content_type)
            .header("te", "trailers");
    }
    b.body(())
        .map_err(|e| invalid(format!("{} {uri}: {e}", t.method)))
}

fn request_bytes(t: &Target, headers: &[(String, String)]) -> Result<Vec<u8>, ProbeError> {
    let invalid = |what: String| ProbeError::InvalidRequest(what);
    Method::from_bytes(t.method.as_bytes())
        .map_err(|_| invalid(format!("method `{}`", t.method)))?;
    if t.path.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(invalid(format!("path `{}`", t.path.escape_debug())));
    }
    HeaderValue::from_str(&t.host).map_err(|_| invalid(format!("host `{}`", t.host)))?;
    let mut out = format!("{} {} HTTP/1.1\r\nHost: {}\r\n", t.method, t.path, t.host);
    let mut agent = false;
    for (name, value) in headers {
        if OWN_HEADERS.iter().any(|h| name.eq_ignore_ascii_case(h)) {
            continue;
        }
        HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| invalid(format!("header name `{}`", name.escape_debug())))?;
        HeaderValue::from_str(value).map_err(|_| invalid(format!("value of header `{name}`")))?;
        agent |= name.eq_ignore_ascii_case("user-agent");
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    if !agent {
        out.push_str(&format!("User-Agent: {USER_AGENT}\r\n"));
    }
    if matches!(t.method.as_str(), "POST" | "PUT" | "PATCH") {
        out.push_str("Content-Length: 0\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    Ok(out.into_bytes())
}

/// The client context for https probes, built once: no verification.
fn tls_context() -> Result<SslContext, ProbeError> {
    static CONTEXT: OnceLock<Result<SslContext, String>> = OnceLock::new();
    CONTEXT
        .get_or_init(|| {
            let mut b = SslContext::builder(SslMethod::tls_client()).map_err(|e| e.to_string())?;
            b.set_verify(SslVerifyMode::NONE);
            Ok(b.build())
        })
        .clone()
        .map_err(ProbeError::Tls)
}

/// A TLS connection offering `alpn` (wire format: `\x08http/1.1`, or `\x02h2` for gRPC).
async fn tls_connect(
    tcp: TcpStream,
    sni: Option<&str>,
    alpn: &[u8],
) -> Result<SslStream<TcpStream>, ProbeError> {
    let tls_error = |e: &dyn std::fmt::Display| ProbeError::Tls(e.to_string());
    let context = tls_context()?;
    let mut ssl = Ssl::new(&context).map_err(|e| tls_error(&e))?;
    ssl.set_alpn_protos(alpn).map_err(|e| tls_error(&e))?;
    if let Some(name) = sni {
        ssl.set_hostname(name).map_err(|e| tls_error(&e))?;
    }
    let mut stream = SslStream::new(ssl, tcp).map_err(|e| tls_error(&e))?;
    Pin::new(&mut stream)
        .connect()
        .await
        .map_err(|e| tls_error(&e))?;
    Ok(stream)
}

async fn round_trip<S>(stream: &mut S, request: &[u8]) -> Result<Head, ProbeError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let io = |e: std::io::Error| ProbeError::Io(e.to_string());
    stream.write_all(request).await.map_err(io)?;
    stream.flush().await.map_err(io)?;
    read_head(stream).await
}

/// Reads up to the end of the final response head (1xx interim answers are skipped).
async fn read_head<S: AsyncRead + Unpin>(stream: &mut S) -> Result<Head, ProbeError> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        while let Some(end) = head_end(&buf) {
            let head = parse_head(&buf[..end])?;
            if (100..200).contains(&head.status) && head.status != 101 {
                buf.drain(..end);
                continue;
            }
            return Ok(head);
        }
        if let Some(line_end) = buf.iter().position(|b| *b == b'\n') {
            if !buf.starts_with(b"HTTP/") {
                return Err(bad_status_line(&buf[..line_end]));
            }
        }
        if buf.len() > MAX_HEAD {
            return Err(ProbeError::BadResponse(format!(
                "response head larger than {} KiB",
                MAX_HEAD / 1024
            )));
        }
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|e| ProbeError::Io(e.to_string()))?;
        if n == 0 {
            return Err(match buf.is_empty() {
                true => ProbeError::Closed,
                false => ProbeError::BadResponse("connection closed inside the head".into()),
            });
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Where the head ends (just past its empty line), if it is complete.
fn head_end(buf: &[u8]) -> Option<usize> {
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn parse_head(raw: &[u8]) -> Result<Head, ProbeError> {
    let text = String::from_utf8_lossy(raw);
    let mut lines = text.split('\n').map(|l| l.trim_end_matches('\r'));
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let code = parts.next().unwrap_or("");
    let status = code
        .parse::<u16>()
        .ok()
        .filter(|s| code.len() == 3 && (100..1000).contains(s) && version.starts_with("HTTP/1."))
        .ok_or_else(|| bad_status_line(status_line.as_bytes()))?;
    let location = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("location"))
        .map(|(_, v)| v.trim().to_string());
    Ok(Head { status, location })
}

fn bad_status_line(line: &[u8]) -> ProbeError {
    let line = String::from_utf8_lossy(line);
    let shown: String = line.trim_end().chars().take(64).collect();
    ProbeError::BadResponse(format!(
        "not an HTTP/1 status line: `{}`",
        shown.escape_debug()
    ))
}

/// The next request when `status`/`location` is a redirect to the same server.
fn redirected(t: &Target, status: u16, location: &str) -> Option<Target> {
    if !matches!(status, 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let location = location.split('#').next().unwrap_or("").trim();
    if location.is_empty() {
        return None;
    }
    let mut next = t.clone();
    if !matches!(status, 307 | 308) && !matches!(t.method.as_str(), "GET" | "HEAD") {
        next.method = "GET".into();
    }
    let absolute = match location.strip_prefix("//") {
        Some(rest) => Some(format!("{}://{rest}", if t.tls { "https" } else { "http" })),
        None => location.contains("://").then(|| location.to_string()),
    };
    let Some(absolute) = absolute else {
        next.path = resolve_relative(&t.path, location);
        return Some(next);
    };
    let uri: http::Uri = absolute.parse().ok()?;
    next.tls = match uri.scheme_str()?.to_ascii_lowercase().as_str() {
        "http" => false,
        "https" => true,
        _ => return None,
    };
    let host = uri.host()?;
    let port = uri.port_u16().unwrap_or(if next.tls { 443 } else { 80 });
    if port != t.addr.port() || !same_host(t, host) {
        return None;
    }
    next.host = match uri.port_u16() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    };
    next.path = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
    if !next.path.starts_with('/') {
        next.path.insert(0, '/');
    }
    Some(next)
}

/// Whether `host` (from a Location) names the server `t` probes.
fn same_host(t: &Target, host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let header_host = t
        .host
        .parse::<http::uri::Authority>()
        .map(|a| {
            a.host()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string()
        })
        .unwrap_or_default();
    [header_host, t.server_host.clone(), t.addr.ip().to_string()]
        .iter()
        .any(|name| name.eq_ignore_ascii_case(host))
}

/// `location` (no scheme, no authority) against the current `path`.
fn resolve_relative(path: &str, location: &str) -> String {
    if location.starts_with('/') {
        return location.to_string();
    }
    let base = path.split('?').next().unwrap_or("/");
    if location.starts_with('?') {
        return format!("{base}{location}");
    }
    let dir = base.rfind('/').map_or("/", |i| &base[..=i]);
    format!("{dir}{location}")
}

mod grpc;
mod http2;

#[cfg(test)]
mod tests;
