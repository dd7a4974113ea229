//! Waiting until the challenge's TXT value is visible: at the zone's authoritative server and at
//! the configured resolvers, polled until the propagation timeout.

use super::exchange::{exchange, query};
use crate::config::dns_challenge::DnsSettings;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RData, RecordType};
use std::net::SocketAddr;

/// Whether `server` answers `record` with a TXT holding `value`.
pub async fn has_txt(server: SocketAddr, record: &Name, value: &str, recursion: bool) -> bool {
    let Ok(answer) = exchange(server, &query(record, RecordType::TXT, recursion), None).await
    else {
        return false;
    };
    answer.response_code() == ResponseCode::NoError
        && answer.answers().iter().any(|r| match r.data() {
            RData::TXT(txt) => txt.txt_data().concat() == value.as_bytes(),
            _ => false,
        })
}

/// Waits until every TXT `(record, value)` is visible, or says which one is not.
pub async fn wait_visible(s: &DnsSettings, records: &[(Name, String)]) -> Result<(), String> {
    if s.disable_checks {
        tokio::time::sleep(s.delay_before_checks).await;
        return Ok(());
    }
    tokio::time::sleep(s.delay_before_checks).await;
    let deadline = tokio::time::Instant::now() + s.provider.propagation_timeout;
    for (record, value) in records {
        loop {
            if visible(s, record, value).await {
                break;
            }
            if tokio::time::Instant::now() + s.provider.polling_interval > deadline {
                return Err(format!(
                    "the TXT record `{record}` was not visible within {} s (RFC2136_PROPAGATION_TIMEOUT)",
                    s.provider.propagation_timeout.as_secs()
                ));
            }
            tokio::time::sleep(s.provider.polling_interval).await;
        }
    }
    Ok(())
}

async fn visible(s: &DnsSettings, record: &Name, value: &str) -> bool {
    if !s.disable_authoritative_checks
        && !has_txt(s.provider.nameserver, record, value, false).await
    {
        return false;
    }
    if s.resolvers.is_empty() {
        return true;
    }
    let mut seen = 0;
    for r in &s.resolvers {
        if has_txt(*r, record, value, true).await {
            seen += 1;
            if !s.require_all_resolvers {
                return true;
            }
        }
    }
    seen == s.resolvers.len()
}
