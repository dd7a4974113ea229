//! Environment and flag settings: key mapping, typing, precedence, secrets and errors.

use super::schema::{resolve, Leaf};
use super::{env, flags, Setting};
use crate::config::source::StaticSource;
use crate::config::StaticConfig;
use std::ffi::OsString;
use std::path::Path;

fn vars(list: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
    list.iter()
        .map(|(k, v)| (OsString::from(k), OsString::from(v)))
        .collect()
}

fn source(file: Option<&Path>, settings: Vec<Setting>) -> StaticSource {
    StaticSource {
        path: file.map_or_else(|| "/nonexistent/pylon.toml".into(), Path::to_path_buf),
        explicit: file.is_some(),
        settings,
        pruned: Vec::new(),
    }
}

fn load_env(list: &[(&str, &str)]) -> Result<StaticConfig, String> {
    let settings = env::from_vars(vars(list)).map_err(|e| e.to_string())?;
    source(None, settings).load().map_err(|e| e.to_string())
}

fn segs(path: &str) -> Vec<String> {
    path.split('.').map(str::to_string).collect()
}

#[test]
fn the_schema_gives_spellings_and_types() {
    let r =
        resolve::<StaticConfig>(&segs("entrypoints.web.transport.lifecycle.gracetimeout")).unwrap();
    assert_eq!(
        r.path,
        segs("entryPoints.web.transport.lifeCycle.graceTimeOut")
    );
    assert_eq!(r.leaf, Leaf::Any);
    let leaf = |p: &str| resolve::<StaticConfig>(&segs(p)).unwrap().leaf;
    assert_eq!(leaf("api.insecure"), Leaf::Bool);
    assert_eq!(leaf("entryPoints.web.address"), Leaf::Text);
    assert_eq!(leaf("entryPoints.web.http.maxHeaderBytes"), Leaf::Integer);
    assert_eq!(
        leaf("entryPoints.web.forwardedHeaders.trustedips"),
        Leaf::List
    );
    assert_eq!(leaf("log.format"), Leaf::Text);
    assert_eq!(leaf("api"), Leaf::Section);
    assert_eq!(leaf("providers.docker"), Leaf::Section);
    assert!(super::top_level_keys().contains(&"entryPoints"));
}

#[test]
fn environment_alone_is_a_configuration() {
    let c = load_env(&[
        ("PYLON_ENTRYPOINTS_WEB_ADDRESS", ":8000"),
        ("TRAEFIK_PROVIDERS_DOCKER_EXPOSEDBYDEFAULT", "false"),
        ("PYLON_LOG_LEVEL", "debug"),
        ("PYLON_API_INSECURE", "true"),
        (
            "PYLON_ENTRYPOINTS_WEB_TRANSPORT_LIFECYCLE_GRACETIMEOUT",
            "5s",
        ),
        (
            "PYLON_ENTRYPOINTS_WEB_FORWARDEDHEADERS_TRUSTEDIPS",
            "10.0.0.0/8, 127.0.0.1",
        ),
        ("PYLON_ENTRYPOINTS_WEB_HTTP_MAXHEADERBYTES", "4096"),
        ("PYLON_CONFIG", "ignored.toml"),
        ("HOME", "/root"),
    ])
    .unwrap();
    let web = &c.entry_points["web"];
    assert_eq!(web.address, ":8000");
    assert_eq!(
        c.providers.docker.as_ref().unwrap().exposed_by_default,
        Some(false)
    );
    assert_eq!(c.log_level_filter(), log::LevelFilter::Debug);
    assert!(c.api.as_ref().unwrap().is_insecure());
    assert_eq!(c.grace_timeout(), std::time::Duration::from_secs(5));
    assert_eq!(
        web.forwarded_headers.as_ref().unwrap().trusted_ips,
        vec!["10.0.0.0/8", "127.0.0.1"]
    );
    assert_eq!(web.http.as_ref().unwrap().max_header_bytes, Some(4096));
}

#[test]
fn a_section_is_turned_on_by_true() {
    let c = load_env(&[("TRAEFIK_API", "true"), ("TRAEFIK_PING", "true")]).unwrap();
    assert!(c.api.is_some());
    assert_eq!(c.ping.unwrap().entry_point, "traefik");
    let e = load_env(&[("PYLON_API", "yes")]).unwrap_err();
    assert!(e.contains("PYLON_API: `api` is a section"), "{e}");
}

