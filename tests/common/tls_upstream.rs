//! An HTTPS upstream for tests: OpenSSL on a loopback port, its certificate from a test CA,
//! optionally requiring a client certificate from another; answers `200` with the client
//! certificate's CN (or `-`) as the body, one request per connection.

use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::ssl::{SslAcceptor, SslMethod, SslVerifyMode};
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::X509;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;

/// A running HTTPS upstream; stops with the test process.
pub struct TlsUpstream {
    pub port: u16,
}

impl TlsUpstream {
    /// Serves with `cert`/`key`; when `client_ca` is given, a client certificate from it is
    /// required.
    pub fn start(cert: &X509, key: &PKey<Private>, client_ca: Option<&X509>) -> TlsUpstream {
        let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls()).unwrap();
        b.set_certificate(cert).unwrap();
        b.set_private_key(key).unwrap();
        if let Some(ca) = client_ca {
            let mut store = X509StoreBuilder::new().unwrap();
            store.add_cert(ca.clone()).unwrap();
            b.set_verify_cert_store(store.build()).unwrap();
            b.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
        }
        let acceptor = Arc::new(b.build());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for tcp in listener.incoming().flatten() {
                let acceptor = acceptor.clone();
                std::thread::spawn(move || {
                    tcp.set_read_timeout(Some(std::time::Duration::from_secs(5)))
                        .ok();
                    let Ok(mut s) = acceptor.accept(tcp) else {
                        return;
                    };
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match s.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let cn = s
                        .ssl()
                        .peer_certificate()
                        .and_then(|c| {
                            c.subject_name()
                                .entries_by_nid(Nid::COMMONNAME)
                                .next()
                                .and_then(|e| e.data().to_string().ok())
                        })
                        .unwrap_or_else(|| "-".into());
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{cn}",
                        cn.len()
                    );
                    let _ = s.write_all(answer.as_bytes());
                    let _ = s.shutdown();
                });
            }
        });
        TlsUpstream { port }
    }
}
