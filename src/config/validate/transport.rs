//! Checks `entryPoints.<n>.transport`: counts are not negative, the head deadline fits inside
//! the whole-request one.

use super::Collector;
use crate::config::static_config::EntryPointTransport;

pub(super) fn validate(base: &str, cfg: Option<&EntryPointTransport>, c: &mut Collector<'_>) {
    let Some(cfg) = cfg else { return };
    let counts = [
        (
            "keepAliveMaxRequests",
            cfg.keep_alive_max_requests,
            u32::MAX as i64,
            1000,
        ),
        ("maxConnections", cfg.max_connections, i64::MAX, 10000),
    ];
    for (key, value, max, example) in counts {
        if let Some(v) = value.filter(|v| !(0..=max).contains(v)) {
            let problem = match v < 0 {
                true => format!("{v} is negative"),
                false => format!("{v} is more than the largest accepted, {max}"),
            };
            c.push(
                format!("{base}.transport.{key}"),
                problem,
                Some(format!("write e.g. {key} = {example} (0 means no limit)")),
            );
        }
    }
    let Some(rt) = cfg.responding_timeouts.as_ref() else {
        return;
    };
    if let (Some(header), Some(read)) = (rt.header_timeout, rt.read_timeout) {
        let (header, read) = (header.get(), read.get());
        if !read.is_zero() && header > read {
            c.push(
                format!("{base}.transport.respondingTimeouts.headerTimeout"),
                format!(
                    "{header:?} is longer than readTimeout ({read:?}), which also bounds the head"
                ),
                Some("lower headerTimeout to at most readTimeout, or raise readTimeout".into()),
            );
        }
    }
}
