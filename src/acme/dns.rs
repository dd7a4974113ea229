//! DNS-01 through RFC 2136: the `_acme-challenge.<name>` TXT records published in their zone,
//! checked for propagation, and deleted after validation.

pub mod exchange;
pub mod propagation;
pub mod update;
pub mod zone;

use crate::config::dns_challenge::DnsSettings;
use hickory_proto::rr::Name;

/// One TXT value pylon published.
pub struct Published {
    pub zone: Name,
    pub record: Name,
    pub value: String,
}

/// `_acme-challenge.<name>.` for a DNS identifier (a wildcard's base name: no `*.`).
pub fn record_name(identifier: &str) -> Result<Name, String> {
    let base = identifier.trim_start_matches("*.").trim_end_matches('.');
    Name::from_ascii(format!("_acme-challenge.{base}."))
        .map_err(|e| format!("`{identifier}` is not a DNS name: {e}"))
}

/// Publishes `value` for `identifier`; on success it is appended to `published`.
pub async fn publish(
    s: &DnsSettings,
    identifier: &str,
    value: &str,
    published: &mut Vec<Published>,
) -> Result<(), String> {
    let record = record_name(identifier)?;
    let zone = zone::find_zone(s.provider.nameserver, &record).await?;
    update::add_txt(&s.provider, &zone, &record, value).await?;
    log::info!("acme: DNS-01 TXT record `{record}` added in zone `{zone}`");
    published.push(Published {
        zone,
        record,
        value: value.to_string(),
    });
    Ok(())
}

/// Waits until every published value is visible (unless the checks are off).
pub async fn wait(s: &DnsSettings, published: &[Published]) -> Result<(), String> {
    let records: Vec<(Name, String)> = published
        .iter()
        .map(|p| (p.record.clone(), p.value.clone()))
        .collect();
    propagation::wait_visible(s, &records).await
}

/// Deletes every published value; failures are logged (the record is left for the operator).
pub async fn clean_up(s: &DnsSettings, published: Vec<Published>) {
    for p in published {
        match update::delete_txt(&s.provider, &p.zone, &p.record, &p.value).await {
            Ok(()) => log::info!("acme: DNS-01 TXT record `{}` deleted", p.record),
            Err(e) => log::warn!(
                "acme: cannot delete the DNS-01 TXT record `{}`: {e}; delete it by hand",
                p.record
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_share_their_base_names_record() {
        assert_eq!(
            record_name("*.example.test").unwrap().to_ascii(),
            "_acme-challenge.example.test."
        );
        assert_eq!(
            record_name("example.test").unwrap().to_ascii(),
            "_acme-challenge.example.test."
        );
    }
}
