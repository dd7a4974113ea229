//! Tests of loading: label-shaped trees, error wording, error recovery, directory merging.

use super::*;
use crate::config::dynamic::Toggle;

/// A tree shaped like the one the Docker provider builds from MusicShare's labels: lowercase
/// keys, every value a string.
fn label_tree() -> toml::Value {
    let text = r#"
        [http.routers.userservice]
        rule = "PathPrefix(`/api/users`)"
        middlewares = "userservice-stripprefix"
        entrypoints = "websecure"
        tls = "true"
        priority = "2"
        [http.middlewares.userservice-stripprefix.stripprefix]
        prefixes = "/api/users"
        [http.services.userservice.loadbalancer]
        server = { port = "8002" }
        sticky = { cookie = "true" }
        healthcheck = { path = "/health", interval = "10s" }
        passhostheader = "false"
    "#;
    toml::from_str(text).unwrap()
}

#[test]
fn label_trees_fill_the_same_model() {
    let d: DynamicConfig = from_tree(label_tree(), "docker").unwrap();
    let r = &d.http.routers["userservice"];
    assert_eq!(r.middlewares, ["userservice-stripprefix"]);
    assert_eq!(r.entry_points, ["websecure"]);
    assert_eq!(r.priority, Some(2));
    assert!(r.is_tls());
    let crate::config::dynamic::MiddlewareConfig::StripPrefix(sp) =
        &d.http.middlewares["userservice-stripprefix"]
    else {
        panic!("not stripPrefix")
    };
    assert_eq!(sp.prefixes, ["/api/users"]);
    let lb = d.http.services["userservice"]
        .load_balancer
        .as_ref()
        .unwrap();
    assert_eq!(lb.server.as_ref().unwrap().port, Some(8002));
    assert_eq!(lb.pass_host_header, Some(false));
    let cookie = lb.sticky.as_ref().unwrap().cookie.as_ref().unwrap();
    assert!(cookie.enabled() && cookie.options().is_none());
    let hc = lb.health_check.as_ref().unwrap();
    assert_eq!(hc.interval.map(|i| i.get().as_secs()), Some(10));
}

#[test]
fn toggles_take_a_table_in_any_case() {
    let text = "[http.services.s.loadBalancer.sticky.cookie]\nNAME = \"sess\"\nhttponly = true\n\
                [http.routers.r]\nrule = \"Path(`/`)\"\nservice = \"s\"\ntls = false\n";
    let d = load_dynamic_str(text, "t.toml").unwrap();
    let lb = d.http.services["s"].load_balancer.as_ref().unwrap();
    let cookie = lb
        .sticky
        .as_ref()
        .and_then(|s| s.cookie.as_ref())
        .and_then(Toggle::options);
    assert_eq!(cookie.and_then(|c| c.name.as_deref()), Some("sess"));
    assert_eq!(cookie.and_then(|c| c.http_only), Some(true));
    assert!(!d.http.routers["r"].is_tls());
    let e = load_dynamic_str(
        "[http.routers.r]\nrule = \"x\"\ntls = { option = \"a\" }\n",
        "t.toml",
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("unknown key `http.routers.r.tls.option`"),
        "{e}"
    );
}

#[test]
fn errors_carry_the_origin_and_full_key_path() {
    let e = load_dynamic_str("[http.routers.r]\nservice = \"s\"\n", "dyn.toml").unwrap_err();
    assert_eq!(
        e.to_string(),
        "error: dyn.toml: http.routers.r.rule: missing required key `http.routers.r.rule`"
    );
    let e =
        from_tree::<DynamicConfig>(label_tree_with("priority = \"high\""), "docker").unwrap_err();
    assert_eq!(
        e.to_string(),
        "error: docker: http.routers.x.priority: expected an integer, found `high`"
    );
}

fn label_tree_with(line: &str) -> toml::Value {
    toml::from_str(&format!("[http.routers.x]\nrule = \"Path(`/`)\"\n{line}\n")).unwrap()
}

#[test]
fn every_broken_entry_of_a_dynamic_file_is_reported() {
    let text = "[http.routers.a]\nrule = \"Path(`/`)\"\nservise = \"s\"\n\
                [http.routers.b]\nservice = \"s\"\n\
                [http.services.s.loadBalancer]\nservers = [{ url = \"http://127.0.0.1:1\", wieght = 2 }]\n";
    let e = load_dynamic_str(text, "d.toml").unwrap_err();
    let keys: Vec<&str> = e.iter().map(|e| e.key_path.as_str()).collect();
    assert_eq!(
        keys,
        [
            "http.routers.a.servise",
            "http.routers.b.rule",
            "http.services.s.loadBalancer.servers[0].wieght"
        ],
        "{e}"
    );
}

#[test]
fn a_key_written_in_two_spellings_is_one_error() {
    let e = load_static_str(
        "[entryPoints.web]\naddress = \":1\"\nADDRESS = \":2\"\n",
        "s.toml",
    )
    .unwrap_err();
    assert_eq!(e.len(), 1, "{e}");
    assert!(e.to_string().contains("duplicate field `address`"), "{e}");
}

