//! The MusicShare fixture (tests/fixtures/musicshare/): its static config and its routers,
//! written as a file-provider TOML, route as its README table says; its YAML static file runs
//! as it is.

mod common;

use common::{client, free_port, TestGateway, TestUpstream};

fn static_config(web: u16, websecure: u16, admin: u16) -> String {
    let original = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/musicshare/traefik.toml"
    ))
    .expect("the MusicShare fixture is in tests/fixtures/musicshare");
    // Same keys, ports remapped to free loopback ports (`traefik`, which the insecure API
    // implies, included), file provider instead of Docker.
    original
        .replace(
            "[entryPoints.web]\n",
            &format!(
                "[entryPoints.traefik]\naddress = \"127.0.0.1:{admin}\"\n\n[entryPoints.web]\n"
            ),
        )
        .replace(
            "address = \":80\"",
            &format!("address = \"127.0.0.1:{web}\""),
        )
        .replace(
            "address = \":443\"",
            &format!("address = \"127.0.0.1:{websecure}\""),
        )
        .replace(
            "[providers.docker]",
            "[providers.file]\nfilename = \"dynamic.toml\"\n[providers.docker]",
        )
}

/// The compose labels of docker-compose.yml as the equivalent TOML (mixed key case kept).
fn dynamic_config(ports: &[(&str, u16)]) -> String {
    let url = |svc: &str| {
        let port = ports
            .iter()
            .find(|(n, _)| *n == svc)
            .map(|(_, p)| *p)
            .unwrap();
        format!("[http.services.{svc}.loadbalancer]\nservers = [{{ url = \"http://127.0.0.1:{port}\" }}]\n")
    };
    let mut t = String::new();
    let router = |t: &mut String,
                  name: &str,
                  rule: &str,
                  svc: &str,
                  mws: &[&str],
                  prio: Option<i64>| {
        t.push_str(&format!("[http.routers.{name}]\nrule = \"{rule}\"\nservice = \"{svc}\"\nentrypoints = [\"websecure\"]\ntls = true\n"));
        if !mws.is_empty() {
            let list: Vec<String> = mws.iter().map(|m| format!("\"{m}\"")).collect();
            t.push_str(&format!("middlewares = [{}]\n", list.join(", ")));
        }
        if let Some(p) = prio {
            t.push_str(&format!("priority = {p}\n"));
        }
    };
    let strip = |t: &mut String, name: &str, prefix: &str| {
        t.push_str(&format!(
            "[http.middlewares.{name}.stripprefix]\nprefixes = [\"{prefix}\"]\n"
        ));
    };
    router(
        &mut t,
        "userservice",
        "PathPrefix(`/api/users`)",
        "userservice",
        &["userservice-stripprefix"],
        None,
    );
    strip(&mut t, "userservice-stripprefix", "/api/users");
    router(
        &mut t,
        "music",
        "PathPrefix(`/api/music`)",
        "music",
        &["music-stripprefix"],
        None,
    );
    strip(&mut t, "music-stripprefix", "/api/music");
    router(
        &mut t,
        "social",
        "PathPrefix(`/api/social`)",
        "social",
        &["social-stripprefix"],
        None,
    );
    strip(&mut t, "social-stripprefix", "/api/social");
    router(
        &mut t,
        "social-docs",
        "PathPrefix(`/swagger-ui`) || PathPrefix(`/v3/api-docs`)",
        "social",
        &[],
        None,
    );
    router(
        &mut t,
        "notifications",
        "PathPrefix(`/api/notifications`)",
        "notifications",
        &["notifications-stripprefix"],
        None,
    );
    strip(&mut t, "notifications-stripprefix", "/api/notifications");
    router(
        &mut t,
        "notifications-ws",
        "PathPrefix(`/ws`)",
        "notifications",
        &[],
        None,
    );
    router(
        &mut t,
        "upload",
        "PathPrefix(`/upload`)",
        "upload",
        &[],
        Some(2),
    );
    router(
        &mut t,
        "formulario",
        "PathPrefix(`/formulario-post`)",
        "formulario",
        &["formulario-stripprefix"],
        None,
    );
    strip(&mut t, "formulario-stripprefix", "/formulario-post");
    router(
        &mut t,
        "frontend",
        "PathPrefix(`/`)",
        "frontend",
        &[],
        Some(1),
    );
    for svc in [
        "userservice",
        "music",
        "social",
        "notifications",
        "upload",
        "formulario",
        "frontend",
    ] {
        t.push_str(&url(svc));
    }
    t
}

