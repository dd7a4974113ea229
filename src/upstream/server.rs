//! One upstream server: its URL parsed once into what a request needs (address, TLS, Host).

use super::dns::{Name, Resolver};
use http::HeaderValue;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Where a server's connections go.
#[derive(Debug, Clone)]
pub enum Address {
    /// The URL names an IP address: always this one.
    Ip(SocketAddr),
    /// The URL names a host: its current address (see [`crate::upstream::dns`]); `name` is
    /// `None` until [`Server::bind`] (then it has no address).
    Host { port: u16, name: Option<Arc<Name>> },
}

/// An upstream server, parsed and ready to be dialled.
#[derive(Debug, Clone)]
pub struct Server {
    /// The URL as configured, for logs and the API.
    pub url: String,
    /// Where to connect: see [`Server::addr`].
    pub address: Address,
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
}

impl Server {
    /// Parses a server URL. A host name is not looked up here: see [`Server::bind`].
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
        let address = match bare_host.parse::<IpAddr>() {
            Ok(ip) => Address::Ip(SocketAddr::new(ip, port)),
            Err(_) => Address::Host { port, name: None },
        };
        let authority = match uri.port_u16() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        let authority = HeaderValue::from_str(&authority)
            .map_err(|_| ServerUrlError::Invalid(url.to_string()))?;
        Ok(Server {
            url: url.to_string(),
            address,
            tls,
            h2c,
            host: bare_host.to_string(),
            authority,
            weight,
        })
    }
}

impl Server {
    /// Where a connection to it goes now: `None` while its host name does not resolve.
    #[inline]
    pub fn addr(&self) -> Option<SocketAddr> {
        match &self.address {
            Address::Ip(addr) => Some(*addr),
            Address::Host { port, name } => {
                let ip = name.as_ref()?.address()?;
                Some(SocketAddr::new(ip, *port))
            }
        }
    }

    /// Whether it has an address now (an IP-address URL always has).
    #[inline]
    pub fn resolvable(&self) -> bool {
        match &self.address {
            Address::Ip(_) => true,
            Address::Host { name, .. } => name.as_ref().is_some_and(|n| n.is_resolved()),
        }
    }

    /// The host name it follows, if its URL names one (and it is bound).
    pub fn name(&self) -> Option<&Arc<Name>> {
        match &self.address {
            Address::Host { name, .. } => name.as_ref(),
            Address::Ip(_) => None,
        }
    }

    /// Ties a server naming a host to `resolver`'s [`Name`] for it; returns the name when it is
    /// new (to be looked up: [`Resolver::first_lookups`]). An IP-address server is unchanged.
    pub fn bind(mut self, resolver: &Resolver) -> (Server, Option<Arc<Name>>) {
        let mut fresh = None;
        if let Address::Host { name, .. } = &mut self.address {
            let (shared, new) = resolver.name(&self.host);
            if new {
                fresh = Some(shared.clone());
            }
            *name = Some(shared);
        }
        (self, fresh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_http_with_port() {
        let s = Server::parse("http://127.0.0.1:8081", 1).unwrap();
        assert_eq!(s.addr(), Some("127.0.0.1:8081".parse().unwrap()));
        assert!(s.resolvable());
        assert!(!s.tls);
        assert_eq!(s.authority, "127.0.0.1:8081");
    }

    #[test]
    fn https_defaults_to_443_and_ipv6_works() {
        let s = Server::parse("https://[::1]", 1).unwrap();
        assert_eq!(s.addr(), Some("[::1]:443".parse().unwrap()));
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
        assert_eq!(s.addr(), Some("127.0.0.1:80".parse().unwrap()));
        assert!(s.h2c && !s.tls);
        assert!(!Server::parse("http://127.0.0.1", 1).unwrap().h2c);
    }

    #[test]
    fn a_host_name_is_not_looked_up_when_parsed() {
        // `.invalid` never resolves (RFC 6761): parsing must not ask, nor refuse it.
        let s = Server::parse("http://app.pylon.invalid:8080", 1).unwrap();
        assert!(matches!(
            s.address,
            Address::Host {
                port: 8080,
                name: None
            }
        ));
        assert_eq!(s.addr(), None);
        assert!(!s.resolvable());
        assert_eq!(s.host, "app.pylon.invalid");
        let resolver = Resolver::new(Vec::new());
        let (bound, fresh) = s.bind(&resolver);
        assert!(fresh.is_some());
        assert_eq!(bound.name().map(|n| n.host()), Some("app.pylon.invalid"));
        let (again, fresh) = Server::parse("https://APP.pylon.invalid", 1)
            .unwrap()
            .bind(&resolver);
        assert!(fresh.is_none(), "one name per host");
        assert!(Arc::ptr_eq(again.name().unwrap(), bound.name().unwrap()));
        let ip = Server::parse("http://10.0.0.1:80", 1)
            .unwrap()
            .bind(&resolver);
        assert!(ip.1.is_none() && ip.0.name().is_none());
    }
}
