//! ACME certificate resolvers (Traefik's `certificatesResolvers`): orders, stores and renews certificates.

pub mod account;
pub mod challenges;
pub mod dns;
pub mod http_client;
pub mod keys;
pub mod live;
pub mod manager;
pub mod order;
pub mod storage;
pub mod tls_alpn;
pub mod wanted;

pub use manager::Manager;
