//! systemd's readiness protocol (`sd_notify`): one datagram of `KEY=value` lines to `$NOTIFY_SOCKET`.

use std::io;
use std::os::unix::net::UnixDatagram;

/// Sends `state` (e.g. `"READY=1\nMAINPID=42"`) to systemd. `Ok(false)` when not run by
/// systemd (no `$NOTIFY_SOCKET`).
pub fn notify(state: &str) -> io::Result<bool> {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return Ok(false);
    };
    let socket = UnixDatagram::unbound()?;
    let path = path.to_string_lossy().into_owned();
    match path.strip_prefix('@') {
        // An abstract socket (`@name`): its name is everything after the `@`.
        Some(name) => send_abstract(&socket, name.as_bytes(), state.as_bytes())?,
        None => {
            socket.send_to(state.as_bytes(), &path)?;
        }
    }
    Ok(true)
}

#[cfg(target_os = "linux")]
fn send_abstract(socket: &UnixDatagram, name: &[u8], state: &[u8]) -> io::Result<()> {
    use std::os::linux::net::SocketAddrExt;
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
    socket.send_to_addr(state, &addr).map(|_| ())
}

#[cfg(not(target_os = "linux"))]
fn send_abstract(_: &UnixDatagram, _: &[u8], _: &[u8]) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "abstract NOTIFY_SOCKET needs Linux",
    ))
}
