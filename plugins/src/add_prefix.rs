//! The `addPrefix` middleware: puts a prefix in front of the path before proxying.

use crate::replace_path::set_path;
use crate::{Plugin, PluginCtx};
use async_trait::async_trait;
use pingora_error::Result;
use pingora_http::RequestHeader;
use pingora_proxy::Session;

/// Prepends `prefix` to the request path, keeping the query (Traefik's `addPrefix`).
#[derive(Debug, Clone)]
pub struct AddPrefix {
    prefix: String,
}

impl AddPrefix {
    pub fn new(prefix: String) -> Self {
        AddPrefix { prefix }
    }

    /// The path with the prefix in front; always starts with `/`.
    pub fn prefixed(&self, path: &str) -> String {
        let mut out = String::with_capacity(self.prefix.len() + path.len() + 1);
        if !self.prefix.starts_with('/') {
            out.push('/');
        }
        out.push_str(&self.prefix);
        out.push_str(path);
        out
    }
}

#[async_trait]
impl Plugin for AddPrefix {
    fn kind(&self) -> &'static str {
        "addPrefix"
    }

    async fn upstream_request_filter(
        &self,
        _session: &mut Session,
        request: &mut RequestHeader,
        cx: &mut PluginCtx,
    ) -> Result<()> {
        let path = self.prefixed(request.uri.path());
        set_path(request, &path, cx.encoded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepends_the_prefix() {
        let a = AddPrefix::new("/api".into());
        assert_eq!(a.prefixed("/users/1"), "/api/users/1");
        assert_eq!(a.prefixed("/"), "/api/");
    }

    #[test]
    fn a_prefix_without_a_slash_gets_one() {
        assert_eq!(AddPrefix::new("v1".into()).prefixed("/x"), "/v1/x");
    }
}
