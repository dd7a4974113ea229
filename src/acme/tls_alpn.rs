//! The TLS-ALPN-01 validation certificate (RFC 8737): self-signed for the name, with the
//! critical acmeIdentifier extension holding the SHA-256 of the key authorization.

use crate::tls::CertPair;
use openssl::asn1::{Asn1Object, Asn1OctetString, Asn1Time};
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::PKey;
use openssl::x509::extension::SubjectAlternativeName;
use openssl::x509::{X509Builder, X509Extension, X509NameBuilder};

/// id-pe-acmeIdentifier.
const ACME_IDENTIFIER_OID: &str = "1.3.6.1.5.5.7.1.31";

/// The certificate answering TLS-ALPN-01 for `name`, given the SHA-256 of the key authorization.
pub fn validation_cert(name: &str, key_auth_digest: &[u8]) -> Result<CertPair, ErrorStack> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    let key = PKey::from_ec_key(EcKey::generate(&group)?)?;
    let mut subject = X509NameBuilder::new()?;
    subject.append_entry_by_nid(Nid::COMMONNAME, "pylon TLS-ALPN-01")?;
    let subject = subject.build();
    let mut b = X509Builder::new()?;
    b.set_version(2)?;
    let mut serial = BigNum::new()?;
    serial.rand(127, MsbOption::MAYBE_ZERO, false)?;
    let serial = serial.to_asn1_integer()?;
    b.set_serial_number(&serial)?;
    b.set_subject_name(&subject)?;
    b.set_issuer_name(&subject)?;
    b.set_pubkey(&key)?;
    let not_before = Asn1Time::days_from_now(0)?;
    b.set_not_before(&not_before)?;
    let not_after = Asn1Time::days_from_now(7)?;
    b.set_not_after(&not_after)?;
    let mut san = SubjectAlternativeName::new();
    san.dns(name);
    let san = san.build(&b.x509v3_context(None, None))?;
    b.append_extension(san)?;
    // extnValue: the DER of an OCTET STRING holding the 32-byte digest.
    let mut value = vec![0x04, key_auth_digest.len() as u8];
    value.extend_from_slice(key_auth_digest);
    let oid = Asn1Object::from_str(ACME_IDENTIFIER_OID)?;
    let value = Asn1OctetString::new_from_bytes(&value)?;
    let ext = X509Extension::new_from_der(&oid, true, &value)?;
    b.append_extension(ext)?;
    b.sign(&key, MessageDigest::sha256())?;
    Ok(CertPair::new(b.build(), Vec::new(), key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carries_the_name_and_the_digest() {
        let digest = [7u8; 32];
        let pair = validation_cert("a.test", &digest).unwrap();
        assert_eq!(pair.names, ["a.test"]);
        let der = pair.cert.to_der().unwrap();
        let mut wanted = vec![0x04, 32];
        wanted.extend_from_slice(&digest);
        assert!(der.windows(wanted.len()).any(|w| w == wanted.as_slice()));
    }
}
