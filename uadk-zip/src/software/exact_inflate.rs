//! A streaming raw-deflate inflater (ISA-L) that says how many of the bytes it was fed it
//! still holds unread, so a caller can report input consumption the way zlib's `inflate()`
//! does: never past the end of the deflate stream.
//!
//! ISA-L reads input ahead into a 64-bit bit buffer. [`crate::Decompressor`] hides that
//! (and gives the read-ahead back when the stream ends within the same call), but a zlib-ABI
//! caller (`ffi/zlib`) must tell its own caller, after every call, exactly where the next
//! unread byte is — Python's `gzip` module, for one, reads the gzip trailer from the bytes
//! `inflate()` left unconsumed after the end of a raw stream. With [`Step::held`] and
//! [`Step::input_done`] the caller can report `fed − held` as consumed whenever the held
//! bytes may lie beyond the end of the stream (the end was decoded, or decoding stopped
//! because the output was full) and have them presented again on the next call (skipping
//! them, since the inflater already has them), while reporting everything consumed when
//! the inflater stopped for want of input, as zlib does.
//!
//! Created only when ISA-L is loaded ([`super::isal_status`]); otherwise [`ExactInflate::new`]
//! fails with [`Error::Unavailable`] and the caller uses another inflater.

use crate::error::{Error, Result};
use crate::format::Format;
use crate::software::isal;
use crate::software::isal_lib::{self, Isal};
use isal_sys::igzip_lib as ffi;
use std::mem::MaybeUninit;

/// Progress of one [`ExactInflate::step`].
///
/// ```
/// let s = uadk_zip::software::exact_inflate::Step { fed: 10, produced: 40, held: 2, input_done: true, done: true };
/// assert_eq!(s.fed - s.held, 8); // bytes of the stream proper in this call
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Step {
    /// Bytes taken from the input in this call.
    pub fed: usize,
    /// Bytes written to the output.
    pub produced: usize,
    /// Whole bytes in the bit buffer not yet decoded: the last `held` bytes fed (in this call
    /// or earlier ones). Once `done`, they are the bytes that follow the deflate stream.
    pub held: usize,
    /// The end of the final block has been decoded (its output may still be pending):
    /// from here on `held` counts bytes after the stream and no more input is needed.
    pub input_done: bool,
    /// The final block has been decoded and all its output delivered.
    pub done: bool,
}

/// A raw-deflate inflater over ISA-L that exposes its read-ahead.
///
/// ```
/// use uadk_zip::software::exact_inflate::ExactInflate;
/// use uadk_zip::{compress, Format};
/// let Ok(mut inf) = ExactInflate::new() else { return }; // ISA-L not installed
/// let mut z = compress(b"exact", Format::Deflate).unwrap();
/// z.extend_from_slice(b"TRAILER");
/// let mut out = [0u8; 16];
/// let s = inf.step(&z, &mut out).unwrap();
/// assert!(s.done);
/// assert_eq!(&out[..s.produced], b"exact");
/// assert_eq!(&z[s.fed - s.held..], b"TRAILER");
/// ```
pub struct ExactInflate {
    isal: &'static Isal,
    st: Box<ffi::inflate_state>,
    done: bool,
}

// SAFETY: `inflate_state` holds pointers only into the caller's buffers during one call and
// into its own inline buffers; nothing in it is tied to a thread.
unsafe impl Send for ExactInflate {}

impl ExactInflate {
    /// A new inflater, or [`Error::Unavailable`] when ISA-L is not loaded.
    ///
    /// ```
    /// match uadk_zip::software::exact_inflate::ExactInflate::new() {
    ///     Ok(_) => println!("ISA-L inflate available"),
    ///     Err(e) => println!("{e}"),
    /// }
    /// ```
    pub fn new() -> Result<Self> {
        let isal = isal_lib::get().map_err(|why| Error::Unavailable {
            library: "ISA-L",
            reason: why.to_string(),
        })?;
        let mut st: Box<MaybeUninit<ffi::inflate_state>> = Box::new(MaybeUninit::zeroed());
        // SAFETY: the storage is zeroed (valid for this plain C struct) and
        // `isal_inflate_init` sets it up at the given valid, aligned pointer.
        let mut st = unsafe {
            (isal.inflate_init)(st.as_mut_ptr());
            Box::from_raw(Box::into_raw(st).cast::<ffi::inflate_state>())
        };
        st.crc_flag = ffi::ISAL_DEFLATE;
        Ok(ExactInflate {
            isal,
            st,
            done: false,
        })
    }

