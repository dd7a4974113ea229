//! Configuration: the Traefik v3 static and dynamic models, loading from TOML and YAML, validation.

pub mod acme;
pub mod address;
pub mod client_limits;
pub mod composite_services;
pub mod default_file;
pub mod dns_challenge;
pub mod duration;
pub mod dynamic;
pub mod error;
pub mod format;
pub mod internal;
pub mod key_file;
pub mod labels;
pub mod load;
pub mod locations;
pub mod middlewares;
pub mod observability;
pub mod origins;
pub mod overlay;
pub mod prune;
pub mod rfc2136;
pub mod source;
pub mod static_config;
pub mod static_keys;
pub mod tcp;
pub mod tree;
pub mod unsupported;
pub mod validate;
pub mod yaml;

pub use dynamic::DynamicConfig;
pub use error::{ConfigError, ConfigErrors};
pub use load::{
    from_tree, load_dynamic_dir, load_dynamic_file, load_dynamic_for, load_dynamic_str,
    load_static, load_static_str,
};
pub use source::StaticSource;
pub use static_config::StaticConfig;
pub use validate::middlewares::{BuiltMiddleware, BuiltMiddlewares};
pub use validate::{parse_rules, validate, validate_with_rules};
