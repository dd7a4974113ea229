//! TLS termination: certificates from files, chosen per connection by SNI, with a generated default.

pub mod acceptor;
pub mod cert_store;
pub mod info;
pub mod self_signed;

pub use acceptor::TlsTerminator;
pub use cert_store::{CertPair, CertStore};
pub use info::{cert_info, CertInfo};
