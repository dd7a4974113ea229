//! A real ACME CA for tests: Debian's `pebble` on loopback ports, with `pebble-challtestsrv` as
//! its DNS server (every name resolves to 127.0.0.1) and its validation ports pointed at
//! pylon's entry points. Its HTTPS certificate comes from a test CA the client trusts.

use super::certs::{Ca, Key};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running pebble (and its DNS server), stopped on drop.
pub struct Pebble {
    pub dir: tempfile::TempDir,
    /// The ACME directory URL.
    pub directory: String,
    /// PEM file of the CA that signs pebble's own HTTPS certificate (`caCertificates`).
    pub https_ca: PathBuf,
    management: u16,
    children: Vec<Child>,
}

/// Where pebble sends its validation requests.
pub struct Validation {
    /// pylon's HTTP entry point (HTTP-01).
    pub http_port: u16,
    /// pylon's HTTPS entry point (TLS-ALPN-01).
    pub tls_port: u16,
}

impl Pebble {
    /// Starts pebble on `acme_port` (pick it with `free_port`) and waits for its directory.
    pub async fn start_on(acme_port: u16, validation: Validation) -> Pebble {
        Self::start_with_dns(acme_port, validation, None).await
    }

    /// As `start_on`, resolving names at the DNS server on 127.0.0.1:`dns_port` when given
    /// (a test's own `named`) instead of a `pebble-challtestsrv` started here.
    pub async fn start_with_dns(
        acme_port: u16,
        validation: Validation,
        dns_port: Option<u16>,
    ) -> Pebble {
        let dir = tempfile::tempdir().expect("temp dir");
        let ca = Ca::root("pylon test pebble CA");
        let key = Key::P256.generate();
        let leaf = ca.issue("127.0.0.1", &["127.0.0.1", "localhost"], &key);
        let write = |name: &str, pem: Vec<u8>| {
            let p = dir.path().join(name);
            std::fs::write(&p, pem).expect("write pebble file");
            p
        };
        let https_ca = write("https-ca.pem", ca.cert.to_pem().unwrap());
        let cert = write("pebble.crt", leaf.to_pem().unwrap());
        let key = write("pebble.key", key.private_key_to_pem_pkcs8().unwrap());
        let dns = dns_port.unwrap_or_else(super::free_port);
        let management = super::free_port();
        let dns_management = super::free_port();
        let config = serde_json::json!({ "pebble": {
            "listenAddress": format!("127.0.0.1:{acme_port}"),
            "managementListenAddress": format!("127.0.0.1:{management}"),
            "certificate": cert, "privateKey": key,
            "httpPort": validation.http_port, "tlsPort": validation.tls_port,
            "ocspResponderURL": "", "externalAccountBindingRequired": false,
        }});
        let config_path = write("pebble-config.json", config.to_string().into_bytes());
        let log = |name: &str| std::fs::File::create(dir.path().join(name)).expect("log file");
        let mut children = Vec::new();
        if dns_port.is_none() {
            let challtestsrv = Command::new("pebble-challtestsrv")
                .args(["-dns01", &format!("127.0.0.1:{dns}")])
                .args(["-management", &format!("127.0.0.1:{dns_management}")])
                .args([
                    "-http01",
                    "",
                    "-https01",
                    "",
                    "-tlsalpn01",
                    "",
                    "-defaultIPv6",
                    "",
                ])
                .stdout(log("challtestsrv.log"))
                .stderr(log("challtestsrv.err"))
                .stdin(Stdio::null())
                .spawn()
                .expect("start pebble-challtestsrv (apt-get install pebble)");
            children.push(challtestsrv);
        }
        let pebble = Command::new("pebble")
            .arg("-config")
            .arg(&config_path)
            .args(["-dnsserver", &format!("127.0.0.1:{dns}")])
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_WFE_NONCEREJECT", "0")
            .stdout(log("pebble.log"))
            .stderr(log("pebble.err"))
            .stdin(Stdio::null())
            .spawn()
            .expect("start pebble (apt-get install pebble)");
        children.push(pebble);
        let p = Pebble {
            dir,
            directory: format!("https://127.0.0.1:{acme_port}/dir"),
            https_ca,
            management,
            children,
        };
        let up = super::eventually(Duration::from_secs(20), || async {
            for port in [acme_port, management] {
                tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .ok()?;
            }
            Some(())
        })
        .await;
        assert!(up.is_some(), "pebble did not listen: {}", p.log());
        p
    }

    /// What pebble printed.
    pub fn log(&self) -> String {
        let read = |n: &str| std::fs::read_to_string(self.dir.path().join(n)).unwrap_or_default();
        format!("{}{}", read("pebble.log"), read("pebble.err"))
    }

    /// The PEM of the root pebble issues under (from its management endpoint).
    pub async fn root_pem(&self) -> String {
        let ca = std::fs::read(&self.https_ca).unwrap();
        let client = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
            .build()
            .unwrap();
        let url = format!("https://127.0.0.1:{}/roots/0", self.management);
        let rsp = client.get(&url).send().await.expect("pebble roots");
        assert!(rsp.status().is_success(), "{url}: {}", rsp.status());
        rsp.text().await.unwrap()
    }

    pub fn https_ca_path(&self) -> &Path {
        &self.https_ca
    }
}

impl Drop for Pebble {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
