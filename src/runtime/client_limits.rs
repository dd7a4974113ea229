//! How long and how much one client connection may take on an entry point (slow/greedy clients).

use std::time::Duration;

/// Default `respondingTimeouts.headerTimeout` (pylon extension).
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Default `respondingTimeouts.readTimeout` (Traefik v3).
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(60);
/// Default `respondingTimeouts.idleTimeout` (Traefik).
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(180);

/// The per-connection bounds of an entry point; `None`/`0` means unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientLimits {
    /// From the first byte of a request to the end of its head.
    pub header: Option<Duration>,
    /// From the first byte of a request to the end of its body.
    pub read: Option<Duration>,
    /// From the end of a request head to the end of its response.
    pub write: Option<Duration>,
    /// Between two requests of a keep-alive connection.
    pub idle: Option<Duration>,
    /// Requests per connection; the last one is answered with `Connection: close`.
    pub max_requests: Option<u32>,
    /// Connection age after which the next response closes it.
    pub max_age: Option<Duration>,
    /// Open connections of the entry point; more are closed at once.
    pub max_connections: Option<usize>,
    /// Bytes a request head may take while it is read (`maxHeaderBytes` plus
    /// [`HEAD_LINE_ALLOWANCE`]); past it the connection is answered 431 and closed, so a head
    /// never grows Pingora's buffer toward its own 1 MiB bound. `None`: Pingora's bound only.
    pub head_bytes: Option<usize>,
}

/// What a head may hold beyond `maxHeaderBytes` while it is read: the request line and line
/// ends (the 431 check after parsing counts the header block alone).
pub const HEAD_LINE_ALLOWANCE: usize = 8 * 1024;

impl Default for ClientLimits {
    fn default() -> Self {
        ClientLimits {
            header: Some(DEFAULT_HEADER_TIMEOUT),
            read: Some(DEFAULT_READ_TIMEOUT),
            write: None,
            idle: Some(DEFAULT_IDLE_TIMEOUT),
            max_requests: None,
            max_age: None,
            max_connections: None,
            head_bytes: None,
        }
    }
}

impl ClientLimits {
    /// The deadline for a request head: `header`, but never past `read`.
    pub fn head(&self) -> Option<Duration> {
        match (self.header, self.read) {
            (Some(h), Some(r)) => Some(h.min(r)),
            (h, r) => h.or(r),
        }
    }

    /// Pingora's keep-alive setting: whole seconds, rounded up (`Some(0)`: no idle limit).
    pub fn keepalive_secs(&self) -> u64 {
        self.idle.map_or(0, |d| {
            let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
            secs.max(1)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_deadline_is_the_shorter_one() {
        let mut l = ClientLimits::default();
        assert_eq!(l.head(), Some(Duration::from_secs(10)));
        l.read = Some(Duration::from_secs(2));
        assert_eq!(l.head(), Some(Duration::from_secs(2)));
        l.header = None;
        assert_eq!(l.head(), Some(Duration::from_secs(2)));
        l.read = None;
        assert_eq!(l.head(), None);
    }

    #[test]
    fn keepalive_rounds_up() {
        let mut l = ClientLimits {
            idle: Some(Duration::from_millis(1500)),
            ..ClientLimits::default()
        };
        assert_eq!(l.keepalive_secs(), 2);
        l.idle = None;
        assert_eq!(l.keepalive_secs(), 0);
    }
}
