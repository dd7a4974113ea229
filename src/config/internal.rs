//! Traefik's internal entry point `traefik` and the `@internal` services pylon answers itself.

use super::static_config::{EntryPointConfig, StaticConfig};

/// The entry point the insecure API, `/metrics` and `/ping` default to (Traefik's name).
pub const INTERNAL_ENTRYPOINT: &str = "traefik";

/// Where pylon opens `traefik` when `api.insecure` needs it and the file does not define it.
/// Traefik listens on `:8080` (every interface); pylon keeps the unauthenticated API on
/// loopback unless told otherwise with `[entryPoints.traefik] address = ":8080"`.
pub const INTERNAL_ENTRYPOINT_ADDRESS: &str = "127.0.0.1:8080";

/// A service pylon answers itself, named by a router's `service = "<name>@internal"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InternalService {
    /// `api@internal`: the JSON API (`/api/...`).
    Api,
    /// `dashboard@internal`: the web dashboard (`/dashboard/`).
    Dashboard,
    /// `prometheus@internal`: `/metrics`.
    Prometheus,
    /// `ping@internal`: `/ping`.
    Ping,
    /// `noop@internal`: answers nothing itself (418), leaving it to the middlewares.
    Noop,
}

impl InternalService {
    /// The internal service a router's `service` value names, if it names one.
    pub fn from_reference(service: &str) -> Option<InternalService> {
        Some(match service {
            "api@internal" => InternalService::Api,
            "dashboard@internal" => InternalService::Dashboard,
            "prometheus@internal" => InternalService::Prometheus,
            "ping@internal" => InternalService::Ping,
            "noop@internal" => InternalService::Noop,
            _ => return None,
        })
    }

    /// The service's name, as routers and the API write it.
    pub fn name(self) -> &'static str {
        match self {
            InternalService::Api => "api@internal",
            InternalService::Dashboard => "dashboard@internal",
            InternalService::Prometheus => "prometheus@internal",
            InternalService::Ping => "ping@internal",
            InternalService::Noop => "noop@internal",
        }
    }

    /// The internal service answering `path` on an entry point that serves the insecure API
    /// (`/api...` and `/dashboard...`, as Traefik's internal routers).
    pub fn for_api_path(path: &str, dashboard: bool) -> Option<InternalService> {
        let under = |prefix: &str| {
            path.strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        };
        if under("/api") {
            Some(InternalService::Api)
        } else if dashboard && under("/dashboard") {
            Some(InternalService::Dashboard)
        } else {
            None
        }
    }
}

impl StaticConfig {
    /// Whether the API is served on entry point `traefik` without a router (`api.insecure`).
    pub fn api_on_entrypoint(&self) -> bool {
        self.api.as_ref().is_some_and(|a| a.is_insecure())
    }

    /// Whether the dashboard is on (`[api] dashboard`, default true, as Traefik).
    pub fn dashboard_enabled(&self) -> bool {
        self.api.as_ref().is_some_and(|a| a.dashboard_enabled())
    }

    /// Adds entry point `traefik` when the insecure API needs it and the file does not define
    /// it (Traefik's effective configuration).
    pub fn add_internal_entrypoint(&mut self) {
        if self.api_on_entrypoint() && !self.entry_points.contains_key(INTERNAL_ENTRYPOINT) {
            self.entry_points.insert(
                INTERNAL_ENTRYPOINT.to_string(),
                EntryPointConfig {
                    address: INTERNAL_ENTRYPOINT_ADDRESS.to_string(),
                    ..EntryPointConfig::default()
                },
            );
        }
    }

    /// The entry points a router without `entryPoints` is bound to: all but `traefik`, as in
    /// Traefik (the internal entry point only serves what is routed there by name).
    pub fn is_default_entrypoint(&self, name: &str) -> bool {
        name != INTERNAL_ENTRYPOINT
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_static_str;

    fn effective(text: &str) -> StaticConfig {
        let mut c = load_static_str(text, "t.toml").expect("valid static config");
        c.add_internal_entrypoint();
        c
    }

    const WEB: &str = "[entryPoints.web]\naddress = \":80\"\n";

    #[test]
    fn the_insecure_api_adds_the_traefik_entry_point_on_loopback() {
        let c = effective(&format!("{WEB}[api]\ninsecure = true\n"));
        assert_eq!(c.entry_points["traefik"].address, "127.0.0.1:8080");
        assert!(c.api_on_entrypoint());
    }

    #[test]
    fn nothing_is_added_when_not_needed_or_already_defined() {
        let c = effective(&format!("{WEB}[api]\ndashboard = true\n"));
        assert!(!c.entry_points.contains_key("traefik"));
        let c = effective(&format!(
            "{WEB}[entryPoints.traefik]\naddress = \":9000\"\n[api]\ninsecure = true\n"
        ));
        assert_eq!(c.entry_points["traefik"].address, ":9000");
    }

    #[test]
    fn internal_services_are_named_like_traefik() {
        for s in [
            "api@internal",
            "dashboard@internal",
            "prometheus@internal",
            "ping@internal",
            "noop@internal",
        ] {
            assert_eq!(
                InternalService::from_reference(s).map(|i| i.name()),
                Some(s)
            );
        }
        assert_eq!(InternalService::from_reference("api"), None);
        assert_eq!(InternalService::from_reference("api@file"), None);
    }

    #[test]
    fn api_paths_match_whole_segments() {
        let api = Some(InternalService::Api);
        assert_eq!(InternalService::for_api_path("/api", true), api);
        assert_eq!(InternalService::for_api_path("/api/overview", true), api);
        assert_eq!(InternalService::for_api_path("/apix", true), None);
        assert_eq!(
            InternalService::for_api_path("/dashboard/", true),
            Some(InternalService::Dashboard)
        );
        assert_eq!(InternalService::for_api_path("/dashboard/", false), None);
    }
}
