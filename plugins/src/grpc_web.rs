//! The `grpcWeb` middleware: turns gRPC-Web calls (`application/grpc-web[+proto]`, and the
//! base64 `application/grpc-web-text[+proto]`) into gRPC for an HTTP/2 upstream, and the answer
//! back, as Traefik's grpc-web wrapper does:
//!
//! - request: `Content-Type` becomes `application/grpc…`, `TE: trailers` is set, the HTTP/1
//!   `Content-Length` dropped; a `-text` body is base64-decoded as it streams;
//! - response: a gRPC answer gets the gRPC-Web content type (base64-encoded as one stream for
//!   `-text`) and `Access-Control-Expose-Headers` naming its headers; the upstream's trailers
//!   (`grpc-status`, `grpc-message`) become the gRPC-Web trailer frame that ends the body;
//! - CORS for `allowOrigins` (see `cors`): preflights naming `x-grpc-web` are answered here.
//!
//! Other requests pass through untouched. The upstream must speak HTTP/2 (`h2c://` or TLS with
//! h2), as gRPC does: the trailers come from Pingora's HTTP/2 trailer hook.

mod codec;
mod config;
mod cors;

pub use codec::{trailer_frame, Base64Decoder, Base64Encoder, FrameCursor, TRAILER_FLAG};
pub use config::{build, Config};
pub use cors::{canonical, is_preflight, preflight_reply, Origins};

use crate::{Flow, Plugin, PluginCtx};
use async_trait::async_trait;
use bytes::Bytes;
use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS,
    CONTENT_LENGTH, CONTENT_TYPE, TE, VARY,
};
use http::{HeaderMap, HeaderValue, Method};
use pingora_error::{Error, ErrorType, Result};
use pingora_http::{RequestHeader, ResponseHeader};
use pingora_proxy::Session;

const GRPC: &[u8] = b"application/grpc";
const GRPC_WEB: &[u8] = b"application/grpc-web";
const GRPC_WEB_TEXT: &[u8] = b"application/grpc-web-text";

/// One `grpcWeb` middleware instance.
pub struct GrpcWeb {
    origins: Origins,
}

/// A gRPC-Web call in flight (per-request state in `PluginCtx`).
#[derive(Debug, Default)]
struct Call {
    /// `application/grpc-web-text`: bodies are base64.
    text: bool,
    /// The content type the upstream gets.
    upstream_type: Option<HeaderValue>,
    /// The request's `Origin`, when allowed.
    origin: Option<HeaderValue>,
    /// The upstream answered gRPC: the answer is being translated.
    translating: bool,
    decoder: Base64Decoder,
    /// Where the decoded request body is in its gRPC frames.
    frames: FrameCursor,
    /// The `-text` body was not base64: the rest of it is dropped.
    broken: bool,
    encoder: Base64Encoder,
}

/// `application/grpc-web[-text]<rest>` → whether it is `-text`, and `application/grpc<rest>`.
fn web_call(content_type: &[u8]) -> Option<(bool, HeaderValue)> {
    let starts =
        |p: &[u8]| content_type.len() >= p.len() && content_type[..p.len()].eq_ignore_ascii_case(p);
    let (text, prefix) = if starts(GRPC_WEB_TEXT) {
        (true, GRPC_WEB_TEXT)
    } else if starts(GRPC_WEB) {
        (false, GRPC_WEB)
    } else {
        return None;
    };
    let rest = &content_type[prefix.len()..];
    if !(rest.is_empty() || rest[0] == b'+' || rest[0] == b';') {
        return None;
    }
    let upstream = [GRPC, rest].concat();
    Some((text, HeaderValue::from_bytes(&upstream).ok()?))
}

/// `application/grpc<rest>` → the gRPC-Web type with the same rest; `None`: not gRPC.
fn web_answer_type(content_type: &[u8], text: bool) -> Option<HeaderValue> {
    let rest = content_type.strip_prefix(GRPC)?;
    if !(rest.is_empty() || rest[0] == b'+' || rest[0] == b';') {
        return None;
    }
    let prefix = if text { GRPC_WEB_TEXT } else { GRPC_WEB };
    HeaderValue::from_bytes(&[prefix, rest].concat()).ok()
}

/// Every header name of the answer, canonical, for `Access-Control-Expose-Headers`.
fn exposed(headers: &HeaderMap) -> Option<HeaderValue> {
    let mut names: Vec<String> = headers.keys().map(|k| canonical(k.as_str())).collect();
    names.dedup();
    HeaderValue::from_str(&names.join(", ")).ok()
}

impl GrpcWeb {
    pub fn new(origins: Origins) -> Self {
        GrpcWeb { origins }
    }
}

