//! Real Python peers for tests (hypercorn, grpcio) from the venv `scripts/setup.sh` fills
//! (`target/tools/venv`): started on a loopback port, stopped when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// The venv's Python (PyPI packages installed by `scripts/setup.sh`).
pub fn python() -> PathBuf {
    let venv = Path::new(REPO).join("target/tools/venv/bin/python");
    assert!(
        venv.exists(),
        "{} is missing: run scripts/setup.sh (make test does)",
        venv.display()
    );
    venv
}

/// A script of `tests/fixtures/py/`.
pub fn script(name: &str) -> PathBuf {
    Path::new(REPO).join("tests/fixtures/py").join(name)
}

/// A running Python server; killed on drop.
pub struct PyServer {
    child: Child,
    pub port: u16,
}

impl PyServer {
    /// Runs `script` with `args` and waits (at most 30 s) until 127.0.0.1:`port` accepts.
    pub fn start(script_name: &str, port: u16, args: &[&str]) -> PyServer {
        let child = Command::new(python())
            .arg(script(script_name))
            .arg(port.to_string())
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the Python server");
        let server = PyServer { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "{script_name} did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

impl Drop for PyServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `script` with `args` to completion (at most 60 s); its stdout.
pub fn run(script_name: &str, args: &[&str]) -> String {
    let mut child = Command::new(python())
        .arg(script(script_name))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the Python client");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{script_name} {args:?} ran for more than 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{script_name} {args:?} failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}
