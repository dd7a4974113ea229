//! `traefik.tcp.*` labels: routers, the default service and link, the container as server, TLS
//! in label form, and what is refused.

use super::*;

#[test]
fn tcp_labels_give_a_router_to_the_container_and_no_http_defaults() {
    let d = config(&container(
        "db",
        &[
            "traefik.tcp.routers.pg.rule=HostSNI(`db.example.com`)",
            "traefik.tcp.routers.pg.tls=true",
            "traefik.tcp.routers.pg.entrypoints=websecure",
            "traefik.tcp.services.pg.loadbalancer.server.port=5432",
            "traefik.tcp.services.pg.loadbalancer.proxyprotocol.version=2",
        ],
    ));
    assert!(d.http.routers.is_empty() && d.http.services.is_empty());
    let router = &d.tcp.routers["pg"];
    assert_eq!(router.service, "pg");
    assert!(router.tls.is_some(), "tls=true is an empty tls table");
    let lb = d.tcp.services["pg"].load_balancer.as_ref().unwrap();
    assert_eq!(lb.servers[0].address, "10.0.0.2:5432");
    assert!(lb.server.is_none());
    assert_eq!(lb.proxy_protocol.as_ref().unwrap().version, Some(2));
}

#[test]
fn a_tcp_router_without_a_service_gets_the_default_one() {
    let mut c = container(
        "cache",
        &[
            "traefik.tcp.routers.redis.rule=HostSNI(`*`)",
            "traefik.tcp.routers.redis.tls.passthrough=true",
            "traefik.http.routers.web.rule=Host(`cache.test`)",
        ],
    );
    c.ports = [6379].into_iter().collect();
    let d = config(&c);
    assert_eq!(d.tcp.routers["redis"].service, "cache");
    let lb = d.tcp.services["cache"].load_balancer.as_ref().unwrap();
    assert_eq!(lb.servers[0].address, "10.0.0.2:6379", "the exposed port");
    // HTTP labels keep their own defaults
    assert!(d.http.services.contains_key("cache"));
}

#[test]
fn tcp_label_mistakes_name_their_label() {
    let e = errors(&container("x", &["traefik.tcp.routers.t.entrypoints=tcp"]));
    assert!(e[0].to_string().contains("has no rule"), "{}", e[0]);
    let e = errors(&container(
        "x",
        &[
            "traefik.tcp.routers.t.rule=HostSNI(`*`)",
            "traefik.tcp.services.t.loadbalancer.servers[0].address=10.9.9.9:22",
        ],
    ));
    assert!(
        e.iter()
            .any(|e| e.to_string().contains("one server per container")),
        "{e:?}"
    );
}
