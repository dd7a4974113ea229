//! The `passTLSClientCert` middleware: tells the upstream which certificate the client
//! presented on its TLS connection (the entry point's `tls.options.<n>.clientAuth` decides
//! which are asked for and accepted), as Traefik does:
//!
//! - `pem`: `X-Forwarded-Tls-Client-Cert`, each certificate's PEM body without its delimiters
//!   and line breaks, joined by `,` (Traefik v3 no longer URL-escapes it);
//! - `info`: `X-Forwarded-Tls-Client-Cert-Info`, the chosen subject / issuer parts, serial
//!   number, validity and SANs of each certificate, URL-query-escaped (see `info`).
//!
//! A request without a client certificate gets neither header from pylon; copies a client sent
//! itself never get this far unless its peer is a trusted forwarder (the entry point removes
//! them, as Traefik's does). The certificates are those pylon's TLS handshake kept
//! (`PluginCtx::client_certs`).

mod config;
mod info;

pub use config::{Config, DnFields, Info, IssuerFields};
pub use info::{info_value, pem_value, query_escape, DnParts, InfoParts};

use crate::build::{BuildCx, BuildResult, Problems};
use crate::{Plugin, PluginCtx};
use async_trait::async_trait;
use http::{HeaderName, HeaderValue};
use pingora_error::Result;
use pingora_http::RequestHeader;
use pingora_proxy::Session;

pub const CERT_HEADER: HeaderName = HeaderName::from_static("x-forwarded-tls-client-cert");
pub const INFO_HEADER: HeaderName = HeaderName::from_static("x-forwarded-tls-client-cert-info");

/// Turns the switches into what runs (nothing can be wrong in them).
pub fn build(cfg: &Config, cx: &BuildCx) -> BuildResult<PassTlsClientCert> {
    let problems = Problems::new(cx, "passTLSClientCert");
    let on = |b: Option<bool>| b.unwrap_or(false);
    let dn = |d: &DnFields| DnParts {
        domain_component: on(d.domain_component),
        country: on(d.country),
        province: on(d.province),
        locality: on(d.locality),
        organization: on(d.organization),
        organizational_unit: on(d.organizational_unit),
        serial_number: on(d.serial_number),
        common_name: on(d.common_name),
    };
    let info = cfg.info.as_ref().map(|i| InfoParts {
        subject: i.subject.as_ref().map(dn),
        issuer: i.issuer.as_ref().map(|x| dn(&DnFields::from(x))),
        serial_number: on(i.serial_number),
        not_before: on(i.not_before),
        not_after: on(i.not_after),
        sans: on(i.sans),
    });
    problems.finish(|| PassTlsClientCert {
        pem: on(cfg.pem),
        info,
    })
}

/// One `passTLSClientCert` middleware instance.
#[derive(Debug)]
pub struct PassTlsClientCert {
    pem: bool,
    info: Option<InfoParts>,
}

#[async_trait]
impl Plugin for PassTlsClientCert {
    fn kind(&self) -> &'static str {
        "passTLSClientCert"
    }

    async fn upstream_request_filter(
        &self,
        _session: &mut Session,
        request: &mut RequestHeader,
        cx: &mut PluginCtx,
    ) -> Result<()> {
        let Some(certs) = cx.client_certs.as_deref().filter(|c| !c.is_empty()) else {
            log::debug!("passTLSClientCert: a request without a client certificate");
            return Ok(());
        };
        if self.pem {
            if let Ok(v) = HeaderValue::from_str(&pem_value(certs)) {
                request.insert_header(CERT_HEADER, v)?;
            }
        }
        if let Some(parts) = &self.info {
            // escaped: only URL-safe bytes
            if let Ok(v) = HeaderValue::from_str(&info_value(certs, parts)) {
                request.insert_header(INFO_HEADER, v)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::test_cx;

    #[test]
    fn switches_become_the_parts_written() {
        let cfg = Config {
            pem: Some(true),
            info: Some(Info {
                sans: Some(true),
                issuer: Some(IssuerFields {
                    common_name: Some(true),
                    ..IssuerFields::default()
                }),
                ..Info::default()
            }),
        };
        let p = build(&cfg, &test_cx()).unwrap();
        assert!(p.pem);
        let info = p.info.unwrap();
        assert!(info.sans && info.subject.is_none());
        assert!(info.issuer.is_some_and(|i| i.common_name && !i.country));
        let p = build(&Config::default(), &test_cx()).unwrap();
        assert!(!p.pem && p.info.is_none());
    }
}
