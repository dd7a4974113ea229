//! Runs the real `pylon` binary on a config written by the test, and stops it at the end.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A pylon process started from a TOML config in a temporary directory.
pub struct TestGateway {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    child: Child,
}

impl TestGateway {
    /// Writes `config` to `pylon.toml` in a new temp dir and starts pylon on it, waiting until
    /// every port in `ports` accepts connections.
    pub async fn start(config: &str, ports: &[u16]) -> TestGateway {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::start_in(dir, config, ports).await
    }

    pub async fn start_in(dir: tempfile::TempDir, config: &str, ports: &[u16]) -> TestGateway {
        let path = dir.path().join("pylon.toml");
        std::fs::write(&path, config).expect("write config");
        Self::start_file(dir, &path, &[], ports).await
    }

    /// Starts pylon on the existing static file `path` (any format) with extra arguments
    /// (static key flags), its log in `dir`.
    pub async fn start_file(
        dir: tempfile::TempDir,
        path: &Path,
        args: &[String],
        ports: &[u16],
    ) -> TestGateway {
        Self::start_file_env(dir, path, args, &[], ports).await
    }

    /// Writes `config` to `pylon.toml` in a new temp dir and starts pylon on it with the extra
    /// environment variables `env`.
    pub async fn start_env(config: &str, env: &[(&str, String)], ports: &[u16]) -> TestGateway {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("pylon.toml");
        std::fs::write(&path, config).expect("write config");
        Self::start_file_env(dir, &path, &[], env, ports).await
    }

    /// As `start_file`, with the extra environment variables `env`.
    pub async fn start_file_env(
        dir: tempfile::TempDir,
        path: &Path,
        args: &[String],
        env: &[(&str, String)],
        ports: &[u16],
    ) -> TestGateway {
        let path = path.to_path_buf();
        let log = std::fs::File::create(dir.path().join("pylon.log")).expect("create log file");
        let child = Command::new(env!("CARGO_BIN_EXE_pylon"))
            .arg("--config")
            .arg(&path)
            .args(args)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env(
                "RUST_LOG",
                std::env::var("PYLON_TEST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log handle"))
            .stderr(log)
            .spawn()
            .expect("start pylon");
        let gw = TestGateway {
            dir,
            config: path,
            child,
        };
        for port in ports {
            let up = super::eventually(Duration::from_secs(20), || async move {
                tokio::net::TcpStream::connect(("127.0.0.1", *port))
                    .await
                    .ok()
                    .map(|_| ())
            })
            .await;
            assert!(
                up.is_some(),
                "pylon did not listen on port {port} within 20 s"
            );
        }
        gw
    }

    /// Everything pylon printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pylon.log")).unwrap_or_default()
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Waits up to `timeout` for pylon to exit; its exit code (None if killed by a signal).
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<Option<i32>> {
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status.code());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for TestGateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `pylon` with `args` to completion and returns (exit code, stdout + stderr).
pub fn run_pylon(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pylon"))
        .args(args)
        .output()
        .expect("run pylon");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}
