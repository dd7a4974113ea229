//! Checks `ipAllowList`: ranges parse, the reject status is a status, the ipStrategy is sound.

use super::Collector;
use crate::config::address::parse_net;
use crate::config::middlewares::ip_allow_list::IpAllowListConfig;

pub(super) fn validate(base: &str, cfg: Option<&IpAllowListConfig>, c: &mut Collector<'_>) {
    let Some(cfg) = cfg else { return };
    let key = format!("{base}.ipAllowList");
    if cfg.source_range.is_empty() {
        c.push(
            format!("{key}.sourceRange"),
            "is empty: every request would be refused",
            Some("list the allowed IPs or CIDR ranges, e.g. [\"10.0.0.0/8\"]".into()),
        );
    }
    for (i, range) in cfg.source_range.iter().enumerate() {
        if let Err(e) = parse_net(range) {
            c.push(format!("{key}.sourceRange[{i}]"), e, None);
        }
    }
    if let Some(code) = cfg.reject_status_code.filter(|c| *c != 0) {
        let known = u16::try_from(code)
            .ok()
            .and_then(|c| http::StatusCode::from_u16(c).ok())
            .is_some_and(|s| s.canonical_reason().is_some());
        if !known {
            c.push(
                format!("{key}.rejectStatusCode"),
                format!("{code} is not an HTTP status code"),
                Some("e.g. rejectStatusCode = 404 (default 403)".into()),
            );
        }
    }
    let Some(s) = &cfg.ip_strategy else { return };
    if let Some(d) = s.depth.filter(|d| *d < 0) {
        c.push(
            format!("{key}.ipStrategy.depth"),
            format!("depth {d} is negative"),
            Some("1 is the rightmost X-Forwarded-For entry".into()),
        );
    }
    for (i, ip) in s.excluded_ips.iter().enumerate() {
        if let Err(e) = parse_net(ip) {
            c.push(format!("{key}.ipStrategy.excludedIPs[{i}]"), e, None);
        }
    }
    if let Some(bits) = s.ipv6_subnet.filter(|b| !(0..=128).contains(b)) {
        c.push(
            format!("{key}.ipStrategy.ipv6Subnet"),
            format!("{bits} is not a prefix length between 0 and 128"),
            None,
        );
    }
}