#[async_trait]
impl Plugin for GrpcWeb {
    fn kind(&self) -> &'static str {
        "grpcWeb"
    }

    fn body_hooks(&self) -> bool {
        true
    }

    async fn request_filter(&self, session: &mut Session, cx: &mut PluginCtx) -> Result<Flow> {
        let req = session.req_header();
        let origin = self.origins.allowed(&req.headers);
        if is_preflight(&req.method, &req.headers) {
            return Ok(Flow::Respond(preflight_reply(&req.headers, origin)));
        }
        let content_type = req.headers.get(CONTENT_TYPE).map(HeaderValue::as_bytes);
        if req.method != Method::POST {
            return Ok(Flow::Continue);
        }
        if let Some((text, upstream_type)) = content_type.and_then(web_call) {
            cx.put(Call {
                text,
                upstream_type: Some(upstream_type),
                origin,
                ..Call::default()
            });
        }
        Ok(Flow::Continue)
    }

    async fn upstream_request_filter(
        &self,
        _session: &mut Session,
        request: &mut RequestHeader,
        cx: &mut PluginCtx,
    ) -> Result<()> {
        let Some(call) = cx.get_mut::<Call>() else {
            return Ok(());
        };
        call.decoder.reset();
        call.frames = FrameCursor::default();
        call.broken = false;
        if let Some(t) = call.upstream_type.clone() {
            request.insert_header(CONTENT_TYPE, t)?;
        }
        request.remove_header(&CONTENT_LENGTH);
        request.insert_header(TE, "trailers")?;
        // gRPC ends a request with a DATA frame, never on its HEADERS
        request.set_send_end_stream(false);
        Ok(())
    }

    fn request_body_filter(
        &self,
        body: &mut Option<Bytes>,
        end_of_stream: bool,
        cx: &mut PluginCtx,
    ) -> Result<()> {
        let Some(call) = cx.get_mut::<Call>().filter(|c| c.text) else {
            return Ok(());
        };
        // A body error cannot end the call: Pingora then stops reading the client but never
        // ends the upstream's stream (it waits for an answer that never comes). So a broken
        // body is cut where the upstream must refuse the call, and the rest dropped.
        if call.broken {
            *body = body.as_ref().map(|_| Bytes::new());
            return Ok(());
        }
        if let Some(chunk) = body.as_ref() {
            match call.decoder.push(chunk) {
                Some(decoded) => {
                    call.frames.feed(&decoded);
                    *body = Some(decoded);
                }
                None => {
                    call.broken = true;
                    log::debug!("grpcWeb: a grpc-web-text body is not base64; the call is cut");
                    *body = Some(Bytes::from_static(call.frames.poison()));
                }
            }
        }
        if end_of_stream && !call.decoder.is_complete() && !call.broken {
            call.broken = true;
            let poison = Bytes::from_static(call.frames.poison());
            *body = Some(match body.take() {
                Some(b) if !b.is_empty() => [&b[..], &poison[..]].concat().into(),
                _ => poison,
            });
        }
        Ok(())
    }

    async fn response_filter(
        &self,
        _session: &mut Session,
        response: &mut ResponseHeader,
        cx: &mut PluginCtx,
    ) -> Result<()> {
        let Some(call) = cx.get_mut::<Call>() else {
            return Ok(());
        };
        if response.status.is_informational() {
            return Ok(());
        }
        response.append_header(VARY, "Origin")?;
        if let Some(origin) = call.origin.clone() {
            response.insert_header(ACCESS_CONTROL_ALLOW_ORIGIN, origin)?;
            response.insert_header(ACCESS_CONTROL_ALLOW_CREDENTIALS, "true")?;
        }
        let answer_type = response
            .headers
            .get(CONTENT_TYPE)
            .and_then(|t| web_answer_type(t.as_bytes(), call.text));
        let Some(answer_type) = answer_type else {
            return Ok(());
        };
        call.translating = true;
        response.insert_header(CONTENT_TYPE, answer_type)?;
        response.remove_header(&CONTENT_LENGTH);
        if let Some(names) = exposed(&response.headers) {
            response.insert_header(ACCESS_CONTROL_EXPOSE_HEADERS, names)?;
        }
        Ok(())
    }

    fn response_body_filter(
        &self,
        body: &mut Option<Bytes>,
        end_of_stream: bool,
        cx: &mut PluginCtx,
    ) -> Result<()> {
        let Some(call) = cx.get_mut::<Call>().filter(|c| c.translating && c.text) else {
            return Ok(());
        };
        let mut out = body
            .as_ref()
            .map_or_else(Vec::new, |chunk| call.encoder.push(chunk));
        if end_of_stream {
            out.extend(call.encoder.finish());
        }
        *body = Some(Bytes::from(out));
        Ok(())
    }

    fn response_trailer_filter(
        &self,
        trailers: &mut HeaderMap,
        cx: &mut PluginCtx,
    ) -> Result<Option<Bytes>> {
        let Some(call) = cx.get_mut::<Call>().filter(|c| c.translating) else {
            return Ok(None);
        };
        let frame = trailer_frame(trailers)
            .ok_or_else(|| Error::explain(ErrorType::InternalError, "gRPC trailers over 4 GiB"))?;
        if !call.text {
            return Ok(Some(frame));
        }
        let mut out = call.encoder.push(&frame);
        out.extend(call.encoder.finish());
        Ok(Some(Bytes::from(out)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    #[test]
    fn web_content_types_map_to_grpc_and_back() {
        let (text, t) = web_call(b"application/grpc-web+proto").unwrap();
        assert!(!text);
        assert_eq!(t, "application/grpc+proto");
        let (text, t) = web_call(b"Application/GRPC-Web-Text").unwrap();
        assert!(text);
        assert_eq!(t, "application/grpc");
        assert!(web_call(b"application/grpc").is_none());
        assert!(web_call(b"application/grpc-webx").is_none());
        assert_eq!(
            web_answer_type(b"application/grpc", true).unwrap(),
            "application/grpc-web-text"
        );
        assert_eq!(
            web_answer_type(b"application/grpc+proto", false).unwrap(),
            "application/grpc-web+proto"
        );
        assert!(web_answer_type(b"text/html", false).is_none());
    }

    fn cx_with(call: Call) -> PluginCtx {
        let mut cx = PluginCtx::new(IpAddr::V4(Ipv4Addr::LOCALHOST), false);
        cx.put(call);
        cx
    }

    #[test]
    fn text_bodies_are_decoded_and_answers_encoded_with_the_trailer_frame() {
        let plugin = GrpcWeb::new(Origins::new(false, vec![]));
        let mut cx = cx_with(Call {
            text: true,
            translating: true,
            ..Call::default()
        });
        let mut body = Some(Bytes::from_static(b"AAAAAAVo"));
        plugin
            .request_body_filter(&mut body, false, &mut cx)
            .unwrap();
        assert_eq!(&body.unwrap()[..], b"\x00\x00\x00\x00\x05h");
        let mut body = Some(Bytes::from_static(b"ZWxsbw=="));
        plugin
            .request_body_filter(&mut body, true, &mut cx)
            .unwrap();
        assert_eq!(&body.unwrap()[..], b"ello");

        let mut out = Vec::new();
        for part in [&b"\x00\x00\x00\x00\x02o"[..], b"k"] {
            let mut body = Some(Bytes::copy_from_slice(part));
            plugin
                .response_body_filter(&mut body, false, &mut cx)
                .unwrap();
            out.extend_from_slice(&body.unwrap());
        }
        let mut trailers = HeaderMap::new();
        trailers.insert("grpc-status", "0".parse().unwrap());
        let last = plugin
            .response_trailer_filter(&mut trailers, &mut cx)
            .unwrap()
            .unwrap();
        out.extend_from_slice(&last);
        let mut d = Base64Decoder::default();
        let plain = d.push(&out).unwrap();
        assert!(d.is_complete());
        assert_eq!(&plain[..7], b"\x00\x00\x00\x00\x02ok");
        assert_eq!(plain[7], TRAILER_FLAG);
        assert_eq!(&plain[12..], b"grpc-status: 0\r\n");
    }

    #[test]
    fn a_broken_text_body_is_cut_where_the_upstream_refuses_it() {
        let plugin = GrpcWeb::new(Origins::new(false, vec![]));
        let text = |b: &'static [u8]| Some(Bytes::from_static(b));
        // between frames: the header of a message no server takes, then nothing
        let mut cx = cx_with(Call {
            text: true,
            ..Call::default()
        });
        let mut body = text(b"AAAAAAA=");
        plugin
            .request_body_filter(&mut body, false, &mut cx)
            .unwrap();
        assert_eq!(&body.unwrap()[..], b"\x00\x00\x00\x00\x00");
        let mut body = text(b"!!!!");
        plugin
            .request_body_filter(&mut body, false, &mut cx)
            .unwrap();
        assert_eq!(&body.unwrap()[..], b"\x00\xff\xff\xff\xff");
        let mut body = text(b"AAAAAAVo");
        plugin
            .request_body_filter(&mut body, true, &mut cx)
            .unwrap();
        assert!(body.unwrap().is_empty(), "the rest is dropped");
        // inside a frame: the message stays truncated
        let mut cx = cx_with(Call {
            text: true,
            ..Call::default()
        });
        let mut body = text(b"AAAAAAVo");
        plugin
            .request_body_filter(&mut body, false, &mut cx)
            .unwrap();
        let mut body = text(b"ZW");
        plugin
            .request_body_filter(&mut body, true, &mut cx)
            .unwrap();
        assert!(body.unwrap().is_empty());
    }

    #[test]
    fn other_requests_are_left_alone() {
        let plugin = GrpcWeb::new(Origins::new(true, vec![]));
        let mut cx = PluginCtx::new(IpAddr::V4(Ipv4Addr::LOCALHOST), false);
        let mut body = Some(Bytes::from_static(b"plain"));
        plugin
            .request_body_filter(&mut body, true, &mut cx)
            .unwrap();
        assert_eq!(&body.unwrap()[..], b"plain");
        let mut trailers = HeaderMap::new();
        assert!(plugin
            .response_trailer_filter(&mut trailers, &mut cx)
            .unwrap()
            .is_none());
    }
}
