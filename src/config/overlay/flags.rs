//! Static keys from command-line flags, Traefik's syntax: `--entryPoints.web.address=:8000`,
//! `--api.insecure` (a bare flag is `true`), `--api` (a top-level section turned on).
//!
//! A flag is a configuration key when its name has a `.` or is a top-level static key (any
//! case); the other arguments are left for the command-line parser. `--` ends the flags.

use super::{top_level_keys, Setting};
use std::ffi::OsString;

/// Splits `args` (without the program name) into the configuration settings and the rest.
pub fn split(args: impl IntoIterator<Item = OsString>) -> (Vec<Setting>, Vec<OsString>) {
    let top = top_level_keys();
    let mut settings = Vec::new();
    let mut rest = Vec::new();
    let mut ended = false;
    for arg in args {
        if ended {
            rest.push(arg);
            continue;
        }
        if arg == "--" {
            ended = true;
            rest.push(arg);
            continue;
        }
        let Some(body) = arg.to_str().and_then(|a| a.strip_prefix("--")) else {
            rest.push(arg);
            continue;
        };
        let (key, value) = match body.split_once('=') {
            Some((k, v)) => (k, v.to_string()),
            None => (body, "true".to_string()),
        };
        let is_key = key.contains('.') || top.iter().any(|t| t.eq_ignore_ascii_case(key));
        if !is_key || key.is_empty() {
            rest.push(arg);
            continue;
        }
        settings.push(Setting {
            source: format!("--{key}"),
            segments: key.split('.').map(str::to_string).collect(),
            value,
        });
    }
    (settings, rest)
}
