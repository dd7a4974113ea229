//! Announces that this process serves: tells systemd `READY=1` and `MAINPID=<this pid>`, then
//! writes the pid file.
//!
//! After a binary upgrade the new process announces itself the same way, so systemd
//! (`Type=notify`, `NotifyAccess=all`) tracks it as the unit's main process and the upgrade
//! script (`conf/systemd/pylon-upgrade`) knows the new process took over when the pid file
//! names it.

use async_trait::async_trait;
use pingora::server::{ExecutionPhase, ShutdownWatch};
use pingora::services::background::BackgroundService;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tokio::sync::broadcast;

/// The background service that announces readiness once every service has started.
pub struct Readiness {
    /// The server's execution phases; `Running` comes once all services were started.
    phases: Mutex<Option<broadcast::Receiver<ExecutionPhase>>>,
    pid_file: PathBuf,
}

impl Readiness {
    pub fn new(phases: broadcast::Receiver<ExecutionPhase>, pid_file: PathBuf) -> Self {
        Readiness {
            phases: Mutex::new(Some(phases)),
            pid_file,
        }
    }
}

#[async_trait]
impl BackgroundService for Readiness {
    async fn start(&self, _shutdown: ShutdownWatch) {
        let phases = self.phases.lock().ok().and_then(|mut p| p.take());
        if let Some(mut phases) = phases {
            loop {
                match phases.recv().await {
                    Ok(ExecutionPhase::Running) => break,
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        }
        let pid = std::process::id();
        // systemd first: the upgrade script returns once the pid file names this process, and
        // systemd must have MAINPID= queued by then.
        let state = format!("READY=1\nMAINPID={pid}\nSTATUS=serving");
        match crate::sd_notify::notify(&state) {
            Ok(true) => log::info!("told systemd: ready, main pid {pid}"),
            Ok(false) => {}
            Err(e) => log::warn!("cannot notify systemd: {e}"),
        }
        match write_pid_file(&self.pid_file, pid) {
            Ok(()) => log::info!(
                "serving as pid {pid} (pid file {})",
                self.pid_file.display()
            ),
            Err(e) => log::warn!("cannot write pid file {}: {e}", self.pid_file.display()),
        }
    }
}

/// Replaces the pid file atomically (write a sibling, rename), so a reader sees the old pid or
/// the new one, never a partial file. The sibling is created new (`O_EXCL | O_NOFOLLOW`): a
/// symlink planted there is never followed, and the rename replaces a link at `path` itself
/// rather than writing through it.
pub fn write_pid_file(path: &Path, pid: u32) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{pid}.tmp"));
    let tmp = PathBuf::from(tmp);
    match std::fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&tmp)?;
    file.write_all(format!("{pid}\n").as_bytes())?;
    drop(file);
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pid_file_names_the_pid() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("pylon.pid");
        write_pid_file(&path, 41).expect("write");
        write_pid_file(&path, 42).expect("write");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "42\n");
        assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 1);
    }

    #[test]
    fn planted_symlinks_are_replaced_not_followed() {
        let dir = tempfile::tempdir().expect("dir");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep\n").expect("victim");
        let path = dir.path().join("pylon.pid");
        std::os::unix::fs::symlink(&victim, &path).expect("link");
        std::os::unix::fs::symlink(&victim, dir.path().join("pylon.pid.43.tmp")).expect("link");
        write_pid_file(&path, 43).expect("write");
        assert_eq!(std::fs::read_to_string(&victim).expect("read"), "keep\n");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "43\n");
        assert!(!std::fs::symlink_metadata(&path)
            .expect("meta")
            .file_type()
            .is_symlink());
    }
}
