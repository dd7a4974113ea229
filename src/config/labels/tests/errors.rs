//! Bad labels: each error names the container and the label, and fails that container only.

use super::*;

#[test]
fn bad_labels_fail_their_container_only() {
    let cases: &[(&[&str], &str, &str)] = &[
        (
            &["traefik.http.routers.x.priority=abc"],
            "traefik.http.routers.x.priority",
            "expected an integer",
        ),
        (
            &["traefik.http.routers.x.rulez=Path(`/`)"],
            "traefik.http.routers.x.rulez",
            "unknown key",
        ),
        (
            &["traefik.http.routerz.x.rule=Path(`/`)"],
            "traefik.http.routerz.x.rule",
            "unknown key",
        ),
        (
            &["traefik.http.routers..rule=Path(`/`)"],
            "traefik.http.routers..rule",
            "empty key",
        ),
        (
            &["traefik.udp.routers.t.entrypoints=dns"],
            "traefik.udp.routers.t.entrypoints",
            "UDP routers and services are not supported yet",
        ),
        (
            &[
                "traefik.http.services.s.loadbalancer.server.url=http://x",
                "traefik.http.services.s.loadbalancer.server.port=1",
            ],
            "traefik.http.services.s.loadbalancer.server.url",
            "not allowed",
        ),
        (
            &[
                "traefik.http.services.s.loadbalancer.sticky.cookie=maybe",
                "traefik.http.services.s.loadbalancer.sticky.cookie.name=x",
            ],
            "traefik.http.services.s.loadbalancer.sticky.cookie",
            "true or false",
        ),
        (
            &[
                "traefik.http.services.a.loadbalancer.server.port=1",
                "traefik.http.services.b.loadbalancer.server.port=2",
                "traefik.http.routers.r.rule=Path(`/`)",
            ],
            "traefik.http.routers.r.rule",
            "defines several",
        ),
        (
            &["traefik.http.services.s.loadbalancer.servers[0].url=http://x"],
            "traefik.http.services.s.loadbalancer.servers[0].url",
            "one server per container",
        ),
    ];
    for (labels, label, message) in cases {
        let bad = container("web-1", labels);
        let e = errors(&bad);
        assert_eq!(e[0].container, "web-1");
        assert_eq!(e[0].label.as_deref(), Some(*label), "{labels:?}: {}", e[0]);
        assert!(e[0].message.contains(message), "{labels:?}: {}", e[0]);
        assert!(e[0]
            .to_string()
            .starts_with(&format!("container \"web-1\": label {label}: ")));
    }
    // Two bad labels in one container: both reported.
    let two = container(
        "web-1",
        &[
            "traefik.http.routers.x.priority=abc",
            "traefik.http.middlewares.m.stripprefix.prefixez=/a",
        ],
    );
    assert_eq!(errors(&two).len(), 2);
    // No port at all.
    let e = errors(&container("noport", &[]));
    assert!(e[0].message.contains("no port"), "{}", e[0]);
}
