//! `compress`: gzip / brotli / zstd response compression, streamed, with pooled encoders. Its
//! settings, their checks and the build are in `config`.

pub mod brotli_memory;
mod config;
mod encoder;

pub use config::{build, Config};
pub use encoder::{Coding, Encoder, Pool};

use crate::{Plugin, PluginCtx};
use async_trait::async_trait;
use bytes::Bytes;
use http::{header, HeaderValue, Method, StatusCode};
use pingora_error::{Error, ErrorType, Result};
use pingora_http::ResponseHeader;
use pingora_proxy::Session;
use std::sync::Mutex;

/// Finished encoders kept per middleware (per coding at most this many).
const POOL_SIZE: usize = 64;

/// Compresses responses the client accepts, as Traefik's `compress` decides.
pub struct Compress {
    /// Supported codings, by priority (ties in `Accept-Encoding` go to the first).
    codings: Vec<Coding>,
    /// Used when the request has no `Accept-Encoding`, or for `*`.
    default: Option<Coding>,
    /// Media types (lowercase, no parameters) never compressed.
    excluded: Vec<String>,
    /// If not empty: only these media types are compressed.
    included: Vec<String>,
    min_bytes: u64,
    pool: Pool,
}

/// The request's encoder while its body streams (kept in the `PluginCtx`).
struct Active(Mutex<Option<Encoder>>);

impl Compress {
    pub fn new(
        codings: Vec<Coding>,
        default: Option<Coding>,
        excluded: Vec<String>,
        included: Vec<String>,
        min_bytes: u64,
    ) -> Self {
        Compress {
            codings,
            default,
            excluded: excluded.iter().map(|t| media_type(t)).collect(),
            included: included.iter().map(|t| media_type(t)).collect(),
            min_bytes,
            pool: Pool::new(POOL_SIZE),
        }
    }

    /// The coding to answer with for this `Accept-Encoding` (None: send as is). The highest
    /// q-value wins, ties go to the configured order; `*` stands for every coding not named.
    pub fn negotiate(&self, accept: Option<&str>) -> Option<Coding> {
        let Some(accept) = accept else {
            return self.default;
        };
        let mut named: Vec<(Coding, f32)> = Vec::new();
        let mut star: Option<f32> = None;
        for item in accept.split(',') {
            let mut parts = item.split(';');
            let token = parts.next().unwrap_or("").trim();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if token == "*" {
                star = Some(q);
            } else if let Some(c) = Coding::parse(token) {
                named.push((c, q));
            }
        }
        let mut best: Option<(Coding, f32)> = None;
        for &c in &self.codings {
            let q = match named.iter().find(|(n, _)| *n == c) {
                Some((_, q)) => *q,
                None => match star {
                    Some(q) if self.default.is_none_or(|d| d == c) => q,
                    _ => continue,
                },
            };
            if q > 0.0 && best.is_none_or(|(_, b)| q > b) {
                best = Some((c, q));
            }
        }
        best.map(|(c, _)| c)
    }

    /// Whether a response of this media type may be compressed.
    pub fn type_allowed(&self, content_type: Option<&str>) -> bool {
        let t = content_type.map(media_type).unwrap_or_default();
        if t.starts_with("application/grpc") {
            return false;
        }
        if !self.included.is_empty() {
            return self.included.contains(&t);
        }
        !self.excluded.contains(&t)
    }

    /// Whether this response is to be compressed at all (before looking at the client).
    fn eligible(&self, method: &Method, r: &ResponseHeader) -> bool {
        let s = r.status;
        if method == Method::HEAD
            || s.is_informational()
            || matches!(s, StatusCode::NO_CONTENT | StatusCode::NOT_MODIFIED)
            || s == StatusCode::PARTIAL_CONTENT
            || r.headers.contains_key(header::CONTENT_ENCODING)
        {
            return false;
        }
        let length = r
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if length.is_some_and(|n| n < self.min_bytes) {
            return false;
        }
        let ct = r
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        self.type_allowed(ct)
    }
}

