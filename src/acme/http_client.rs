//! The HTTPS client that talks to a resolver's ACME server: its own CA roots (`caCertificates`,
//! `caSystemCertPool`), server name (`caServerName`) and timeouts.

use crate::config::acme::AcmeResolver;
use bytes::Bytes;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use instant_acme::{BodyWrapper, BytesResponse, HttpClient};
use rustls::pki_types::{CertificateDer, ServerName};
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

type Hyper = Client<hyper_rustls::HttpsConnector<HttpConnector>, BodyWrapper<Bytes>>;

/// An [`HttpClient`] with the resolver's roots and a deadline on every request.
pub struct AcmeHttp {
    client: Hyper,
    /// Until the response head (`clientResponseHeaderTimeout`).
    head_timeout: Duration,
    /// The last `Retry-After` the CA sent with a 429 or 503.
    pub retry_after: RetryAfter,
}

/// When the CA last asked to come back, shared with the scheduler.
pub type RetryAfter = Arc<std::sync::Mutex<Option<std::time::SystemTime>>>;

impl AcmeHttp {
    /// The client for `acme`; relative `caCertificates` paths resolve from `base`.
    pub fn new(acme: &AcmeResolver, base: &Path) -> Result<AcmeHttp, String> {
        let mut roots = rustls::RootCertStore::empty();
        let system = acme.ca_certificates.is_empty() || acme.ca_system_cert_pool == Some(true);
        if system {
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                let _ = roots.add(cert);
            }
        }
        for entry in &acme.ca_certificates {
            for cert in read_roots(entry, base)? {
                roots
                    .add(cert)
                    .map_err(|e| format!("caCertificates `{entry}`: {e}"))?;
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(acme.client_response_header_timeout()));
        let builder = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http();
        let builder = match &acme.ca_server_name {
            Some(name) => {
                let name = ServerName::try_from(name.clone())
                    .map_err(|e| format!("caServerName `{name}`: {e}"))?;
                builder.with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(name))
            }
            None => builder,
        };
        let connector = builder.enable_http1().enable_http2().wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(acme.client_timeout())
            .build(connector);
        Ok(AcmeHttp {
            client,
            head_timeout: acme
                .client_response_header_timeout()
                .min(acme.client_timeout()),
            retry_after: RetryAfter::default(),
        })
    }
}

/// The certificates of one `caCertificates` entry: a PEM file, or PEM text itself.
fn read_roots(entry: &str, base: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = if entry.contains("-----BEGIN") {
        entry.as_bytes().to_vec()
    } else {
        let path = base.join(entry);
        std::fs::read(&path).map_err(|e| format!("caCertificates `{}`: {e}", path.display()))?
    };
    let certs = openssl::x509::X509::stack_from_pem(&pem)
        .map_err(|e| format!("caCertificates `{entry}`: not PEM certificates ({e})"))?;
    if certs.is_empty() {
        return Err(format!("caCertificates `{entry}`: no certificate in it"));
    }
    certs
        .iter()
        .map(|c| {
            c.to_der()
                .map(CertificateDer::from)
                .map_err(|e| format!("caCertificates `{entry}`: {e}"))
        })
        .collect()
}

impl HttpClient for AcmeHttp {
    fn request(
        &self,
        req: http::Request<BodyWrapper<Bytes>>,
    ) -> Pin<Box<dyn Future<Output = Result<BytesResponse, instant_acme::Error>> + Send>> {
        let response = self.client.request(req);
        let timeout = self.head_timeout;
        let retry_after = self.retry_after.clone();
        Box::pin(async move {
            match tokio::time::timeout(timeout, response).await {
                Err(_) => Err(instant_acme::Error::Other(
                    format!("no response from the ACME server within {timeout:?}").into(),
                )),
                Ok(Err(e)) => Err(instant_acme::Error::Other(Box::new(e))),
                Ok(Ok(rsp)) => {
                    let status = rsp.status();
                    if status == http::StatusCode::TOO_MANY_REQUESTS
                        || status == http::StatusCode::SERVICE_UNAVAILABLE
                    {
                        let when = rsp
                            .headers()
                            .get(http::header::RETRY_AFTER)
                            .and_then(|v| v.to_str().ok())
                            .and_then(parse_retry_after);
                        if let (Some(when), Ok(mut slot)) = (when, retry_after.lock()) {
                            *slot = Some(when);
                        }
                    }
                    Ok(BytesResponse::from(rsp))
                }
            }
        })
    }
}

/// `Retry-After`: delay-seconds or an HTTP date.
fn parse_retry_after(value: &str) -> Option<std::time::SystemTime> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(std::time::SystemTime::now() + Duration::from_secs(secs));
    }
    httpdate::parse_http_date(value).ok()
}
