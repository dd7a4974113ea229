//! `digestAuth` settings (Traefik's keys), their checks, and the middleware built from them in
//! the same pass: every `user:realm:HA1` entry (inline and in `usersFile`, htdigest's format)
//! parses, the file is readable, some user belongs to the realm, and `realm` / `headerField`
//! can stand in headers. Messages name users, files and line numbers, never an HA1.

use super::{DigestAuth, DigestOptions, DEFAULT_REALM};
use crate::basic_auth::file_lines;
use crate::build::{BuildCx, BuildResult, Problems};
use serde::{Deserialize, Serialize};
use std::hash::{Hash, Hasher};

const ENTRY_HINT: &str = "write `user:realm:HA1` as `htdigest` makes it, HA1 being the hex MD5 \
                          of `user:realm:password`";

/// Traefik's `digestAuth`: `users`, `usersFile`, `realm`, `headerField`, `removeHeader`.
#[derive(Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    /// `user:realm:HA1` entries; labels write them comma-separated.
    #[serde(default)]
    pub users: Vec<String>,
    /// An htdigest file (relative paths: to pylon's working directory); its entries come before
    /// `users`, and a later entry for a user and realm wins.
    pub users_file: Option<String>,
    /// The realm of the challenge; Traefik's default `traefik` when unset.
    pub realm: Option<String>,
    /// Header the authenticated user name is forwarded upstream in.
    pub header_field: Option<String>,
    /// Remove `Authorization` before proxying.
    pub remove_header: Option<bool>,
}

impl std::fmt::Debug for Config {
    // HA1s are never printed, but every change of them changes this form (config fingerprints
    // are made of it).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let users: Vec<String> = self
            .users
            .iter()
            .map(|u| {
                let (name, secret) = u.rsplit_once(':').unwrap_or((u.as_str(), ""));
                let mut h = std::collections::hash_map::DefaultHasher::new();
                secret.hash(&mut h);
                format!("{name}:<ha1 {:016x}>", h.finish())
            })
            .collect();
        f.debug_struct("DigestAuthConfig")
            .field("users", &users)
            .field("users_file", &self.users_file)
            .field("realm", &self.realm)
            .field("header_field", &self.header_field)
            .field("remove_header", &self.remove_header)
            .finish()
    }
}

/// One entry: user, realm, HA1 (lower-case hex). Errors name the user at most.
pub fn parse_entry(line: &str) -> Result<(String, String, String), String> {
    let parts: Vec<&str> = line.split(':').collect();
    let [user, realm, ha1] = parts[..] else {
        return Err("is not `user:realm:HA1` (exactly two `:`)".into());
    };
    if user.is_empty() {
        return Err("has an empty user name".into());
    }
    if user.chars().any(char::is_control) {
        return Err(format!("user {user:?}: the name has control characters"));
    }
    if ha1.len() != 32 || !ha1.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "user `{user}`: the HA1 is not 32 hex digits (an MD5)"
        ));
    }
    Ok((user.into(), realm.into(), ha1.to_ascii_lowercase()))
}

