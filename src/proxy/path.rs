//! Request-path normalization and checks, shared with the middlewares that rewrite paths
//! (their home is `pylon_plugins::request_path`).

pub use pylon_plugins::request_path::{normalize, normalize_with, routing_path, BadPath};
