//! Merging containers: replicas add servers, conflicting definitions are dropped.

use super::*;

#[test]
fn replicas_merge_into_one_service() {
    let labels = [
        "traefik.http.routers.api.rule=PathPrefix(`/api`)",
        "traefik.http.services.api.loadbalancer.server.port=8000",
        "traefik.http.services.api.loadbalancer.sticky.cookie.name=s",
    ];
    let mut a = container("api-2", &labels);
    a.ip = Some(IpAddr::from([10, 0, 0, 3]));
    let b = container("api-1", &labels);
    let (d, errors) = merge_containers(vec![
        (a.name.clone(), config(&a)),
        (b.name.clone(), config(&b)),
        // The same server twice is kept once.
        (b.name.clone(), config(&b)),
    ]);
    assert_eq!(errors, []);
    assert_eq!(d.http.routers.len(), 1);
    assert_eq!(
        urls(&d, "api"),
        ["http://10.0.0.2:8000", "http://10.0.0.3:8000"]
    );
}

#[test]
fn conflicting_definitions_are_reported_and_dropped() {
    let a = container(
        "a",
        &[
            "traefik.http.routers.r.rule=Path(`/a`)",
            "traefik.http.services.s.loadbalancer.server.port=80",
        ],
    );
    let b = container(
        "b",
        &[
            "traefik.http.routers.r.rule=Path(`/b`)",
            "traefik.http.services.s.loadbalancer.server.port=80",
            "traefik.http.services.s.loadbalancer.passhostheader=false",
        ],
    );
    let mut other = container("c", &["traefik.http.routers.ok.rule=Path(`/c`)"]);
    other.ports = vec![80];
    let (d, errors) = merge_containers(vec![
        ("b".into(), config(&b)),
        ("a".into(), config(&a)),
        ("c".into(), config(&other)),
    ]);
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(errors.len(), 2, "{text:?}");
    assert!(text[0]
        .starts_with("container \"b\": router `r` is defined differently by container \"a\""));
    assert!(text[1].contains("service `s`"), "{}", text[1]);
    assert_eq!(d.http.routers.keys().collect::<Vec<_>>(), ["ok"]);
    assert_eq!(d.http.services.keys().collect::<Vec<_>>(), ["c"]);
}
