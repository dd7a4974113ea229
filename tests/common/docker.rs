//! A private Docker engine for the tests: Debian's `dockerd` on its own socket and data root
//! (`--bridge=none --iptables=false`), a `FROM scratch` image holding the static busybox, and
//! containers on the host network serving files with busybox `httpd` on 127.0.0.1 ports.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The test image: busybox as `/bin/busybox` and `/bin/sh`, nothing else.
pub const IMAGE: &str = "pylon-test-busybox";

/// A dockerd started by the test; stopped (containers removed, state deleted) on drop.
pub struct DockerEngine {
    pub dir: PathBuf,
    live_restore: bool,
    daemon: Mutex<Option<Child>>,
}

static SHARED: OnceLock<DockerEngine> = OnceLock::new();

extern "C" fn stop_shared() {
    if let Some(engine) = SHARED.get() {
        engine.shutdown();
    }
}

extern "C" {
    fn atexit(f: extern "C" fn()) -> i32;
}

impl DockerEngine {
    /// One engine for every test of the binary, stopped when the test process exits.
    pub fn shared() -> &'static DockerEngine {
        SHARED.get_or_init(|| {
            let engine = DockerEngine::start(false);
            // SAFETY: registers a plain function to run at process exit.
            unsafe { atexit(stop_shared) };
            engine
        })
    }

    /// A new private engine (`live_restore`: containers outlive a daemon restart).
    pub fn start(live_restore: bool) -> DockerEngine {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // Short: a unix socket path must fit in 108 bytes.
        let dir = PathBuf::from(format!("/tmp/pylon-dockerd-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("www")).expect("engine dir");
        let engine = DockerEngine {
            dir,
            live_restore,
            daemon: Mutex::new(None),
        };
        engine.start_daemon();
        engine.build_image();
        engine
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.join("docker.sock")
    }

    /// The endpoint to write in `[providers.docker]`.
    pub fn endpoint(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    /// Starts dockerd and waits until it answers.
    pub fn start_daemon(&self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("dockerd.log"))
            .expect("dockerd log");
        let mut cmd = Command::new("dockerd");
        cmd.arg("--host")
            .arg(self.endpoint())
            .arg("--data-root")
            .arg(self.dir.join("data"))
            .arg("--exec-root")
            .arg(self.dir.join("exec"))
            .arg("--pidfile")
            .arg(self.dir.join("dockerd.pid"))
            .args(["--bridge=none", "--iptables=false", "--ip6tables=false"]);
        if self.live_restore {
            cmd.arg("--live-restore");
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("dockerd must be installed (Debian's docker.io; scripts/setup.sh installs it)");
        *self.daemon.lock().expect("daemon lock") = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while self
            .docker(&["version", "--format", "{{.Server.APIVersion}}"])
            .is_err()
        {
            assert!(
                Instant::now() < deadline,
                "dockerd did not answer within 60 s; its log:\n{}",
                std::fs::read_to_string(self.dir.join("dockerd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops dockerd (SIGTERM) and waits for it to exit.
    pub fn stop_daemon(&self) {
        let Some(mut child) = self.daemon.lock().expect("daemon lock").take() else {
            return;
        };
        let _ = Command::new("kill").arg(child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Runs the docker CLI against this engine; stdout, or the error with stderr.
    pub fn docker(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new("docker")
            .arg("-H")
            .arg(self.endpoint())
            .args(args)
            .env("DOCKER_BUILDKIT", "0")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("docker CLI: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        } else {
            Err(format!(
                "docker {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    fn build_image(&self) {
        let ctx = self.dir.join("image");
        std::fs::create_dir_all(&ctx).expect("image dir");
        std::fs::copy("/bin/busybox", ctx.join("busybox"))
            .expect("the static busybox (Debian's busybox-static) must be at /bin/busybox");
        std::fs::write(
            ctx.join("Dockerfile"),
            "FROM scratch\nCOPY busybox /bin/busybox\nCOPY busybox /bin/sh\nENTRYPOINT [\"/bin/busybox\"]\n",
        )
        .expect("Dockerfile");
        let ctx = ctx.display().to_string();
        self.docker(&["build", "-q", "-t", IMAGE, &ctx])
            .expect("build the test image");
    }

    /// A directory served by a container (created empty).
    pub fn www(&self, name: &str) -> PathBuf {
        let dir = self.dir.join("www").join(name);
        std::fs::create_dir_all(&dir).expect("www dir");
        dir
    }

    /// Starts a container running busybox httpd on 127.0.0.1:`port` (host network) over
    /// `www(name)`, with `labels` and extra `docker run` arguments; returns its ID.
    pub fn run_httpd(
        &self,
        name: &str,
        port: u16,
        labels: &[(&str, String)],
        extra: &[&str],
    ) -> String {
        let www = self.www(name);
        let volume = format!("{}:/www", www.display());
        let listen = format!("127.0.0.1:{port}");
        let mut args: Vec<String> = vec![
            "run".into(),
            "-d".into(),
            "--network".into(),
            "host".into(),
            "--name".into(),
            name.into(),
            "-v".into(),
            volume,
        ];
        for (k, v) in labels {
            args.push("-l".into());
            args.push(format!("{k}={v}"));
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        args.extend([IMAGE, "httpd", "-f", "-p", &listen, "-h", "/www"].map(String::from));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.docker(&args).expect("docker run")
    }

    /// Writes a file the container `name` serves.
    pub fn serve_file(&self, name: &str, path: &str, body: &str) {
        let file = self.www(name).join(path.trim_start_matches('/'));
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).expect("www subdir");
        }
        std::fs::write(file, body).expect("www file");
    }

    /// Removes every container, stops the daemon, deletes its state.
    pub fn shutdown(&self) {
        if let Ok(ids) = self.docker(&["ps", "-aq"]) {
            let ids: Vec<&str> = ids.split_whitespace().collect();
            if !ids.is_empty() {
                let mut args = vec!["rm", "-f"];
                args.extend(ids);
                let _ = self.docker(&args);
            }
        }
        self.stop_daemon();
        remove_state(&self.dir);
    }
}

impl Drop for DockerEngine {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Deletes the engine's directory, unmounting what dockerd left mounted under it.
fn remove_state(dir: &Path) {
    if let Ok(mounts) = std::fs::read_to_string("/proc/self/mounts") {
        let prefix = dir.display().to_string();
        let mut points: Vec<&str> = mounts
            .lines()
            .filter_map(|l| l.split_whitespace().nth(1))
            .filter(|p| p.starts_with(&prefix))
            .collect();
        points.sort_by_key(|p| std::cmp::Reverse(p.len()));
        for p in points {
            let _ = Command::new("umount").arg("-l").arg(p).status();
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}
