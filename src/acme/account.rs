//! A resolver's ACME account: restored from acme.json when it holds one for the same CA, else
//! registered (with `email` and `eab`) and its key kept in acme.json.

use super::http_client::AcmeHttp;
use super::storage::{Registration, StoredAccount};
use crate::config::acme::AcmeResolver;
use base64::Engine;
use instant_acme::{Account, ExternalAccountKey, NewAccount};
use rustls::pki_types::PrivatePkcs8KeyDer;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The account for `acme`, and the record to store when it was just registered.
pub async fn load_or_register(
    acme: &AcmeResolver,
    http: AcmeHttp,
    stored: Option<&StoredAccount>,
) -> Result<(Account, Option<StoredAccount>), String> {
    let directory = acme.ca_server().to_string();
    if let Some(record) = stored.filter(|s| usable(s, &directory)) {
        let key = B64
            .decode(&record.private_key)
            .map_err(|e| format!("the stored account key is not base64: {e}"))?;
        let uri = record
            .registration
            .as_ref()
            .map(|r| r.uri.clone())
            .unwrap_or_default();
        let account = Account::builder_with_http(Box::new(http))
            .from_parts(uri, PrivatePkcs8KeyDer::from(key), directory)
            .await
            .map_err(|e| format!("cannot restore the account: {e}"))?;
        return Ok((account, None));
    }
    if let Some(old) = stored {
        log::warn!(
            "ACME: the stored account ({}) cannot be used by pylon (a {} key, or another CA); registering a new one",
            old.registration.as_ref().map(|r| r.uri.as_str()).unwrap_or("no registration"),
            if old.ca_server.is_empty() { "Traefik RSA" } else { "different CA's" }
        );
    }
    let contact: Vec<String> = acme
        .email
        .iter()
        .filter(|e| !e.is_empty())
        .map(|e| format!("mailto:{e}"))
        .collect();
    let contact_refs: Vec<&str> = contact.iter().map(String::as_str).collect();
    let eab = match &acme.eab {
        Some(e) => {
            let hmac = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(e.hmac_encoded.trim_end_matches('='))
                .map_err(|err| format!("eab.hmacEncoded: {err}"))?;
            Some(ExternalAccountKey::new(e.kid.clone(), &hmac))
        }
        None => None,
    };
    let (account, credentials) = Account::builder_with_http(Box::new(http))
        .create(
            &NewAccount {
                contact: &contact_refs,
                terms_of_service_agreed: true,
                only_return_existing: false,
            },
            directory.clone(),
            eab.as_ref(),
        )
        .await
        .map_err(|e| {
            format!(
                "cannot register an account: {}",
                super::order::OrderError::from(e)
            )
        })?;
    let key_der = credentials.private_key().secret_pkcs8_der().to_vec();
    let record = StoredAccount {
        email: acme.email.clone().unwrap_or_default(),
        registration: Some(Registration {
            body: serde_json::json!({ "status": "valid", "contact": contact }),
            uri: account.id().to_string(),
        }),
        private_key: B64.encode(key_der),
        key_type: acme.key_type().lego_name().to_string(),
        ca_server: directory,
    };
    Ok((account, Some(record)))
}

/// Whether pylon can sign with the stored key for this directory (Traefik's are RSA PKCS#1).
fn usable(record: &StoredAccount, directory: &str) -> bool {
    let Ok(der) = B64.decode(&record.private_key) else {
        return false;
    };
    let ec = openssl::pkey::PKey::private_key_from_pkcs8(&der)
        .is_ok_and(|k| k.id() == openssl::pkey::Id::EC);
    ec && record.ca_server == directory
        && record
            .registration
            .as_ref()
            .is_some_and(|r| !r.uri.is_empty())
}
