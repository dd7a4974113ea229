//! Where the upgrade socket and the pid file live: flags, then `$RUNTIME_DIRECTORY`, then /tmp.
//!
//! Two pylons on one machine must not share these paths: a binary upgrade hands the listening
//! sockets to whichever process listens on the upgrade socket. Under systemd,
//! `RuntimeDirectory=pylon` gives each unit its own directory (`/run/pylon`), and the upgrade
//! script (`conf/systemd/pylon-upgrade`) derives the same defaults.

use std::path::PathBuf;

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

/// The upgrade socket: `explicit` (`--upgrade-sock`, `PYLON_UPGRADE_SOCK`), else
/// `$RUNTIME_DIRECTORY/upgrade.sock`, else `/tmp/pylon_upgrade.sock`.
pub fn upgrade_sock(explicit: Option<PathBuf>) -> PathBuf {
    explicit.unwrap_or_else(|| match runtime_directory() {
        Some(dir) => dir.join(UPGRADE_SOCK_NAME),
        None => PathBuf::from("/tmp/pylon_upgrade.sock"),
    })
}

/// The pid file: `explicit` (`--pid-file`, `PYLON_PID_FILE`), else
/// `$RUNTIME_DIRECTORY/pylon.pid`, else `/tmp/pylon.pid`.
pub fn pid_file(explicit: Option<PathBuf>) -> PathBuf {
    explicit.unwrap_or_else(|| match runtime_directory() {
        Some(dir) => dir.join(PID_FILE_NAME),
        None => PathBuf::from("/tmp/pylon.pid"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explicit_path_wins() {
        let p = PathBuf::from("/x/y.sock");
        assert_eq!(upgrade_sock(Some(p.clone())), p);
        assert_eq!(pid_file(Some(p.clone())), p);
    }
}
