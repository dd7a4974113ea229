//! Upstream pools: a service's servers, how one is picked, and how a Pingora peer is made for it.

pub mod balancer;
pub mod checker;
pub mod checks;
pub mod composite;
pub mod dns;
pub mod health;
pub mod pool;
pub mod probe;
pub mod server;
pub mod sticky;
pub mod strategy;
pub mod tls;
pub mod transport;

pub use balancer::{Balancer, Detours, Weighted};
pub use composite::{Failover, Mirror, Mirroring};
pub use health::Health;
pub use pool::{Pool, PoolOptions};
pub use server::{Address, Server, ServerUrlError};
pub use transport::Transport;
