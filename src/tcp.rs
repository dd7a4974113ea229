//! TCP routing (Traefik's `tcp` section): connections routed by their TLS server name, ALPN or
//! client address on the same entry points as HTTP, relayed to TCP services, TLS terminated by
//! pylon or passed through untouched.
//!
//! - `client_hello`: the server name and ALPN of a TLS ClientHello, read without consuming it;
//! - `routes`: the compiled routers of each entry point and how a connection picks one;
//! - `service`: TCP services (servers, weights, PROXY protocol to the backend);
//! - `relay`: the byte pump between client and backend (half-closes, idle timeout);
//! - `dispatch`: what the entry point does with a new connection when it has TCP routers.

pub mod client_hello;
pub mod dispatch;
pub mod relay;
pub mod routes;
pub mod service;

pub use routes::{TcpRoute, TcpTable};