/// Reads the users (file first, then inline), checks every setting, and builds the middleware.
pub fn build(cfg: &Config, cx: &BuildCx) -> BuildResult<DigestAuth> {
    let mut problems = Problems::new(cx, "digestAuth");
    let mut users = Vec::new();
    let mut file_unreadable = false;
    if let Some(path) = cfg.users_file.as_deref().filter(|p| !p.is_empty()) {
        match (cx.read_file)(path) {
            Ok(text) => {
                for (line, entry) in file_lines(&text) {
                    match parse_entry(entry) {
                        Ok(user) => users.push(user),
                        Err(_) => problems.push(
                            "usersFile",
                            format!(
                                "users file `{path}` line {line}: not a `user:realm:HA1` entry \
                                 (the line is not shown)"
                            ),
                            Some(ENTRY_HINT.into()),
                        ),
                    }
                }
            }
            Err(e) => {
                file_unreadable = true;
                problems.push(
                    "usersFile",
                    format!("cannot read users file `{path}`: {e}"),
                    Some(
                        "point usersFile at a readable htdigest file (a relative path is \
                         resolved from pylon's working directory)"
                            .into(),
                    ),
                );
            }
        }
    }
    for (i, entry) in cfg.users.iter().enumerate() {
        match parse_entry(entry) {
            Ok(user) => users.push(user),
            Err(e) => problems.push(
                &format!("users[{i}]"),
                format!("the entry {e}"),
                Some(ENTRY_HINT.into()),
            ),
        }
    }
    let realm = cfg
        .realm
        .clone()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| DEFAULT_REALM.to_string());
    if http::HeaderValue::from_str(&realm).is_err() || realm.contains(['"', '\\']) {
        problems.push(
            "realm",
            "cannot be sent in a header",
            Some("use visible ASCII characters and spaces only, no quotes".into()),
        );
    }
    if problems.is_empty() && !file_unreadable && !users.iter().any(|(_, r, _)| *r == realm) {
        problems.push(
            "users",
            format!("no user is defined for realm `{realm}`: every request would be refused"),
            Some(format!(
                "entries are `user:realm:HA1` and only those of the middleware's realm count; \
                 e.g. `htdigest -c users.htdigest {realm} NAME`"
            )),
        );
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
    let options = DigestOptions {
        realm,
        header_field,
        remove_header: cfg.remove_header.unwrap_or(false),
    };
    DigestAuth::new(cx.name, users, options).map_err(|message| {
        problems.push("", message, None);
        problems.into_errors()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HA1: &str = "a2688e031edb4be6a3797f3882655c05"; // htdigest: test/traefik/test

    fn errors(cfg: &Config) -> Vec<String> {
        build(cfg, &crate::build::test_cx())
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| format!("{}: {}", e.key_path, e.message))
            .collect()
    }

    #[test]
    fn builds_from_inline_users_and_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users");
        std::fs::write(&path, format!("# c\n\nfile:traefik:{HA1}\n")).unwrap();
        let c = Config {
            users: vec![format!("test:traefik:{HA1}")],
            users_file: Some(path.display().to_string()),
            ..Config::default()
        };
        assert!(build(&c, &crate::build::test_cx()).is_ok());
    }

    #[test]
    fn bad_entries_are_named_by_key_never_with_the_secret() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("users");
        std::fs::write(&file, "eve:traefik:letmein\n").unwrap();
        let cfg = Config {
            users: vec!["bob:traefik:hunter2".into(), "nocolon".into()],
            users_file: Some(file.display().to_string()),
            header_field: Some("Bad Header".into()),
            realm: Some("a\"b".into()),
            ..Config::default()
        };
        let e = errors(&cfg).join("\n");
        assert!(
            e.contains("digestAuth.users[0]: the entry user `bob`: the HA1"),
            "{e}"
        );
        assert!(e.contains("digestAuth.users[1]: the entry is not"), "{e}");
        assert!(
            e.contains("digestAuth.usersFile: users file `") && e.contains("line 1"),
            "{e}"
        );
        assert!(e.contains("digestAuth.headerField"), "{e}");
        assert!(e.contains("digestAuth.realm"), "{e}");
        assert!(
            !e.contains("hunter2") && !e.contains("letmein") && !e.contains("eve"),
            "{e}"
        );
    }

    #[test]
    fn users_of_other_realms_only_are_refused() {
        let e = errors(&Config {
            users: vec![format!("test:elsewhere:{HA1}")],
            ..Config::default()
        });
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].contains("digestAuth.users: no user is defined for realm `traefik`"),
            "{e:?}"
        );
    }

    #[test]
    fn debug_form_hides_ha1s_but_changes_with_them() {
        let a = Config {
            users: vec![format!("bob:traefik:{HA1}")],
            ..Config::default()
        };
        let b = Config {
            users: vec!["bob:traefik:00000000000000000000000000000000".into()],
            ..Config::default()
        };
        let (da, db) = (format!("{a:?}"), format!("{b:?}"));
        assert!(da.contains("bob:traefik") && !da.contains(HA1), "{da}");
        assert_ne!(da, db);
    }
}
