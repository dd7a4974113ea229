//! pylon's own log (`[log]`): level, `format = "common"` (text) or `"json"` (one object per
//! line: time, level, target, message), to stderr or `filePath`.

use crate::config::observability::LogFormat;
use crate::config::StaticConfig;
use std::io::Write;

/// Sets up `log` output as `[log]` says (`RUST_LOG` overrides the level). A `filePath` that
/// cannot be opened falls back to stderr and says so.
pub fn init(static_config: &StaticConfig) {
    let level = static_config.log_level_filter();
    let log = static_config.log.as_ref();
    let mut builder = env_logger::Builder::new();
    builder.filter_level(level);
    if let Ok(spec) = std::env::var("RUST_LOG") {
        builder.parse_filters(&spec);
    }
    if log.and_then(|l| l.format) == Some(LogFormat::Json) {
        builder.format(|buf, record| {
            let line = json_line(
                std::time::SystemTime::now(),
                record.level().as_str(),
                record.target(),
                &record.args().to_string(),
            );
            writeln!(buf, "{line}")
        });
    }
    let mut file_error = None;
    if let Some(path) = log.and_then(|l| l.file_path.as_deref()) {
        match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            Ok(file) => {
                builder.target(env_logger::Target::Pipe(Box::new(file)));
            }
            Err(e) => file_error = Some(format!("log.filePath `{path}`: {e}; logging to stderr")),
        }
    }
    let _ = builder.try_init();
    if let Some(e) = file_error {
        log::error!("{e}");
    }
}

/// One JSON log line (Traefik's keys: `time`, `level`, `message`, plus `target`).
pub fn json_line(at: std::time::SystemTime, level: &str, target: &str, message: &str) -> String {
    serde_json::json!({
        "time": crate::access_log::time::rfc3339(at),
        "level": level.to_ascii_lowercase(),
        "target": target,
        "message": message,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_are_one_escaped_object() {
        let at = std::time::UNIX_EPOCH;
        let line = json_line(at, "WARN", "pylon::reload", "bad \"rule\"\nsecond line");
        assert!(!line.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["level"], "warn");
        assert_eq!(v["time"], "1970-01-01T00:00:00Z");
        assert_eq!(v["message"], "bad \"rule\"\nsecond line");
    }
}
