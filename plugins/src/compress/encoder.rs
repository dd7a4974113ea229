//! Streaming body encoders (gzip, brotli, zstd) and a bounded pool that reuses their state.

use super::brotli_memory::PooledAlloc;
use std::io::{self, Write};
use std::sync::Mutex;

/// A content coding pylon can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Gzip,
    Brotli,
    Zstd,
}

impl Coding {
    /// The token in `Accept-Encoding` / `Content-Encoding`.
    pub fn token(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Brotli => "br",
            Coding::Zstd => "zstd",
        }
    }

    /// The coding named by `token` (case-insensitive).
    pub fn parse(token: &str) -> Option<Coding> {
        [Coding::Gzip, Coding::Brotli, Coding::Zstd]
            .into_iter()
            .find(|c| c.token().eq_ignore_ascii_case(token))
    }
}

/// Brotli quality and window: fast, and a small state (the 2 MB default window is not needed
/// for HTTP bodies; see Traefik issue 10859).
const BROTLI_QUALITY: u32 = 4;
const BROTLI_LGWIN: u32 = 18;
const ZSTD_LEVEL: i32 = 3;
const SCRATCH: usize = 16 * 1024;

/// The staging buffer brotli's writer compresses from.
type BrotliBuffer = <brotli::HeapAlloc<u8> as brotli::Allocator<u8>>::AllocatedMemory;

/// A brotli stream writing into a `Vec`, its memory from the pool.
type BrotliWriter =
    brotli::enc::writer::CompressorWriterCustomAlloc<Vec<u8>, BrotliBuffer, PooledAlloc>;

/// A new brotli stream.
fn brotli_writer() -> BrotliWriter {
    let buffer: BrotliBuffer = vec![0u8; 4096].into();
    BrotliWriter::new(
        Vec::new(),
        buffer,
        PooledAlloc,
        BROTLI_QUALITY,
        BROTLI_LGWIN,
    )
}

/// One stream's compressor. `encode` appends output for each chunk (flushed, so streamed
/// bodies reach the client chunk by chunk); `finish` ends the stream.
pub enum Encoder {
    Gzip {
        deflate: flate2::Compress,
        crc: flate2::Crc,
        started: bool,
    },
    Zstd(zstd::stream::raw::Encoder<'static>),
    /// Brotli's writer cannot be reset: it is made per stream (with a small window), its
    /// memory comes from a pool (`brotli_memory`).
    /// (`None` once the stream is finished.)
    Brotli(Option<Box<BrotliWriter>>),
}

impl Encoder {
    pub fn new(coding: Coding) -> io::Result<Encoder> {
        Ok(match coding {
            Coding::Gzip => Encoder::Gzip {
                deflate: flate2::Compress::new(flate2::Compression::default(), false),
                crc: flate2::Crc::new(),
                started: false,
            },
            Coding::Zstd => Encoder::Zstd(zstd::stream::raw::Encoder::new(ZSTD_LEVEL)?),
            Coding::Brotli => Encoder::Brotli(Some(Box::new(brotli_writer()))),
        })
    }

    pub fn coding(&self) -> Coding {
        match self {
            Encoder::Gzip { .. } => Coding::Gzip,
            Encoder::Zstd(_) => Coding::Zstd,
            Encoder::Brotli(_) => Coding::Brotli,
        }
    }

    /// Compresses `input` (all of it) into `out`; with `last`, ends the stream.
    pub fn encode(&mut self, input: &[u8], last: bool, out: &mut Vec<u8>) -> io::Result<()> {
        match self {
            Encoder::Gzip {
                deflate,
                crc,
                started,
            } => {
                if !*started {
                    // magic, deflate, no flags, no mtime, no extra flags, unknown OS
                    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
                    *started = true;
                }
                crc.update(input);
                let flush = if last {
                    flate2::FlushCompress::Finish
                } else {
                    flate2::FlushCompress::Sync
                };
                deflate_all(deflate, input, flush, out)?;
                if last {
                    out.extend_from_slice(&crc.sum().to_le_bytes());
                    out.extend_from_slice(&crc.amount().to_le_bytes());
                }
                Ok(())
            }
            Encoder::Zstd(z) => zstd_all(z, input, last, out),
            Encoder::Brotli(slot) => {
                let w = slot
                    .as_mut()
                    .ok_or_else(|| io::Error::other("brotli stream already finished"))?;
                w.write_all(input)?;
                w.flush()?;
                out.append(w.get_mut());
                if last {
                    if let Some(done) = slot.take() {
                        out.extend_from_slice(&done.into_inner());
                    }
                }
                Ok(())
            }
        }
    }

