//! The Traefik v3 rule language: lexing, parsing, validation and evaluation of router rules.
//!
//! ```
//! use pylon::rule;
//! let expr = rule::parse("Host(`example.com`) && PathPrefix(`/api`)").unwrap();
//! assert_eq!(expr.to_string(), "Host(`example.com`) && PathPrefix(`/api`)");
//! ```

pub mod ast;
pub mod error;
pub(crate) mod lexer;
pub mod matcher;
pub mod parsed;
pub mod parser;
#[cfg(test)]
mod tests;

pub use ast::{Expr, Matcher, MATCHER_NAMES, TCP_MATCHER_NAMES};
pub use error::RuleError;
pub use matcher::{ConnectionFacts, RequestFacts};
pub use parsed::ParsedRules;
pub use parser::{parse, parse_tcp};
