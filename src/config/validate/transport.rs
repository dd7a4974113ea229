//! Checks `entryPoints.<n>.transport`: the head deadline fits inside the whole-request one.

use super::Collector;
use crate::config::static_config::EntryPointTransport;

pub(super) fn validate(base: &str, cfg: Option<&EntryPointTransport>, c: &mut Collector<'_>) {
    let Some(rt) = cfg.and_then(|t| t.responding_timeouts.as_ref()) else {
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
