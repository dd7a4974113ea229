//! Configs and checks shared by the ACME tests: pylon's static config with resolver `le`
//! pointed at a pebble, routers asking for certificates, and a client verifying what is served.

use super::certs::{served, Client};
use super::pebble::Pebble;
use super::{eventually, free_port};
use openssl::ssl::SslVersion;
use openssl::x509::X509;
use std::path::Path;
use std::time::Duration;

pub const TLS13: Client<'static> = Client {
    version: SslVersion::TLS1_3,
    ciphers: None,
    sigalgs: None,
};

/// How long pylon gets to obtain a certificate from pebble (the machine is shared and loaded).
pub const ISSUE_DEADLINE: Duration = Duration::from_secs(90);

pub struct Ports {
    pub http: u16,
    pub https: u16,
    pub acme: u16,
}

pub fn ports() -> Ports {
    Ports {
        http: free_port(),
        https: free_port(),
        acme: free_port(),
    }
}

/// The static config: `web` (redirecting to HTTPS), `websecure`, resolver `le` with `challenge`.
pub fn static_config(p: &Ports, pebble_ca: &Path, storage: &Path, challenge: &str) -> String {
    format!(
        r#"[log]
level = "INFO"
[entryPoints.web]
address = "127.0.0.1:{http}"
[entryPoints.web.http.redirections.entryPoint]
to = "websecure"
scheme = "https"
[entryPoints.websecure]
address = "127.0.0.1:{https}"
[entryPoints.websecure.http.tls]

[certificatesResolvers.le.acme]
email = "ops@pylon.test"
caServer = "https://127.0.0.1:{acme}/dir"
storage = "{storage}"
keyType = "EC256"
caCertificates = ["{ca}"]
{challenge}
"#,
        http = p.http,
        https = p.https,
        acme = p.acme,
        storage = storage.display(),
        ca = pebble_ca.display(),
    )
}

pub fn router(name: &str, host: &str, upstream: &str) -> String {
    format!(
        r#"
[http.routers.{name}]
rule = "Host(`{host}`)"
service = "{name}"
entryPoints = ["websecure"]
[http.routers.{name}.tls]
certResolver = "le"
[http.services.{name}.loadBalancer]
servers = [{{ url = "{upstream}" }}]
"#
    )
}

/// Waits until `port` serves `name` a certificate that verifies against `root`.
pub async fn wait_for_valid_cert(port: u16, name: &str, root: &X509) -> bool {
    eventually(ISSUE_DEADLINE, || async move {
        served("127.0.0.1", port, Some(name), name, root, TLS13)
            .await
            .ok()
    })
    .await
    .is_some()
}

pub async fn pebble_root(pebble: &Pebble) -> X509 {
    X509::from_pem(pebble.root_pem().await.as_bytes()).expect("pebble root PEM")
}

pub fn stored_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("acme.json")).expect("acme.json is JSON")
}

/// The API and `/metrics` on entry point `traefik` at `port`.
pub fn observability(port: u16) -> String {
    format!(
        "[entryPoints.traefik]\naddress = \"127.0.0.1:{port}\"\n[api]\ninsecure = true\n[metrics.prometheus]\n"
    )
}
