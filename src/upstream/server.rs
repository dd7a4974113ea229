//! One upstream server: its URL parsed once into what a request needs (address, TLS, Host).

use http::HeaderValue;
use std::net::{SocketAddr, ToSocketAddrs};

/// An upstream server, resolved and ready to be dialled.
#[derive(Debug, Clone)]
pub struct Server {
    /// The URL as configured, for logs and the API.
    pub url: String,
    /// Where to connect.
    pub addr: SocketAddr,
    /// Whether the connection to it uses TLS (`https://`).
    pub tls: bool,
    /// Cleartext HTTP/2 with prior knowledge (`h2c://`).
    pub h2c: bool,
    /// Host name for SNI and for `Host` when `passHostHeader = false`.
    pub host: String,
    /// `host[:port]` as a header value, used when the client's Host is not passed.
    pub authority: HeaderValue,
    /// Relative weight in round robin (0 takes the server out of rotation).
    pub weight: u32,
}

/// Why a server URL cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServerUrlError {
    #[error("`{0}` is not a valid URL: expected `http://host:port`, `https://host:port` or `h2c://host:port`")]
    Invalid(String),
    #[error("`{0}` uses scheme `{1}`: only `http`, `https` and `h2c` are supported")]
    Scheme(String, String),
    #[error("`{0}` has no host")]
    NoHost(String),
    #[error("host of `{0}` does not resolve: {1}")]
    Resolve(String, String),
}

impl Server {
    /// Parses and resolves a server URL (DNS is looked up here, at config time, never per request).
    pub fn parse(url: &str, weight: u32) -> Result<Server, ServerUrlError> {
        let uri: http::Uri = url
            .parse()
            .map_err(|_| ServerUrlError::Invalid(url.to_string()))?;
        let scheme = uri.scheme_str().unwrap_or("");
        let (tls, h2c) = match scheme {
            "http" => (false, false),
            "https" => (true, false),
            "h2c" => (false, true),
            "" => return Err(ServerUrlError::Invalid(url.to_string())),
            other => return Err(ServerUrlError::Scheme(url.to_string(), other.to_string())),
        };
        let host = uri
            .host()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| ServerUrlError::NoHost(url.to_string()))?;
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let bare_host = host.trim_start_matches('[').trim_end_matches(']');
        let addr = (bare_host, port)
            .to_socket_addrs()
            .map_err(|e| ServerUrlError::Resolve(url.to_string(), e.to_string()))?
            .next()
            .ok_or_else(|| ServerUrlError::Resolve(url.to_string(), "no address".into()))?;
        let authority = match uri.port_u16() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        let authority = HeaderValue::from_str(&authority)
            .map_err(|_| ServerUrlError::Invalid(url.to_string()))?;
        Ok(Server {
            url: url.to_string(),
            addr,
            tls,
            h2c,
            host: bare_host.to_string(),
            authority,
            weight,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_http_with_port() {
        let s = Server::parse("http://127.0.0.1:8081", 1).unwrap();
        assert_eq!(s.addr, "127.0.0.1:8081".parse().unwrap());
        assert!(!s.tls);
        assert_eq!(s.authority, "127.0.0.1:8081");
    }

    #[test]
    fn https_defaults_to_443_and_ipv6_works() {
        let s = Server::parse("https://[::1]", 1).unwrap();
        assert_eq!(s.addr, "[::1]:443".parse().unwrap());
        assert!(s.tls);
        assert_eq!(s.host, "::1");
    }

    #[test]
    fn rejects_other_schemes_and_garbage() {
        assert!(matches!(
            Server::parse("ftp://127.0.0.1:21", 1),
            Err(ServerUrlError::Scheme(_, _))
        ));
        assert!(matches!(
            Server::parse("127.0.0.1:80", 1),
            Err(ServerUrlError::Invalid(_))
        ));
        assert!(Server::parse("http:// bad", 1).is_err());
    }

    #[test]
    fn h2c_is_cleartext_http2_on_port_80_by_default() {
        let s = Server::parse("h2c://127.0.0.1", 1).unwrap();
        assert_eq!(s.addr, "127.0.0.1:80".parse().unwrap());
        assert!(s.h2c && !s.tls);
        assert!(!Server::parse("http://127.0.0.1", 1).unwrap().h2c);
    }
}
