//! Upstream pools: a service's servers, how one is picked, and how a Pingora peer is made for it.

pub mod pool;
pub mod server;
pub mod transport;

pub use pool::Pool;
pub use server::{Server, ServerUrlError};
pub use transport::Transport;
