//! The access log (`[accessLog]`): one line per request in Traefik's Common Log Format or JSON.
//! [`entry`] describes a finished request, [`filter`] decides whether it is logged,
//! [`format`] writes the line, [`writer`] hands lines to a thread that writes them (a bounded
//! queue: a full queue drops and counts, never blocks a request; SIGUSR1 reopens the file).

pub mod entry;
pub mod filter;
pub mod format;
pub mod reopen;
pub mod time;
pub mod writer;

pub use entry::Entry;

use crate::config::observability::{AccessLogConfig, FieldMode, LogFormat};
use filter::Filter;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use writer::Writer;

/// The configured access log.
pub struct AccessLog {
    pub format: LogFormat,
    pub filter: Filter,
    /// Header name (lower case) → what happens to it; others follow `default_header_mode`.
    pub headers: BTreeMap<String, FieldMode>,
    pub default_header_mode: FieldMode,
    pub writer: Writer,
}

/// Headers that carry credentials: redacted unless named with `keep`.
const SECRET_HEADERS: [&str; 4] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

impl AccessLog {
    /// Opens the log (`filePath`, else stdout); the error names the key and the file.
    pub fn new(c: &AccessLogConfig) -> Result<AccessLog, String> {
        let fields = c.fields.clone().unwrap_or_default();
        let header_fields = fields.headers.unwrap_or_default();
        let mut headers: BTreeMap<String, FieldMode> = header_fields
            .names
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), *v))
            .collect();
        for secret in SECRET_HEADERS {
            headers
                .entry(secret.to_string())
                .or_insert(FieldMode::Redact);
        }
        let queue = c.buffering_size.unwrap_or(0).clamp(1024, 1 << 20) as usize;
        Ok(AccessLog {
            format: c.format.unwrap_or_default(),
            filter: Filter::new(c.filters.as_ref()),
            headers,
            default_header_mode: header_fields.default_mode.unwrap_or(FieldMode::Drop),
            writer: Writer::start(c.file_path.clone(), queue)?,
        })
    }

    /// What happens to request header `name` (lower case) in the JSON format.
    pub fn header_mode(&self, name: &str) -> FieldMode {
        self.headers
            .get(name)
            .copied()
            .unwrap_or(self.default_header_mode)
    }

    /// Logs `entry` if the filters let it through.
    pub fn log(&self, entry: &Entry<'_>) {
        if !self.filter.keeps(entry) {
            return;
        }
        let line = match self.format {
            LogFormat::Common => format::common(entry),
            LogFormat::Json => format::json(entry, self),
        };
        self.writer.send(line);
    }
}

static GLOBAL: OnceLock<Arc<AccessLog>> = OnceLock::new();

/// The process's access log, once set up.
pub fn global() -> Option<&'static Arc<AccessLog>> {
    GLOBAL.get()
}

/// Makes `log` the process's access log (the first call wins).
pub fn install(log: Arc<AccessLog>) {
    let _ = GLOBAL.set(log);
}
