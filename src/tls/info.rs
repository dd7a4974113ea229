//! What the metrics and the API show of a certificate: CN, serial, SANs and expiry.

use openssl::asn1::Asn1Time;
use openssl::nid::Nid;
use openssl::x509::X509Ref;

/// A certificate's identity and expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    pub cn: String,
    /// Hexadecimal, as Traefik's label.
    pub serial: String,
    /// DNS names, comma-separated.
    pub sans: String,
    /// Unix seconds.
    pub not_after: i64,
}

pub fn cert_info(cert: &X509Ref) -> CertInfo {
    let cn = cert
        .subject_name()
        .entries_by_nid(Nid::COMMONNAME)
        .next()
        .and_then(|e| e.data().to_string().ok())
        .unwrap_or_default();
    let serial = cert
        .serial_number()
        .to_bn()
        .and_then(|bn| bn.to_hex_str().map(|s| s.to_string()))
        .unwrap_or_default();
    let sans = cert
        .subject_alt_names()
        .map(|names| {
            names
                .iter()
                .filter_map(|n| n.dnsname().map(str::to_string))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let not_after = Asn1Time::from_unix(0)
        .and_then(|epoch| epoch.diff(cert.not_after()))
        .map_or(0, |d| i64::from(d.days) * 86_400 + i64::from(d.secs));
    CertInfo {
        cn,
        serial,
        sans,
        not_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_names_and_a_future_expiry() {
        let (cert, _) =
            super::super::self_signed::generate("a.test", &["a.test", "b.test"]).unwrap();
        let info = cert_info(&cert);
        assert_eq!(info.cn, "a.test");
        assert_eq!(info.sans, "a.test,b.test");
        assert!(!info.serial.is_empty());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        assert!(info.not_after > now, "{info:?}");
    }
}
