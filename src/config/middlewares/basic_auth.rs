//! `basicAuth` settings: htpasswd users (inline or from a file), realm, forwarded user header.

use serde::Deserialize;
use std::hash::{Hash, Hasher};

/// Traefik's `basicAuth`: `users`, `usersFile`, `realm`, `headerField`, `removeHeader`.
#[derive(Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BasicAuthConfig {
    /// `user:hash` entries (bcrypt, `{SHA}` or `$apr1$`); labels write them comma-separated.
    #[serde(default)]
    pub users: Vec<String>,
    /// An htpasswd file (relative paths: to pylon's working directory), read when the config is
    /// compiled; its entries come before `users`, and a later entry for a user wins.
    pub users_file: Option<String>,
    /// The realm of the challenge; Traefik's default `traefik` when unset.
    pub realm: Option<String>,
    /// Header the authenticated user name is forwarded upstream in.
    pub header_field: Option<String>,
    /// Remove `Authorization` before proxying.
    pub remove_header: Option<bool>,
}

impl std::fmt::Debug for BasicAuthConfig {
    // Hashes are never printed, but every change of them changes this form (config
    // fingerprints are made of it).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let users: Vec<String> = self
            .users
            .iter()
            .map(|u| {
                let (name, secret) = u.split_once(':').unwrap_or((u.as_str(), ""));
                let mut h = std::collections::hash_map::DefaultHasher::new();
                secret.hash(&mut h);
                format!("{name}:<hash {:016x}>", h.finish())
            })
            .collect();
        f.debug_struct("BasicAuthConfig")
            .field("users", &users)
            .field("users_file", &self.users_file)
            .field("realm", &self.realm)
            .field("header_field", &self.header_field)
            .field("remove_header", &self.remove_header)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_form_hides_hashes_but_changes_with_them() {
        let a = BasicAuthConfig {
            users: vec!["bob:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=".into()],
            ..BasicAuthConfig::default()
        };
        let b = BasicAuthConfig {
            users: vec!["bob:{SHA}AAAP5cyxm6YcTAhz05Hph5gvu9M=".into()],
            ..BasicAuthConfig::default()
        };
        let (da, db) = (format!("{a:?}"), format!("{b:?}"));
        assert!(da.contains("bob") && !da.contains("qUqP5"), "{da}");
        assert_ne!(da, db);
    }
}
