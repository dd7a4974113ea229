//! The header values, as Traefik writes them: the PEM bodies (no `-----BEGIN…` lines, no line
//! breaks) joined by `,`; and per certificate `Subject="C=…,CN=…";Issuer="…";SerialNumber="…";
//! NB="<unix>";NA="<unix>";SAN="…"` joined by `,`, the whole URL-query-escaped.

use openssl::asn1::{Asn1Time, Asn1TimeRef};
use openssl::nid::Nid;
use openssl::x509::{X509NameRef, X509};

/// Which parts of a distinguished name are written (Traefik's order: DC, C, ST, L, O, OU,
/// SN, CN).
#[derive(Debug, Clone, Copy, Default)]
pub struct DnParts {
    pub domain_component: bool,
    pub country: bool,
    pub province: bool,
    pub locality: bool,
    pub organization: bool,
    pub organizational_unit: bool,
    pub serial_number: bool,
    pub common_name: bool,
}

/// Which details of each certificate are written.
#[derive(Debug, Clone, Copy, Default)]
pub struct InfoParts {
    pub subject: Option<DnParts>,
    pub issuer: Option<DnParts>,
    pub serial_number: bool,
    pub not_before: bool,
    pub not_after: bool,
    pub sans: bool,
}

/// `X-Forwarded-Tls-Client-Cert`: each certificate's PEM body, joined by `,`.
pub fn pem_value(certs: &[X509]) -> String {
    certs
        .iter()
        .map(|c| {
            let pem = c.to_pem().unwrap_or_default();
            String::from_utf8_lossy(&pem)
                .replace("-----BEGIN CERTIFICATE-----", "")
                .replace("-----END CERTIFICATE-----", "")
                .replace('\n', "")
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// `X-Forwarded-Tls-Client-Cert-Info`, escaped.
pub fn info_value(certs: &[X509], parts: &InfoParts) -> String {
    let all: Vec<String> = certs.iter().map(|c| one_cert(c, parts)).collect();
    query_escape(&all.join(","))
}

fn one_cert(cert: &X509, parts: &InfoParts) -> String {
    let mut values = Vec::new();
    if let Some(dn) = parts.subject {
        let s = dn_text(cert.subject_name(), &dn);
        if !s.is_empty() {
            values.push(format!("Subject=\"{s}\""));
        }
    }
    if let Some(dn) = parts.issuer {
        let s = dn_text(cert.issuer_name(), &dn);
        if !s.is_empty() {
            values.push(format!("Issuer=\"{s}\""));
        }
    }
    if parts.serial_number {
        if let Ok(sn) = cert.serial_number().to_bn().and_then(|b| b.to_dec_str()) {
            values.push(format!("SerialNumber=\"{}\"", &*sn));
        }
    }
    if parts.not_before {
        values.push(format!("NB=\"{}\"", unix(cert.not_before())));
    }
    if parts.not_after {
        values.push(format!("NA=\"{}\"", unix(cert.not_after())));
    }
    if parts.sans {
        let sans = sans(cert);
        if !sans.is_empty() {
            values.push(format!("SAN=\"{}\"", sans.join(",")));
        }
    }
    values.join(";")
}

/// The values of `nid` in the name, in order.
fn values(name: &X509NameRef, nid: Nid) -> Vec<String> {
    name.entries_by_nid(nid)
        .filter_map(|e| e.data().to_string().ok())
        .filter(|s| !s.is_empty())
        .collect()
}

/// `DC=…,C=…,ST=…,L=…,O=…,OU=…,SN=…,CN=…` for the chosen parts; a single-valued part (SN, CN)
/// takes the last value, as Go's `pkix.Name` does.
fn dn_text(name: &X509NameRef, dn: &DnParts) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut many = |on: bool, nid: Nid, key: &str| {
        if on {
            out.extend(values(name, nid).into_iter().map(|v| format!("{key}={v}")));
        }
    };
    many(dn.domain_component, Nid::DOMAINCOMPONENT, "DC");
    many(dn.country, Nid::COUNTRYNAME, "C");
    many(dn.province, Nid::STATEORPROVINCENAME, "ST");
    many(dn.locality, Nid::LOCALITYNAME, "L");
    many(dn.organization, Nid::ORGANIZATIONNAME, "O");
    many(dn.organizational_unit, Nid::ORGANIZATIONALUNITNAME, "OU");
    for (on, nid, key) in [
        (dn.serial_number, Nid::SERIALNUMBER, "SN"),
        (dn.common_name, Nid::COMMONNAME, "CN"),
    ] {
        if let Some(last) = values(name, nid).pop().filter(|_| on) {
            out.push(format!("{key}={last}"));
        }
    }
    out.join(",")
}

/// Seconds since the Unix epoch.
fn unix(t: &Asn1TimeRef) -> i64 {
    Asn1Time::from_unix(0)
        .and_then(|epoch| epoch.diff(t))
        .map_or(0, |d| i64::from(d.days) * 86_400 + i64::from(d.secs))
}

/// DNS names, then e-mail addresses, then IP addresses, then URIs (Go's grouping).
fn sans(cert: &X509) -> Vec<String> {
    let Some(names) = cert.subject_alt_names() else {
        return Vec::new();
    };
    let mut dns = Vec::new();
    let mut email = Vec::new();
    let mut ip = Vec::new();
    let mut uri = Vec::new();
    for n in &names {
        if let Some(d) = n.dnsname() {
            dns.push(d.to_string());
        } else if let Some(e) = n.email() {
            email.push(e.to_string());
        } else if let Some(a) = n.ipaddress() {
            let addr = match a.len() {
                4 => <[u8; 4]>::try_from(a)
                    .ok()
                    .map(|b| std::net::IpAddr::from(b).to_string()),
                16 => <[u8; 16]>::try_from(a)
                    .ok()
                    .map(|b| std::net::IpAddr::from(b).to_string()),
                _ => None,
            };
            ip.extend(addr);
        } else if let Some(u) = n.uri() {
            uri.push(u.to_string());
        }
    }
    [dns, email, ip, uri].concat()
}

/// Go's `url.QueryEscape`: unreserved bytes kept, space as `+`, the rest `%XX`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::asn1::Asn1Integer;
    use openssl::bn::BigNum;
    use openssl::hash::MessageDigest;
    use openssl::pkey::PKey;
    use openssl::x509::extension::SubjectAlternativeName;
    use openssl::x509::X509Name;

    /// A self-signed certificate with a rich subject, serial 4242, valid 1000000000..2000000000.
    pub(crate) fn cert() -> X509 {
        let key = PKey::generate_ed25519().unwrap();
        let mut name = X509Name::builder().unwrap();
        for (nid, v) in [
            (Nid::DOMAINCOMPONENT, "org"),
            (Nid::DOMAINCOMPONENT, "cheese"),
            (Nid::COUNTRYNAME, "FR"),
            (Nid::COUNTRYNAME, "US"),
            (Nid::STATEORPROVINCENAME, "Some State"),
            (Nid::LOCALITYNAME, "TOULOUSE"),
            (Nid::ORGANIZATIONNAME, "Cheese"),
            (Nid::ORGANIZATIONALUNITNAME, "Simple Section"),
            (Nid::COMMONNAME, "client.cheese.org"),
        ] {
            name.append_entry_by_nid(nid, v).unwrap();
        }
        let name = name.build();
        let mut b = X509::builder().unwrap();
        b.set_version(2).unwrap();
        let serial: Asn1Integer = BigNum::from_u32(4242).unwrap().to_asn1_integer().unwrap();
        b.set_serial_number(&serial).unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_issuer_name(&name).unwrap();
        b.set_pubkey(&key).unwrap();
        b.set_not_before(&Asn1Time::from_unix(1_000_000_000).unwrap())
            .unwrap();
        b.set_not_after(&Asn1Time::from_unix(2_000_000_000).unwrap())
            .unwrap();
        let san = SubjectAlternativeName::new()
            .dns("*.cheese.org")
            .email("test@cheese.org")
            .ip("10.0.1.0")
            .uri("spiffe://cheese.org/client")
            .build(&b.x509v3_context(None, None))
            .unwrap();
        b.append_extension(san).unwrap();
        b.sign(&key, MessageDigest::null()).unwrap();
        b.build()
    }

    #[test]
    fn pem_is_the_bodies_without_delimiters_or_line_breaks() {
        let c = cert();
        let v = pem_value(&[c.clone(), c.clone()]);
        let (a, b) = v.split_once(',').unwrap();
        assert_eq!(a, b);
        assert!(!v.contains("BEGIN") && !v.contains('\n'), "{v}");
        let der = openssl::base64::decode_block(a).unwrap();
        assert_eq!(der, c.to_der().unwrap());
    }

    #[test]
    fn info_is_traefiks_concatenation_escaped() {
        let all = DnParts {
            domain_component: true,
            country: true,
            province: true,
            locality: true,
            organization: true,
            organizational_unit: true,
            serial_number: true,
            common_name: true,
        };
        let parts = InfoParts {
            subject: Some(all),
            issuer: Some(DnParts {
                organizational_unit: false,
                ..all
            }),
            serial_number: true,
            not_before: true,
            not_after: true,
            sans: true,
        };
        let c = cert();
        let plain = one_cert(&c, &parts);
        assert_eq!(
            plain,
            "Subject=\"DC=org,DC=cheese,C=FR,C=US,ST=Some State,L=TOULOUSE,O=Cheese,OU=Simple Section,CN=client.cheese.org\";\
             Issuer=\"DC=org,DC=cheese,C=FR,C=US,ST=Some State,L=TOULOUSE,O=Cheese,CN=client.cheese.org\";\
             SerialNumber=\"4242\";NB=\"1000000000\";NA=\"2000000000\";\
             SAN=\"*.cheese.org,test@cheese.org,10.0.1.0,spiffe://cheese.org/client\""
        );
        assert_eq!(info_value(&[c], &parts), query_escape(&plain));
        assert_eq!(query_escape("a b=\"c\",d;e"), "a+b%3D%22c%22%2Cd%3Be");
        let only_cn = InfoParts {
            subject: Some(DnParts {
                common_name: true,
                ..DnParts::default()
            }),
            ..InfoParts::default()
        };
        assert_eq!(
            one_cert(&cert(), &only_cn),
            "Subject=\"CN=client.cheese.org\""
        );
    }
}
