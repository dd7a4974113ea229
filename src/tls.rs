//! TLS termination: certificates from files, chosen per connection by SNI, with a generated default.

pub mod acceptor;
pub mod cert_store;
pub mod client_auth;
#[allow(unsafe_code)]
pub mod client_hello;
pub mod info;
pub mod policy;
pub mod self_signed;
pub mod server_name;
#[allow(unsafe_code)]
pub mod ssl_settings;

pub use acceptor::TlsTerminator;
pub use cert_store::{CertPair, CertStore};
pub use info::{cert_info, CertInfo};
