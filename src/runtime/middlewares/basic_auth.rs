//! Builds the `basicAuth` plugin from its config, reading `usersFile` (relative paths from the
//! working directory); errors name the file and line, never a hash.

use super::Built;
use crate::config::middlewares::basic_auth::BasicAuthConfig;
use crate::runtime::compile::CompileError;
use pylon_plugins::basic_auth::{file_lines, parse_user, BasicAuth, BasicAuthOptions};
use std::sync::Arc;

pub fn build(name: &str, cfg: &BasicAuthConfig) -> Result<Built, CompileError> {
    let key = format!("http.middlewares.{name}.basicAuth");
    let err = |field: &str, message: String| CompileError {
        key_path: format!("{key}{field}"),
        message,
    };
    let mut users = Vec::new();
    if let Some(path) = cfg.users_file.as_deref().filter(|p| !p.is_empty()) {
        let text = crate::config::key_file::read_key_file_to_string(path).map_err(|e| {
            err(
                ".usersFile",
                format!("cannot read users file `{path}`: {e}"),
            )
        })?;
        for (line, entry) in file_lines(&text) {
            let user = parse_user(entry).map_err(|_| {
                err(
                    ".usersFile",
                    format!("users file `{path}` line {line}: not a `user:hash` entry pylon reads (the line is not shown)"),
                )
            })?;
            users.push(user);
        }
    }
    for (i, entry) in cfg.users.iter().enumerate() {
        let user = parse_user(entry)
            .map_err(|e| err(&format!(".users[{i}]"), format!("the entry {e}")))?;
        users.push(user);
    }
    let header_field = match cfg.header_field.as_deref().filter(|f| !f.is_empty()) {
        Some(f) => Some(
            http::HeaderName::from_bytes(f.as_bytes())
                .map_err(|_| err(".headerField", format!("`{f}` is not a header name")))?,
        ),
        None => None,
    };
    let options = BasicAuthOptions {
        realm: cfg.realm.clone().filter(|r| !r.is_empty()),
        header_field,
        remove_header: cfg.remove_header.unwrap_or(false),
    };
    let plugin = BasicAuth::new(name, users, options).map_err(|e| err("", e))?;
    Ok(Built::Plugin(Arc::new(plugin)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(users: &[&str], file: Option<&str>) -> BasicAuthConfig {
        BasicAuthConfig {
            users: users.iter().map(|s| s.to_string()).collect(),
            users_file: file.map(str::to_string),
            ..BasicAuthConfig::default()
        }
    }

    #[test]
    fn builds_from_inline_users_and_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users");
        std::fs::write(&path, "# c\nfile:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=\n").unwrap();
        let c = cfg(
            &["test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/"],
            Some(path.to_str().unwrap()),
        );
        assert!(matches!(build("auth", &c), Ok(Built::Plugin(_))));
    }

    #[test]
    fn a_missing_file_is_named_in_the_error() {
        let Err(e) = build("auth", &cfg(&[], Some("no/such/users.htpasswd"))) else {
            panic!("built without its users file")
        };
        assert_eq!(e.key_path, "http.middlewares.auth.basicAuth.usersFile");
        assert!(
            e.message.contains("no/such/users.htpasswd"),
            "{}",
            e.message
        );
    }

    #[test]
    fn a_bad_line_names_file_and_line_but_not_the_secret() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users");
        std::fs::write(&path, "\nbob:hunter2\n").unwrap();
        let Err(e) = build("auth", &cfg(&[], Some(path.to_str().unwrap()))) else {
            panic!("built with a plain-text password")
        };
        assert!(
            e.message.contains("line 2") && !e.message.contains("bob"),
            "{}",
            e.message
        );
        assert!(!e.message.contains("hunter2"), "{}", e.message);
        let Err(e) = build("auth", &cfg(&["ok:{SHA}x", "x"], None)) else {
            panic!("built with bad users")
        };
        assert_eq!(e.key_path, "http.middlewares.auth.basicAuth.users[0]");
    }
}
