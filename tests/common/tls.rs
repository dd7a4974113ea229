//! TLS helpers for tests: self-signed certificate files, and a client handshake pinned to one
//! protocol version and cipher list (security level 0, so a refusal is pylon's, not the client's).

use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode, SslVersion};
use std::path::Path;

/// Writes a self-signed certificate for `names` (the first is the CN) into `dir` as
/// `<stem>.crt`/`<stem>.key` and returns their paths.
pub fn write_cert(dir: &Path, stem: &str, names: &[&str]) -> (String, String) {
    let (cert, key) = pylon::tls::self_signed::generate(names[0], names).expect("certificate");
    let c = dir.join(format!("{stem}.crt"));
    let k = dir.join(format!("{stem}.key"));
    std::fs::write(&c, cert.to_pem().expect("PEM")).expect("write certificate");
    std::fs::write(&k, key.private_key_to_pem_pkcs8().expect("PEM")).expect("write key");
    (c.display().to_string(), k.display().to_string())
}

/// Handshakes with 127.0.0.1:`port` at exactly `version` (sending `sni` when given) offering
/// `ciphers` (TLS 1.2 and below); `Ok(negotiated cipher)` or the error text.
pub async fn handshake(
    port: u16,
    sni: Option<&str>,
    version: SslVersion,
    ciphers: &str,
) -> Result<String, String> {
    let mut b = SslConnector::builder(SslMethod::tls()).expect("connector");
    b.set_verify(SslVerifyMode::NONE);
    b.set_security_level(0);
    b.set_cipher_list(ciphers).expect("cipher list");
    b.set_min_proto_version(Some(version)).expect("min version");
    b.set_max_proto_version(Some(version)).expect("max version");
    let connector = b.build();
    let sni = sni.map(str::to_string);
    tokio::task::spawn_blocking(move || {
        let tcp = std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
        let mut cfg = connector.configure().map_err(|e| e.to_string())?;
        cfg.set_use_server_name_indication(sni.is_some());
        cfg.set_verify_hostname(false);
        cfg.connect(sni.as_deref().unwrap_or("ignored"), tcp)
            .map(|s| {
                s.ssl()
                    .current_cipher()
                    .map_or(String::new(), |c| c.name().to_string())
            })
            .map_err(|e| format!("{e:?}"))
    })
    .await
    .expect("handshake task")
}
