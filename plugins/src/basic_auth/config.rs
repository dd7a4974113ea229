//! `basicAuth` settings (Traefik's keys), their checks, and the middleware built from them in
//! the same pass: every htpasswd entry (inline and in `usersFile`) parses, the file is readable,
//! at least one user exists, and `realm` / `headerField` can stand in headers. Messages name
//! users, files and line numbers, never a hash or password.

use super::{file_lines, parse_user, BasicAuth, BasicAuthOptions, PasswordHash};
use crate::build::{BuildCx, BuildResult, Problems};
use serde::{Deserialize, Serialize};
use std::hash::{Hash, Hasher};

const HASH_HINT: &str = "write `user:hash` with a bcrypt, {SHA} or $apr1$ hash, e.g. from \
                         `htpasswd -nB USER`";

/// Traefik's `basicAuth`: `users`, `usersFile`, `realm`, `headerField`, `removeHeader`.
#[derive(Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    /// `user:hash` entries (bcrypt, `{SHA}` or `$apr1$`); labels write them comma-separated.
    #[serde(default)]
    pub users: Vec<String>,
    /// An htpasswd file (relative paths: to pylon's working directory), read when the config is
    /// built; its entries come before `users`, and a later entry for a user wins.
    pub users_file: Option<String>,
    /// The realm of the challenge; Traefik's default `traefik` when unset.
    pub realm: Option<String>,
    /// Header the authenticated user name is forwarded upstream in.
    pub header_field: Option<String>,
    /// Remove `Authorization` before proxying.
    pub remove_header: Option<bool>,
}

impl std::fmt::Debug for Config {
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

/// Reads the users (file first, then inline), checks every setting, and builds the middleware.
pub fn build(cfg: &Config, cx: &BuildCx) -> BuildResult<BasicAuth> {
    let mut problems = Problems::new(cx, "basicAuth");
    let mut users = Vec::new();
    let mut entries = 0usize;
    let mut file_unreadable = false;
    if let Some(path) = cfg.users_file.as_deref().filter(|p| !p.is_empty()) {
        match (cx.read_file)(path) {
            Ok(text) => {
                for (line, entry) in file_lines(&text) {
                    entries += 1;
                    match parse_user(entry) {
                        Ok(user) => users.push(user),
                        Err(_) => {
                            // The hash's own error never repeats the hash; the user is not shown.
                            let why =
                                match entry.split_once(':').map(|(_, h)| PasswordHash::parse(h)) {
                                    Some(Err(why)) => format!("the hash {why}"),
                                    _ => "not a `user:hash` entry pylon reads".to_string(),
                                };
                            problems.push(
                                "usersFile",
                                format!(
                                    "users file `{path}` line {line}: {why} (the line is not shown)"
                                ),
                                Some(HASH_HINT.into()),
                            );
                        }
                    }
                }
            }
            Err(e) => {
                file_unreadable = true;
                problems.push(
                    "usersFile",
                    format!("cannot read users file `{path}`: {e}"),
                    Some(
                        "point usersFile at a readable htpasswd file (a relative path is \
                         resolved from pylon's working directory)"
                            .into(),
                    ),
                );
            }
        }
    }
    for (i, entry) in cfg.users.iter().enumerate() {
        entries += 1;
        match parse_user(entry) {
            Ok(user) => users.push(user),
            Err(e) => problems.push(
                &format!("users[{i}]"),
                format!("the entry {e}"),
                Some(HASH_HINT.into()),
            ),
        }
    }
    if entries == 0 && !file_unreadable {
        problems.push(
            "users",
            "no user is defined: every request would be refused",
            Some("add users = [\"name:hash\"] (e.g. from `htpasswd -nB name`) or usersFile".into()),
        );
    }
    if let Some(realm) = cfg.realm.as_deref() {
        if http::HeaderValue::from_str(realm).is_err() {
            problems.push(
                "realm",
                "cannot be sent in a header",
                Some("use visible ASCII characters and spaces only".into()),
            );
        }
    }
    let mut header_field = None;
    if let Some(field) = cfg.header_field.as_deref().filter(|f| !f.is_empty()) {
        match http::HeaderName::from_bytes(field.as_bytes()) {
            Ok(name) => header_field = Some(name),
            Err(_) => problems.push(
                "headerField",
                format!("`{field}` is not a header name"),
                Some("write e.g. headerField = \"X-WebAuth-User\"".into()),
            ),
        }
    }
    if !problems.is_empty() {
        return Err(problems.into_errors());
    }
    let options = BasicAuthOptions {
        realm: cfg.realm.clone().filter(|r| !r.is_empty()),
        header_field,
        remove_header: cfg.remove_header.unwrap_or(false),
    };
    BasicAuth::new(cx.name, users, options).map_err(|message| {
        problems.push("", message, None);
        problems.into_errors()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(cfg: &Config) -> Vec<String> {
        build(cfg, &crate::build::test_cx())
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| format!("{}: {}", e.key_path, e.message))
            .collect()
    }

    fn cfg(users: &[&str], file: Option<&str>) -> Config {
        Config {
            users: users.iter().map(|s| s.to_string()).collect(),
            users_file: file.map(str::to_string),
            ..Config::default()
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
        assert!(build(&c, &crate::build::test_cx()).is_ok());
    }

    #[test]
    fn no_users_is_refused() {
        let e = errors(&Config::default());
        assert_eq!(e.len(), 1);
        assert!(
            e[0].contains("basicAuth.users: no user is defined"),
            "{}",
            e[0]
        );
    }

    #[test]
    fn bad_entries_name_the_user_or_line_never_the_secret() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("users");
        std::fs::write(&file, "ok:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=\neve:letmein\n").unwrap();
        let cfg = Config {
            users: vec!["bob:hunter2".into(), "nocolon".into()],
            users_file: Some(file.display().to_string()),
            header_field: Some("Bad Header".into()),
            realm: Some("a\nb".into()),
            ..Config::default()
        };
        let e = errors(&cfg).join("\n");
        assert!(
            e.contains("basicAuth.users[0]: the entry user `bob`"),
            "{e}"
        );
        assert!(
            e.contains("basicAuth.users[1]: the entry is not `user:hash`"),
            "{e}"
        );
        assert!(
            e.contains("basicAuth.usersFile: users file `") && e.contains("line 2"),
            "{e}"
        );
        assert!(e.contains("basicAuth.headerField"), "{e}");
        assert!(e.contains("basicAuth.realm"), "{e}");
        assert!(!e.contains("hunter2") && !e.contains("letmein"), "{e}");
        assert!(!e.contains("eve"), "{e}");
    }

    #[test]
    fn an_unreadable_file_is_named() {
        let e = errors(&cfg(&[], Some("missing/users.htpasswd")));
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("http.middlewares.m.basicAuth.usersFile: cannot read users file `missing/users.htpasswd`"),
            "{e:?}"
        );
    }

    #[test]
    fn debug_form_hides_hashes_but_changes_with_them() {
        let a = cfg(&["bob:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M="], None);
        let b = cfg(&["bob:{SHA}AAAP5cyxm6YcTAhz05Hph5gvu9M="], None);
        let (da, db) = (format!("{a:?}"), format!("{b:?}"));
        assert!(da.contains("bob") && !da.contains("qUqP5"), "{da}");
        assert_ne!(da, db);
    }
}
