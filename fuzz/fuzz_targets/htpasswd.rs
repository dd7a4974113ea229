//! Fuzz target: htpasswd text as `basicAuth.usersFile` holds it (`file_lines`, `parse_user`,
//! `PasswordHash::parse` in `pylon_plugins::basic_auth`) never panics, a hash error never repeats
//! the hash, and an accepted `{SHA}` or MD5-crypt entry can be verified (bcrypt is skipped: its
//! cost is the input's, up to 31).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pylon_plugins::basic_auth::{file_lines, parse_user, PasswordHash};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for (_, line) in file_lines(text) {
        if let Ok((_, hash)) = parse_user(line) {
            if !matches!(hash, PasswordHash::Bcrypt { .. }) {
                let _ = hash.verify(b"password");
            }
        }
        let hash = line.split_once(':').map_or(line, |(_, h)| h);
        if let Err(e) = PasswordHash::parse(hash) {
            // the messages are fixed text: a long hash can only appear if it was copied in
            assert!(
                hash.len() < 24 || !e.contains(hash),
                "error repeats the hash"
            );
        }
    }
});
