//! `std::io` adapters in the spirit of flate2: [`Encoder`] (a `Write` that compresses into
//! an inner writer) and [`Decoder`] (a `Read` that decompresses from an inner reader,
//! following concatenated gzip members).

use crate::error::Error;
use crate::stream::{Compressor, Decompressor, Flush};
use std::io::{self, Read, Write};

const BUF: usize = 128 * 1024;

/// Compresses everything written to it into `W`.
///
/// `flush()` performs a sync flush (everything written so far becomes decodable); call
/// [`finish`](Encoder::finish) to end the stream and get `W` back. Dropping an unfinished
/// encoder finishes it and ignores errors.
///
/// ```
/// use std::io::Write;
/// use uadk_zip::{Encoder, Session};
/// let s = Session::new(Default::default()).unwrap();
/// let mut e = Encoder::new(s.compressor().unwrap(), Vec::new());
/// e.write_all(b"written through io::Write").unwrap();
/// let gz = e.finish().unwrap();
/// assert_eq!(s.decompress(&gz).unwrap(), b"written through io::Write");
/// ```
pub struct Encoder<W: Write> {
    c: Compressor,
    w: Option<W>,
    buf: Vec<u8>,
}

impl<W: Write> Encoder<W> {
    /// Wraps `w`.
    ///
    /// ```
    /// let c = uadk_zip::Compressor::software(uadk_zip::Format::Gzip, 1).unwrap();
    /// let e = uadk_zip::Encoder::new(c, std::io::sink());
    /// assert_eq!(e.compressor().total_in(), 0);
    /// ```
    pub fn new(c: Compressor, w: W) -> Self {
        Encoder {
            c,
            w: Some(w),
            buf: vec![0; BUF],
        }
    }

    fn run(&mut self, mut input: &[u8], flush: Flush) -> io::Result<usize> {
        let total = input.len();
        let Some(w) = self.w.as_mut() else {
            return Err(io::Error::other(Error::Finished));
        };
        loop {
            let p = self.c.compress(input, &mut self.buf, flush)?;
            w.write_all(&self.buf[..p.produced])?;
            input = &input[p.consumed..];
            let idle = p.produced < self.buf.len();
            if p.done || (flush == Flush::None && input.is_empty() && idle) {
                return Ok(total);
            }
        }
    }

    /// The compressor (totals, report).
    ///
    /// ```
    /// let c = uadk_zip::Compressor::software(uadk_zip::Format::Gzip, 1).unwrap();
    /// let e = uadk_zip::Encoder::new(c, Vec::new());
    /// assert!(!e.compressor().is_finished());
    /// ```
    pub fn compressor(&self) -> &Compressor {
        &self.c
    }

    /// Performs a full flush (a restart point) and flushes `W`.
    ///
    /// ```
    /// use std::io::Write;
    /// let c = uadk_zip::Compressor::software(uadk_zip::Format::Deflate, 6).unwrap();
    /// let mut e = uadk_zip::Encoder::new(c, Vec::new());
    /// e.write_all(b"abc").unwrap();
    /// e.full_flush().unwrap();
    /// assert!(e.get_ref().ends_with(&[0, 0, 0xff, 0xff]));
    /// ```
    pub fn full_flush(&mut self) -> io::Result<()> {
        self.run(&[], Flush::Full)?;
        self.w.as_mut().map_or(Ok(()), |w| w.flush())
    }

    /// The inner writer.
    ///
    /// ```
    /// let c = uadk_zip::Compressor::software(uadk_zip::Format::Gzip, 1).unwrap();
    /// let e = uadk_zip::Encoder::new(c, Vec::<u8>::new());
    /// assert!(e.get_ref().is_empty());
    /// ```
    pub fn get_ref(&self) -> &W {
        self.w.as_ref().expect("writer present until finish")
    }

    /// Ends the stream (final block and trailer written to `W`) but keeps the encoder, so
    /// its totals can still be read; [`finish`](Encoder::finish) then only returns `W`.
    ///
    /// ```
    /// let c = uadk_zip::Compressor::software(uadk_zip::Format::Gzip, 6).unwrap();
    /// let mut e = uadk_zip::Encoder::new(c, Vec::new());
    /// e.try_finish().unwrap();
    /// assert_eq!(e.compressor().total_out(), e.get_ref().len() as u64);
    /// ```
    pub fn try_finish(&mut self) -> io::Result<()> {
        self.run(&[], Flush::Finish).map(drop)
    }