    /// Makes a finished encoder ready for a new stream; `false` if it cannot be reused.
    fn reset(&mut self) -> bool {
        use zstd::stream::raw::Operation;
        match self {
            Encoder::Gzip {
                deflate,
                crc,
                started,
            } => {
                deflate.reset();
                *crc = flate2::Crc::new();
                *started = false;
                true
            }
            Encoder::Zstd(z) => z.reinit().is_ok(),
            Encoder::Brotli(_) => false,
        }
    }
}

fn deflate_all(
    d: &mut flate2::Compress,
    mut input: &[u8],
    flush: flate2::FlushCompress,
    out: &mut Vec<u8>,
) -> io::Result<()> {
    let mut buf = [0u8; SCRATCH];
    loop {
        let (in0, out0) = (d.total_in(), d.total_out());
        let status = d
            .compress(input, &mut buf, flush)
            .map_err(io::Error::other)?;
        let used = (d.total_in() - in0) as usize;
        let made = (d.total_out() - out0) as usize;
        input = &input[used..];
        out.extend_from_slice(&buf[..made]);
        let done = match flush {
            flate2::FlushCompress::Finish => status == flate2::Status::StreamEnd,
            _ => input.is_empty() && made < buf.len(),
        };
        if done || (used == 0 && made == 0 && status == flate2::Status::BufError) {
            return Ok(());
        }
    }
}

fn zstd_all(
    z: &mut zstd::stream::raw::Encoder<'static>,
    input: &[u8],
    last: bool,
    out: &mut Vec<u8>,
) -> io::Result<()> {
    use zstd::stream::raw::{InBuffer, Operation, OutBuffer};
    let mut buf = [0u8; SCRATCH];
    let mut inb = InBuffer::around(input);
    while inb.pos < input.len() {
        let mut ob = OutBuffer::around(&mut buf[..]);
        z.run(&mut inb, &mut ob)?;
        out.extend_from_slice(ob.as_slice());
    }
    loop {
        let mut ob = OutBuffer::around(&mut buf[..]);
        let left = if last {
            z.finish(&mut ob, true)?
        } else {
            z.flush(&mut ob)?
        };
        out.extend_from_slice(ob.as_slice());
        if left == 0 {
            return Ok(());
        }
    }
}

/// Finished encoders kept for reuse, at most `cap` per coding.
pub struct Pool {
    free: Mutex<Vec<Encoder>>,
    cap: usize,
}

impl Pool {
    pub fn new(cap: usize) -> Pool {
        Pool {
            free: Mutex::new(Vec::new()),
            cap,
        }
    }

    /// A ready encoder for `coding`: a pooled one if any, else a new one.
    pub fn take(&self, coding: Coding) -> io::Result<Encoder> {
        if let Ok(mut free) = self.free.lock() {
            if let Some(i) = free.iter().position(|e| e.coding() == coding) {
                return Ok(free.swap_remove(i));
            }
        }
        Encoder::new(coding)
    }

    /// Returns a finished encoder; kept if it can be reset and the pool has room.
    pub fn give(&self, mut e: Encoder) {
        if !e.reset() {
            return;
        }
        if let Ok(mut free) = self.free.lock() {
            if free.len() < self.cap {
                free.push(e);
            }
        }
    }

    /// Encoders waiting in the pool.
    pub fn idle(&self) -> usize {
        self.free.lock().map_or(0, |f| f.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn decode(coding: Coding, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        match coding {
            Coding::Gzip => {
                flate2::read::GzDecoder::new(data)
                    .read_to_end(&mut out)
                    .unwrap();
            }
            Coding::Zstd => out = zstd::stream::decode_all(data).unwrap(),
            Coding::Brotli => {
                brotli::Decompressor::new(data, 4096)
                    .read_to_end(&mut out)
                    .unwrap();
            }
        }
        out
    }

    #[test]
    fn every_coding_round_trips_in_chunks_and_pooled_encoders_are_reused() {
        let pool = Pool::new(4);
        let body: Vec<u8> = (0..100_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        for coding in [Coding::Gzip, Coding::Brotli, Coding::Zstd] {
            for _round in 0..2 {
                let mut e = pool.take(coding).unwrap();
                let mut out = Vec::new();
                let chunks: Vec<&[u8]> = body.chunks(30_000).collect();
                for (i, c) in chunks.iter().enumerate() {
                    e.encode(c, i + 1 == chunks.len(), &mut out).unwrap();
                }
                assert!(out.len() < body.len() / 2, "{coding:?} compresses");
                assert_eq!(decode(coding, &out), body, "{coding:?}");
                pool.give(e);
            }
        }
        assert_eq!(pool.idle(), 2, "gzip and zstd kept, brotli not");
    }

    #[test]
    fn an_empty_last_chunk_ends_the_stream() {
        for coding in [Coding::Gzip, Coding::Brotli, Coding::Zstd] {
            let mut e = Encoder::new(coding).unwrap();
            let mut out = Vec::new();
            e.encode(b"hello ", false, &mut out).unwrap();
            e.encode(b"", true, &mut out).unwrap();
            assert_eq!(decode(coding, &out), b"hello ", "{coding:?}");
        }
    }

    #[test]
    fn brotli_streams_reuse_the_memory_of_finished_ones() {
        let body: Vec<u8> = (0..200_000u32)
            .flat_map(|i| (i % 97).to_le_bytes())
            .collect();
        let stream = || {
            let mut e = Encoder::new(Coding::Brotli).unwrap();
            let mut out = Vec::new();
            e.encode(&body, true, &mut out).unwrap();
            assert_eq!(decode(Coding::Brotli, &out), body);
        };
        let (fresh0, reused0) = super::super::brotli_memory::stats();
        stream();
        let (fresh1, reused1) = super::super::brotli_memory::stats();
        stream();
        let (fresh2, reused2) = super::super::brotli_memory::stats();
        let first_state = fresh1 - fresh0 + (reused1 - reused0);
        assert!(
            first_state > 64 * 1024,
            "a brotli state is sizeable: {first_state}"
        );
        // The second stream's state comes from the pool (other tests may run brotli too, so
        // only a lower bound on what was reused is certain).
        assert!(
            reused2 - reused1 >= first_state / 2,
            "reused {} of a {first_state}-byte state; fresh {}",
            reused2 - reused1,
            fresh2 - fresh1
        );
    }
}
