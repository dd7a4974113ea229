//! Connecting to the Docker engine named by `providers.docker.endpoint`, at the highest API
//! version both sides speak (bollard's negotiation: the engine's own version when it is older
//! than bollard's, so Debian's engine (API 1.41) and current engines both work).

use bollard::{BollardRequest, Docker, API_DEFAULT_VERSION};
use std::time::Duration;

/// Where the engine listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `unix:///var/run/docker.sock`
    Unix(String),
    /// `tcp://host:port` or `http://host:port`
    Tcp(String),
}

impl Endpoint {
    /// Parses an endpoint as Traefik accepts it (TLS endpoints are not supported).
    pub fn parse(text: &str) -> Result<Endpoint, String> {
        let t = text.trim();
        if let Some(path) = t.strip_prefix("unix://") {
            if path.is_empty() {
                return Err(format!("`{text}` names no socket path"));
            }
            return Ok(Endpoint::Unix(path.to_string()));
        }
        for scheme in ["tcp://", "http://"] {
            if let Some(addr) = t.strip_prefix(scheme) {
                if addr.is_empty() {
                    return Err(format!("`{text}` names no host"));
                }
                return Ok(Endpoint::Tcp(format!("http://{addr}")));
            }
        }
        if t.starts_with("https://") || t.starts_with("ssh://") {
            return Err(format!("`{text}`: TLS and SSH endpoints are not supported"));
        }
        Err(format!(
            "`{text}` is not an endpoint: expected unix:///path or tcp://host:port"
        ))
    }
}

/// Connects and negotiates the API version: the engine's own when it is older than the
/// newest pylon speaks (bollard's), else that newest; every request then names it
/// (`/v1.41/containers/json`). The error says what failed.
pub async fn connect(endpoint: &str, timeout: Duration) -> Result<Docker, String> {
    let secs = timeout.as_secs().max(1);
    let docker = match Endpoint::parse(endpoint)? {
        Endpoint::Unix(path) => Docker::connect_with_unix(&path, secs, API_DEFAULT_VERSION),
        Endpoint::Tcp(addr) => Docker::connect_with_http(&addr, secs, API_DEFAULT_VERSION),
    }
    .map_err(|e| format!("cannot reach the Docker engine at {endpoint}: {e}"))?;
    let server = docker
        .version()
        .await
        .map_err(|e| format!("the Docker engine at {endpoint} does not answer: {e}"))?;
    let engine_api = server.api_version.unwrap_or_default();
    let api = negotiated(&engine_api).ok_or_else(|| {
        format!("the Docker engine at {endpoint} reports an unreadable API version {engine_api:?}")
    })?;
    log::debug!("docker provider: engine API {engine_api}, speaking {api}");
    let prefix = format!("/v{api}");
    Ok(docker.with_request_modifier(move |request| versioned(request, &prefix)))
}

/// The API version to speak with an engine that reports `engine_api` (`1.41`).
fn negotiated(engine_api: &str) -> Option<String> {
    let (major, minor) = engine_api.trim().split_once('.')?;
    let engine = (major.parse::<usize>().ok()?, minor.parse::<usize>().ok()?);
    let ours = (
        API_DEFAULT_VERSION.major_version,
        API_DEFAULT_VERSION.minor_version,
    );
    let (major, minor) = engine.min(ours);
    Some(format!("{major}.{minor}"))
}

/// Puts the version prefix in front of the request's path (bollard sends bare paths).
fn versioned(mut request: BollardRequest, prefix: &str) -> BollardRequest {
    let uri = request.uri().clone();
    let path_and_query = uri
        .path_and_query()
        .map_or_else(|| "/".to_string(), |p| p.as_str().to_string());
    if path_and_query.starts_with("/v1.") {
        return request;
    }
    let mut parts = uri.into_parts();
    match format!("{prefix}{path_and_query}").parse() {
        Ok(p) => parts.path_and_query = Some(p),
        Err(_) => return request,
    }
    if let Ok(uri) = http::Uri::from_parts(parts) {
        *request.uri_mut() = uri;
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_as_traefik_writes_them() {
        assert_eq!(
            Endpoint::parse("unix:///var/run/docker.sock"),
            Ok(Endpoint::Unix("/var/run/docker.sock".into()))
        );
        assert_eq!(
            Endpoint::parse("tcp://127.0.0.1:2375"),
            Ok(Endpoint::Tcp("http://127.0.0.1:2375".into()))
        );
        assert!(Endpoint::parse("unix://").is_err());
        assert!(Endpoint::parse("/var/run/docker.sock").is_err());
        assert!(Endpoint::parse("https://host:2376").is_err());
    }

    /// An engine stand-in on a unix socket: answers `/version` with `api` and anything else
    /// with `[]`, and records the request paths.
    async fn engine(
        api: &'static str,
    ) -> (
        tempfile::TempDir,
        std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    ) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let dir = tempfile::tempdir().expect("dir");
        let listener = tokio::net::UnixListener::bind(dir.path().join("d.sock")).expect("bind");
        let paths = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = paths.clone();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let mut buf = vec![0u8; 4096];
                let n = s.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).to_string();
                let path = head
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_string();
                let body = if path.ends_with("/version") {
                    format!("{{\"ApiVersion\":\"{api}\",\"Version\":\"test\"}}")
                } else {
                    "[]".to_string()
                };
                seen.lock().unwrap().push(path);
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(reply.as_bytes()).await;
            }
        });
        (dir, paths)
    }

    #[tokio::test]
    async fn the_api_version_follows_the_engine() {
        // Debian's engine (1.41), an engine newer than Traefik's fixed version broke on (1.52),
        // and one newer than bollard knows (requests stay at bollard's own version).
        let newest = format!(
            "{}.{}",
            API_DEFAULT_VERSION.major_version, API_DEFAULT_VERSION.minor_version
        );
        for (api, expected) in [
            ("1.41", "1.41".to_string()),
            ("1.52", "1.52".to_string()),
            ("1.99", newest),
        ] {
            let (dir, paths) = engine(api).await;
            let endpoint = format!("unix://{}", dir.path().join("d.sock").display());
            let docker = connect(&endpoint, Duration::from_secs(5))
                .await
                .expect("connects");
            docker.list_containers(None).await.expect("lists");
            let last = paths.lock().unwrap().last().cloned().unwrap_or_default();
            assert!(
                last.starts_with(&format!("/v{expected}/containers/json")),
                "engine {api}: {last}"
            );
        }
    }
}
