//! What building a middleware takes ([`BuildCx`]) and gives (its compiled form, or every
//! [`BuildError`] found, each at its key path). Building is validating: a middleware's `build`
//! checks its settings while it turns them into what runs, in one pass.

use crate::errors::ErrorPages;
use crate::retry::RetryPolicy;
use crate::Plugin;
use std::sync::Arc;

/// What a middleware's settings build into.
pub enum Built {
    /// Runs in the request's chain.
    Plugin(Arc<dyn Plugin>),
    /// `retry`: changes how the proxy retries failed attempts.
    Retry(RetryPolicy),
    /// `chain`: its members' names, expanded where routers' middlewares are resolved (and
    /// empty for a switched-off middleware such as `compress = false`).
    Chain(Vec<String>),
    /// `errors`: pages from the service of this name.
    ErrorPages(ErrorPages<String>),
}

impl Built {
    /// A plugin, shared by every router that names the middleware.
    pub fn plugin(plugin: impl Plugin) -> Self {
        Built::Plugin(Arc::new(plugin))
    }
}

/// What a middleware's `build` may use besides its own settings.
pub struct BuildCx<'a> {
    /// The middleware's name in `http.middlewares` (e.g. `auth`, or `auth@docker`).
    pub name: &'a str,
    /// Reads a file a key names (`usersFile`, `passwordFile`): the host's one reader of such
    /// files (regular files only, bounded in size). The error names the file, never its content.
    pub read_file: &'a dyn Fn(&str) -> Result<String, String>,
}

impl BuildCx<'_> {
    /// `http.middlewares.<name>.<kind>`: where a middleware of type `kind` is configured.
    pub fn key(&self, kind: &str) -> String {
        format!("http.middlewares.{}.{kind}", self.name)
    }
}

/// A middleware's compiled form, or every problem found in its settings.
pub type BuildResult<T> = Result<T, Vec<BuildError>>;

/// One problem in a middleware's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildError {
    /// The full key path, e.g. `http.middlewares.strip.stripPrefix.prefixes[0]`.
    pub key_path: String,
    pub message: String,
    /// How to fix it, when there is something useful to say.
    pub hint: Option<String>,
}

/// Collects the problems of one middleware under its key (`http.middlewares.<name>.<kind>`).
pub struct Problems {
    key: String,
    errors: Vec<BuildError>,
}

impl Problems {
    /// Problems of the middleware of type `kind` that `cx` builds.
    pub fn new(cx: &BuildCx, kind: &str) -> Self {
        Problems {
            key: cx.key(kind),
            errors: Vec::new(),
        }
    }

    /// The middleware's key, `http.middlewares.<name>.<kind>`.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// A problem at `<key>.<field>` (`field` may index, e.g. `prefixes[0]`; empty: the key).
    pub fn push(&mut self, field: &str, message: impl Into<String>, hint: Option<String>) {
        let key_path = if field.is_empty() {
            self.key.clone()
        } else {
            format!("{}.{field}", self.key)
        };
        self.errors.push(BuildError {
            key_path,
            message: message.into(),
            hint,
        });
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The middleware `make` builds when no problem was found, else every problem.
    pub fn finish<T>(self, make: impl FnOnce() -> T) -> BuildResult<T> {
        if self.errors.is_empty() {
            Ok(make())
        } else {
            Err(self.errors)
        }
    }

    /// The problems found, as the error of a build that cannot go on.
    pub fn into_errors(self) -> Vec<BuildError> {
        self.errors
    }
}

/// A context for unit tests: middleware `m`, files read from disk with `std::fs`.
#[cfg(test)]
pub(crate) fn test_cx() -> BuildCx<'static> {
    BuildCx {
        name: "m",
        read_file: &|path| std::fs::read_to_string(path).map_err(|e| format!("`{path}`: {e}")),
    }
}
