//! Connecting to the Docker engine named by `providers.docker.endpoint`, at the highest API
//! version both sides speak (bollard's negotiation: the engine's own version when it is older
//! than bollard's, so Debian's engine (API 1.41) and current engines both work).

use bollard::{Docker, API_DEFAULT_VERSION};
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

/// Connects and negotiates the API version; the error says what failed.
pub async fn connect(endpoint: &str, timeout: Duration) -> Result<Docker, String> {
    let secs = timeout.as_secs().max(1);
    let docker = match Endpoint::parse(endpoint)? {
        Endpoint::Unix(path) => Docker::connect_with_unix(&path, secs, API_DEFAULT_VERSION),
        Endpoint::Tcp(addr) => Docker::connect_with_http(&addr, secs, API_DEFAULT_VERSION),
    }
    .map_err(|e| format!("cannot reach the Docker engine at {endpoint}: {e}"))?;
    docker
        .negotiate_version()
        .await
        .map_err(|e| format!("the Docker engine at {endpoint} does not answer: {e}"))
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
}
