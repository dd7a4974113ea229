//! Checks `basicAuth`: every htpasswd entry (inline and in `usersFile`) parses, the file is
//! readable, at least one user exists, and `realm` / `headerField` can stand in headers.
//! Messages name users, files and line numbers, never a hash or password.

use super::Collector;
use crate::config::middlewares::basic_auth::BasicAuthConfig;
use pylon_plugins::basic_auth::{file_lines, parse_user, PasswordHash};

const HASH_HINT: &str = "write `user:hash` with a bcrypt, {SHA} or $apr1$ hash, e.g. from \
                         `htpasswd -nB USER`";

pub(super) fn validate(base: &str, cfg: Option<&BasicAuthConfig>, c: &mut Collector<'_>) {
    let Some(cfg) = cfg else { return };
    let key = format!("{base}.basicAuth");
    let mut entries = 0usize;
    let mut file_unreadable = false;
    if let Some(path) = cfg.users_file.as_deref().filter(|p| !p.is_empty()) {
        match crate::config::key_file::read_key_file_to_string(path) {
            Ok(text) => {
                for (line, entry) in file_lines(&text) {
                    entries += 1;
                    if parse_user(entry).is_err() {
                        // The hash's own error never repeats the hash; the user name is not shown.
                        let why = match entry.split_once(':').map(|(_, h)| PasswordHash::parse(h)) {
                            Some(Err(why)) => format!("the hash {why}"),
                            _ => "not a `user:hash` entry pylon reads".to_string(),
                        };
                        c.push(
                            format!("{key}.usersFile"),
                            format!(
                                "users file `{path}` line {line}: {why} (the line is not shown)"
                            ),
                            Some(HASH_HINT.into()),
                        );
                    }
                }
            }
            Err(e) => {
                file_unreadable = true;
                c.push(
                    format!("{key}.usersFile"),
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
        if let Err(e) = parse_user(entry) {
            c.push(
                format!("{key}.users[{i}]"),
                format!("the entry {e}"),
                Some(HASH_HINT.into()),
            );
        }
    }
    if entries == 0 && !file_unreadable {
        c.push(
            format!("{key}.users"),
            "no user is defined: every request would be refused",
            Some("add users = [\"name:hash\"] (e.g. from `htpasswd -nB name`) or usersFile".into()),
        );
    }
    if let Some(realm) = cfg.realm.as_deref() {
        if http::HeaderValue::from_str(realm).is_err() {
            c.push(
                format!("{key}.realm"),
                "cannot be sent in a header",
                Some("use visible ASCII characters and spaces only".into()),
            );
        }
    }
    if let Some(field) = cfg.header_field.as_deref().filter(|f| !f.is_empty()) {
        if http::HeaderName::from_bytes(field.as_bytes()).is_err() {
            c.push(
                format!("{key}.headerField"),
                format!("`{field}` is not a header name"),
                Some("write e.g. headerField = \"X-WebAuth-User\"".into()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(cfg: &BasicAuthConfig) -> Vec<String> {
        let mut c = Collector {
            origin: "t.toml",
            errors: Vec::new(),
        };
        validate("http.middlewares.a", Some(cfg), &mut c);
        c.errors.iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn no_users_is_refused() {
        let e = errors(&BasicAuthConfig::default());
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
        let cfg = BasicAuthConfig {
            users: vec!["bob:hunter2".into(), "nocolon".into()],
            users_file: Some(file.display().to_string()),
            header_field: Some("Bad Header".into()),
            realm: Some("a\nb".into()),
            ..BasicAuthConfig::default()
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
    }

    #[test]
    fn an_unreadable_file_is_named() {
        let cfg = BasicAuthConfig {
            users_file: Some("missing/users.htpasswd".into()),
            ..BasicAuthConfig::default()
        };
        let e = errors(&cfg);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].contains("cannot read users file `missing/users.htpasswd`"),
            "{e:?}"
        );
    }
}
