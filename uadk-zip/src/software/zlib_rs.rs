//! zlib-rs through flate2's raw `Compress`/`Decompress` API (safe code): streaming
//! compression at levels 0 and 4..=9 with every flush mode, preset dictionaries for parallel
//! blocks, and a streaming inflater that verifies the trailer itself.

use crate::backend::{Engine, RawCompress, RawDecompress, Step};
use crate::error::{Error, Result};
use crate::format::{trailer_len, verify_trailer, Check, Format};
use crate::software::Library;
use crate::stream::Flush;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// Streaming zlib-rs compressor producing raw deflate.
pub(crate) struct ZlibRsCompress {
    c: Compress,
    finished: bool,
}

impl ZlibRsCompress {
    pub(crate) fn new(level: u32) -> Result<Self> {
        if level > 9 {
            return Err(Error::InvalidLevel(level));
        }
        Ok(ZlibRsCompress {
            c: Compress::new(Compression::new(level), false),
            finished: false,
        })
    }

    /// Primes the window with `dict` (the data preceding this block in a parallel stream).
    pub(crate) fn set_dictionary(&mut self, dict: &[u8]) -> Result<()> {
        self.c.set_dictionary(dict).map(drop).map_err(|e| Error::Library {
            library: "zlib-rs",
            detail: e.to_string(),
        })
    }
}

impl RawCompress for ZlibRsCompress {
    fn step(&mut self, input: &[u8], output: &mut [u8], flush: Flush) -> Result<Step> {
        if self.finished {
            return Err(Error::Finished);
        }
        let (in0, out0) = (self.c.total_in(), self.c.total_out());
        let f = match flush {
            Flush::None => FlushCompress::None,
            Flush::Sync => FlushCompress::Sync,
            Flush::Full => FlushCompress::Full,
            Flush::Finish => FlushCompress::Finish,
        };
        let status = self.c.compress(input, output, f).map_err(|e| Error::Library {
            library: "zlib-rs",
            detail: e.to_string(),
        })?;
        let consumed = (self.c.total_in() - in0) as usize;
        let produced = (self.c.total_out() - out0) as usize;
        let done = match flush {
            Flush::Finish => status == Status::StreamEnd,
            Flush::None => consumed == input.len(),
            // zlib: a flush is complete when output space was left over.
            Flush::Sync | Flush::Full => consumed == input.len() && produced < output.len(),
        };
        if done && flush == Flush::Finish {
            self.finished = true;
        }
        Ok(Step {
            consumed,
            produced,
            done,
        })
    }

    fn engine(&self) -> Engine {
        Engine::Software(Library::ZlibRs)
    }
}

/// Compresses one piece of a stream: `last` finishes it, otherwise it ends on a sync flush.
pub(crate) fn compress_block(
    level: u32,
    dict: &[u8],
    input: &[u8],
    last: bool,
    out: &mut Vec<u8>,
) -> Result<()> {
    let mut c = ZlibRsCompress::new(level)?;
    if !dict.is_empty() {
        c.set_dictionary(dict)?;
    }
    let flush = if last { Flush::Finish } else { Flush::Sync };
    crate::stream::drive_to_vec(&mut c, input, flush, out)
}

/// Streaming zlib-rs inflater of a body followed by the format's trailer.
pub(crate) struct ZlibRsDecompress {
    d: Decompress,
    format: Format,
    check: Check,
    out_len: u64,
    body_done: bool,
    trailer: Vec<u8>,
}

impl ZlibRsDecompress {
    pub(crate) fn new(format: Format) -> Self {
        ZlibRsDecompress {
            d: Decompress::new(false),
            format,
            check: Check::new(format),
            out_len: 0,
            body_done: false,
            trailer: Vec::with_capacity(8),
        }
    }
}

impl RawDecompress for ZlibRsDecompress {
    fn step(&mut self, input: &[u8], output: &mut [u8]) -> Result<Step> {
        let need = trailer_len(self.format);
        if self.body_done && self.trailer.len() == need {
            return Ok(Step {
                done: true,
                ..Step::default()
            });
        }
        let mut consumed = 0;
        let mut produced = 0;
        if !self.body_done {
            let (in0, out0) = (self.d.total_in(), self.d.total_out());
            let status = self
                .d
                .decompress(input, output, FlushDecompress::None)
                .map_err(|e| Error::corrupt(self.format, e.to_string()))?;
            consumed = (self.d.total_in() - in0) as usize;
            produced = (self.d.total_out() - out0) as usize;
            self.check.update(&output[..produced]);
            self.out_len += produced as u64;
            if status == Status::StreamEnd {
                self.body_done = true;
            } else if consumed == 0 && produced == 0 && !input.is_empty() && !output.is_empty() {
                return Err(Error::corrupt(self.format, "inflate made no progress"));
            }
        }
        if self.body_done && self.trailer.len() < need {
            let take = (need - self.trailer.len()).min(input.len() - consumed);
            self.trailer.extend_from_slice(&input[consumed..consumed + take]);
            consumed += take;
        }
        let done = self.body_done && self.trailer.len() == need;
        if done {
            verify_trailer(self.format, &self.trailer, self.check.value(), self.out_len)?;
        }
        Ok(Step {
            consumed,
            produced,
            done,
        })
    }

    fn engine(&self) -> Engine {
        Engine::Software(Library::ZlibRs)
    }
}
