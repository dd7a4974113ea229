//! The one reader of files named by configuration keys (`usersFile`, `certFile`, `keyFile`,
//! `passwordFile`, ...): regular files only, at most [`MAX_KEY_FILE_BYTES`], errors that never
//! echo the file's content.
//!
//! A key may name anything the process can open; a label or a careless edit naming `/dev/zero`
//! would exhaust memory, a FIFO would block the reload forever. So the file is opened
//! non-blocking (a FIFO without a writer opens at once instead of waiting), `fstat` on the open
//! handle must say "regular file" (devices, FIFOs, sockets and directories are refused; a
//! symlink is followed to what it names, which is then checked), and at most one byte more than
//! the bound is read.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The most a file named by a configuration key may hold (certificate chains, htpasswd files
/// and secrets are far smaller).
pub const MAX_KEY_FILE_BYTES: u64 = 1024 * 1024;

/// Why a key's file could not be read; the message names the file, never its content.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyFileError {
    #[error("cannot open `{path}`: {reason}")]
    Open { path: String, reason: String },
    #[error("`{path}` is not a regular file (a {kind}): name a file")]
    NotRegular { path: String, kind: &'static str },
    #[error("`{path}` is larger than {max} bytes", max = MAX_KEY_FILE_BYTES)]
    TooLarge { path: String },
    #[error("`{path}` is not UTF-8 text")]
    NotText { path: String },
}

/// Reads the file at `path` (see the module's rules).
pub fn read_key_file(path: impl AsRef<Path>) -> Result<Vec<u8>, KeyFileError> {
    let path = path.as_ref();
    let shown = || path.display().to_string();
    let open_error = |e: std::io::Error| KeyFileError::Open {
        path: shown(),
        reason: e.kind().to_string(),
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC)
        .open(path)
        .map_err(open_error)?;
    let kind = file.metadata().map_err(open_error)?.file_type();
    if !kind.is_file() {
        return Err(KeyFileError::NotRegular {
            path: shown(),
            kind: describe(kind),
        });
    }
    let mut bytes = Vec::new();
    file.take(MAX_KEY_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(open_error)?;
    if bytes.len() as u64 > MAX_KEY_FILE_BYTES {
        return Err(KeyFileError::TooLarge { path: shown() });
    }
    Ok(bytes)
}

/// Traefik's FileOrContent (`certFile`, `keyFile`, `caFiles`): a value starting with
/// `-----BEGIN` is the PEM itself, anything else a file read by [`read_key_file`].
pub fn read_file_or_content(value: &str) -> Result<std::borrow::Cow<'_, [u8]>, KeyFileError> {
    if is_inline_pem(value) {
        return Ok(std::borrow::Cow::Borrowed(value.as_bytes()));
    }
    read_key_file(value).map(std::borrow::Cow::Owned)
}

/// Whether a FileOrContent value is the PEM itself.
pub fn is_inline_pem(value: &str) -> bool {
    value.trim_start().starts_with("-----BEGIN")
}

/// How a FileOrContent value is named in messages: its path, or `inline PEM` (never the
/// content).
pub fn describe_file_or_content(value: &str) -> String {
    match is_inline_pem(value) {
        true => "inline PEM".to_string(),
        false => format!("`{value}`"),
    }
}

/// [`read_key_file`] as text.
pub fn read_key_file_to_string(path: impl AsRef<Path>) -> Result<String, KeyFileError> {
    let path = path.as_ref();
    String::from_utf8(read_key_file(path)?).map_err(|_| KeyFileError::NotText {
        path: path.display().to_string(),
    })
}

fn describe(kind: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_dir() {
        "directory"
    } else if kind.is_fifo() {
        "FIFO"
    } else if kind.is_char_device() {
        "character device"
    } else if kind.is_block_device() {
        "block device"
    } else if kind.is_socket() {
        "socket"
    } else {
        "special file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_is_read() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("users");
        std::fs::write(&file, "a:b\n").expect("write");
        assert_eq!(read_key_file_to_string(&file).expect("read"), "a:b\n");
    }

    #[test]
    fn devices_fifos_and_directories_are_refused_at_once() {
        let dir = tempfile::tempdir().expect("dir");
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo");
        assert!(made.success());
        for (path, kind) in [
            (Path::new("/dev/zero"), "character device"),
            (fifo.as_path(), "FIFO"),
            (dir.path(), "directory"),
        ] {
            match read_key_file(path) {
                Err(KeyFileError::NotRegular { kind: k, .. }) => assert_eq!(k, kind),
                other => panic!("{path:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_file_over_the_bound_is_refused_without_its_content() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("big");
        std::fs::write(&file, "secret".repeat(200_000)).expect("write");
        let e = read_key_file(&file).expect_err("too large");
        assert!(matches!(e, KeyFileError::TooLarge { .. }));
        assert!(!e.to_string().contains("secret"), "{e}");
    }
}
