//! One lookup of a host name with hickory-resolver: its addresses and how long they hold.

use super::name::{Answer, Outcome};
use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::xfer::Protocol;
use hickory_resolver::proto::ProtoErrorKind;
use hickory_resolver::{ResolveError, ResolveErrorKind, TokioResolver};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Shortest time an answer is kept (a TTL of 0 would look the name up on every wake-up).
pub const MIN_TTL: Duration = Duration::from_secs(1);
/// Longest time an answer is kept, whatever its TTL: a moved name is followed within a minute.
pub const MAX_TTL: Duration = Duration::from_secs(60);
/// How long a failure without a negative TTL (refused, timed out...) is kept.
pub const FAILURE_TTL: Duration = Duration::from_secs(5);
/// One query's time limit (two attempts per server).
const QUERY_TIMEOUT: Duration = Duration::from_secs(2);

/// A TTL clamped to [`MIN_TTL`, `MAX_TTL`].
pub fn clamp_ttl(ttl: Duration) -> Duration {
    ttl.clamp(MIN_TTL, MAX_TTL)
}

/// A resolver asking `servers` (UDP, then TCP for long answers), or the system's
/// (`/etc/resolv.conf`) when the list is empty. It caches nothing: each lookup asks.
pub fn client(servers: &[SocketAddr]) -> Result<TokioResolver, String> {
    let mut builder = if servers.is_empty() {
        TokioResolver::builder_tokio()
            .map_err(|e| format!("cannot read the system's DNS configuration: {e}"))?
    } else {
        let mut config = ResolverConfig::new();
        for &addr in servers {
            for protocol in [Protocol::Udp, Protocol::Tcp] {
                let mut server = NameServerConfig::new(addr, protocol);
                server.trust_negative_responses = true;
                config.add_name_server(server);
            }
        }
        TokioResolver::builder_with_config(config, TokioConnectionProvider::default())
    };
    let options: &mut ResolverOpts = builder.options_mut();
    options.timeout = QUERY_TIMEOUT;
    options.attempts = 2;
    // Answers are kept by pylon's names, for their clamped TTL; a cache here would outlive it.
    options.cache_size = 0;
    Ok(builder.build())
}

/// Looks `host` up once; the answer is due again after its TTL, clamped.
pub async fn once(client: &TokioResolver, host: &str) -> Answer {
    let started = Instant::now();
    let (outcome, ttl) = match client.lookup_ip(host).await {
        Ok(lookup) => {
            let mut ips: Vec<IpAddr> = lookup.iter().collect();
            ips.sort_unstable();
            ips.dedup();
            let ttl = lookup.valid_until().saturating_duration_since(started);
            if ips.is_empty() {
                (Outcome::Failed("no address records".into()), FAILURE_TTL)
            } else {
                (Outcome::Resolved(Arc::from(ips)), ttl)
            }
        }
        Err(e) => failure(&e),
    };
    Answer {
        outcome,
        refresh_at: Instant::now() + clamp_ttl(ttl),
    }
}

/// A failed lookup: a short reason, and the negative TTL when the server gave one.
fn failure(e: &ResolveError) -> (Outcome, Duration) {
    if let ResolveErrorKind::Proto(proto) = e.kind() {
        if let ProtoErrorKind::NoRecordsFound {
            response_code,
            negative_ttl,
            ..
        } = proto.kind()
        {
            let ttl = negative_ttl.map_or(FAILURE_TTL, |s| Duration::from_secs(u64::from(s)));
            let reason = match *response_code {
                ResponseCode::NXDomain => "NXDOMAIN (no such name)".to_string(),
                ResponseCode::NoError => "no address records".to_string(),
                other => format!("{other}"),
            };
            return (Outcome::Failed(reason), ttl);
        }
    }
    (Outcome::Failed(e.to_string()), FAILURE_TTL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_are_clamped_to_one_second_and_one_minute() {
        assert_eq!(clamp_ttl(Duration::ZERO), MIN_TTL);
        assert_eq!(clamp_ttl(Duration::from_secs(30)), Duration::from_secs(30));
        assert_eq!(clamp_ttl(Duration::from_secs(86_400)), MAX_TTL);
    }
}