#[test]
fn a_directory_merges_its_files_in_name_order() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write(
        "b.toml",
        "[http.services.s.loadBalancer]\nservers = [{ url = \"http://127.0.0.1:1\" }]\n",
    );
    write(
        "a.toml",
        "[http.routers.r]\nrule = \"Path(`/`)\"\nservice = \"s\"\n",
    );
    write("notes.txt", "not toml");
    let d = load_dynamic_dir(dir.path()).unwrap();
    assert!(d.http.routers.contains_key("r") && d.http.services.contains_key("s"));
    write(
        "c.toml",
        "[tls.options.modern]\nminVersion = \"VersionTLS13\"\n",
    );
    write("d.toml", "[tls.options.modern]\nsniStrict = true\n");
    let e = load_dynamic_dir(dir.path()).unwrap_err();
    assert_eq!(e.len(), 1, "{e}");
    assert_eq!(e.0[0].key_path, "tls.options.modern");
    assert!(
        e.0[0].message.contains("c.toml") && e.0[0].origin.ends_with("d.toml"),
        "{e}"
    );
}

#[test]
fn file_provider_paths_resolve_against_the_static_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("conf")).unwrap();
    let static_path = dir.path().join("conf/pylon.toml");
    let static_text =
        "[entryPoints.web]\naddress = \":8000\"\n[providers.file]\nfilename = \"dyn.toml\"\n";
    std::fs::write(&static_path, static_text).unwrap();
    std::fs::write(
        dir.path().join("conf/dyn.toml"),
        "[http.routers.r]\nrule = \"Path(`/`)\"\nservice = \"s\"\n",
    )
    .unwrap();
    let s = load_static(&static_path).unwrap();
    assert!(
        s.providers.file.as_ref().unwrap().watch,
        "Traefik's default is watch = true"
    );
    let d = load_dynamic_for(&s, &static_path).unwrap();
    assert!(d.http.routers.contains_key("r"));
}

#[test]
fn near_misses_are_suggested() {
    assert_eq!(closest("adress", &["address", "http"]), Some("address"));
    assert_eq!(
        closest("LOADBALANCR", &["loadBalancer", "weighted"]),
        Some("loadBalancer")
    );
    assert_eq!(closest("zzz", &["address", "http"]), None);
}

#[test]
fn a_directory_reads_yaml_and_toml_in_its_subdirectories() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "routers.yml",
        "http:\n  routers:\n    r:\n      rule: Path(`/`)\n      service: s\n",
    );
    write(
        "sub/deeper/services.YAML",
        "http:\n  services:\n    s:\n      loadBalancer:\n        servers:\n          - url: http://127.0.0.1:1\n",
    );
    write(
        "sub/tls.toml",
        "[tls.options.modern]\nminVersion = \"VersionTLS13\"\n",
    );
    write("notes.txt", "not a configuration file");
    // Kubernetes' ConfigMap mounts keep a second copy in a hidden directory.
    write("..data/routers.yml", "http:\n  routers:\n    r: {}\n");
    let d = load_dynamic_dir(dir.path()).unwrap();
    assert!(d.http.routers.contains_key("r"));
    assert!(d.http.services.contains_key("s"));
    assert!(d.tls.options.contains_key("modern"));
}

#[test]
fn yaml_errors_give_file_line_column_and_key_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dynamic.yml");
    std::fs::write(
        &path,
        "http:\n  routers:\n    r:\n      rule: Path(`/`)\n      servce: s\n  services:\n    s:\n      loadBalancer:\n        passHostHeader: maybe\n",
    )
    .unwrap();
    let e = load_dynamic_file(&path).unwrap_err();
    let text = e.to_string();
    let file = path.display().to_string();
    assert!(
        text.contains(&format!("{file}:5:7: http.routers.r.servce: unknown key")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{file}:9:9: http.services.s.loadBalancer.passHostHeader: expected true or false"
        )),
        "{text}"
    );
}

#[test]
fn a_yaml_static_file_loads_like_its_toml_twin() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = dir.path().join("traefik.yml");
    let toml = dir.path().join("traefik.toml");
    std::fs::write(
        &yaml,
        "entryPoints:\n  web:\n    address: \":8000\"\n    forwardedHeaders:\n      trustedIPs: [10.0.0.0/8]\n\
         providers:\n  file:\n    filename: dyn.yaml\nlog:\n  level: DEBUG\n",
    )
    .unwrap();
    std::fs::write(
        &toml,
        "[entryPoints.web]\naddress = \":8000\"\n[entryPoints.web.forwardedHeaders]\ntrustedIPs = [\"10.0.0.0/8\"]\n\
         [providers.file]\nfilename = \"dyn.yaml\"\n[log]\nlevel = \"DEBUG\"\n",
    )
    .unwrap();
    let from_yaml = serde_json::to_value(load_static(&yaml).unwrap()).unwrap();
    let from_toml = serde_json::to_value(load_static(&toml).unwrap()).unwrap();
    assert_eq!(from_yaml, from_toml);
}

#[test]
fn one_file_may_be_static_and_dynamic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("traefik.yml");
    std::fs::write(
        &path,
        "api:\n  insecure: true\nentryPoints:\n  web:\n    address: \":8000\"\n\
         providers:\n  file:\n    filename: traefik.yml\n\
         http:\n  routers:\n    r:\n      rule: Path(`/`)\n      service: s\n",
    )
    .unwrap();
    let s = load_static(&path).unwrap();
    let d = load_dynamic_for(&s, &path).unwrap();
    assert_eq!(d.http.routers.len(), 1, "read once, not twice");
    // Read as a dynamic file of its own, its static keys are skipped, others still refused.
    let d = load_dynamic_file(&path).unwrap();
    assert!(d.http.routers.contains_key("r"));
    std::fs::write(dir.path().join("dyn.yml"), "api: {}\nhttps: {}\n").unwrap();
    let e = load_dynamic_file(&dir.path().join("dyn.yml")).unwrap_err();
    assert!(e.to_string().contains("unknown key `https`"), "{e}");
}