#[test]
fn pylon_wins_over_traefik() {
    let c = load_env(&[("PYLON_LOG_LEVEL", "info"), ("TRAEFIK_LOG_LEVEL", "debug")]).unwrap();
    assert_eq!(c.log_level_filter(), log::LevelFilter::Info);
}

#[test]
fn a_refused_traefik_key_gives_its_reason_as_in_a_file() {
    let e = load_env(&[("TRAEFIK_PROVIDERS_ZOOKEEPER_ROOTKEY", "traefik")]).unwrap_err();
    assert!(
        e.contains("TRAEFIK_PROVIDERS_ZOOKEEPER_ROOTKEY: `providers.zookeeper` is Traefik's")
            && e.contains("supported key-value providers: `providers.etcd`, `providers.redis`"),
        "{e}"
    );
}

#[test]
fn an_unknown_key_names_the_variable_and_the_nearest_key() {
    let e = load_env(&[("PYLON_ENTRYPOINTS_WEB_ADRESS", ":1")]).unwrap_err();
    assert!(
        e.contains(
            "PYLON_ENTRYPOINTS_WEB_ADRESS: unknown key `adress` under entryPoints.web; did you mean `address`?"
        ),
        "{e}"
    );
    let e = load_env(&[("TRAEFIK_ENTRYPINTS_WEB_ADDRESS", ":1")]).unwrap_err();
    assert!(e.contains("did you mean `entryPoints`?"), "{e}");
    let e = load_env(&[("PYLON_LOG_LEVEL_X", "1")]).unwrap_err();
    assert!(e.contains("`log.level` takes a value"), "{e}");
    let e = load_env(&[("PYLON_LOG__LEVEL", "1")]).unwrap_err();
    assert!(e.contains("PYLON_LOG__LEVEL: empty key"), "{e}");
}

#[test]
fn a_badly_typed_value_names_the_variable() {
    let e = load_env(&[("PYLON_API_INSECURE", "maybe")]).unwrap_err();
    assert!(
        e.contains("PYLON_API_INSECURE: expected true or false, found `maybe`"),
        "{e}"
    );
    let e = load_env(&[
        ("PYLON_ENTRYPOINTS_WEB_ADDRESS", ":1"),
        (
            "PYLON_ENTRYPOINTS_WEB_TRANSPORT_LIFECYCLE_GRACETIMEOUT",
            "soon",
        ),
    ])
    .unwrap_err();
    assert!(
        e.contains("PYLON_ENTRYPOINTS_WEB_TRANSPORT_LIFECYCLE_GRACETIMEOUT: entryPoints.web"),
        "{e}"
    );
    // A missing required key is reported against the merged tree.
    let e = load_env(&[("PYLON_ENTRYPOINTS_WEB_HTTP_MAXHEADERBYTES", "1")]).unwrap_err();
    assert!(e.contains("entryPoints.web.address"), "{e}");
}

#[test]
fn secrets_are_read_from_files() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("level");
    std::fs::write(&secret, "warn\n").unwrap();
    let c = load_env(&[("PYLON_LOG_LEVEL_FILE", secret.to_str().unwrap())]).unwrap();
    assert_eq!(c.log_level_filter(), log::LevelFilter::Warn);
    let e = load_env(&[("TRAEFIK_LOG_LEVEL_FILE", "/nonexistent/secret")]).unwrap_err();
    assert!(
        e.contains("TRAEFIK_LOG_LEVEL_FILE: cannot read the secret file /nonexistent/secret"),
        "{e}"
    );
    // `providers.file` is a key: `_FILE` there is not a secret.
    let c = load_env(&[
        ("PYLON_PROVIDERS_FILE", "true"),
        ("PYLON_PROVIDERS_FILE_DIRECTORY", "/etc/pylon/dynamic"),
    ])
    .unwrap();
    assert_eq!(
        c.providers.file.unwrap().directory.as_deref(),
        Some("/etc/pylon/dynamic")
    );
}

