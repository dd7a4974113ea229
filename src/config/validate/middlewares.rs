//! Builds every middleware of the configuration: building is validating (each type's `build`
//! checks its settings while it makes what runs), so the compiled middlewares come out of
//! validation, each with the fingerprint of what it was built from.

use super::{exists, names, Collector};
use crate::config::dynamic::{DynamicConfig, MiddlewareConfig};
use crate::config::middlewares::read_key_file;
use pylon_plugins::{BuildCx, Built};
use std::cell::RefCell;
use std::collections::hash_map::DefaultHasher;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

/// A middleware built from the configuration.
pub struct BuiltMiddleware {
    pub built: Built,
    /// What it was built from: its settings and the contents of the files it read. Equal
    /// fingerprints across a reload mean the running instance (and its state) is kept.
    pub fingerprint: u64,
}

/// The middlewares of a configuration, by name.
pub type BuiltMiddlewares = BTreeMap<String, BuiltMiddleware>;

/// Builds every middleware of `dynamic`; problems go to `c`.
pub(super) fn build_all(dynamic: &DynamicConfig, c: &mut Collector<'_>) -> BuiltMiddlewares {
    let mut out = BuiltMiddlewares::new();
    for (name, mw) in &dynamic.http.middlewares {
        let reads = RefCell::new(Vec::new());
        let read_file = |path: &str| {
            let read = read_key_file(path);
            reads
                .borrow_mut()
                .push((path.to_string(), read.as_ref().ok().cloned()));
            read
        };
        let cx = BuildCx {
            name,
            read_file: &read_file,
        };
        let built = c.built(mw.build(&cx));
        if let MiddlewareConfig::Errors(e) = mw {
            check_error_pages_service(name, e.service.as_deref(), dynamic, c);
        }
        if let Some(built) = built {
            let fingerprint = fingerprint(mw, &reads.into_inner());
            out.insert(name.clone(), BuiltMiddleware { built, fingerprint });
        }
    }
    out
}

/// The service of an `errors` middleware exists (a reference into the whole configuration).
fn check_error_pages_service(
    name: &str,
    service: Option<&str>,
    dynamic: &DynamicConfig,
    c: &mut Collector<'_>,
) {
    let Some(s) = service.filter(|s| !s.is_empty()) else {
        return;
    };
    if !exists(&dynamic.http.services, s) {
        c.push(
            format!("http.middlewares.{name}.errors.service"),
            format!("service `{s}` does not exist"),
            Some(format!(
                "define [http.services.{s}] or use one of {}",
                names(dynamic.http.services.keys())
            )),
        );
    }
}

/// A hash of the middleware's settings (their debug form: maps are ordered, secrets hashed)
/// and of every file its build read, contents included (an edited `basicAuth.usersFile` makes
/// a new instance even when the configuration names the same path).
fn fingerprint(mw: &MiddlewareConfig, reads: &[(String, Option<String>)]) -> u64 {
    let mut h = DefaultHasher::new();
    format!("{mw:?}").hash(&mut h);
    reads.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::from_tree;

    fn built(text: &str) -> (BuiltMiddlewares, usize) {
        let d: DynamicConfig = from_tree(toml::from_str(text).unwrap(), "t.toml").unwrap();
        let mut c = Collector {
            origin: "t.toml",
            errors: Vec::new(),
        };
        let out = build_all(&d, &mut c);
        (out, c.errors.len())
    }

    #[test]
    fn a_middleware_fingerprint_changes_with_the_files_it_reads() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("users");
        std::fs::write(&file, "a:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=\n").unwrap();
        let text = format!(
            "[http.middlewares.auth.basicAuth]\nusersFile = \"{}\"\n",
            file.display()
        );
        let print = || built(&text).0["auth"].fingerprint;
        let before = print();
        assert_eq!(before, print());
        std::fs::write(&file, "b:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=\n").unwrap();
        assert_ne!(before, print());
    }

    #[test]
    fn a_middleware_with_problems_is_not_built() {
        let (out, errors) = built(
            "[http.middlewares.ok.addPrefix]\nprefix = \"/a\"\n\
             [http.middlewares.bad.addPrefix]\nprefix = \"\"\n",
        );
        assert!(out.contains_key("ok") && !out.contains_key("bad"));
        assert_eq!(errors, 1);
    }
}
