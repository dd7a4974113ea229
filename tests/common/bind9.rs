//! A real authoritative DNS server for tests: Debian's BIND 9 `named` in the foreground on a
//! loopback port, serving one zone whose names all point at 127.0.0.1 and that accepts RFC 2136
//! updates signed with a TSIG key made here. Stopped on drop.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The TSIG key's name, as `RFC2136_TSIG_KEY`.
pub const KEY_NAME: &str = "pylon-acme.";

/// A running `named`.
pub struct Bind9 {
    pub dir: tempfile::TempDir,
    /// Its UDP and TCP port on 127.0.0.1.
    pub port: u16,
    pub zone: String,
    /// The TSIG secret, base64 (`RFC2136_TSIG_SECRET`), for hmac-sha256.
    pub secret: String,
    child: Child,
}

fn named_path() -> &'static str {
    for p in ["/usr/sbin/named", "/usr/bin/named"] {
        if Path::new(p).exists() {
            return p;
        }
    }
    panic!(
        "BIND 9's `named` is missing: run scripts/setup.sh (apt-get install bind9 bind9-dnsutils)"
    )
}

impl Bind9 {
    /// Starts `named` for `zone` and waits (bounded) until it answers the zone's SOA.
    pub async fn start(zone: &str) -> Bind9 {
        let named = named_path();
        let dir = tempfile::tempdir().expect("temp dir");
        let port = super::free_port();
        let mut key = [0u8; 32];
        openssl::rand::rand_bytes(&mut key).expect("random key");
        let secret = openssl::base64::encode_block(&key);
        let d = dir.path().display().to_string();
        let zone_file = format!(
            "$TTL 60\n@ IN SOA ns.{zone}. admin.{zone}. 1 60 60 600 60\n@ IN NS ns.{zone}.\n\
             ns IN A 127.0.0.1\n@ IN A 127.0.0.1\n* IN A 127.0.0.1\n"
        );
        std::fs::write(dir.path().join("zone.db"), zone_file).expect("write zone");
        let conf = format!(
            r#"options {{
    directory "{d}";
    pid-file "{d}/named.pid";
    session-keyfile "{d}/session.key";
    managed-keys-directory "{d}";
    listen-on port {port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    recursion no;
    allow-query {{ 127.0.0.1; }};
    allow-transfer {{ none; }};
    dnssec-validation no;
    notify no;
}};
controls {{ }};
key "{KEY_NAME}" {{ algorithm hmac-sha256; secret "{secret}"; }};
zone "{zone}" {{ type primary; file "{d}/zone.db"; allow-update {{ key "{KEY_NAME}"; }}; }};
"#
        );
        let conf_path = dir.path().join("named.conf");
        std::fs::write(&conf_path, conf).expect("write named.conf");
        let log = std::fs::File::create(dir.path().join("named.log")).expect("log file");
        // -g: foreground, log to stderr; -4: IPv4 only; -n 1: one worker (the machine is shared)
        let child = Command::new(named)
            .args(["-g", "-4", "-n", "1", "-c"])
            .arg(&conf_path)
            .stdout(log.try_clone().expect("clone log"))
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("start named");
        let b = Bind9 {
            dir,
            port,
            zone: zone.to_string(),
            secret,
            child,
        };
        let up = super::eventually(Duration::from_secs(20), || async {
            let soa = b.dig(zone, "SOA");
            (!soa.is_empty()).then_some(())
        })
        .await;
        assert!(up.is_some(), "named did not answer: {}", b.log());
        b
    }

    /// What named printed.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("named.log")).unwrap_or_default()
    }

    /// `dig +short` of `name`/`kind` at this server: one line per record.
    pub fn dig(&self, name: &str, kind: &str) -> Vec<String> {
        let out = Command::new("dig")
            .args(["@127.0.0.1", "-p", &self.port.to_string()])
            .args(["+short", "+norecurse", "+time=1", "+tries=1", name, kind])
            .output()
            .expect("run dig (apt-get install bind9-dnsutils)");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with(";;"))
            .map(str::to_string)
            .collect()
    }

    /// The `RFC2136_*` variables that point pylon at this server.
    pub fn rfc2136_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("RFC2136_NAMESERVER", format!("127.0.0.1:{}", self.port)),
            ("RFC2136_TSIG_KEY", KEY_NAME.to_string()),
            ("RFC2136_TSIG_SECRET", self.secret.clone()),
            ("RFC2136_TSIG_ALGORITHM", "hmac-sha256.".to_string()),
            ("RFC2136_PROPAGATION_TIMEOUT", "30".to_string()),
            ("RFC2136_POLLING_INTERVAL", "1".to_string()),
        ]
    }
}

impl Drop for Bind9 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
