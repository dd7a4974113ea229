//! The `errors` middleware's pages (built with their settings in `pylon_plugins::errors`)
//! joined to the balancer of the service that answers them.

use crate::provider::namespace::display_name;
use crate::runtime::compile::CompileError;
use crate::runtime::services::local_name;
use crate::upstream::Balancer;
use std::collections::HashMap;

/// A compiled `errors` middleware: its pages, fetched from a pool.
pub type ErrorPages = pylon_plugins::errors::ErrorPages<Balancer>;

/// The pages of the middleware `name`, answered by the service they name.
pub fn attach(
    name: &str,
    pages: pylon_plugins::errors::ErrorPages<String>,
    services: &HashMap<String, Balancer>,
) -> Result<ErrorPages, CompileError> {
    let service = services
        .get(local_name(&pages.service))
        .cloned()
        .ok_or_else(|| CompileError {
            key_path: format!("http.middlewares.{name}.errors.service"),
            message: format!("service `{}` does not exist", pages.service),
        })?;
    Ok(pages.with_service(display_name(name), service))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pylon_plugins::BuildCx;

    fn pages(service: &str) -> pylon_plugins::errors::ErrorPages<String> {
        let cfg: pylon_plugins::errors::Config =
            toml::from_str(&format!("status = [\"500\"]\nservice = \"{service}\"\n")).unwrap();
        let cx = BuildCx {
            name: "oops",
            read_file: &crate::config::middlewares::read_key_file,
        };
        pylon_plugins::errors::build(&cfg, &cx).unwrap()
    }

    #[test]
    fn the_pages_get_their_service_or_name_the_key() {
        let services = HashMap::from([("pages".to_string(), Balancer::empty("pages@file"))]);
        assert!(attach("oops", pages("pages@file"), &services).is_ok());
        let Err(e) = attach("oops", pages("nope"), &services) else {
            panic!("attached to a missing service")
        };
        assert_eq!(e.key_path, "http.middlewares.oops.errors.service");
    }
}
