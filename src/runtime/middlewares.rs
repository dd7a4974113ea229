//! The middlewares of a config in routes: built once per config (while validated, see
//! `config::validate::middlewares`) and shared by every router naming them, `errors` pages
//! joined to their service, chains expanded, and the per-route settings some middlewares are
//! (the retry policy).

mod chain;
pub mod error_pages;

use super::compile::CompileError;
use super::services::local_name;
use super::snapshot::RetryPolicy;
use crate::config::{BuiltMiddleware, BuiltMiddlewares};
use crate::upstream::Balancer;
use pylon_plugins::Plugin;
use std::collections::HashMap;
use std::sync::Arc;

/// A compiled middleware.
#[derive(Clone)]
pub enum Built {
    /// Runs in the request's chain.
    Plugin(Arc<dyn Plugin>),
    /// Changes how the proxy retries failed attempts.
    Retry(RetryPolicy),
    /// A `chain`: its members' names, expanded in place by `resolve`.
    Chain(Vec<String>),
    /// `errors`: custom error pages from a service.
    Errors(Arc<error_pages::ErrorPages>),
}

/// A router's middlewares, resolved: the chain in order, and the retry policy if any.
#[derive(Clone, Default)]
pub struct Resolved {
    pub chain: Vec<Arc<dyn Plugin>>,
    pub retry: Option<RetryPolicy>,
    /// `errors` middlewares, in chain order.
    pub error_pages: Vec<Arc<error_pages::ErrorPages>>,
}

/// The config's middlewares (built while they were validated) ready for routes: `errors`
/// middlewares get the balancer of their service, among the config's compiled `services`.
/// Each comes with its fingerprint (what it was built from).
pub fn attach_services(
    middlewares: BuiltMiddlewares,
    services: &HashMap<String, Balancer>,
) -> (HashMap<String, (u64, Built)>, Vec<CompileError>) {
    let mut out = HashMap::new();
    let mut errors = Vec::new();
    for (name, BuiltMiddleware { built, fingerprint }) in middlewares {
        let ready = match built {
            pylon_plugins::Built::Plugin(p) => Built::Plugin(p),
            pylon_plugins::Built::Retry(r) => Built::Retry(r),
            pylon_plugins::Built::Chain(members) => Built::Chain(members),
            pylon_plugins::Built::ErrorPages(pages) => {
                match error_pages::attach(&name, pages, services) {
                    Ok(pages) => Built::Errors(Arc::new(pages)),
                    Err(e) => {
                        errors.push(e);
                        continue;
                    }
                }
            }
        };
        out.insert(name, (fingerprint, ready));
    }
    (out, errors)
}

/// Resolves middleware names (in order) into a chain; unknown names are reported at `key`.
pub fn resolve(
    built: &HashMap<String, Built>,
    names: &[String],
    key: &str,
    into: &mut Resolved,
    errors: &mut Vec<CompileError>,
) {
    for mw in names {
        match built.get(local_name(mw)) {
            Some(Built::Plugin(p)) => into.chain.push(p.clone()),
            Some(Built::Retry(r)) => into.retry = Some(r.clone()),
            Some(Built::Errors(p)) => into.error_pages.push(p.clone()),
            Some(Built::Chain(members)) => chain::expand(built, mw, members, key, into, errors),
            None => errors.push(CompileError {
                key_path: key.to_string(),
                message: format!("middleware `{mw}` does not exist"),
            }),
        }
    }
}
