//! The static configuration's top-level keys found in a dynamic file: skipped, so one file may
//! hold both (the file provider's `filename` naming the static file itself, a common layout).

/// Traefik v3's static top-level keys (pkg/config/static), and pylon's own.
const STATIC_KEYS: &[&str] = &[
    "global",
    "serversTransport",
    "tcpServersTransport",
    "entryPoints",
    "providers",
    "api",
    "metrics",
    "ping",
    "log",
    "accessLog",
    "tracing",
    "hostResolver",
    "certificatesResolvers",
    "experimental",
    "core",
    "spiffe",
    "ocsp",
];

/// Whether `key` (any case) is a static top-level key.
pub fn is_static(key: &str) -> bool {
    STATIC_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
}

/// Removes the static top-level keys from a dynamic file's tree, each logged at debug level;
/// any other key stays for the model to read (or refuse).
pub fn strip(tree: &mut toml::Value, origin: &str) {
    let toml::Value::Table(table) = tree else {
        return;
    };
    let found: Vec<String> = table.keys().filter(|k| is_static(k)).cloned().collect();
    for key in found {
        log::debug!("{origin}: `{key}` is a static key, skipped by the file provider");
        table.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_keys_leave_and_others_stay() {
        let mut tree: toml::Value = toml::from_str(
            "[API]\ninsecure = true\n[entrypoints.web]\naddress = \":80\"\n[http.routers.r]\nrule = \"x\"\n[nonsense]\na = 1\n",
        )
        .unwrap();
        strip(&mut tree, "t.toml");
        let keys: Vec<&String> = tree.as_table().unwrap().keys().collect();
        assert_eq!(keys, ["http", "nonsense"]);
    }
}