    /// Ends the stream and returns the inner writer.
    ///
    /// ```
    /// let c = uadk_zip::Compressor::software(uadk_zip::Format::Zlib, 6).unwrap();
    /// let z = uadk_zip::Encoder::new(c, Vec::new()).finish().unwrap();
    /// assert_eq!(uadk_zip::decompress(&z, uadk_zip::Format::Zlib).unwrap(), b"");
    /// ```
    pub fn finish(mut self) -> io::Result<W> {
        self.run(&[], Flush::Finish)?;
        let mut w = self.w.take().expect("writer present until finish");
        w.flush()?;
        Ok(w)
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.run(buf, Flush::None)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.run(&[], Flush::Sync)?;
        self.w.as_mut().map_or(Ok(()), |w| w.flush())
    }
}

impl<W: Write> Drop for Encoder<W> {
    fn drop(&mut self) {
        if self.w.is_some() && !self.c.is_finished() {
            let _ = self.run(&[], Flush::Finish);
        }
    }
}

/// Decompresses from `R` (all gzip members; errors on truncation, corruption and trailing
/// data).
///
/// With a decompressor from a session whose [`crate::Config::threads`] is above 1, members
/// that carry a block index ([`crate::index`]) decode on that many threads, at most
/// `threads + 1` blocks in memory at once ([`Decompressor`] does it; see
/// [`Decompressor::with_index`] for an index at the end of a file).
///
/// ```
/// use std::io::Read;
/// use uadk_zip::{compress, Decoder, Decompressor, Format};
/// let gz = compress(b"read me", Format::Gzip).unwrap();
/// let mut d = Decoder::new(Decompressor::software(Format::Gzip), &gz[..]);
/// let mut s = String::new();
/// d.read_to_string(&mut s).unwrap();
/// assert_eq!(s, "read me");
/// ```
pub struct Decoder<R: Read> {
    d: Decompressor,
    r: R,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    eof: bool,
    ended: bool,
}

impl<R: Read> Decoder<R> {
    /// Wraps `r`.
    ///
    /// ```
    /// let d = uadk_zip::Decoder::new(uadk_zip::Decompressor::software(uadk_zip::Format::Gzip), std::io::empty());
    /// assert_eq!(d.decompressor().members(), 0);
    /// ```
    pub fn new(d: Decompressor, r: R) -> Self {
        Decoder {
            d,
            r,
            buf: vec![0; BUF],
            pos: 0,
            len: 0,
            eof: false,
            ended: false,
        }
    }

    /// The decompressor (header, members, totals, report).
    ///
    /// ```
    /// let d = uadk_zip::Decoder::new(uadk_zip::Decompressor::software(uadk_zip::Format::Zlib), std::io::empty());
    /// assert!(d.decompressor().gzip_header().is_none());
    /// ```
    pub fn decompressor(&self) -> &Decompressor {
        &self.d
    }

    /// Returns the inner reader.
    ///
    /// ```
    /// let d = uadk_zip::Decoder::new(uadk_zip::Decompressor::software(uadk_zip::Format::Zlib), std::io::empty());
    /// let _r: std::io::Empty = d.into_inner();
    /// ```
    pub fn into_inner(self) -> R {
        self.r
    }
}

impl<R: Read> Read for Decoder<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() || self.ended {
            return Ok(0);
        }
        loop {
            if self.pos == self.len && !self.eof {
                self.pos = 0;
                self.len = loop {
                    match self.r.read(&mut self.buf) {
                        Ok(n) => break n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(e),
                    }
                };
                self.eof = self.len == 0;
            }
            let p = self.d.decompress(&self.buf[self.pos..self.len], out)?;
            self.pos += p.consumed;
            if p.produced > 0 {
                return Ok(p.produced);
            }
            if self.eof && self.pos == self.len && p.consumed == 0 {
                self.d.finish()?;
                self.ended = true;
                return Ok(0);
            }
        }
    }
}
