//! pylon: an HTTP edge gateway on Pingora with a Traefik v3 configuration model.

// No unsafe code, except the one FFI read of the ClientHello's server name
// (src/tls/client_hello.rs, allowed there and nowhere else).
#![deny(unsafe_code)]

pub mod access_log;
pub mod acme;
pub mod api;
pub mod app;
pub mod config;
pub mod drain;
pub mod lifecycle;
pub mod listener;
pub mod logging;
pub mod metrics;
pub mod provider;
pub mod proxy;
pub mod readiness;
pub mod reload;
pub mod router;
pub mod rule;
pub mod run_files;
pub mod runtime;
pub mod sd_notify;
pub mod server;
pub mod tcp;
pub mod tls;
pub mod upstream;
