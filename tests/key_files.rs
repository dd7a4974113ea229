//! Files named by configuration keys (`usersFile`, `certFile`, `keyFile`, `passwordFile`) are
//! read by one bounded reader: devices and FIFOs are refused at once (no hang, no memory
//! blow-up), files over 1 MiB are refused, and no error echoes a file's content.

mod common;

use common::gateway::run_pylon;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

/// `pylon check` on a config whose basicAuth reads `users_file` (and whose certificate is
/// `cert_file`), within 60 s (a FIFO used to block it forever).
fn check_with(dir: &Path, users_file: &str, cert_file: &str) -> (i32, String) {
    let config = dir.join("pylon.toml");
    std::fs::write(
        &config,
        format!(
            "[entryPoints.web]\naddress = \"127.0.0.1:1\"\n\
             [http.routers.r]\nrule = \"Host(`a`)\"\nservice = \"s\"\nmiddlewares = [\"auth\"]\n\
             [http.middlewares.auth.basicAuth]\nusersFile = \"{users_file}\"\n\
             [http.services.s.loadBalancer]\nservers = [{{ url = \"http://127.0.0.1:2\" }}]\n\
             [[tls.certificates]]\ncertFile = \"{cert_file}\"\nkeyFile = \"{cert_file}\"\n"
        ),
    )
    .expect("config");
    let (tx, rx) = mpsc::channel();
    let path = config.display().to_string();
    std::thread::spawn(move || {
        let _ = tx.send(run_pylon(&["check", "--config", &path]));
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("pylon check finishes (a FIFO or device must not block it)")
}

// Fails without src/config/key_file.rs: the FIFO blocked `pylon check` past the deadline,
// /dev/zero grew without bound, and the big file's content was parsed and echoed.
#[test]
fn devices_fifos_and_big_files_are_refused_without_echoing_content() {
    let dir = tempfile::tempdir().expect("dir");
    let fifo = dir.path().join("fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo")
        .success());
    let big = dir.path().join("big");
    std::fs::write(&big, "topsecret:notahash\n".repeat(70_000)).expect("big");
    let fifo = fifo.display().to_string();
    let big = big.display().to_string();
    for (users, cert, expect) in [
        (fifo.as_str(), "/dev/zero", "is not a regular file (a FIFO)"),
        (
            "/dev/zero",
            fifo.as_str(),
            "is not a regular file (a character device)",
        ),
        (big.as_str(), big.as_str(), "is larger than 1048576 bytes"),
    ] {
        let (code, out) = check_with(dir.path(), users, cert);
        assert_eq!(code, 2, "{out}");
        assert!(out.contains(expect), "{users}, {cert}: {out}");
        assert!(!out.contains("topsecret"), "content echoed: {out}");
    }
}

#[test]
fn htpasswd_errors_name_the_line_not_its_content() {
    let dir = tempfile::tempdir().expect("dir");
    let users = dir.path().join("users");
    std::fs::write(&users, "rootsecret:nothash\n").expect("users");
    let (code, out) = check_with(dir.path(), &users.display().to_string(), "/nonexistent");
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("line 1"), "{out}");
    assert!(!out.contains("rootsecret"), "content echoed: {out}");
}
