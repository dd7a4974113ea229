//! MusicShare's compose labels (tests/fixtures/musicshare/docker-compose.yml), as written there.

use super::*;

/// (compose service, replicas, IP's last byte, labels).
type Service = (&'static str, usize, u8, &'static [&'static str]);

const SERVICES: &[Service] = &[
    ("userservice", 2, 10, &[
        "traefik.enable=true",
        "traefik.http.routers.userservice.rule=PathPrefix(`/api/users`)",
        "traefik.http.middlewares.userservice-stripprefix.stripprefix.prefixes=/api/users",
        "traefik.http.routers.userservice.middlewares=userservice-stripprefix",
        "traefik.http.services.userservice.loadbalancer.server.port=8002",
        "traefik.http.routers.userservice.entrypoints=websecure",
        "traefik.http.routers.userservice.tls=true",
        "traefik.http.services.userservice.loadbalancer.sticky.cookie=true",
        "traefik.http.services.userservice.loadbalancer.sticky.cookie.name=userservice_session",
        "traefik.http.services.userservice.loadbalancer.healthcheck.path=/health",
        "traefik.http.services.userservice.loadbalancer.healthcheck.interval=10s",
    ]),
    ("music-service", 2, 20, &[
        "traefik.enable=true",
        "traefik.http.routers.music.rule=PathPrefix(`/api/music`)",
        "traefik.http.middlewares.music-stripprefix.stripprefix.prefixes=/api/music",
        "traefik.http.routers.music.middlewares=music-stripprefix",
        "traefik.http.services.music.loadbalancer.server.port=8081",
        "traefik.http.routers.music.entrypoints=websecure",
        "traefik.http.routers.music.tls=true",
        "traefik.http.services.music.loadbalancer.healthcheck.path=/health",
        "traefik.http.services.music.loadbalancer.healthcheck.interval=10s",
    ]),
    ("social-service", 2, 30, &[
        "traefik.enable=true",
        "traefik.http.routers.social.rule=PathPrefix(`/api/social`)",
        "traefik.http.middlewares.social-stripprefix.stripprefix.prefixes=/api/social",
        "traefik.http.routers.social.middlewares=social-stripprefix",
        "traefik.http.routers.social.service=social",
        "traefik.http.routers.social.entrypoints=websecure",
        "traefik.http.routers.social.tls=true",
        "traefik.http.routers.social-docs.rule=PathPrefix(`/swagger-ui`) || PathPrefix(`/v3/api-docs`)",
        "traefik.http.routers.social-docs.service=social",
        "traefik.http.routers.social-docs.entrypoints=websecure",
        "traefik.http.routers.social-docs.tls=true",
        "traefik.http.services.social.loadbalancer.server.port=8083",
    ]),
    ("notificationservice", 2, 40, &[
        "traefik.enable=true",
        "traefik.http.routers.notifications.rule=PathPrefix(`/api/notifications`)",
        "traefik.http.middlewares.notifications-stripprefix.stripprefix.prefixes=/api/notifications",
        "traefik.http.routers.notifications.middlewares=notifications-stripprefix",
        "traefik.http.routers.notifications.service=notifications",
        "traefik.http.routers.notifications.entrypoints=websecure",
        "traefik.http.routers.notifications.tls=true",
        "traefik.http.routers.notifications-ws.rule=PathPrefix(`/ws`)",
        "traefik.http.routers.notifications-ws.service=notifications",
        "traefik.http.routers.notifications-ws.entrypoints=websecure",
        "traefik.http.routers.notifications-ws.tls=true",
        "traefik.http.services.notifications.loadbalancer.server.port=8082",
    ]),
    ("nextjs", 1, 50, &[
        "traefik.enable=true",
        "traefik.http.routers.upload.rule=PathPrefix(`/upload`)",
        "traefik.http.routers.upload.priority=2",
        "traefik.http.routers.upload.entrypoints=websecure",
        "traefik.http.routers.upload.tls=true",
        "traefik.http.services.upload.loadbalancer.server.port=3000",
    ]),
    ("formulario-post", 1, 60, &[
        "traefik.enable=true",
        "traefik.http.routers.formulario.rule=PathPrefix(`/formulario-post`)",
        "traefik.http.middlewares.formulario-stripprefix.stripprefix.prefixes=/formulario-post",
        "traefik.http.routers.formulario.middlewares=formulario-stripprefix",
        "traefik.http.routers.formulario.entrypoints=websecure",
        "traefik.http.routers.formulario.tls=true",
        "traefik.http.services.formulario.loadbalancer.server.port=80",
    ]),
    ("frontend", 1, 70, &[
        "traefik.enable=true",
        "traefik.http.routers.frontend.rule=PathPrefix(`/`)",
        "traefik.http.routers.frontend.priority=1",
        "traefik.http.routers.frontend.entrypoints=websecure",
        "traefik.http.routers.frontend.tls=true",
        "traefik.http.services.frontend.loadbalancer.server.port=80",
    ]),
];

/// (name, rule, priority, middleware, service).
type Route = (
    &'static str,
    &'static str,
    Option<i64>,
    Option<&'static str>,
    &'static str,
);

/// The README's routing table, as routers.
const ROUTERS: &[Route] = &[
    (
        "userservice",
        "PathPrefix(`/api/users`)",
        None,
        Some("userservice-stripprefix"),
        "userservice",
    ),
    (
        "music",
        "PathPrefix(`/api/music`)",
        None,
        Some("music-stripprefix"),
        "music",
    ),
    (
        "social",
        "PathPrefix(`/api/social`)",
        None,
        Some("social-stripprefix"),
        "social",
    ),
    (
        "social-docs",
        "PathPrefix(`/swagger-ui`) || PathPrefix(`/v3/api-docs`)",
        None,
        None,
        "social",
    ),
    (
        "notifications",
        "PathPrefix(`/api/notifications`)",
        None,
        Some("notifications-stripprefix"),
        "notifications",
    ),
    (
        "notifications-ws",
        "PathPrefix(`/ws`)",
        None,
        None,
        "notifications",
    ),
    ("upload", "PathPrefix(`/upload`)", Some(2), None, "upload"),
    (
        "formulario",
        "PathPrefix(`/formulario-post`)",
        None,
        Some("formulario-stripprefix"),
        "formulario",
    ),
    ("frontend", "PathPrefix(`/`)", Some(1), None, "frontend"),
];

/// (middleware, prefix), and (service, port, IP's last byte, replicas).
const STRIPS: &[(&str, &str)] = &[
    ("userservice-stripprefix", "/api/users"),
    ("music-stripprefix", "/api/music"),
    ("social-stripprefix", "/api/social"),
    ("notifications-stripprefix", "/api/notifications"),
    ("formulario-stripprefix", "/formulario-post"),
];
const UPSTREAMS: &[(&str, u16, u8, usize)] = &[
    ("userservice", 8002, 10, 2),
    ("music", 8081, 20, 2),
    ("social", 8083, 30, 2),
    ("notifications", 8082, 40, 2),
    ("upload", 3000, 50, 1),
    ("formulario", 80, 60, 1),
    ("frontend", 80, 70, 1),
];

/// Every replica of every service, as Docker Compose names them, each with its own IP.
fn containers() -> Vec<ContainerInfo> {
    let mut all = Vec::new();
    for (service, replicas, ip, labels) in SERVICES {
        for n in 1..=*replicas {
            let mut c = container(&format!("musicshare-{service}-{n}"), labels);
            c.service_name = Some(service.to_string());
            c.labels
                .insert("com.docker.compose.project".into(), "musicshare".into());
            c.labels
                .insert("com.docker.compose.service".into(), service.to_string());
            c.ip = Some(IpAddr::from([172, 18, 0, ip + n as u8]));
            all.push(c);
        }
    }
    all
}

#[test]
fn every_musicshare_container_gives_the_readme_routes() {
    let settings = LabelSettings {
        exposed_by_default: false,
        ..LabelSettings::default()
    };
    let parts: Vec<(String, DynamicConfig)> = containers()
        .into_iter()
        .map(|c| {
            let d = container_config(&c, &settings).unwrap().unwrap();
            (c.name, d)
        })
        .collect();
    let (d, errors) = merge_containers(parts);
    assert_eq!(errors, []);

    let names: Vec<&str> = d.http.routers.keys().map(String::as_str).collect();
    let mut want: Vec<&str> = ROUTERS.iter().map(|r| r.0).collect();
    want.sort();
    assert_eq!(names, want);
    for (name, rule, priority, middleware, service) in ROUTERS {
        let r = &d.http.routers[*name];
        assert_eq!(r.rule, *rule, "{name}");
        assert_eq!(r.priority, *priority, "{name}");
        assert_eq!(
            r.middlewares,
            middleware.iter().copied().collect::<Vec<_>>(),
            "{name}"
        );
        assert_eq!(r.service.as_deref(), Some(*service), "{name}");
        assert_eq!(r.entry_points, ["websecure"], "{name}");
        assert!(r.is_tls(), "{name}");
    }

    assert_eq!(d.http.middlewares.len(), STRIPS.len());
    for (name, prefix) in STRIPS {
        let m = &d.http.middlewares[*name];
        let crate::config::dynamic::MiddlewareConfig::StripPrefix(m) = m else {
            panic!("{name} is a {}", m.kind())
        };
        assert_eq!(m.prefixes, [*prefix], "{name}");
    }

    assert_eq!(d.http.services.len(), UPSTREAMS.len());
    for (name, port, ip, replicas) in UPSTREAMS {
        let lb = d.http.services[*name].load_balancer.as_ref().unwrap();
        let urls: Vec<String> = lb.servers.iter().map(|s| s.url.clone()).collect();
        let want: Vec<String> = (1..=*replicas)
            .map(|n| format!("http://172.18.0.{}:{port}", ip + n as u8))
            .collect();
        assert_eq!(urls, want, "{name}");
        assert!(lb.server.is_none(), "{name}");
    }

    let lb = |name: &str| d.http.services[name].load_balancer.clone().unwrap();
    let cookie = lb("userservice").sticky.unwrap().cookie.unwrap();
    assert!(cookie.enabled());
    let name = cookie.options().and_then(|c| c.name.clone());
    assert_eq!(name.as_deref(), Some("userservice_session"));
    for service in ["userservice", "music"] {
        let hc = lb(service).health_check.unwrap();
        assert_eq!(hc.path.as_deref(), Some("/health"));
        assert_eq!(hc.interval.map(|i| i.get()), Some(Duration::from_secs(10)));
    }
    for service in [
        "social",
        "notifications",
        "upload",
        "formulario",
        "frontend",
    ] {
        assert!(lb(service).health_check.is_none(), "{service}");
        assert!(lb(service).sticky.is_none(), "{service}");
    }
}

#[test]
fn musicshare_merged_config_passes_validation() {
    let settings = LabelSettings::default();
    let parts = containers()
        .into_iter()
        .map(|c| {
            (
                c.name.clone(),
                container_config(&c, &settings).unwrap().unwrap(),
            )
        })
        .collect();
    let (d, errors) = merge_containers(parts);
    assert_eq!(errors, []);
    let static_cfg = crate::config::load_static_str(
        "[entryPoints.web]\naddress = \":80\"\n[entryPoints.websecure]\naddress = \":443\"\n",
        "traefik.toml",
    )
    .unwrap();
    let checked = crate::config::validate(&static_cfg, &d, "docker");
    assert!(checked.is_ok(), "{}", checked.unwrap_err());
}