#[test]
fn flags_use_traefik_syntax_and_leave_the_rest() {
    let args = [
        "--entryPoints.web.address=:8000",
        "--providers.docker.exposedByDefault=false",
        "--API.insecure",
        "--ping",
        "-c",
        "x.toml",
        "--upgrade",
        "check",
        "--",
        "--log.level=debug",
    ]
    .map(OsString::from);
    let (settings, rest) = flags::split(args);
    assert_eq!(
        rest,
        [
            "-c",
            "x.toml",
            "--upgrade",
            "check",
            "--",
            "--log.level=debug"
        ]
    );
    assert_eq!(settings.len(), 4);
    assert_eq!(settings[2].source, "--API.insecure");
    assert_eq!(settings[2].value, "true");
    let c = source(None, settings).load().unwrap();
    assert_eq!(c.entry_points["web"].address, ":8000");
    assert!(c.api.unwrap().is_insecure());
    assert!(c.ping.is_some());
}

#[test]
fn file_then_environment_then_flags() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pylon.toml");
    std::fs::write(
        &file,
        "[entryPoints.Web]\naddress = \":1\"\n[log]\nlevel = \"error\"\nformat = \"json\"\n",
    )
    .unwrap();
    let mut settings = env::from_vars(vars(&[
        ("PYLON_ENTRYPOINTS_WEB_ADDRESS", ":2"),
        ("PYLON_LOG_LEVEL", "info"),
    ]))
    .unwrap();
    settings.extend(flags::split([OsString::from("--log.LEVEL=debug")]).0);
    let c = source(Some(&file), settings).load().unwrap();
    // The file's spelling of the name is kept: one entry point, not two.
    assert_eq!(c.entry_points.len(), 1);
    assert_eq!(c.entry_points["Web"].address, ":2");
    assert_eq!(c.log_level_filter(), log::LevelFilter::Debug);
    assert_eq!(
        c.log.unwrap().format,
        Some(crate::config::static_config::LogFormat::Json)
    );
}

#[test]
fn a_named_file_must_exist_a_default_one_need_not() {
    let named = source(Some(Path::new("/nonexistent/pylon.toml")), Vec::new());
    let e = named.load().unwrap_err().to_string();
    assert!(e.contains("cannot read the file"), "{e}");
    let absent = source(None, Vec::new());
    assert!(absent.load().unwrap().entry_points.is_empty());
}

#[test]
fn later_errors_about_a_set_key_name_the_setting() {
    use crate::config::{ConfigError, ConfigErrors};
    let settings = flags::split([OsString::from("--ping.entryPoint=nope")]).0;
    let s = source(None, settings);
    let errors = ConfigErrors(vec![
        ConfigError::new(
            "environment and flags",
            "ping.entryPoint",
            "no such entry point",
        ),
        ConfigError::new("dynamic.toml", "ping.entryPoint", "another origin"),
        ConfigError::new("environment and flags", "entryPoints", "none defined"),
    ]);
    let origins: Vec<String> = s.explain(errors).0.into_iter().map(|e| e.origin).collect();
    assert_eq!(
        origins,
        ["--ping.entryPoint", "dynamic.toml", "environment and flags"]
    );
}

#[test]
fn reserved_names_and_other_variables_are_not_keys() {
    let settings = env::from_vars(vars(&[
        ("PYLON_CONFIG", "x.toml"),
        ("PYLON_THREADS", "1"),
        ("PYLON_BIN", "/usr/bin/pylon"),
        ("PYLON_TEST_LOG", "debug"),
        ("PATH", "/bin"),
        ("pylon_log_level", "debug"),
    ]))
    .unwrap();
    assert!(settings.is_empty(), "{settings:?}");
}

#[test]
fn settings_lay_over_a_yaml_file_and_its_errors_keep_their_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("traefik.yml");
    std::fs::write(
        &path,
        "entryPoints:\n  web:\n    address: \":80\"\nlog:\n  level: INFO\n",
    )
    .unwrap();
    let settings = flags::split([OsString::from("--entryPoints.web.address=127.0.0.1:8000")]).0;
    let c = source(Some(&path), settings).load().unwrap();
    assert_eq!(c.entry_points["web"].address, "127.0.0.1:8000");
    assert_eq!(c.log.unwrap().level.as_deref(), Some("INFO"));

    std::fs::write(&path, "entryPoints:\n  web:\n    adress: \":80\"\n").unwrap();
    let settings = flags::split([OsString::from("--log.level=DEBUG")]).0;
    let e = source(Some(&path), settings)
        .load()
        .unwrap_err()
        .to_string();
    let file = path.display().to_string();
    assert!(
        e.contains(&format!("{file}:3:5: entryPoints.web.adress: unknown key")),
        "{e}"
    );
}
