//! The provider's pure parts on container-inspect data recorded from a real engine
//! (tests/fixtures/docker-inspect: Debian's docker.io, API 1.41): network choice, ports, health,
//! bind-port addresses, constraints, and left-out containers.

use super::inspect::{inspected, InspectSettings, Inspected};
use super::*;
use crate::config::static_config::DockerProviderConfig;
use bollard::models::ContainerInspectResponse;
use std::net::IpAddr;

fn recorded(name: &str) -> ContainerInspectResponse {
    let path = format!(
        "{}/tests/fixtures/docker-inspect/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("fixture");
    serde_json::from_str(&text).expect("inspect JSON")
}

fn ip(text: &str) -> Option<IpAddr> {
    Some(text.parse().expect("ip"))
}

fn settings(network: Option<&str>) -> InspectSettings {
    InspectSettings {
        network: network.map(str::to_string),
        use_bind_port_ip: false,
    }
}

#[test]
fn the_container_label_names_the_network() {
    // `multi` is on `front` (172.17.0.2) and `back` (172.18.0.2), labelled
    // traefik.docker.network=back.
    let c = inspected(&recorded("multi"), &settings(None));
    assert_eq!(c.info.ip, ip("172.18.0.2"));
    assert!(c.warning.is_none());
    assert_eq!(c.info.ports, [8080, 9090]);
    assert!(c.serving);
    assert!(!c.info.host_network);
    assert_eq!(c.info.name, "multi");
}

#[test]
fn the_label_wins_over_the_provider_network() {
    let c = inspected(&recorded("multi"), &settings(Some("front")));
    assert_eq!(c.info.ip, ip("172.18.0.2"));
}

#[test]
fn the_provider_network_applies_without_a_label() {
    let mut raw = recorded("multi");
    if let Some(labels) = raw.config.as_mut().and_then(|c| c.labels.as_mut()) {
        labels.remove("traefik.docker.network");
    }
    let c = inspected(&raw, &settings(Some("front")));
    assert_eq!(c.info.ip, ip("172.17.0.2"));
    // Compose prefixes network names with the project (`shop`): `shop_front` is found as `front`.
    if let Some(nets) = raw
        .network_settings
        .as_mut()
        .and_then(|n| n.networks.as_mut())
    {
        let front = nets.remove("front").expect("front");
        nets.insert("shop_front".into(), front);
    }
    let c = inspected(&raw, &settings(Some("front")));
    assert_eq!(c.info.ip, ip("172.17.0.2"));
}

#[test]
fn an_unknown_network_falls_back_to_the_first_with_a_warning() {
    let mut raw = recorded("multi");
    if let Some(labels) = raw.config.as_mut().and_then(|c| c.labels.as_mut()) {
        labels.insert("traefik.docker.network".into(), "nowhere".into());
    }
    let c = inspected(&raw, &settings(None));
    assert_eq!(c.info.ip, ip("172.18.0.2"), "`back` sorts first");
    let warning = c.warning.expect("warned");
    assert!(
        warning.contains("nowhere") && warning.contains("front"),
        "{warning}"
    );
}

#[test]
fn host_network_containers_are_reached_on_loopback() {
    let c = hostnet();
    assert!(c.info.host_network);
    let s = docker_settings("");
    let part = build_part(&known(vec![c]), &s);
    let (_, config) = &part.containers[0];
    let url = &config.http.services["hostnet"]
        .load_balancer
        .as_ref()
        .expect("lb")
        .servers[0]
        .url;
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
}

#[test]
fn paused_containers_do_not_serve() {
    let c = inspected(&recorded("paused"), &settings(None));
    assert!(!c.serving);
    let part = build_part(&known(vec![c]), &docker_settings(""));
    assert!(part.containers.is_empty());
}

#[test]
fn unhealthy_containers_are_left_out_unless_empty_services_are_allowed() {
    let c = inspected(&recorded("sick"), &settings(None));
    assert_eq!(c.info.health.as_deref(), Some("unhealthy"));
    let part = build_part(&known(vec![c.clone()]), &docker_settings(""));
    assert!(part.containers.is_empty());
    let allow = docker_settings("allowEmptyServices = true\n");
    let part = build_part(&known(vec![c]), &allow);
    let (_, config) = &part.containers[0];
    let lb = config.http.services["sick"]
        .load_balancer
        .as_ref()
        .expect("lb");
    assert!(
        lb.servers.is_empty(),
        "kept with no server: its routers answer 503"
    );
}

#[test]
fn bind_port_ip_uses_the_published_address() {
    let raw = recorded("bound");
    let c = inspected(
        &raw,
        &InspectSettings {
            network: None,
            use_bind_port_ip: true,
        },
    );
    assert_eq!(c.info.ports, [80]);
    let part = build_part(&known(vec![c]), &docker_settings("useBindPortIP = true\n"));
    let (_, config) = &part.containers[0];
    let url = &config.http.services["bound"]
        .load_balancer
        .as_ref()
        .expect("lb")
        .servers[0]
        .url;
    assert_eq!(url, "http://127.0.0.1:28777");
}

#[test]
fn constraints_filter_containers() {
    let multi = inspected(&recorded("multi"), &settings(None));
    let host = hostnet();
    let s = docker_settings("constraints = \"Label(`traefik.enable`, `true`)\"\n");
    let part = build_part(&known(vec![multi, host]), &s);
    let names: Vec<_> = part.containers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["hostnet"]);
}

#[test]
fn exposed_by_default_false_needs_the_enable_label() {
    let multi = inspected(&recorded("multi"), &settings(None));
    let host = hostnet();
    let s = docker_settings("exposedByDefault = false\n");
    let part = build_part(&known(vec![multi, host]), &s);
    let names: Vec<_> = part.containers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["hostnet"]);
}

#[test]
fn bad_labels_leave_one_container_out() {
    let good = hostnet();
    let mut bad = inspected(&recorded("multi"), &settings(None));
    bad.info
        .labels
        .insert("traefik.http.routers.multi.priority".into(), "high".into());
    let part = build_part(&known(vec![good, bad]), &docker_settings(""));
    let names: Vec<_> = part.containers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["hostnet"]);
    assert_eq!(part.errors.len(), 1);
    assert_eq!(part.errors[0].container, "multi");
}

#[test]
fn settings_errors_name_the_key() {
    let bad = |text: &str| {
        let c: DockerProviderConfig = toml::from_str(text).expect("toml");
        DockerSettings::from_config(&c, None, "pylon.toml").expect_err("refused")
    };
    assert_eq!(
        bad("constraints = \"Label(`a`)\"").key_path,
        "providers.docker.constraints"
    );
    assert_eq!(
        bad("endpoint = \"/var/run/docker.sock\"").key_path,
        "providers.docker.endpoint"
    );
    assert_eq!(
        bad("defaultRule = \"Host(`{{ nope .Name }}`)\"").key_path,
        "providers.docker.defaultRule"
    );
}

fn docker_settings(text: &str) -> DockerSettings {
    let c: DockerProviderConfig = toml::from_str(text).expect("toml");
    DockerSettings::from_config(&c, None, "test").expect("settings")
}

fn known(list: Vec<Inspected>) -> BTreeMap<String, Inspected> {
    list.into_iter().map(|c| (c.id.clone(), c)).collect()
}

/// The recorded host-network container (it exposes no port), with a port label.
fn hostnet() -> Inspected {
    let mut c = inspected(&recorded("hostnet"), &settings(None));
    c.info.labels.insert(
        "traefik.http.services.hostnet.loadbalancer.server.port".into(),
        "28080".into(),
    );
    c
}
