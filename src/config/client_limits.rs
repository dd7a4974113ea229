//! `[entryPoints.<n>.transport]` → the runtime `ClientLimits` (zero durations/counts: unbounded).

use super::duration::Duration;
use super::static_config::EntryPointTransport;
use crate::runtime::client_limits::ClientLimits;

/// `Some(d)` for a configured non-zero duration, `None` for `0`, `default` when unset.
fn bound(
    value: Option<Duration>,
    default: Option<std::time::Duration>,
) -> Option<std::time::Duration> {
    match value {
        Some(d) if d.get().is_zero() => None,
        Some(d) => Some(d.get()),
        None => default,
    }
}

impl EntryPointTransport {
    /// The slow/greedy client bounds this transport configures.
    pub fn client_limits(&self) -> ClientLimits {
        let base = ClientLimits::default();
        let rt = self.responding_timeouts.clone().unwrap_or_default();
        ClientLimits {
            header: bound(rt.header_timeout, base.header),
            read: bound(rt.read_timeout, base.read),
            write: bound(rt.write_timeout, base.write),
            idle: bound(rt.idle_timeout, base.idle),
            max_requests: self
                .keep_alive_max_requests
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| *n > 0),
            max_age: bound(self.keep_alive_max_time, None),
            max_connections: self
                .max_connections
                .and_then(|n| usize::try_from(n).ok())
                .filter(|n| *n > 0),
            head_bytes: base.head_bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::static_config::RespondingTimeouts;

    #[test]
    fn zero_means_unbounded_and_unset_means_default() {
        let t = EntryPointTransport {
            responding_timeouts: Some(RespondingTimeouts {
                read_timeout: Some(Duration::from_secs(0)),
                header_timeout: Some(Duration::from_secs(3)),
                ..RespondingTimeouts::default()
            }),
            keep_alive_max_requests: Some(0),
            max_connections: Some(5),
            ..EntryPointTransport::default()
        };
        let l = t.client_limits();
        assert_eq!(l.read, None);
        assert_eq!(l.header, Some(std::time::Duration::from_secs(3)));
        assert_eq!(l.idle, ClientLimits::default().idle);
        assert_eq!(l.max_requests, None);
        assert_eq!(l.max_connections, Some(5));
    }
}
