//! Certificates of every common shape for TLS tests: RSA 2048/4096, ECDSA P-256/P-384, DNS and IP
//! SANs, issued by a test CA directly or through an intermediate; and a client that verifies the
//! served chain against that CA and reports what it was given.

use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode, SslVersion};
use openssl::x509::extension::{BasicConstraints, KeyUsage, SubjectAlternativeName};
use openssl::x509::{X509Name, X509};
use std::path::Path;

/// The kind of key a test certificate is made with.
#[derive(Debug, Clone, Copy)]
pub enum Key {
    Rsa2048,
    Rsa4096,
    P256,
    P384,
}

impl Key {
    pub fn generate(self) -> PKey<Private> {
        match self {
            Key::Rsa2048 => PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap(),
            Key::Rsa4096 => PKey::from_rsa(Rsa::generate(4096).unwrap()).unwrap(),
            Key::P256 => ec(Nid::X9_62_PRIME256V1),
            Key::P384 => ec(Nid::SECP384R1),
        }
    }
}

fn ec(curve: Nid) -> PKey<Private> {
    let group = EcGroup::from_curve_name(curve).unwrap();
    PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
}

/// A certificate authority that issues test certificates.
pub struct Ca {
    pub cert: X509,
    key: PKey<Private>,
}

impl Ca {
    /// A self-signed root (ECDSA P-256) named `cn`.
    pub fn root(cn: &str) -> Ca {
        let key = Key::P256.generate();
        let cert = build(cn, &[], &key, None, true);
        Ca { cert, key }
    }

    /// An intermediate CA signed by this one.
    pub fn intermediate(&self, cn: &str) -> Ca {
        let key = Key::P256.generate();
        let cert = build(cn, &[], &key, Some((&self.cert, &self.key)), true);
        Ca { cert, key }
    }

    /// A leaf for `sans` (`DNS` names, or IP addresses when they parse as one), CN `cn`.
    pub fn issue(&self, cn: &str, sans: &[&str], key: &PKey<Private>) -> X509 {
        build(cn, sans, key, Some((&self.cert, &self.key)), false)
    }
}

fn build(
    cn: &str,
    sans: &[&str],
    key: &PKey<Private>,
    issuer: Option<(&X509, &PKey<Private>)>,
    is_ca: bool,
) -> X509 {
    let mut name = X509Name::builder().unwrap();
    name.append_entry_by_nid(Nid::COMMONNAME, cn).unwrap();
    let name = name.build();
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    let serial = BigNum::from_u32(rand_serial())
        .unwrap()
        .to_asn1_integer()
        .unwrap();
    b.set_serial_number(&serial).unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(issuer.map_or(&*name, |(c, _)| c.subject_name()))
        .unwrap();
    b.set_pubkey(key).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::days_from_now(30).unwrap())
        .unwrap();
    if is_ca {
        b.append_extension(BasicConstraints::new().critical().ca().build().unwrap())
            .unwrap();
        b.append_extension(KeyUsage::new().key_cert_sign().crl_sign().build().unwrap())
            .unwrap();
    } else if !sans.is_empty() {
        let mut san = SubjectAlternativeName::new();
        for s in sans {
            if s.parse::<std::net::IpAddr>().is_ok() {
                san.ip(s);
            } else {
                san.dns(s);
            }
        }
        let ext = san.build(&b.x509v3_context(None, None)).unwrap();
        b.append_extension(ext).unwrap();
    }
    let signer = issuer.map_or(key, |(_, k)| k);
    b.sign(signer, MessageDigest::sha256()).unwrap();
    b.build()
}

fn rand_serial() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(1);
    N.fetch_add(1, Ordering::Relaxed) ^ std::process::id()
}

/// Writes `leaf` followed by `chain` and its key as `<stem>.crt`/`<stem>.key` in `dir`.
pub fn write(
    dir: &Path,
    stem: &str,
    leaf: &X509,
    chain: &[&X509],
    key: &PKey<Private>,
) -> (String, String) {
    let mut pem = leaf.to_pem().unwrap();
    for c in chain {
        pem.extend(c.to_pem().unwrap());
    }
    let c = dir.join(format!("{stem}.crt"));
    let k = dir.join(format!("{stem}.key"));
    std::fs::write(&c, pem).unwrap();
    std::fs::write(&k, key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    (c.display().to_string(), k.display().to_string())
}

/// What a verifying client was served.
#[derive(Debug)]
pub struct Served {
    /// The leaf's CN.
    pub cn: String,
    /// The leaf's key: `RSA`, `EC`.
    pub key: String,
    /// The leaf's public key size in bits.
    pub bits: u32,
}

/// How a test client restricts what it accepts.
#[derive(Debug, Clone, Copy)]
pub struct Client<'a> {
    pub version: SslVersion,
    /// TLS 1.2 cipher list (`None`: OpenSSL's default).
    pub ciphers: Option<&'a str>,
    /// Signature algorithms (`None`: OpenSSL's default), e.g. `RSA-PSS+SHA256:RSA+SHA256`.
    pub sigalgs: Option<&'a str>,
}

/// Handshakes with `host`:`port` (SNI `sni` when given), verifying the chain against `root`
/// and the name `verify_name`; what was served, or the error text.
pub async fn served(
    host: &str,
    port: u16,
    sni: Option<&str>,
    verify_name: &str,
    root: &X509,
    client: Client<'_>,
) -> Result<Served, String> {
    let mut b = SslConnector::builder(SslMethod::tls()).unwrap();
    b.set_verify(SslVerifyMode::PEER);
    b.cert_store_mut().add_cert(root.clone()).unwrap();
    b.set_min_proto_version(Some(client.version)).unwrap();
    b.set_max_proto_version(Some(client.version)).unwrap();
    if let Some(c) = client.ciphers {
        b.set_cipher_list(c).unwrap();
    }
    if let Some(s) = client.sigalgs {
        b.set_sigalgs_list(s).unwrap();
    }
    let connector = b.build();
    let (host, sni, verify_name) = (
        host.to_string(),
        sni.map(str::to_string),
        verify_name.to_string(),
    );
    tokio::task::spawn_blocking(move || {
        let tcp = std::net::TcpStream::connect((host.as_str(), port)).map_err(|e| e.to_string())?;
        let mut cfg = connector.configure().map_err(|e| e.to_string())?;
        // SNI as given (any case, a trailing dot); verification against `verify_name`
        cfg.set_use_server_name_indication(false);
        if verify_name.parse::<std::net::IpAddr>().is_ok() {
            cfg.set_verify_hostname(false);
            cfg.param_mut()
                .set_ip(verify_name.parse().unwrap())
                .unwrap();
        }
        let mut ssl = cfg.into_ssl(&verify_name).map_err(|e| e.to_string())?;
        if let Some(sni) = &sni {
            ssl.set_hostname(sni).map_err(|e| e.to_string())?;
        }
        let s = ssl.connect(tcp).map_err(|e| format!("{e:?}"))?;
        let leaf = s.ssl().peer_certificate().ok_or("no certificate")?;
        let cn = leaf
            .subject_name()
            .entries_by_nid(Nid::COMMONNAME)
            .next()
            .and_then(|e| e.data().to_string().ok())
            .unwrap_or_default();
        let pk = leaf.public_key().map_err(|e| e.to_string())?;
        let key = match pk.id() {
            openssl::pkey::Id::RSA => "RSA",
            openssl::pkey::Id::EC => "EC",
            _ => "other",
        }
        .to_string();
        Ok(Served {
            cn,
            key,
            bits: pk.bits(),
        })
    })
    .await
    .expect("handshake task")
}
