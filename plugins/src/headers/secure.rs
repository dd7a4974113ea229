//! The security-header part of `headers` (Traefik's use of unrolled/secure): allowed hosts,
//! HSTS, frame options, nosniff, XSS protection, CSP, referrer and permissions policies.

use http::header::{HOST, STRICT_TRANSPORT_SECURITY};
use http::{HeaderName, HeaderValue};
use pingora_error::Result;
use pingora_http::{RequestHeader, ResponseHeader};

/// `Public-Key-Pins` (HPKP), sent like unrolled/secure does: over TLS, not in development.
pub const PUBLIC_KEY_PINS: HeaderName = HeaderName::from_static("public-key-pins");

/// Precomputed security headers of one `headers` middleware.
#[derive(Debug, Clone, Default)]
pub struct Secure {
    /// `allowedHosts` (compared case-insensitively with the whole Host, port included, as
    /// Traefik does); empty, or `isDevelopment`: any host.
    pub allowed_hosts: Vec<String>,
    /// `hostsProxyHeaders`: the first non-empty one stands for the Host.
    pub hosts_proxy_headers: Vec<HeaderName>,
    /// `sslProxyHeaders`: a request carrying one of these exact values counts as HTTPS.
    pub ssl_proxy_headers: Vec<(HeaderName, HeaderValue)>,
    /// `Strict-Transport-Security` value; `None` when `stsSeconds` is 0 or `isDevelopment`.
    pub sts: Option<HeaderValue>,
    /// `forceSTSHeader`: send STS over plain HTTP too.
    pub force_sts: bool,
    /// `publicKey` (HPKP); `None` in development.
    pub public_key: Option<HeaderValue>,
    /// Headers set on every response (replacing the upstream's): X-Frame-Options,
    /// X-Content-Type-Options, X-XSS-Protection, CSP, CSP-Report-Only, Referrer-Policy,
    /// Permissions-Policy, Feature-Policy.
    pub always: Vec<(HeaderName, HeaderValue)>,
    pub is_development: bool,
}

impl Secure {
    /// The `Strict-Transport-Security` value for these settings (`None`: not sent).
    pub fn sts_value(
        seconds: i64,
        include_subdomains: bool,
        preload: bool,
        is_development: bool,
    ) -> Option<HeaderValue> {
        if seconds == 0 || is_development {
            return None;
        }
        let mut v = format!("max-age={seconds}");
        if include_subdomains {
            v.push_str("; includeSubDomains");
        }
        if preload {
            v.push_str("; preload");
        }
        HeaderValue::from_str(&v).ok()
    }

    /// Whether the request's host is allowed (`allowedHosts`).
    pub fn host_allowed(&self, req: &RequestHeader) -> bool {
        if self.allowed_hosts.is_empty() || self.is_development {
            return true;
        }
        let proxied = self
            .hosts_proxy_headers
            .iter()
            .filter_map(|h| req.headers.get(h))
            .find(|v| !v.is_empty());
        let host = match proxied {
            Some(v) => v.as_bytes(),
            None => req
                .headers
                .get(HOST)
                .map(|v| v.as_bytes())
                .or_else(|| req.uri.authority().map(|a| a.as_str().as_bytes()))
                .unwrap_or(b""),
        };
        self.allowed_hosts
            .iter()
            .any(|h| h.as_bytes().eq_ignore_ascii_case(host))
    }

    /// Whether the request came over HTTPS: TLS to pylon, or a matching `sslProxyHeaders` entry.
    fn is_ssl(&self, req: &RequestHeader, tls: bool) -> bool {
        tls || self
            .ssl_proxy_headers
            .iter()
            .any(|(name, want)| req.headers.get(name) == Some(want))
    }

    /// Sets the security headers on a response.
    pub fn apply(&self, req: &RequestHeader, tls: bool, resp: &mut ResponseHeader) -> Result<()> {
        let needs_ssl = self.sts.is_some() || self.public_key.is_some();
        let ssl = needs_ssl && self.is_ssl(req, tls);
        if let Some(sts) = &self.sts {
            if ssl || self.force_sts {
                resp.insert_header(STRICT_TRANSPORT_SECURITY, sts.clone())?;
            }
        }
        for (name, value) in &self.always {
            resp.insert_header(name.clone(), value.clone())?;
        }
        if let Some(pk) = &self.public_key {
            if ssl {
                resp.insert_header(PUBLIC_KEY_PINS, pk.clone())?;
            }
        }
        Ok(())
    }
}
