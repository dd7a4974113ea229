//! Where the upgrade socket and the pid file live: flags, then `$RUNTIME_DIRECTORY`, then a
//! private directory of this user (`$XDG_RUNTIME_DIR/pylon`, else `/tmp/pylon-<uid>`).
//!
//! Two pylons on one machine must not share these paths: a binary upgrade hands the listening
//! sockets to whichever process listens on the upgrade socket, so a shared `/tmp` name another
//! user could take first would hand them to that user. Under systemd, `RuntimeDirectory=pylon`
//! gives each unit its own directory (`/run/pylon`); elsewhere [`ensure_private_dir`] makes the
//! fallback directory (mode 0700) or refuses one that is a symlink, another user's, or open to
//! others. The upgrade script (`conf/systemd/pylon-upgrade`) derives the same defaults.

use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The upgrade socket's file name inside the runtime directory.
pub const UPGRADE_SOCK_NAME: &str = "upgrade.sock";
/// The pid file's name inside the runtime directory.
pub const PID_FILE_NAME: &str = "pylon.pid";

/// The first directory of `$RUNTIME_DIRECTORY` (systemd sets it, `:`-separated, for
/// `RuntimeDirectory=`), if any.
pub fn runtime_directory() -> Option<PathBuf> {
    let value = std::env::var_os("RUNTIME_DIRECTORY")?;
    let value = value.to_string_lossy();
    value.split(':').find(|d| !d.is_empty()).map(PathBuf::from)
}

/// The directory used without flags and without systemd: `$XDG_RUNTIME_DIR/pylon` (a
/// per-user directory the login manager makes), else `/tmp/pylon-<uid>`.
pub fn private_directory() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir).join("pylon"),
        None => PathBuf::from(format!("/tmp/pylon-{}", current_uid().unwrap_or(0))),
    }
}

/// This process's user id (the owner of `/proc/self`).
fn current_uid() -> Option<u32> {
    std::fs::metadata("/proc/self").ok().map(|m| m.uid())
}

/// The default directory for the run files: `$RUNTIME_DIRECTORY`, else [`private_directory`].
fn default_directory() -> PathBuf {
    runtime_directory().unwrap_or_else(private_directory)
}

/// The upgrade socket: `explicit` (`--upgrade-sock`, `PYLON_UPGRADE_SOCK`), else
/// `<default directory>/upgrade.sock`.
pub fn upgrade_sock(explicit: Option<PathBuf>) -> PathBuf {
    explicit.unwrap_or_else(|| default_directory().join(UPGRADE_SOCK_NAME))
}

/// The pid file: `explicit` (`--pid-file`, `PYLON_PID_FILE`), else
/// `<default directory>/pylon.pid`.
pub fn pid_file(explicit: Option<PathBuf>) -> PathBuf {
    explicit.unwrap_or_else(|| default_directory().join(PID_FILE_NAME))
}

/// Makes `dir` (mode 0700) if it is missing; refuses it unless it is a real directory (not a
/// symlink) owned by this user that no one else may enter. Call it for [`private_directory`]
/// before the run files are created there.
pub fn ensure_private_dir(dir: &Path) -> Result<(), String> {
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(format!("cannot create {}: {e}", dir.display())),
    }
    let meta = std::fs::symlink_metadata(dir)
        .map_err(|e| format!("cannot inspect {}: {e}", dir.display()))?;
    let shown = dir.display();
    if !meta.file_type().is_dir() {
        return Err(format!(
            "{shown} is not a directory (a symlink or file someone else may have put there)"
        ));
    }
    if Some(meta.uid()) != current_uid() {
        return Err(format!(
            "{shown} belongs to another user (uid {})",
            meta.uid()
        ));
    }
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(format!(
            "{shown} is open to other users (mode {:o}): make it 0700",
            meta.permissions().mode() & 0o777
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_private_directory_is_made_0700_and_others_are_refused() {
        let base = tempfile::tempdir().expect("dir");
        let dir = base.path().join("run");
        ensure_private_dir(&dir).expect("made");
        let mode = std::fs::metadata(&dir).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        ensure_private_dir(&dir).expect("kept");
        let link = base.path().join("link");
        std::os::unix::fs::symlink(&dir, &link).expect("symlink");
        assert!(ensure_private_dir(&link)
            .unwrap_err()
            .contains("not a directory"));
        let open = base.path().join("open");
        std::fs::create_dir(&open).expect("open dir");
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        assert!(ensure_private_dir(&open)
            .unwrap_err()
            .contains("open to other users"));
    }

    #[test]
    fn an_explicit_path_wins() {
        let p = PathBuf::from("/x/y.sock");
        assert_eq!(upgrade_sock(Some(p.clone())), p);
        assert_eq!(pid_file(Some(p.clone())), p);
    }
}
