//! passTLSClientCert's settings: Traefik's keys `pem` and `info` (`notAfter`, `notBefore`,
//! `sans`, `serialNumber`, `subject.*`, `issuer.*`). Every value is a switch: nothing to
//! refuse beyond unknown keys.

use serde::{Deserialize, Serialize};

/// Traefik's `passTLSClientCert`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    /// Send the certificates in `X-Forwarded-Tls-Client-Cert`.
    pub pem: Option<bool>,
    /// Send these details in `X-Forwarded-Tls-Client-Cert-Info`.
    pub info: Option<Info>,
}

/// `info`: which details of each certificate are sent.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Info {
    pub not_after: Option<bool>,
    pub not_before: Option<bool>,
    pub sans: Option<bool>,
    pub serial_number: Option<bool>,
    pub subject: Option<DnFields>,
    pub issuer: Option<IssuerFields>,
}

/// `info.subject`: the parts of the subject's distinguished name sent.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DnFields {
    pub country: Option<bool>,
    pub province: Option<bool>,
    pub locality: Option<bool>,
    pub organization: Option<bool>,
    pub organizational_unit: Option<bool>,
    pub common_name: Option<bool>,
    pub serial_number: Option<bool>,
    pub domain_component: Option<bool>,
}

/// `info.issuer`: the subject's parts less `organizationalUnit` (Traefik has none there).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IssuerFields {
    pub country: Option<bool>,
    pub province: Option<bool>,
    pub locality: Option<bool>,
    pub organization: Option<bool>,
    pub common_name: Option<bool>,
    pub serial_number: Option<bool>,
    pub domain_component: Option<bool>,
}

impl From<&IssuerFields> for DnFields {
    fn from(i: &IssuerFields) -> Self {
        DnFields {
            country: i.country,
            province: i.province,
            locality: i.locality,
            organization: i.organization,
            organizational_unit: None,
            common_name: i.common_name,
            serial_number: i.serial_number,
            domain_component: i.domain_component,
        }
    }
}
