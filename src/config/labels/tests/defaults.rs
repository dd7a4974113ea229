//! Defaults: service and router names, the default rule, servers, health.

use super::*;

#[test]
fn defaults_name_the_service_and_router_after_the_container() {
    let mut plain = container("My_App.1", &[]);
    plain.ports = vec![8080, 80];
    let mut compose = container("proj-web-1", &[]);
    compose.ports = vec![3000];
    compose.service_name = Some("web".into());
    compose
        .labels
        .insert("com.docker.compose.project".into(), "proj".into());
    let mut routers_only = container("api-1", &["traefik.http.routers.api.rule=Path(`/x`)"]);
    routers_only.ports = vec![9000];
    // Empty values are unset, as Go's zero values are for Traefik.
    let mut empty = container(
        "e",
        &[
            "traefik.http.routers.e.rule=",
            "traefik.http.routers.e.service= ",
        ],
    );
    empty.ports = vec![80];
    let cases: &[(&ContainerInfo, &str, &str, &str, &str)] = &[
        (
            &plain,
            "My-App-1",
            "Host(`My-App-1`)",
            "My-App-1",
            "http://10.0.0.2:80",
        ),
        (
            &compose,
            "web-proj",
            "Host(`web-proj`)",
            "web-proj",
            "http://10.0.0.2:3000",
        ),
        (
            &routers_only,
            "api",
            "Path(`/x`)",
            "api-1",
            "http://10.0.0.2:9000",
        ),
        (&empty, "e", "Host(`e`)", "e", "http://10.0.0.2:80"),
    ];
    for (c, router, rule, service, url) in cases {
        let d = config(c);
        assert_eq!(
            d.http.routers.keys().collect::<Vec<_>>(),
            [router],
            "{}",
            c.name
        );
        assert_eq!(d.http.routers[*router].rule, *rule);
        assert_eq!(d.http.routers[*router].service.as_deref(), Some(*service));
        assert_eq!(urls(&d, service), [*url]);
    }
}

#[test]
fn the_default_rule_template_reads_the_model() {
    let mut c = container("shop-1", &["domain=shop.example.com"]);
    c.ports = vec![80];
    let cases = [
        (
            "Host(`{{ normalize .Name }}.local`)",
            "Host(`shop-1.local`)",
        ),
        (
            "Host(`{{ index .Labels \"domain\" }}`)",
            "Host(`shop.example.com`)",
        ),
        ("Host(`{{ .ContainerName | upper }}`)", "Host(`SHOP-1`)"),
    ];
    for (template, rule) in cases {
        let s = LabelSettings {
            default_rule: template.into(),
            ..LabelSettings::default()
        };
        let d = container_config(&c, &s).unwrap().unwrap();
        assert_eq!(d.http.routers["shop-1"].rule, rule, "{template}");
    }
    let bad = LabelSettings {
        default_rule: "Host(`{{ shout .Name }}`)".into(),
        ..LabelSettings::default()
    };
    let e = container_config(&c, &bad).unwrap_err();
    assert!(
        e.to_string()
            .contains("unsupported template function `shout`"),
        "{e}"
    );
}

#[test]
fn servers_come_from_the_container_address() {
    let port = "traefik.http.services.s.loadbalancer.server.port=8080";
    let mut host = container("h", &[port]);
    host.host_network = true;
    host.ip = None;
    let mut v6 = container("v6", &[port]);
    v6.ip = Some("fd00::5".parse().unwrap());
    let https = container(
        "tls",
        &[
            port,
            "traefik.http.services.s.loadbalancer.server.scheme=https",
        ],
    );
    let url = container(
        "u",
        &["traefik.http.services.s.loadbalancer.server.url=http://api:1/"],
    );
    let weight = container(
        "w",
        &[port, "traefik.http.services.s.loadbalancer.server.weight=3"],
    );
    let cases: &[(&ContainerInfo, &str)] = &[
        (&host, "http://127.0.0.1:8080"),
        (&v6, "http://[fd00::5]:8080"),
        (&https, "https://10.0.0.2:8080"),
        (&url, "http://api:1/"),
        (&weight, "http://10.0.0.2:8080"),
    ];
    for (c, want) in cases {
        assert_eq!(urls(&config(c), "s"), [*want], "{}", c.name);
    }
    let d = config(&weight);
    let lb = d.http.services["s"].load_balancer.as_ref().unwrap();
    assert_eq!(lb.servers[0].weight, Some(3));
}

#[test]
fn several_services_and_no_router_make_no_router() {
    let c = container(
        "two",
        &[
            "traefik.http.services.a.loadbalancer.server.port=1",
            "traefik.http.services.b.loadbalancer.server.port=2",
        ],
    );
    let d = config(&c);
    assert!(d.http.routers.is_empty());
    assert_eq!(d.http.services.len(), 2);
}

#[test]
fn unhealthy_containers_are_left_out_or_kept_empty() {
    let mut c = container(
        "app",
        &["traefik.http.services.s.loadbalancer.server.port=80"],
    );
    for (health, served) in [
        (None, true),
        (Some("healthy"), true),
        (Some("starting"), false),
        (Some("unhealthy"), false),
    ] {
        c.health = health.map(String::from);
        assert_eq!(is_healthy(&c), served);
        assert_eq!(
            container_config(&c, &LabelSettings::default())
                .unwrap()
                .is_some(),
            served
        );
    }
    let kept = container_config_without_servers(&c, &LabelSettings::default())
        .unwrap()
        .unwrap();
    assert!(urls(&kept, "s").is_empty());
    assert_eq!(kept.http.routers["app"].service.as_deref(), Some("s"));
}
