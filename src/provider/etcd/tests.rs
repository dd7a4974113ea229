//! `[providers.etcd]` checks: Traefik's defaults, endpoint forms, and errors naming the key.

use super::*;

fn settings(text: &str) -> Result<EtcdSettings, ConfigError> {
    let c: EtcdProviderConfig = toml::from_str(text).expect("toml");
    EtcdSettings::from_config(&c, None, Path::new("/nonexistent/pylon.toml"), "test")
}

#[test]
fn defaults_are_traefiks() {
    let s = settings("").expect("settings");
    assert_eq!(s.endpoints, ["http://127.0.0.1:2379"]);
    assert_eq!(s.root_key, "traefik");
    assert!(s.username.is_none() && s.password.is_none() && s.tls.is_none());
    assert_eq!(s.debounce, DEFAULT_DEBOUNCE);
}

#[test]
fn endpoints_take_traefiks_forms() {
    let s = settings("endpoints = [\"a:1\", \"http://b:2/\", \"https://c:3\", \"[::1]:4\"]")
        .expect("settings");
    assert_eq!(
        s.endpoints,
        ["http://a:1", "http://b:2", "https://c:3", "http://[::1]:4"]
    );
    let e = settings("endpoints = [\"a:1\", \"nope\"]").expect_err("refused");
    assert_eq!(e.key_path, "providers.etcd.endpoints[1]");
    let e = settings("endpoints = [\"unix://x:1\"]").expect_err("refused");
    assert_eq!(e.key_path, "providers.etcd.endpoints[0]");
}

#[test]
fn bad_keys_are_named_with_the_fix() {
    let e = settings("rootKey = \"/\"").expect_err("refused");
    assert_eq!(e.key_path, "providers.etcd.rootKey");
    let e = settings("username = \"u\"").expect_err("refused");
    assert_eq!(e.key_path, "providers.etcd.password");
    let e = settings("[tls]\ninsecureSkipVerify = true").expect_err("refused");
    assert_eq!(e.key_path, "providers.etcd.tls.insecureSkipVerify");
    assert!(e.hint.as_deref().unwrap_or_default().contains("tls.ca"));
    let e = settings("[tls]\nca = \"missing.pem\"").expect_err("refused");
    assert_eq!(e.key_path, "providers.etcd.tls.ca");
    assert!(
        e.message.contains("/nonexistent/missing.pem"),
        "{}",
        e.message
    );
    let e = settings("[tls]\ncert = \"-----BEGIN CERTIFICATE-----\\nx\\n\"").expect_err("refused");
    assert_eq!(e.key_path, "providers.etcd.tls.key");
    let e = settings("endpoints = [\"http://a:1\"]\n[tls]\n").expect_err("refused");
    assert_eq!(e.key_path, "providers.etcd.endpoints[0]");
    assert!(toml::from_str::<EtcdProviderConfig>("pollInterval = \"1s\"").is_err());
}

#[test]
fn tls_makes_endpoints_https_and_debug_hides_secrets() {
    let s = settings("password = \"hunter2\"\nusername = \"u\"\n[tls]\ninsecureSkipVerify = false")
        .expect("settings");
    assert_eq!(s.endpoints, ["https://127.0.0.1:2379"]);
    let shown = format!("{s:?}");
    assert!(
        !shown.contains("hunter2") && shown.contains("redacted"),
        "{shown}"
    );
    let c: EtcdProviderConfig = toml::from_str("password = \"hunter2\"").expect("toml");
    assert!(!format!("{c:?}").contains("hunter2"));
}
