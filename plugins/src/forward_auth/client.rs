//! `forwardAuth`'s client to the auth server: pooled keep-alive connections (hyper-util's
//! client), TLS by rustls with `tls.ca` / `tls.cert` / `tls.key` / `insecureSkipVerify`, every
//! check bounded by one timeout and the answer's body by a size.

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Idle pooled connections to one auth server are closed after this long.
const POOL_IDLE: Duration = Duration::from_secs(90);
/// Idle connections kept per auth server.
const POOL_MAX_IDLE: usize = 64;

/// `forwardAuth.tls`, its files already read.
pub struct ClientTls {
    pub ca: Option<String>,
    pub cert_and_key: Option<(String, String)>,
    pub insecure_skip_verify: bool,
}

/// Why a check got no usable answer.
#[derive(Debug)]
pub enum AuthError {
    /// No answer within the timeout.
    Timeout,
    /// The auth server could not be reached, or broke the exchange.
    Failed(String),
    /// The answer's body is larger than `maxResponseBodySize`.
    TooLarge,
}

/// The auth server's answer, body read whole.
pub struct AuthAnswer {
    pub head: http::response::Parts,
    pub body: Bytes,
}

/// A pooled client to one auth server (shared by every request of one middleware instance).
#[derive(Clone)]
pub struct AuthClient {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

impl AuthClient {
    /// A client with its TLS settings; errors name the `tls.*` key at fault.
    pub fn new(tls: Option<&ClientTls>, timeout: Duration) -> Result<Self, (&'static str, String)> {
        let config = tls_config(tls)?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(timeout));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(config)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(POOL_IDLE)
            .pool_max_idle_per_host(POOL_MAX_IDLE)
            .pool_timer(TokioTimer::new())
            .build(connector);
        Ok(AuthClient { client, timeout })
    }

    /// Sends one check and reads the answer, all within the timeout.
    pub async fn check(
        &self,
        request: Request<Full<Bytes>>,
        max_body: Option<usize>,
    ) -> Result<AuthAnswer, AuthError> {
        let exchange = async {
            let response: Response<_> = self
                .client
                .request(request)
                .await
                .map_err(|e| AuthError::Failed(error_chain(&e)))?;
            let (head, body) = response.into_parts();
            let body = Limited::new(body, max_body.unwrap_or(usize::MAX))
                .collect()
                .await
                .map_err(|e| {
                    if e.is::<http_body_util::LengthLimitError>() {
                        AuthError::TooLarge
                    } else {
                        AuthError::Failed(e.to_string())
                    }
                })?
                .to_bytes();
            Ok(AuthAnswer { head, body })
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .unwrap_or(Err(AuthError::Timeout))
    }
}

/// An error and its causes on one line (hyper's own message is often just "client error").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The system's trusted roots, read once per process.
fn system_roots() -> Arc<RootCertStore> {
    static ROOTS: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let mut roots = RootCertStore::empty();
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert);
            }
            Arc::new(roots)
        })
        .clone()
}

/// The rustls client settings `tls` asks for.
fn tls_config(tls: Option<&ClientTls>) -> Result<ClientConfig, (&'static str, String)> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ("tls", e.to_string()))?;
    let builder = match tls {
        Some(t) if t.insecure_skip_verify => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider))),
        Some(ClientTls { ca: Some(pem), .. }) => {
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                let cert = cert.map_err(|e| ("tls.ca", format!("is not PEM certificates: {e}")))?;
                roots
                    .add(cert)
                    .map_err(|e| ("tls.ca", format!("holds a certificate rustls refuses: {e}")))?;
            }
            if roots.is_empty() {
                return Err(("tls.ca", "holds no PEM certificate".to_string()));
            }
            builder.with_root_certificates(roots)
        }
        _ => builder.with_root_certificates(system_roots()),
    };
    match tls.and_then(|t| t.cert_and_key.as_ref()) {
        None => Ok(builder.with_no_client_auth()),
        Some((cert, key)) => {
            let chain = CertificateDer::pem_slice_iter(cert.as_bytes())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| ("tls.cert", format!("is not PEM certificates: {e}")))?;
            if chain.is_empty() {
                return Err(("tls.cert", "holds no PEM certificate".to_string()));
            }
            let key = PrivateKeyDer::from_pem_slice(key.as_bytes())
                .map_err(|_| ("tls.key", "holds no PEM private key".to_string()))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| ("tls.key", format!("does not fit tls.cert: {e}")))
        }
    }
}

/// `insecureSkipVerify`: any server certificate is accepted (signatures are still checked, so
/// the handshake itself is sound).
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
