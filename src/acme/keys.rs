//! Certificate private keys of the configured `keyType` and the CSR that asks for the names.

use crate::config::acme::KeyType;
use openssl::ec::{EcGroup, EcKey};
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::stack::Stack;
use openssl::x509::extension::SubjectAlternativeName;
use openssl::x509::{X509NameBuilder, X509ReqBuilder};

/// A new private key of `kind`.
pub fn generate(kind: KeyType) -> Result<PKey<Private>, ErrorStack> {
    let ec = |nid| EcGroup::from_curve_name(nid).and_then(|g| EcKey::generate(&g));
    match kind {
        KeyType::Rsa2048 => PKey::from_rsa(Rsa::generate(2048)?),
        KeyType::Rsa4096 => PKey::from_rsa(Rsa::generate(4096)?),
        KeyType::Rsa8192 => PKey::from_rsa(Rsa::generate(8192)?),
        KeyType::Ec256 => PKey::from_ec_key(ec(Nid::X9_62_PRIME256V1)?),
        KeyType::Ec384 => PKey::from_ec_key(ec(Nid::SECP384R1)?),
    }
}

/// A DER CSR for `names` (the first is also the CN), signed by `key`.
pub fn csr(names: &[String], key: &PKey<Private>) -> Result<Vec<u8>, ErrorStack> {
    let mut req = X509ReqBuilder::new()?;
    req.set_pubkey(key)?;
    if let Some(first) = names.first().filter(|n| n.len() <= 64) {
        let mut subject = X509NameBuilder::new()?;
        subject.append_entry_by_nid(Nid::COMMONNAME, first)?;
        req.set_subject_name(&subject.build())?;
    }
    let mut san = SubjectAlternativeName::new();
    for name in names {
        san.dns(name);
    }
    let mut extensions = Stack::new()?;
    extensions.push(san.build(&req.x509v3_context(None))?)?;
    req.add_extensions(&extensions)?;
    req.sign(key, MessageDigest::sha256())?;
    req.build().to_der()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_type_makes_a_csr_with_its_names() {
        for kind in [KeyType::Ec256, KeyType::Ec384, KeyType::Rsa2048] {
            let key = generate(kind).unwrap();
            let names = vec!["a.test".to_string(), "b.test".to_string()];
            let der = csr(&names, &key).unwrap();
            let req = openssl::x509::X509Req::from_der(&der).unwrap();
            assert!(req.verify(&key).unwrap());
            let text = String::from_utf8_lossy(&der).to_string();
            assert!(text.contains("a.test") && text.contains("b.test"));
        }
        let rsa = generate(KeyType::Rsa4096).unwrap();
        assert_eq!(rsa.bits(), 4096);
        let ec = generate(KeyType::Ec384).unwrap();
        assert_eq!(ec.bits(), 384);
    }
}