/// `Text/HTML; charset=utf-8` → `text/html`.
fn media_type(t: &str) -> String {
    let t = t.split(';').next().unwrap_or("");
    t.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

fn internal(e: std::io::Error) -> Box<Error> {
    Error::because(ErrorType::InternalError, "compressing the response body", e)
}

#[async_trait]
impl Plugin for Compress {
    fn kind(&self) -> &'static str {
        "compress"
    }

    fn body_hooks(&self) -> bool {
        true
    }

    async fn response_filter(
        &self,
        session: &mut Session,
        response: &mut ResponseHeader,
        cx: &mut PluginCtx,
    ) -> Result<()> {
        let req = session.req_header();
        if !self.eligible(&req.method, response) {
            return Ok(());
        }
        let accept = req
            .headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok());
        // the answer depends on Accept-Encoding whether or not this one is compressed
        let vary = response
            .headers
            .get_all(header::VARY)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.to_ascii_lowercase().contains("accept-encoding"));
        if !vary {
            response.append_header(header::VARY, "Accept-Encoding")?;
        }
        let Some(coding) = self.negotiate(accept) else {
            return Ok(());
        };
        let encoder = self.pool.take(coding).map_err(internal)?;
        response.remove_header(&header::CONTENT_LENGTH);
        response.remove_header(&header::ACCEPT_RANGES);
        response.insert_header(
            header::CONTENT_ENCODING,
            HeaderValue::from_static(coding.token()),
        )?;
        cx.put(Active(Mutex::new(Some(encoder))));
        Ok(())
    }

    fn response_body_filter(
        &self,
        body: &mut Option<Bytes>,
        end_of_stream: bool,
        cx: &mut PluginCtx,
    ) -> Result<()> {
        let Some(active) = cx.get::<Active>() else {
            return Ok(());
        };
        let mut slot = active
            .0
            .lock()
            .map_err(|_| Error::explain(ErrorType::InternalError, "compress state poisoned"))?;
        let Some(encoder) = slot.as_mut() else {
            return Ok(());
        };
        let input = body.take().unwrap_or_default();
        let mut out = Vec::with_capacity(input.len() / 2 + 64);
        encoder
            .encode(&input, end_of_stream, &mut out)
            .map_err(internal)?;
        if end_of_stream {
            if let Some(done) = slot.take() {
                self.pool.give(done);
            }
        }
        // an empty chunk would end a chunked body early
        *body = (!out.is_empty()).then(|| Bytes::from(out));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(codings: &[Coding]) -> Compress {
        Compress::new(codings.to_vec(), None, vec![], vec![], 1024)
    }

    #[test]
    fn q_values_then_configured_order_decide() {
        let all = c(&[Coding::Gzip, Coding::Brotli, Coding::Zstd]);
        assert_eq!(all.negotiate(Some("gzip, br, zstd")), Some(Coding::Gzip));
        assert_eq!(all.negotiate(Some("gzip;q=0.5, br")), Some(Coding::Brotli));
        assert_eq!(
            all.negotiate(Some("zstd;q=1.0, gzip;q=0.9")),
            Some(Coding::Zstd)
        );
        assert_eq!(all.negotiate(Some("gzip;q=0, identity")), None);
        assert_eq!(
            all.negotiate(Some("*;q=0.5, gzip;q=0")),
            Some(Coding::Brotli)
        );
        assert_eq!(all.negotiate(Some("")), None);
        assert_eq!(all.negotiate(None), None);
        let br_first = c(&[Coding::Brotli, Coding::Gzip]);
        assert_eq!(
            br_first.negotiate(Some("gzip, br, zstd")),
            Some(Coding::Brotli)
        );
        let mut d = c(&[Coding::Gzip, Coding::Brotli]);
        d.default = Some(Coding::Brotli);
        assert_eq!(d.negotiate(None), Some(Coding::Brotli));
        assert_eq!(d.negotiate(Some("*")), Some(Coding::Brotli));
    }

    #[test]
    fn content_types_are_compared_without_case_spaces_or_parameters() {
        let ex = Compress::new(
            vec![Coding::Gzip],
            None,
            vec!["Text/Event-Stream".into()],
            vec![],
            0,
        );
        assert!(!ex.type_allowed(Some("text/event-stream; charset=utf-8")));
        assert!(ex.type_allowed(Some("text/html")));
        assert!(!ex.type_allowed(Some("application/grpc+proto")));
        let inc = Compress::new(
            vec![Coding::Gzip],
            None,
            vec![],
            vec!["application/json".into()],
            0,
        );
        assert!(inc.type_allowed(Some("application/json")));
        assert!(!inc.type_allowed(Some("text/html")));
    }

    #[test]
    fn small_head_no_content_and_encoded_responses_are_left_alone() {
        let z = c(&[Coding::Gzip]);
        let resp = |status: u16, headers: &[(&str, &str)]| {
            let mut r = ResponseHeader::build(status, None).unwrap();
            for (k, v) in headers {
                r.insert_header(k.to_string(), *v).unwrap();
            }
            r
        };
        assert!(z.eligible(&Method::GET, &resp(200, &[("content-length", "5000")])));
        assert!(z.eligible(&Method::GET, &resp(200, &[])), "unknown length");
        assert!(!z.eligible(&Method::GET, &resp(200, &[("content-length", "1023")])));
        assert!(!z.eligible(&Method::HEAD, &resp(200, &[])));
        assert!(!z.eligible(&Method::GET, &resp(204, &[])));
        assert!(!z.eligible(&Method::GET, &resp(304, &[])));
        assert!(!z.eligible(&Method::GET, &resp(200, &[("content-encoding", "gzip")])));
    }
}
