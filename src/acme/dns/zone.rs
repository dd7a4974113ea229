//! The zone a name belongs to, found as lego finds it: an SOA query for the name, then for each
//! parent, until a server answers with the SOA of that very name.

use super::exchange::{exchange, query};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RecordType};
use std::net::SocketAddr;

/// The zone of `name` according to `server` (the name itself or a parent, never the root).
pub async fn find_zone(server: SocketAddr, name: &Name) -> Result<Name, String> {
    let mut candidate = name.clone();
    while !candidate.is_root() {
        let answer = exchange(server, &query(&candidate, RecordType::SOA, false), None).await?;
        if answer.response_code() == ResponseCode::NoError
            && answer
                .answers()
                .iter()
                .any(|r| r.record_type() == RecordType::SOA && r.name() == &candidate)
        {
            return Ok(candidate);
        }
        match answer.response_code() {
            ResponseCode::NoError | ResponseCode::NXDomain => {}
            other => {
                return Err(format!(
                    "{server} answered {other} to the SOA query for `{candidate}`"
                ))
            }
        }
        candidate = candidate.base_name();
    }
    Err(format!(
        "{server} is authoritative for no zone above `{name}`"
    ))
}
