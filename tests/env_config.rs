//! Static keys from the environment and flags, end to end: the real binary with no config file
//! listens on a loopback entry point and routes by a file provider directory named outside a
//! file; a bad variable stops it with an error naming the variable.

mod common;

use common::{client, free_port, route_all_to, TestUpstream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A pylon process run in an empty directory (so no `conf/pylon.toml`), killed on drop.
struct Pylon {
    child: Child,
    dir: tempfile::TempDir,
}

impl Pylon {
    fn command(dir: &tempfile::TempDir, env: &[(&str, String)], args: &[String]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pylon"));
        for (name, _) in std::env::vars() {
            if name.starts_with("PYLON_") || name.starts_with("TRAEFIK_") {
                cmd.env_remove(name);
            }
        }
        cmd.current_dir(dir.path())
            .args(args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("RUST_LOG", "info")
            .stdin(Stdio::null());
        cmd
    }

    fn start(env: &[(&str, String)], args: &[String]) -> Pylon {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = std::fs::File::create(dir.path().join("pylon.log")).expect("log file");
        let child = Self::command(&dir, env, args)
            .stdout(log.try_clone().expect("clone log"))
            .stderr(log)
            .spawn()
            .expect("start pylon");
        Pylon { child, dir }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pylon.log")).unwrap_or_default()
    }

    /// Waits until `/ping` on `port` answers 200.
    async fn wait_ready(&mut self, port: u16) {
        let url = format!("http://127.0.0.1:{port}/ping");
        let up = common::eventually(Duration::from_secs(20), || {
            let url = url.clone();
            async move {
                let r = client().get(&url).send().await.ok()?;
                (r.status() == 200).then_some(())
            }
        })
        .await;
        if up.is_none() {
            let exited = self.child.try_wait().ok().flatten();
            panic!(
                "pylon did not answer on {port} (exit: {exited:?}):\n{}",
                self.log()
            );
        }
    }
}

impl Drop for Pylon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A file provider directory routing everything to `upstream`.
fn dynamic_dir(upstream: &TestUpstream) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("routes.toml"),
        route_all_to(&upstream.url()),
    )
    .expect("write routes");
    dir
}

async fn assert_routed(port: u16, upstream: &TestUpstream) {
    let r = client()
        .get(format!("http://127.0.0.1:{port}/hello"))
        .send()
        .await
        .expect("request through pylon");
    assert_eq!(r.status(), 200);
    assert!(
        upstream.requests().iter().any(|s| s.target == "/hello"),
        "the upstream did not see /hello"
    );
}

#[tokio::test]
async fn environment_alone_opens_an_entry_point_and_routes() {
    let upstream = TestUpstream::start("env").await;
    let routes = dynamic_dir(&upstream);
    let port = free_port();
    let mut pylon = Pylon::start(
        &[
            ("PYLON_ENTRYPOINTS_WEB_ADDRESS", format!("127.0.0.1:{port}")),
            (
                "PYLON_PROVIDERS_FILE_DIRECTORY",
                routes.path().display().to_string(),
            ),
            ("TRAEFIK_PING_ENTRYPOINT", "web".into()),
            ("PYLON_LOG_LEVEL", "info".into()),
            (
                "PYLON_ENTRYPOINTS_WEB_TRANSPORT_LIFECYCLE_GRACETIMEOUT",
                "1s".into(),
            ),
        ],
        &[],
    );
    pylon.wait_ready(port).await;
    assert_routed(port, &upstream).await;
}

#[tokio::test]
async fn flags_win_over_the_environment_and_secrets_come_from_files() {
    let upstream = TestUpstream::start("flags").await;
    let routes = dynamic_dir(&upstream);
    let (env_port, flag_port) = (free_port(), free_port());
    let secrets = tempfile::tempdir().expect("temp dir");
    let secret = secrets.path().join("directory");
    std::fs::write(&secret, format!("{}\n", routes.path().display())).expect("write secret");
    let mut pylon = Pylon::start(
        &[
            (
                "PYLON_ENTRYPOINTS_WEB_ADDRESS",
                format!("127.0.0.1:{env_port}"),
            ),
            (
                "PYLON_PROVIDERS_FILE_DIRECTORY_FILE",
                secret.display().to_string(),
            ),
        ],
        &[
            format!("--entryPoints.web.address=127.0.0.1:{flag_port}"),
            "--ping.entryPoint=web".into(),
            "--providers.file.watch=false".into(),
            "run".into(),
        ],
    );
    pylon.wait_ready(flag_port).await;
    assert_routed(flag_port, &upstream).await;
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", env_port)).is_err(),
        "the environment's address is overridden by the flag"
    );
}

#[test]
fn a_bad_variable_or_flag_stops_pylon_naming_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let out = Pylon::command(
        &dir,
        &[
            ("PYLON_ENTRYPOINTS_WEB_ADRESS", format!("127.0.0.1:{port}")),
            ("PYLON_API_INSECURE", "maybe".into()),
        ],
        &[],
    )
    .output()
    .expect("run pylon");
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains(
            "PYLON_ENTRYPOINTS_WEB_ADRESS: unknown key `adress` under entryPoints.web; did you mean `address`?"
        ),
        "{text}"
    );
    assert!(
        text.contains("PYLON_API_INSECURE: expected true or false, found `maybe`"),
        "{text}"
    );
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());

    // A value refused by validation, after deserialization, still names its variable.
    let out = Pylon::command(
        &dir,
        &[("PYLON_ENTRYPOINTS_WEB_ADDRESS", ":99999".into())],
        &["check".into()],
    )
    .output()
    .expect("run pylon check");
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("PYLON_ENTRYPOINTS_WEB_ADDRESS: entryPoints.web.address"),
        "{text}"
    );

    // `version` reads no configuration.
    let out = Pylon::command(
        &dir,
        &[("PYLON_ENTRYPOINTS_WEB_ADRESS", ":1".into())],
        &["version".into()],
    )
    .output()
    .expect("run pylon version");
    assert_eq!(out.status.code(), Some(0));

    let out = Pylon::command(
        &dir,
        &[],
        &["check".into(), "--entryPoints.web.adress=:1".into()],
    )
    .output()
    .expect("run pylon check");
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("--entryPoints.web.adress: unknown key `adress` under entryPoints.web"),
        "{text}"
    );

    let out = Pylon::command(
        &dir,
        &[("PYLON_LOG_LEVEL_FILE", "/nonexistent/secret".into())],
        &["check".into()],
    )
    .output()
    .expect("run pylon check");
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("PYLON_LOG_LEVEL_FILE: cannot read the secret file /nonexistent/secret"),
        "{text}"
    );
}

#[test]
fn help_describes_the_environment_and_flags() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Pylon::command(&dir, &[], &["--help".into()])
        .output()
        .expect("run pylon --help");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("PYLON_ENTRYPOINTS_WEB_ADDRESS=:8000"),
        "{text}"
    );
    assert!(text.contains("--entryPoints.web.address=:8000"), "{text}");
    assert!(text.contains("_FILE"), "{text}");
}
