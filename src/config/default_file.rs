//! Where the static file is looked for when none is named (`--config`, `PYLON_CONFIG`):
//! Traefik's places in Traefik's order, with pylon's own name first in each.

use std::path::{Path, PathBuf};

/// The file read when none is named and none of the places holds one (the repository's
/// shipped configuration, for `cargo run`); it may be absent too.
pub const FALLBACK: &str = "conf/pylon.toml";

/// Every path looked at, in order: in `/etc/pylon/`, `/etc/traefik/`, `$XDG_CONFIG_HOME/`,
/// `$HOME/.config/` and the working directory (Traefik's order, `/etc/pylon/` added before
/// it), `pylon.*` then `traefik.*`, each `.toml`, `.yaml`, `.yml` (Traefik's extension
/// order); then [`FALLBACK`]. An unset or empty variable's place is skipped.
pub fn candidates(var: impl Fn(&str) -> Option<String>) -> Vec<PathBuf> {
    let set = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let places: Vec<PathBuf> = [
        Some(PathBuf::from("/etc/pylon")),
        Some(PathBuf::from("/etc/traefik")),
        set("XDG_CONFIG_HOME"),
        set("HOME").map(|h| h.join(".config")),
        Some(PathBuf::from(".")),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut paths = Vec::new();
    for place in &places {
        for stem in ["pylon", "traefik"] {
            for ext in ["toml", "yaml", "yml"] {
                paths.push(place.join(format!("{stem}.{ext}")));
            }
        }
    }
    paths.push(PathBuf::from(FALLBACK));
    paths
}

/// The first candidate that is a file, looked up in the process's environment.
pub fn find() -> Option<PathBuf> {
    find_with(|name| std::env::var(name).ok(), Path::is_file)
}

/// The first of [`candidates`] for which `exists` holds.
pub fn find_with(
    var: impl Fn(&str) -> Option<String>,
    exists: impl Fn(&Path) -> bool,
) -> Option<PathBuf> {
    candidates(var).into_iter().find(|p| exists(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "XDG_CONFIG_HOME" => Some("/x".into()),
            "HOME" => Some("/h".into()),
            _ => None,
        }
    }

    #[test]
    fn places_follow_traefiks_order_with_pylons_name_first() {
        let all: Vec<String> = candidates(env)
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        assert_eq!(all.len(), 31);
        assert_eq!(
            all[..7],
            [
                "/etc/pylon/pylon.toml",
                "/etc/pylon/pylon.yaml",
                "/etc/pylon/pylon.yml",
                "/etc/pylon/traefik.toml",
                "/etc/pylon/traefik.yaml",
                "/etc/pylon/traefik.yml",
                "/etc/traefik/pylon.toml",
            ]
        );
        let index = |p: &str| all.iter().position(|a| a == p).unwrap();
        assert!(index("/etc/traefik/traefik.yml") < index("/x/traefik.toml"));
        assert!(index("/x/traefik.yml") < index("/h/.config/pylon.toml"));
        assert!(index("/h/.config/traefik.yml") < index("./traefik.toml"));
        assert_eq!(all.last().map(String::as_str), Some(FALLBACK));
        let found = find_with(env, |p| {
            p == Path::new("./traefik.yml") || p == Path::new("/h/.config/traefik.yaml")
        });
        assert_eq!(found, Some(PathBuf::from("/h/.config/traefik.yaml")));
    }

    #[test]
    fn unset_or_empty_variables_are_skipped() {
        let none = candidates(|_| Some(String::new()));
        assert_eq!(none.len(), 19);
        assert!(none
            .iter()
            .all(|p| !p.starts_with("/traefik") && !p.starts_with("/.config")));
    }
}
