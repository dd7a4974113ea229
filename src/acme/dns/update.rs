//! RFC 2136 DNS UPDATE of the challenge's TXT record, signed with the TSIG key: add one value to
//! the record set, delete that value again.

use super::exchange::exchange;
use crate::config::rfc2136::{Rfc2136, TsigAlgorithm};
use hickory_proto::dnssec::rdata::tsig::TsigAlgorithm as HickoryTsig;
use hickory_proto::dnssec::tsig::TSigner;
use hickory_proto::op::{update_message, Message, ResponseCode};
use hickory_proto::rr::rdata::TXT;
use hickory_proto::rr::{Name, RData, Record, RecordSet};

/// The clock skew the server may allow (lego's and BIND's usual 300 s).
const FUDGE: u16 = 300;

fn signer(s: &Rfc2136) -> Result<TSigner, String> {
    let algorithm = match s.algorithm {
        TsigAlgorithm::HmacSha256 => HickoryTsig::HmacSha256,
        TsigAlgorithm::HmacSha384 => HickoryTsig::HmacSha384,
        TsigAlgorithm::HmacSha512 => HickoryTsig::HmacSha512,
    };
    let name = Name::from_ascii(&s.key_name)
        .map_err(|e| format!("RFC2136_TSIG_KEY `{}`: {e}", s.key_name))?;
    TSigner::new(s.secret.clone(), algorithm, name, FUDGE)
        .map_err(|e| format!("cannot use the TSIG key: {e}"))
}

fn txt_set(record: &Name, value: &str, ttl: u32) -> RecordSet {
    RecordSet::from(Record::from_rdata(
        record.clone(),
        ttl,
        RData::TXT(TXT::new(vec![value.to_string()])),
    ))
}

/// Adds `value` to the TXT record set `record` in `zone`.
pub async fn add_txt(s: &Rfc2136, zone: &Name, record: &Name, value: &str) -> Result<(), String> {
    let message = update_message::append(txt_set(record, value, s.ttl), zone.clone(), false, false);
    send(s, message, "add", record).await
}

/// Deletes `value` from the TXT record set `record` in `zone`.
pub async fn delete_txt(
    s: &Rfc2136,
    zone: &Name,
    record: &Name,
    value: &str,
) -> Result<(), String> {
    let message =
        update_message::delete_by_rdata(txt_set(record, value, s.ttl), zone.clone(), false);
    send(s, message, "delete", record).await
}

async fn send(s: &Rfc2136, mut message: Message, what: &str, record: &Name) -> Result<(), String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as u32;
    let verifier = message
        .finalize(&signer(s)?, now)
        .map_err(|e| format!("cannot sign the DNS UPDATE: {e}"))?;
    let answer = exchange(s.nameserver, &message, verifier).await?;
    match answer.response_code() {
        ResponseCode::NoError => Ok(()),
        code => Err(format!(
            "{} refused to {what} the TXT record `{record}`: {code}{}",
            s.nameserver,
            match code {
                ResponseCode::NotAuth | ResponseCode::Refused => {
                    " (check RFC2136_TSIG_KEY/SECRET/ALGORITHM and the zone's `allow-update`)"
                }
                _ => "",
            }
        )),
    }
}
