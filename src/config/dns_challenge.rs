//! `dnsChallenge` turned into what DNS-01 needs: the provider's settings (from the environment),
//! the resolvers that check propagation, and the propagation switches (current and deprecated
//! spellings).

use super::acme::DnsChallenge;
use super::rfc2136::{self, Rfc2136};
use std::net::SocketAddr;
use std::time::Duration;

/// The DNS providers pylon implements.
pub const SUPPORTED_DNS_PROVIDERS: [&str; 1] = ["rfc2136"];

/// A resolver's DNS-01 settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsSettings {
    pub provider: Rfc2136,
    /// `dnsChallenge.resolvers`: recursive servers asked whether the record is visible.
    pub resolvers: Vec<SocketAddr>,
    /// Wait before the first check (`propagation.delayBeforeChecks`).
    pub delay_before_checks: Duration,
    /// Skip the checks (`propagation.disableChecks`).
    pub disable_checks: bool,
    /// Every resolver must see the record, not one (`propagation.requireAllRNS`).
    pub require_all_resolvers: bool,
    /// Skip asking the zone's authoritative server (`propagation.disableANSChecks`).
    pub disable_authoritative_checks: bool,
}

/// One problem: the key under `dnsChallenge` (empty for the key itself), message, hint.
pub type Problem = (String, String, String);

/// The settings, or every problem found (the provider's variables included).
pub fn settings(dns: &DnsChallenge) -> Result<DnsSettings, Vec<Problem>> {
    let mut problems: Vec<Problem> = Vec::new();
    if !SUPPORTED_DNS_PROVIDERS.contains(&dns.provider.as_str()) {
        problems.push((
            "provider".into(),
            format!("provider `{}` is not supported yet by pylon", dns.provider),
            format!("supported: {}", SUPPORTED_DNS_PROVIDERS.join(", ")),
        ));
        return Err(problems);
    }
    let provider = match rfc2136::from_env() {
        Ok(p) => Some(p),
        Err(env) => {
            problems.extend(env.into_iter().map(|p| {
                (
                    "provider".to_string(),
                    format!(
                        "provider `rfc2136`: environment variable `{}` {}",
                        p.variable, p.message
                    ),
                    p.hint,
                )
            }));
            None
        }
    };
    let mut resolvers = Vec::new();
    for (i, r) in dns.resolvers.iter().enumerate() {
        match rfc2136::parse_resolver(r) {
            Ok(a) => resolvers.push(a),
            Err(m) => problems.push((
                format!("resolvers[{i}]"),
                m,
                "write the resolver's IP and port, e.g. `1.1.1.1:53`".into(),
            )),
        }
    }
    let p = dns.propagation.clone().unwrap_or_default();
    let settings = DnsSettings {
        provider: match provider {
            Some(p) => p,
            None => return Err(problems),
        },
        resolvers,
        delay_before_checks: p
            .delay_before_checks
            .or(dns.delay_before_check)
            .map_or(Duration::ZERO, super::duration::Duration::get),
        disable_checks: p
            .disable_checks
            .or(dns.disable_propagation_check)
            .unwrap_or(false),
        require_all_resolvers: p.require_all_rns.unwrap_or(false),
        disable_authoritative_checks: p.disable_ans_checks.unwrap_or(false),
    };
    if problems.is_empty() {
        Ok(settings)
    } else {
        Err(problems)
    }
}
