//! Docker discovery and reload figures (issue: Docker discovery and hot reload):
//! 1. time from `docker start` to the first request routed to the container (20 runs: median,
//!    p99), on a private Docker engine, release pylon;
//! 2. time to apply a change with 1,000 containers' labels (labels → config for every
//!    container, merge, validate, compile, with the previous snapshot to reuse from);
//! 3. pylon's RSS after 1,000 reloads vs after 1.
//!
//! Run: `cargo bench --bench discovery` (needs dockerd and the static busybox, as the tests).

#[path = "../tests/common/docker.rs"]
#[allow(dead_code)]
mod docker;

use pylon::config::labels::ContainerInfo;
use pylon::provider::docker::build_part;
use pylon::provider::docker::inspect::Inspected;
use pylon::runtime::compile::Compiler;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() {
    let start_to_route = docker_start_to_first_request(20);
    let apply = apply_with_containers(1000, 10);
    let (rss_1, rss_1000) = rss_after_reloads(1000);
    let pct = |d: &[Duration], p: f64| {
        let i = ((d.len() as f64 - 1.0) * p).round() as usize;
        d[i]
    };
    println!("| figure | value |");
    println!("|---|---|");
    println!(
        "| `docker start` → first routed request (20 runs) | median {:.0} ms, p99 {:.0} ms |",
        ms(pct(&start_to_route, 0.5)),
        ms(pct(&start_to_route, 0.99))
    );
    println!(
        "| apply a change with 1,000 containers' labels (median of 10) | {:.1} ms (labels → config {:.1} ms, merge + validate + compile {:.1} ms) |",
        ms(apply.0 + apply.1),
        ms(apply.0),
        ms(apply.1)
    );
    println!(
        "| RSS after 1 reload / after 1,000 reloads | {} KiB / {} KiB ({:+.1}%) |",
        rss_1,
        rss_1000,
        (rss_1000 as f64 / rss_1 as f64 - 1.0) * 100.0
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// The status code of `GET /` with `Host: host`, if pylon answers.
fn status(port: u16, host: &str) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        s,
        "GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = [0u8; 12];
    s.read_exact(&mut buf).ok()?;
    std::str::from_utf8(&buf[9..12]).ok()?.parse().ok()
}

struct Pylon {
    child: Child,
    dir: std::path::PathBuf,
}

impl Pylon {
    fn start(config: &str, port: u16) -> Pylon {
        let dir = std::env::temp_dir().join(format!("pylon-bench-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("pylon.toml"), config).expect("config");
        let log = std::fs::File::create(dir.join("pylon.log")).expect("log");
        let child = Command::new(env!("CARGO_BIN_EXE_pylon"))
            .arg("--config")
            .arg(dir.join("pylon.toml"))
            .env("RUST_LOG", "info")
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("pylon");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "pylon did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Pylon { child, dir }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("pylon.log")).unwrap_or_default()
    }

    fn rss_kib(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .expect("VmRSS")
    }
}

impl Drop for Pylon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn docker_start_to_first_request(runs: usize) -> Vec<Duration> {
    let engine = docker::DockerEngine::start(false);
    let port = free_port();
    let config = format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{port}\"\n[providers.docker]\nendpoint = \"{}\"\n",
        engine.endpoint()
    );
    let pylon = Pylon::start(&config, port);
    let mut times = Vec::new();
    for i in 0..runs {
        let name = format!("start-{i}");
        engine.serve_file(&name, "index.html", &name);
        let listen = free_port();
        let labels = [
            (
                "traefik.http.routers.r.rule",
                format!("Host(`{name}.bench`)"),
            ),
            (
                "traefik.http.services.s.loadbalancer.server.port",
                listen.to_string(),
            ),
        ];
        let id = engine.run_httpd(&name, listen, &labels, &[]);
        engine.docker(&["stop", "-t", "0", &id]).expect("stop");
        let host = format!("{name}.bench");
        let deadline = Instant::now() + Duration::from_secs(10);
        while status(port, &host) != Some(404) {
            assert!(
                Instant::now() < deadline,
                "route did not go:\n{}",
                pylon.log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        let started = Instant::now();
        engine.docker(&["start", &id]).expect("start");
        while status(port, &host) != Some(200) {
            assert!(
                Instant::now() < deadline + Duration::from_secs(10),
                "no route:\n{}",
                pylon.log()
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        times.push(started.elapsed());
        engine.docker(&["rm", "-f", &id]).expect("rm");
    }
    times.sort();
    times
}

/// A MusicShare-like container: router, strip-prefix middleware, service with a health check.
fn container(i: usize) -> Inspected {
    let labels: BTreeMap<String, String> = [
        (
            format!("traefik.http.routers.svc{i}.rule"),
            format!("PathPrefix(`/api/svc{i}`)"),
        ),
        (
            format!("traefik.http.routers.svc{i}.middlewares"),
            format!("strip{i}"),
        ),
        (
            format!("traefik.http.middlewares.strip{i}.stripprefix.prefixes"),
            format!("/api/svc{i}"),
        ),
        (
            format!("traefik.http.services.svc{i}.loadbalancer.server.port"),
            "8080".into(),
        ),
        (
            format!("traefik.http.services.svc{i}.loadbalancer.healthcheck.path"),
            "/health".into(),
        ),
        ("com.docker.compose.project".into(), "bench".into()),
        ("com.docker.compose.service".into(), format!("svc{i}")),
    ]
    .into_iter()
    .collect();
    Inspected {
        id: format!("{i:064}"),
        serving: true,
        warning: None,
        addresses: Vec::new(),
        created: format!("2026-01-01T00:00:00.{i:09}Z"),
        info: ContainerInfo {
            name: format!("bench-svc{i}-1"),
            service_name: Some(format!("svc{i}")),
            labels,
            ports: vec![8080],
            host_network: true,
            ..ContainerInfo::default()
        },
    }
}

/// (labels → config for every container, merge + validate + compile), medians.
fn apply_with_containers(count: usize, runs: usize) -> (Duration, Duration) {
    let dir = std::env::temp_dir().join(format!("pylon-bench-apply-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("pylon.toml");
    std::fs::write(
        &path,
        "[entryPoints.web]\naddress = \"127.0.0.1:1\"\n[providers.docker]\n",
    )
    .expect("config");
    let (compiler, _) = Compiler::new(&pylon::config::StaticSource::file(&path)).expect("compiler");
    let settings = compiler.docker.clone().expect("docker settings");
    let mut known: BTreeMap<String, Inspected> = (0..count)
        .map(container)
        .map(|c| (c.id.clone(), c))
        .collect();
    let mut previous = None;
    let (mut build_times, mut compile_times) = (Vec::new(), Vec::new());
    for run in 0..runs {
        // The change: one container's rule.
        if let Some(c) = known.values_mut().next() {
            c.info.labels.insert(
                "traefik.http.routers.svc0.rule".into(),
                format!("PathPrefix(`/v{run}`)"),
            );
        }
        let t = Instant::now();
        let part = build_part(&known, &settings);
        build_times.push(t.elapsed());
        assert_eq!(part.containers.len(), count, "{:?}", part.errors.first());
        compiler.sources.docker.store(Some(Arc::new(part)));
        let t = Instant::now();
        let compiled = compiler
            .compile(run as u64 + 1, previous.as_ref())
            .expect("compiles");
        compile_times.push(t.elapsed());
        assert_eq!(compiled.routers, count);
        previous = Some(compiled.snapshot);
    }
    let _ = std::fs::remove_dir_all(&dir);
    build_times.sort();
    compile_times.sort();
    (build_times[runs / 2], compile_times[runs / 2])
}

fn rss_after_reloads(reloads: usize) -> (u64, u64) {
    let port = free_port();
    let config = format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{port}\"\n[providers.file]\nfilename = \"dynamic.toml\"\nwatch = false\n"
    );
    let dynamic = |i: usize| {
        // Each reload changes a router, a middleware and a service (a new pool each time).
        format!(
            "[http.routers.r{i}]\nrule = \"PathPrefix(`/r{i}`)\"\nservice = \"s{i}\"\nmiddlewares = [\"m{i}\"]\n\
             [http.middlewares.m{i}.stripPrefix]\nprefixes = [\"/r{i}\"]\n\
             [http.services.s{i}.loadBalancer]\nservers = [{{ url = \"http://127.0.0.1:{}\" }}]\n",
            1000 + i % 50000
        )
    };
    let dir = std::env::temp_dir().join(format!("pylon-bench-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("dynamic.toml"), dynamic(0)).expect("dynamic");
    let pylon = Pylon::start(&config, port);
    let mut rss_first = 0;
    for i in 1..=reloads {
        std::fs::write(dir.join("dynamic.toml"), dynamic(i)).expect("dynamic");
        let _ = Command::new("kill")
            .args(["-HUP", &pylon.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while pylon.log().matches("configuration reloaded").count() < i {
            assert!(
                Instant::now() < deadline,
                "reload {i} not applied:\n{}",
                pylon.log()
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        // Traffic through the new route, so each config is used.
        let _ = status(port, "x");
        if i == 1 {
            rss_first = pylon.rss_kib();
        }
    }
    (rss_first, pylon.rss_kib())
}