#[tokio::test]
async fn musicshare_routes_as_its_readme_says() {
    let names = [
        "userservice",
        "music",
        "social",
        "notifications",
        "upload",
        "formulario",
        "frontend",
    ];
    let mut upstreams = Vec::new();
    for n in names {
        upstreams.push(TestUpstream::start(n).await);
    }
    let ports: Vec<(&str, u16)> = names
        .iter()
        .zip(&upstreams)
        .map(|(n, u)| (*n, u.port))
        .collect();
    let (web, websecure, admin) = (free_port(), free_port(), free_port());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dynamic.toml"), dynamic_config(&ports)).unwrap();
    let config = static_config(web, websecure, admin);
    let _gw = TestGateway::start_in(dir, &config, &[web, websecure, admin]).await;
    routes_as_the_readme_says(web, websecure, admin).await;
}

/// MusicShare's own `traefik.yml`, read as it is: only the ports (which need root and may be
/// taken) and the provider (no Docker engine here) are set from flags.
#[tokio::test]
async fn musicshare_yaml_static_file_runs_unchanged() {
    let names = [
        "userservice",
        "music",
        "social",
        "notifications",
        "upload",
        "formulario",
        "frontend",
    ];
    let mut upstreams = Vec::new();
    for n in names {
        upstreams.push(TestUpstream::start(n).await);
    }
    let ports: Vec<(&str, u16)> = names
        .iter()
        .zip(&upstreams)
        .map(|(n, u)| (*n, u.port))
        .collect();
    let (web, websecure, admin) = (free_port(), free_port(), free_port());
    let dir = tempfile::tempdir().unwrap();
    let dynamic = dir.path().join("dynamic.toml");
    std::fs::write(&dynamic, dynamic_config(&ports)).unwrap();
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/musicshare/traefik.yml"
    );
    let args = [
        format!("--entryPoints.web.address=127.0.0.1:{web}"),
        format!("--entryPoints.websecure.address=127.0.0.1:{websecure}"),
        format!("--entryPoints.traefik.address=127.0.0.1:{admin}"),
        "--providers.docker=false".to_string(),
        format!("--providers.file.filename={}", dynamic.display()),
    ];
    let gw = TestGateway::start_file(dir, file.as_ref(), &args, &[web, websecure, admin]).await;
    routes_as_the_readme_says(web, websecure, admin).await;
    let log = gw.log();
    assert!(
        log.contains(&format!("configuration loaded from file: {file}")),
        "{log}"
    );
}

/// Checks MusicShare's README table, the redirect, `/ping`, the API, dashboard and metrics.
async fn routes_as_the_readme_says(web: u16, websecure: u16, admin: u16) {
    let table = [
        ("/api/users/auth/token", "userservice", "/auth/token"),
        ("/api/music/tracks", "music", "/tracks"),
        ("/api/social/posts", "social", "/posts"),
        ("/swagger-ui/index.html", "social", "/swagger-ui/index.html"),
        ("/api/notifications/send", "notifications", "/send"),
        ("/ws", "notifications", "/ws"),
        ("/upload", "upload", "/upload"),
        ("/formulario-post/x", "formulario", "/x"),
        ("/anything-else", "frontend", "/anything-else"),
    ];
    let c = client();
    for (path, service, upstream_path) in table {
        let r = c
            .get(format!("https://127.0.0.1:{websecure}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["x-upstream"], service, "{path}");
        assert_eq!(
            r.text().await.unwrap(),
            format!("{service} {upstream_path}"),
            "{path}"
        );
    }
    // web redirects to websecure (permanent by default), ping wins over the redirect
    let r = c
        .get(format!("http://127.0.0.1:{web}/api/music/tracks"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 301);
    assert_eq!(
        r.headers()["location"],
        format!("https://127.0.0.1:{websecure}/api/music/tracks")
    );
    let r = c
        .get(format!("http://127.0.0.1:{web}/ping"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // As with Traefik, the insecure API, the dashboard and /metrics are on `traefik`.
    let api = |p: &str| format!("http://127.0.0.1:{admin}{p}");
    let (_, routers) = common::get_json(api("/api/http/routers?status=enabled")).await;
    let user_routers = routers
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["provider"] == "file")
        .count();
    assert_eq!(user_routers, 9, "{routers}");
    let r = c.get(api("/dashboard/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = c.get(api("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("traefik_entrypoint_requests_total"));
    // user routers are not bound to `traefik`
    let r = c.get(api("/anything-else")).send().await.unwrap();
    assert_eq!(r.status(), 404);
}
