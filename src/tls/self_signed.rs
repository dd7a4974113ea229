//! Generates the self-signed default certificate served when no configured certificate matches.

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::SubjectAlternativeName;
use openssl::x509::{X509Builder, X509NameBuilder, X509};

/// Traefik's default certificate is issued to `TRAEFIK DEFAULT CERT`; pylon names its own.
pub const DEFAULT_CERT_NAME: &str = "PYLON DEFAULT CERT";

/// A fresh P-256 key and a self-signed certificate for `common_name`, valid for one year.
pub fn generate(
    common_name: &str,
    dns_names: &[&str],
) -> Result<(X509, PKey<Private>), ErrorStack> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    let key = PKey::from_ec_key(EcKey::generate(&group)?)?;
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_nid(Nid::COMMONNAME, common_name)?;
    let name = name.build();
    let mut builder = X509Builder::new()?;
    builder.set_version(2)?;
    let mut serial = BigNum::new()?;
    serial.rand(127, MsbOption::MAYBE_ZERO, false)?;
    let serial = serial.to_asn1_integer()?;
    builder.set_serial_number(&serial)?;
    builder.set_subject_name(&name)?;
    builder.set_issuer_name(&name)?;
    builder.set_pubkey(&key)?;
    let not_before = Asn1Time::days_from_now(0)?;
    builder.set_not_before(&not_before)?;
    let not_after = Asn1Time::days_from_now(365)?;
    builder.set_not_after(&not_after)?;
    if !dns_names.is_empty() {
        let mut san = SubjectAlternativeName::new();
        for n in dns_names {
            san.dns(n);
        }
        let ext = san.build(&builder.x509v3_context(None, None))?;
        builder.append_extension(ext)?;
    }
    builder.sign(&key, MessageDigest::sha256())?;
    Ok((builder.build(), key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_a_certificate_matching_its_key() {
        let (cert, key) = generate(DEFAULT_CERT_NAME, &["a.test"]).unwrap();
        assert!(cert.verify(&key).unwrap());
        let cn = cert
            .subject_name()
            .entries_by_nid(Nid::COMMONNAME)
            .next()
            .unwrap();
        assert_eq!(cn.data().to_string().unwrap(), DEFAULT_CERT_NAME);
    }
}
