//! Health-check settings of a pool, compiled from `healthCheck` and `passiveHealthCheck`.

use std::time::Duration;

/// How a server is asked whether it is healthy (`healthCheck.mode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum CheckMode {
    /// An HTTP request judged by its status (`http`, the default).
    #[default]
    Http,
    /// The gRPC health protocol: `grpc.health.v1.Health/Check` answers `SERVING` (`grpc`).
    Grpc,
}

impl CheckMode {
    /// The mode a `healthCheck.mode` value names (case-insensitive).
    pub fn parse(value: &str) -> Option<CheckMode> {
        match value.to_ascii_lowercase().as_str() {
            "http" => Some(CheckMode::Http),
            "grpc" => Some(CheckMode::Grpc),
            _ => None,
        }
    }
}

/// Active health checks (`loadBalancer.healthCheck`): probe each server on an interval.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ActiveCheck {
    pub mode: CheckMode,
    pub path: String,
    /// Overrides the server's scheme (`http`/`https`).
    pub scheme: Option<String>,
    /// Sent as the Host header (default: the server's host).
    pub hostname: Option<String>,
    /// Overrides the server's port.
    pub port: Option<u16>,
    pub method: String,
    /// Expected status; `None` means any 2xx or 3xx.
    pub status: Option<u16>,
    pub headers: Vec<(String, String)>,
    /// Between probes of a healthy server (default 30 s).
    pub interval: Duration,
    /// Between probes of an unhealthy server (default: `interval`).
    pub unhealthy_interval: Duration,
    /// Per probe (default 5 s).
    pub timeout: Duration,
    /// Follow 3xx answers (default true) instead of judging them.
    pub follow_redirects: bool,
}

impl Default for ActiveCheck {
    fn default() -> Self {
        ActiveCheck {
            mode: CheckMode::Http,
            path: "/".to_string(),
            scheme: None,
            hostname: None,
            port: None,
            method: "GET".to_string(),
            status: None,
            headers: Vec::new(),
            interval: Duration::from_secs(30),
            unhealthy_interval: Duration::from_secs(30),
            timeout: Duration::from_secs(5),
            follow_redirects: true,
        }
    }
}

impl ActiveCheck {
    /// Whether `status` counts as healthy.
    pub fn accepts(&self, status: u16) -> bool {
        match self.status {
            Some(want) => status == want,
            None => (200..400).contains(&status),
        }
    }
}

/// Passive health checks (`loadBalancer.passiveHealthCheck`): failures on live traffic.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PassiveCheck {
    /// Failures are counted within this window (default 10 s).
    pub failure_window: Duration,
    /// This many failures in the window take the server out (default 1).
    pub max_failed_attempts: u32,
    /// Also count 5xx responses (not only connection failures); default true.
    pub count_5xx: bool,
}

impl Default for PassiveCheck {
    fn default() -> Self {
        PassiveCheck {
            failure_window: Duration::from_secs(10),
            max_failed_attempts: 1,
            count_5xx: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_status_accepts_2xx_and_3xx() {
        let c = ActiveCheck::default();
        assert!(c.accepts(200) && c.accepts(204) && c.accepts(302));
        assert!(!c.accepts(404) && !c.accepts(500) && !c.accepts(101));
        let exact = ActiveCheck {
            status: Some(204),
            ..ActiveCheck::default()
        };
        assert!(exact.accepts(204) && !exact.accepts(200));
    }
}
