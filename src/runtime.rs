//! The running configuration: an immutable compiled Snapshot behind an atomic pointer.

pub mod client_limits;
pub mod compile;
pub mod entrypoint;
pub mod fingerprint;
pub mod middlewares;
pub mod services;
pub mod snapshot;

pub use entrypoint::{EntryPoint, Redirect, TrustedNets};
pub use snapshot::{RetryPolicy, Route, RouteTable, Snapshot, Store};