    /// Decompresses from `input` into `output`. Errors (corrupt data) leave the inflater
    /// unusable; create a new one.
    pub fn step(&mut self, input: &[u8], output: &mut [u8]) -> Result<Step> {
        if self.done {
            return Ok(Step {
                held: self.held(),
                input_done: true,
                done: true,
                ..Step::default()
            });
        }
        let (rc, counts) = isal::inflate_once(self.isal, &mut self.st, input, output);
        let st = &*self.st;
        let corrupt = |d: &str| Error::corrupt(Format::Deflate, d);
        if rc < 0 {
            return Err(match rc {
                ffi::ISAL_INVALID_BLOCK => corrupt("invalid deflate block"),
                ffi::ISAL_INVALID_SYMBOL => corrupt("invalid Huffman code or symbol"),
                ffi::ISAL_INVALID_LOOKBACK => corrupt("back-reference before the start of the data"),
                other => Error::Library {
                    library: "ISA-L",
                    detail: format!("isal_inflate returned {other}"),
                },
            });
        }
        let Some((fed, produced)) = counts else {
            return Err(corrupt("inconsistent stream state after a bad block header"));
        };
        self.done = st.block_state == ffi::isal_block_state_ISAL_BLOCK_FINISH;
        let input_done = self.done || st.block_state == ffi::isal_block_state_ISAL_BLOCK_INPUT_DONE;
        Ok(Step {
            fed,
            produced,
            held: self.held(),
            input_done,
            done: self.done,
        })
    }

    /// An independent copy at the same point of the stream (`inflateCopy`).
    ///
    /// ```
    /// use uadk_zip::software::exact_inflate::ExactInflate;
    /// use uadk_zip::{compress, Format};
    /// let Ok(mut a) = ExactInflate::new() else { return };
    /// let z = compress(b"copy me, copy me", Format::Deflate).unwrap();
    /// let mut out = [0u8; 32];
    /// let first = a.step(&z[..3], &mut out).unwrap();
    /// let mut b = a.try_clone();
    /// let rest = &z[first.fed..];
    /// let (mut o1, mut o2) = ([0u8; 32], [0u8; 32]);
    /// let s1 = a.step(rest, &mut o1).unwrap();
    /// let s2 = b.step(rest, &mut o2).unwrap();
    /// assert_eq!(o1[..s1.produced], o2[..s2.produced]);
    /// ```
    pub fn try_clone(&self) -> ExactInflate {
        let mut st: Box<MaybeUninit<ffi::inflate_state>> = Box::new(MaybeUninit::uninit());
        // SAFETY: `inflate_state` is a plain C struct (integers, inline buffers, and the
        // caller-buffer pointers of the last call, which are reset before every call) with
        // no pointer into itself, so a byte copy is an independent state; the destination
        // is a fresh, aligned allocation of the same type, fully written here.
        let st = unsafe {
            std::ptr::copy_nonoverlapping(&*self.st, st.as_mut_ptr(), 1);
            Box::from_raw(Box::into_raw(st).cast::<ffi::inflate_state>())
        };
        ExactInflate {
            isal: self.isal,
            st,
            done: self.done,
        }
    }

    /// Whole bytes in the bit buffer (see [`Step::held`]).
    fn held(&self) -> usize {
        (self.st.read_in_length.max(0) / 8) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(n: usize) -> Vec<u8> {
        let mut x = 1u32;
        (0..n)
            .map(|i| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                if i % 7 == 0 {
                    b' '
                } else {
                    b'a' + ((x >> 16) % 6) as u8
                }
            })
            .collect()
    }

    /// One input byte at a time and small outputs: the bytes after the stream are exactly
    /// the held ones plus those never fed.
    #[test]
    fn held_bytes_mark_the_end_of_the_stream_under_any_split() {
        let Ok(_) = ExactInflate::new() else { return };
        let data = text(200_000);
        let mut z = crate::compress_level(&data, Format::Deflate, 6).unwrap();
        let body = z.len();
        z.extend_from_slice(&[0xAA; 16]);
        for (ichunk, ochunk) in [(1usize, 7usize), (3, 4096), (4096, 1), (1 << 20, 1 << 20)] {
            let mut inf = ExactInflate::new().unwrap();
            let (mut pos, mut held, mut out) = (0usize, 0usize, Vec::new());
            loop {
                let skip = held;
                let end = (pos + skip + ichunk).min(z.len());
                let mut buf = vec![0u8; ochunk];
                let s = inf.step(&z[pos + skip..end], &mut buf).unwrap();
                out.extend_from_slice(&buf[..s.produced]);
                pos = pos + skip + s.fed - s.held;
                held = s.held;
                if s.done {
                    break;
                }
            }
            assert_eq!(out, data, "split {ichunk}/{ochunk}");
            assert_eq!(pos, body, "split {ichunk}/{ochunk}");
        }
    }
}
