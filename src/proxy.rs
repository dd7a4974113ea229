//! The one `ProxyHttp` implementation and the helpers each of its phases uses.

pub mod checks;
pub mod connection;
pub mod ctx;
pub mod deadlines;
pub mod error_pages;
pub mod failover;
pub mod forwarded;
pub mod gateway;
pub mod grpc_status;
pub mod mirror;
pub mod misdirected;
pub mod observe;
pub mod outcome;
pub mod path;
pub mod respond;
pub mod selection;
#[cfg(test)]
mod test_request;
pub mod upgrade;
pub mod upgrade_policy;
pub mod upgrade_relay;

pub use ctx::RequestCtx;
pub use gateway::Gateway;
