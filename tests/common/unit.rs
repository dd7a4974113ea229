//! Runs pylon the way `conf/systemd/pylon.service` does: `RuntimeDirectory` (for the upgrade
//! socket and pid file), `$NOTIFY_SOCKET` (recorded here), and reloads by running
//! `conf/systemd/pylon-upgrade $MAINPID` with the environment systemd gives `ExecReload`.

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The upgrade script, as the unit installs it.
pub fn upgrade_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("conf/systemd/pylon-upgrade")
}

/// The unit file.
pub fn unit_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("conf/systemd/pylon.service")
}

/// One `ExecReload` run.
pub struct Reload {
    pub success: bool,
    pub took: Duration,
    /// What the script printed.
    pub output: String,
}

/// A pylon service: the first process (ExecStart) and every one the upgrades started.
pub struct Unit {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    first: Child,
    /// Every pid that was the main pid, to stop them all at the end.
    pids: Vec<u32>,
    notices: Arc<Mutex<Vec<String>>>,
    stop_notices: Arc<AtomicBool>,
}

impl Unit {
    /// Starts pylon on `config` and waits until it reports ready (pid file written).
    pub fn start(config: &str) -> Unit {
        let dir = tempfile::tempdir().expect("temp dir");
        let config_path = dir.path().join("pylon.toml");
        std::fs::write(&config_path, config).expect("write config");
        std::fs::create_dir(dir.path().join("run")).expect("runtime dir");
        let notify = UnixDatagram::bind(dir.path().join("notify")).expect("notify socket");
        notify
            .set_read_timeout(Some(Duration::from_millis(100)))
            .expect("timeout");
        let notices = Arc::new(Mutex::new(Vec::new()));
        let stop_notices = Arc::new(AtomicBool::new(false));
        let (n, stop) = (notices.clone(), stop_notices.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while !stop.load(Ordering::Relaxed) {
                if let Ok(len) = notify.recv(&mut buf) {
                    let text = String::from_utf8_lossy(&buf[..len]).into_owned();
                    n.lock().expect("lock").push(text);
                }
            }
        });
        let mut command = Command::new(env!("CARGO_BIN_EXE_pylon"));
        let first = Self::environment(&mut command, dir.path(), &config_path)
            .stdin(Stdio::null())
            .spawn()
            .expect("start pylon");
        let pid = first.id();
        let unit = Unit {
            dir,
            config: config_path,
            first,
            pids: vec![pid],
            notices,
            stop_notices,
        };
        assert!(
            unit.wait_main_pid(pid, Duration::from_secs(20)),
            "pylon did not report ready; log:\n{}",
            unit.log()
        );
        unit
    }

    /// The environment the unit gives pylon and ExecReload; output appended to `pylon.log`.
    fn environment<'a>(command: &'a mut Command, dir: &Path, config: &Path) -> &'a mut Command {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("pylon.log"))
            .expect("open log");
        command
            .env("PYLON_CONFIG", config)
            .env("PYLON_BIN", env!("CARGO_BIN_EXE_pylon"))
            .env("RUNTIME_DIRECTORY", dir.join("run"))
            .env("NOTIFY_SOCKET", dir.join("notify"))
            .env_remove("PYLON_UPGRADE_SOCK")
            .env_remove("PYLON_PID_FILE")
            .env(
                "RUST_LOG",
                std::env::var("PYLON_TEST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdout(log.try_clone().expect("clone log"))
            .stderr(log)
    }

    /// The main pid as systemd tracks it: the last `MAINPID=` received.
    pub fn main_pid(&self) -> Option<u32> {
        self.notices
            .lock()
            .expect("lock")
            .iter()
            .filter(|n| n.lines().any(|l| l == "READY=1"))
            .filter_map(|n| n.lines().find_map(|l| l.strip_prefix("MAINPID=")))
            .filter_map(|p| p.parse().ok())
            .next_back()
    }

    /// The pid in the pid file (`$RUNTIME_DIRECTORY/pylon.pid`).
    pub fn pid_file_pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.dir.path().join("run/pylon.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Waits until both systemd's view (MAINPID) and the pid file name `pid`.
    pub fn wait_main_pid(&self, pid: u32, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.main_pid() == Some(pid) && self.pid_file_pid() == Some(pid) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Runs `pylon-upgrade $MAINPID` as systemd's ExecReload would. Blocking.
    pub fn reload(&mut self) -> Reload {
        let main = self.main_pid().expect("a main pid");
        self.reload_with(main)
    }

    /// Runs `pylon-upgrade <main>`: `main` stands for systemd's `$MAINPID`.
    pub fn reload_with(&mut self, main: u32) -> Reload {
        let started = Instant::now();
        let mut command = Command::new(upgrade_script());
        let status = Self::environment(&mut command, self.dir.path(), &self.config)
            .arg(main.to_string())
            .stdin(Stdio::null())
            .status()
            .expect("run pylon-upgrade");
        let took = started.elapsed();
        if let Some(new) = self.pid_file_pid() {
            if !self.pids.contains(&new) {
                self.pids.push(new);
            }
            // The datagram was sent before the pid file was written; let the reader thread catch up.
            if status.success() {
                self.wait_main_pid(new, Duration::from_secs(2));
            }
        }
        Reload {
            success: status.success(),
            took,
            output: self.log(),
        }
    }

    /// Everything pylon and the script printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pylon.log")).unwrap_or_default()
    }

    /// Every pid that served as the main one, first to last.
    pub fn pids(&self) -> &[u32] {
        &self.pids
    }
}

/// Whether process `pid` exists.
pub fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

impl Drop for Unit {
    fn drop(&mut self) {
        for pid in &self.pids {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.first.kill();
        let _ = self.first.wait();
        self.stop_notices.store(true, Ordering::Relaxed);
    }
}
