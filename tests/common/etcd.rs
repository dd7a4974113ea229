//! An `etcd` member of the test's own (Debian's etcd-server) on free loopback ports with a
//! temporary data directory, killed when dropped (or stopped and started again on the same
//! ports and data, as a restart), optionally serving TLS and asking for client certificates,
//! and an etcd client to write keys and enable authentication.

use super::{eventually, free_port};
use etcd_client::{Certificate, Client, ConnectOptions, DeleteOptions, Identity, TlsOptions};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The longest a member may take to answer after it was started.
const START_WITHIN: Duration = Duration::from_secs(20);
/// The longest one client call of the test may take.
const CALL_WITHIN: Duration = Duration::from_secs(10);

/// PEM files of a TLS member: its CA, its certificate, and a client certificate it accepts.
#[derive(Clone)]
pub struct TlsFiles {
    pub ca: String,
    pub server_cert: String,
    pub server_key: String,
    pub client_cert: String,
    pub client_key: String,
}

impl TlsFiles {
    /// A CA, a server certificate for 127.0.0.1 and a client certificate, written in `dir`.
    pub fn write(dir: &std::path::Path) -> TlsFiles {
        use super::certs::{write, Ca, Key};
        let ca = Ca::root("pylon test etcd CA");
        let ca_path = dir.join("etcd-ca.crt");
        std::fs::write(&ca_path, ca.cert.to_pem().expect("pem")).expect("write CA");
        let key = Key::P256.generate();
        let (server_cert, server_key) = write(
            dir,
            "etcd-server",
            &ca.issue("etcd", &["127.0.0.1", "localhost"], &key),
            &[],
            &key,
        );
        let key = Key::P256.generate();
        let (client_cert, client_key) =
            write(dir, "etcd-client", &ca.issue("pylon", &[], &key), &[], &key);
        TlsFiles {
            ca: ca_path.display().to_string(),
            server_cert,
            server_key,
            client_cert,
            client_key,
        }
    }
}

pub struct Etcd {
    pub port: u16,
    /// Set: the member serves TLS only and wants a client certificate signed by `ca`.
    pub tls: Option<TlsFiles>,
    peer_port: u16,
    data: tempfile::TempDir,
    /// `root`'s password once [`Etcd::enable_auth`] ran.
    pub root_password: Option<String>,
    child: Option<Child>,
}

impl Etcd {
    /// Starts one on free ports; `None` (with a note) when the binary is missing outside CI.
    pub async fn start() -> Option<Etcd> {
        Self::start_on(free_port()).await
    }

    /// Starts one serving clients on `port`.
    pub async fn start_on(port: u16) -> Option<Etcd> {
        Self::start_with(port, None).await
    }

    /// Starts one serving TLS (client certificates required) with `tls`.
    pub async fn start_tls(tls: TlsFiles) -> Option<Etcd> {
        Self::start_with(free_port(), Some(tls)).await
    }

    async fn start_with(port: u16, tls: Option<TlsFiles>) -> Option<Etcd> {
        let mut etcd = Etcd {
            port,
            tls,
            peer_port: free_port(),
            data: tempfile::tempdir().expect("etcd data dir"),
            root_password: None,
            child: None,
        };
        etcd.spawn()?;
        etcd.wait_ready().await;
        Some(etcd)
    }

    /// Starts the member again (after [`Etcd::stop`]) on the same ports and data: its keys are
    /// still there.
    pub async fn restart(&mut self) {
        self.stop();
        self.spawn().expect("etcd started before");
        self.wait_ready().await;
    }

    fn spawn(&mut self) -> Option<()> {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let client = format!("{scheme}://127.0.0.1:{}", self.port);
        let peer = format!("http://127.0.0.1:{}", self.peer_port);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.data.path().join("etcd.log"))
            .expect("etcd log");
        let mut command = Command::new("etcd");
        if let Some(t) = &self.tls {
            command
                .args(["--cert-file", &t.server_cert, "--key-file", &t.server_key])
                .args(["--trusted-ca-file", &t.ca, "--client-cert-auth"]);
        }
        let spawned = command
            .args(["--name", "pylon-test"])
            .arg("--data-dir")
            .arg(self.data.path().join("data"))
            .args(["--listen-client-urls", &client])
            .args(["--advertise-client-urls", &client])
            .args(["--listen-peer-urls", &peer])
            .args(["--initial-advertise-peer-urls", &peer])
            .args(["--initial-cluster", &format!("pylon-test={peer}")])
            .args(["--logger", "zap", "--log-outputs", "stderr"])
            .args(["--log-level", "warn"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("etcd log handle"))
            .stderr(log)
            .spawn();
        match spawned {
            Ok(child) => {
                self.child = Some(child);
                Some(())
            }
            Err(e) if std::env::var_os("CI").is_none() => {
                eprintln!(
                    "SKIPPED: etcd cannot be started ({e}); scripts/setup.sh installs etcd-server"
                );
                None
            }
            Err(e) => panic!("etcd (Debian etcd-server) is required in CI: {e}"),
        }
    }

