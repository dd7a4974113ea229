//! Key-value keys → part: layout, case, lists, and one bad key leaving out only its object.

use super::*;

fn pairs(list: &[(&str, &str)]) -> BTreeMap<String, String> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn traefiks_layout_becomes_the_model() {
    let part = build_part(
        "redis",
        "traefik",
        &pairs(&[
            ("traefik/http/routers/web/rule", "Host(`a`)"),
            ("traefik/http/routers/web/entryPoints/0", "web"),
            ("traefik/http/routers/web/middlewares/0", "strip"),
            ("traefik/http/routers/web/service", "app"),
            (
                "traefik/http/services/app/loadBalancer/servers/0/url",
                "http://127.0.0.1:1",
            ),
            (
                "traefik/http/services/app/loadbalancer/servers/1/url",
                "http://127.0.0.1:2",
            ),
            (
                "traefik/http/middlewares/strip/stripPrefix/prefixes/0",
                "/a",
            ),
            ("traefik/tls/options/strict/minVersion", "VersionTLS12"),
            ("other/http/routers/x/rule", "Host(`x`)"),
        ]),
    );
    assert!(part.errors.is_empty(), "{:?}", part.errors);
    let mut config = crate::config::dynamic::DynamicConfig::default();
    for (_, c) in &part.containers {
        crate::provider::namespace::absorb(&mut config, c.clone());
    }
    let web = &config.http.routers["web"];
    assert_eq!(web.entry_points, ["web"]);
    assert_eq!(web.middlewares, ["strip"]);
    assert_eq!(web.service.as_deref(), Some("app"));
    let servers = &config.http.services["app"]
        .load_balancer
        .as_ref()
        .expect("lb")
        .servers;
    assert_eq!(servers.len(), 2, "one service however its keys are spelled");
    assert!(config.http.middlewares.contains_key("strip"));
    assert!(config.tls.options.contains_key("strict"));
    assert_eq!(part.containers.len(), 4, "one unit per object");
}

#[test]
fn a_bad_key_leaves_out_its_object_named_by_the_key() {
    let part = build_part(
        "etcd",
        "traefik",
        &pairs(&[
            ("traefik/http/routers/good/rule", "Host(`a`)"),
            ("traefik/http/routers/good/service", "app"),
            ("traefik/http/middlewares/bad/noSuchType/x", "1"),
            ("traefik/http/routers/dotted.name/rule", "Host(`b`)"),
            ("traefik/udp/routers/t/service", "dns"),
        ]),
    );
    let names: Vec<_> = part.containers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["traefik/http/routers/good"]);
    let labels: Vec<_> = part
        .errors
        .iter()
        .map(|e| (e.provider, e.label.clone().unwrap_or_default()))
        .collect();
    assert!(
        labels.contains(&("etcd", "traefik/http/middlewares/bad/noSuchType/x".into())),
        "{labels:?}"
    );
    assert!(labels.contains(&("etcd", "traefik/http/routers/dotted.name/rule".into())));
    assert!(labels.contains(&("etcd", "traefik/udp/routers/t/service".into())));
    let shown = part.errors[0].to_string();
    assert!(shown.starts_with("etcd object \""), "{shown}");
}

#[test]
fn a_number_is_an_index_except_as_a_name() {
    assert_eq!(
        label_of(&["http", "routers", "1", "entrypoints", "0"]).expect("label"),
        "traefik.http.routers.1.entrypoints[0]"
    );
    assert_eq!(
        label_of(&["tls", "certificates", "0", "certFile"]).expect("label"),
        "traefik.tls.certificates[0].certFile"
    );
}

#[test]
fn keys_differing_in_case_are_one_key_and_a_clash_names_both_redis_keys() {
    let part = build_part(
        "redis",
        "traefik",
        &pairs(&[
            ("traefik/http/routers/Dup/rule", "Path(`/a`)"),
            ("traefik/http/routers/dup/Rule", "Path(`/b`)"),
        ]),
    );
    assert!(part.containers.is_empty());
    let shown = part.errors[0].to_string();
    assert!(
        shown.contains("key traefik/http/routers/dup/Rule")
            && shown.contains("key traefik/http/routers/Dup/rule")
            && !shown.contains("traefik.http"),
        "{shown}"
    );
}
