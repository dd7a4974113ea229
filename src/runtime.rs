//! The running configuration: an immutable compiled Snapshot behind an atomic pointer.

pub mod client_limits;
pub mod compile;
pub mod entrypoint;
pub mod fingerprint;
pub mod middlewares;
pub mod services;
pub mod snapshot;
pub mod tls_policies;

pub use entrypoint::{EntryPoint, Listening, Redirect, TrustedNets};
pub use snapshot::{LeftOut, RetryPolicy, Route, RouteTable, Snapshot, Store};