    /// Waits until the member answers a read (bounded).
    async fn wait_ready(&self) {
        let port = self.port;
        let password = self.root_password.clone();
        let tls = self.tls.clone();
        let up = eventually(START_WITHIN, || {
            let (password, tls) = (password.clone(), tls.clone());
            async move {
                let client = connect(port, password.as_deref(), tls.as_ref())
                    .await
                    .ok()?;
                let mut kv = client.kv_client();
                tokio::time::timeout(Duration::from_secs(2), kv.get("probe", None))
                    .await
                    .ok()?
                    .ok()
                    .map(|_| ())
            }
        })
        .await;
        assert!(
            up.is_some(),
            "etcd did not answer on {port} within {START_WITHIN:?}:\n{}",
            self.log()
        );
    }

    /// What the member printed.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data.path().join("etcd.log")).unwrap_or_default()
    }

    /// A client (as `root` once authentication is on).
    pub async fn client(&self) -> Client {
        tokio::time::timeout(
            CALL_WITHIN,
            connect(self.port, self.root_password.as_deref(), self.tls.as_ref()),
        )
        .await
        .expect("connect to the test etcd in time")
        .expect("connect to the test etcd")
    }

    /// `PUT key value` for each pair.
    pub async fn put(&self, pairs: &[(&str, &str)]) {
        let mut kv = self.client().await.kv_client();
        for (k, v) in pairs {
            tokio::time::timeout(CALL_WITHIN, kv.put(*k, *v, None))
                .await
                .expect("put in time")
                .expect("put");
        }
    }

    /// Deletes every key starting with `prefix`.
    pub async fn delete_prefix(&self, prefix: &str) {
        let mut kv = self.client().await.kv_client();
        let options = DeleteOptions::new().with_prefix();
        tokio::time::timeout(CALL_WITHIN, kv.delete(prefix, Some(options)))
            .await
            .expect("delete in time")
            .expect("delete");
    }

    /// Creates user `root` with `password` (role `root`) and turns authentication on.
    pub async fn enable_auth(&mut self, password: &str) {
        let mut auth = self.client().await.auth_client();
        let step = |what: &str, r: Result<(), etcd_client::Error>| {
            r.unwrap_or_else(|e| panic!("{what}: {e}"));
        };
        step(
            "user add",
            auth.user_add("root", password, None).await.map(|_| ()),
        );
        // The `root` role may or may not exist already, depending on the version.
        let _ = auth.role_add("root").await;
        step(
            "grant root",
            auth.user_grant_role("root", "root").await.map(|_| ()),
        );
        step("auth enable", auth.auth_enable().await.map(|_| ()));
        self.root_password = Some(password.to_string());
    }

    /// Kills the member (the ports are free again; the data stays for [`Etcd::restart`]).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A client of the member on `port`, as `root` with `password` when given, over TLS with the
/// client certificate when `tls` is given.
async fn connect(
    port: u16,
    password: Option<&str>,
    tls: Option<&TlsFiles>,
) -> Result<Client, etcd_client::Error> {
    let mut options = ConnectOptions::new().with_connect_timeout(Duration::from_secs(2));
    if let Some(p) = password {
        options = options.with_user("root", p);
    }
    let mut endpoint = format!("http://127.0.0.1:{port}");
    if let Some(t) = tls {
        let read = |p: &str| std::fs::read(p).expect("read test PEM");
        options = options.with_tls(
            TlsOptions::new()
                .ca_certificate(Certificate::from_pem(read(&t.ca)))
                .identity(Identity::from_pem(
                    read(&t.client_cert),
                    read(&t.client_key),
                )),
        );
        endpoint = format!("https://127.0.0.1:{port}");
    }
    Client::connect([endpoint], Some(options)).await
}
