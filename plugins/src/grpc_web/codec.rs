//! gRPC-Web's wire pieces: the trailer frame, and the streaming base64 of the `-text` variants
//! (chunks split anywhere; at most three bytes or characters carried between chunks).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use http::HeaderMap;

/// The flag byte of a gRPC-Web trailer frame (a data frame's is 0).
pub const TRAILER_FLAG: u8 = 0x80;

/// gRPC-Web's trailer frame: `0x80`, the block's length (u32, big endian), then the trailers as
/// HTTP/1 header lines `name: value\r\n` with lower-case names (as Traefik's grpc-web writes them).
pub fn trailer_frame(trailers: &HeaderMap) -> Option<Bytes> {
    let mut block = Vec::with_capacity(64);
    for (name, value) in trailers {
        block.extend_from_slice(name.as_str().as_bytes());
        block.extend_from_slice(b": ");
        block.extend_from_slice(value.as_bytes());
        block.extend_from_slice(b"\r\n");
    }
    let len = u32::try_from(block.len()).ok()?;
    let mut frame = Vec::with_capacity(5 + block.len());
    frame.push(TRAILER_FLAG);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(&block);
    Some(Bytes::from(frame))
}

/// Decodes a base64 request body that arrives in chunks split anywhere. Concatenated padded
/// segments (`AAA=BBBB`) decode too; line breaks are skipped, as Go's decoder does.
#[derive(Debug, Default)]
pub struct Base64Decoder {
    /// Characters of an incomplete group from the previous chunk (at most three).
    pending: Vec<u8>,
}

impl Base64Decoder {
    /// The bytes of every whole group so far; `None`: not base64.
    pub fn push(&mut self, chunk: &[u8]) -> Option<Bytes> {
        let mut input = std::mem::take(&mut self.pending);
        input.extend(chunk.iter().filter(|b| !matches!(b, b'\r' | b'\n')));
        let whole = input.len() / 4 * 4;
        self.pending = input.split_off(whole);
        let mut out = Vec::with_capacity(whole / 4 * 3);
        let mut start = 0;
        for end in (4..=whole).step_by(4) {
            if input[end - 1] == b'=' {
                STANDARD.decode_vec(&input[start..end], &mut out).ok()?;
                start = end;
            }
        }
        if start < whole {
            STANDARD.decode_vec(&input[start..whole], &mut out).ok()?;
        }
        Some(Bytes::from(out))
    }

    /// Whether the body ended on a whole group.
    pub fn is_complete(&self) -> bool {
        self.pending.is_empty()
    }

    /// Forgets what a previous attempt left (a retried request is decoded again).
    pub fn reset(&mut self) {
        self.pending.clear();
    }
}

/// Follows the gRPC message frames of a request body (5-byte header, then its length), so a
/// broken `-text` body can be cut where the upstream is sure to refuse it.
#[derive(Debug, Default)]
pub struct FrameCursor {
    header: [u8; 5],
    /// Header bytes seen of the current frame.
    filled: usize,
    /// Payload bytes still to come of the current frame.
    remaining: u64,
}

impl FrameCursor {
    /// Follows `data`, the next decoded bytes.
    pub fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            if self.remaining > 0 {
                let n = data
                    .len()
                    .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
                self.remaining -= n as u64;
                data = &data[n..];
                continue;
            }
            let n = data.len().min(5 - self.filled);
            self.header[self.filled..self.filled + n].copy_from_slice(&data[..n]);
            self.filled += n;
            data = &data[n..];
            if self.filled == 5 {
                let h = self.header;
                self.remaining = u64::from(u32::from_be_bytes([h[1], h[2], h[3], h[4]]));
                self.filled = 0;
            }
        }
    }

    /// The bytes that make the call fail at the upstream from here: between frames, the
    /// header of a message longer than any server accepts (and that never comes); inside a
    /// frame, nothing (the message ends truncated).
    pub fn poison(&self) -> &'static [u8] {
        if self.filled == 0 && self.remaining == 0 {
            &[0, 0xff, 0xff, 0xff, 0xff]
        } else {
            &[]
        }
    }
}

/// Encodes a response body as one base64 stream across chunks, padded once at its end.
#[derive(Debug, Default)]
pub struct Base64Encoder {
    /// Bytes of an incomplete group (at most two).
    carry: Vec<u8>,
}

impl Base64Encoder {
    /// The characters of every whole group so far.
    pub fn push(&mut self, data: &[u8]) -> Vec<u8> {
        let mut input = std::mem::take(&mut self.carry);
        input.extend_from_slice(data);
        let whole = input.len() / 3 * 3;
        self.carry = input.split_off(whole);
        STANDARD.encode(&input).into_bytes()
    }

    /// The last, padded group (empty when the stream ended on a whole group).
    pub fn finish(&mut self) -> Vec<u8> {
        let rest = std::mem::take(&mut self.carry);
        STANDARD.encode(rest).into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_split_base64_body_decodes_whole() {
        let text = STANDARD.encode(b"\x00\x00\x00\x00\x05hello");
        for cut in 0..=text.len() {
            let mut d = Base64Decoder::default();
            let mut out = d.push(&text.as_bytes()[..cut]).unwrap().to_vec();
            out.extend_from_slice(&d.push(&text.as_bytes()[cut..]).unwrap());
            assert!(d.is_complete(), "cut {cut}");
            assert_eq!(out, b"\x00\x00\x00\x00\x05hello", "cut {cut}");
        }
    }

    #[test]
    fn padded_segments_and_line_breaks_decode() {
        let mut d = Base64Decoder::default();
        let text = format!("{}\r\n{}", STANDARD.encode(b"ab"), STANDARD.encode(b"cde"));
        assert_eq!(&d.push(text.as_bytes()).unwrap()[..], b"abcde");
        assert!(d.push(b"!!!!").is_none(), "not base64");
        let mut d = Base64Decoder::default();
        d.push(b"YW").unwrap();
        assert!(!d.is_complete());
    }

    #[test]
    fn the_cursor_knows_when_a_frame_is_whole() {
        let mut c = FrameCursor::default();
        assert_eq!(c.poison().len(), 5);
        c.feed(b"\x00\x00\x00");
        assert!(c.poison().is_empty(), "inside a header");
        c.feed(b"\x00\x02h");
        assert!(c.poison().is_empty(), "inside a payload");
        c.feed(b"i\x00\x00\x00\x00\x00");
        assert_eq!(c.poison().len(), 5, "two whole frames");
    }

    #[test]
    fn an_encoded_stream_is_one_base64_text_whatever_the_chunks() {
        let data: Vec<u8> = (0u8..=40).collect();
        for cut in 0..data.len() {
            let mut e = Base64Encoder::default();
            let mut out = e.push(&data[..cut]);
            out.extend(e.push(&data[cut..]));
            out.extend(e.finish());
            assert_eq!(out, STANDARD.encode(&data).into_bytes(), "cut {cut}");
        }
    }

    #[test]
    fn trailer_frame_has_flag_length_and_lines() {
        let mut t = HeaderMap::new();
        t.insert("grpc-status", "3".parse().unwrap());
        t.insert("grpc-message", "bad".parse().unwrap());
        let f = trailer_frame(&t).unwrap();
        let block = b"grpc-status: 3\r\ngrpc-message: bad\r\n";
        assert_eq!(f[0], 0x80);
        assert_eq!(&f[1..5], &(block.len() as u32).to_be_bytes());
        assert_eq!(&f[5..], block);
    }
}
