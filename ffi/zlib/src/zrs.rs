//! zlib-rs streams owned by our state: the complete zlib implementation behind every stream
//! (or part of a stream) that the fast engines cannot serve exactly.
//!
//! An [`Inner`] is a boxed `z_stream` initialised by `libz-rs-sys` with the default (malloc
//! based) allocator — never the caller's `zalloc`, whose arena (nginx) is sized for zlib
//! alone. Before each call the caller's buffer fields are copied in, and after it copied back
//! ([`Inner::load`] / [`Inner::store`]), so the caller sees exactly zlib-rs's accounting.
//! All unsafe calls into `libz-rs-sys` for these streams live here.

use crate::abi::{z_stream, ZLIB_VERSION, Z_OK};
use std::ffi::c_int;

/// Which `*End` releases the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Deflate,
    Inflate,
}

/// A live zlib-rs stream.
pub struct Inner {
    s: Box<z_stream>,
    side: Side,
    /// Not yet ended (`end` ends it; `Drop` ends it otherwise).
    live: bool,
}

// SAFETY: the zlib-rs state is owned by this value alone and has no thread affinity; the
// buffer pointers it holds are the caller's, valid only during a call made through `&mut`.
unsafe impl Send for Inner {}

fn size() -> c_int {
    std::mem::size_of::<z_stream>() as c_int
}

impl Inner {
    /// `deflateInit2_` with these parameters (already validated or not: zlib-rs checks).
    pub fn deflate(
        level: c_int,
        window_bits: c_int,
        mem_level: c_int,
        strategy: c_int,
    ) -> Result<Self, c_int> {
        // SAFETY: all-zero is a valid z_stream (null pointers, no allocator: zlib-rs installs its own).
        let mut s: Box<z_stream> = Box::new(unsafe { std::mem::zeroed() });
        // SAFETY: `s` is a valid, default-initialised z_stream (null allocators: zlib-rs
        // uses its own); the version string is NUL-terminated and the size is ours.
        let rc = unsafe {
            libz_rs_sys::deflateInit2_(
                &mut *s,
                level,
                crate::abi::Z_DEFLATED,
                window_bits,
                mem_level,
                strategy,
                ZLIB_VERSION.as_ptr(),
                size(),
            )
        };
        if rc != Z_OK {
            return Err(rc);
        }
        Ok(Inner {
            s,
            side: Side::Deflate,
            live: true,
        })
    }

    /// `inflateInit2_` with `window_bits`.
    pub fn inflate(window_bits: c_int) -> Result<Self, c_int> {
        // SAFETY: all-zero is a valid z_stream (null pointers, no allocator: zlib-rs installs its own).
        let mut s: Box<z_stream> = Box::new(unsafe { std::mem::zeroed() });
        // SAFETY: as in `deflate`.
        let rc = unsafe { libz_rs_sys::inflateInit2_(&mut *s, window_bits, ZLIB_VERSION.as_ptr(), size()) };
        if rc != Z_OK {
            return Err(rc);
        }
        Ok(Inner {
            s,
            side: Side::Inflate,
            live: true,
        })
    }

    /// Copies the caller's buffer and accounting fields in (before a call).
    pub fn load(&mut self, user: &z_stream) {
        copy_fields(&mut self.s, user);
    }

    /// Copies the same fields back (after a call).
    pub fn store(&self, user: &mut z_stream) {
        copy_fields(user, &self.s);
    }

    /// The zlib-rs stream, for calls that take it directly.
    pub fn raw(&mut self) -> *mut z_stream {
        &mut *self.s
    }

    /// The stream's fields (after a call).
    pub fn fields(&self) -> &z_stream {
        &self.s
    }

    /// Runs `f` on the zlib-rs stream with the caller's fields loaded and stored back.
    pub fn call(&mut self, user: &mut z_stream, f: impl FnOnce(*mut z_stream) -> c_int) -> c_int {
        self.load(user);
        let rc = f(self.raw());
        self.store(user);
        rc
    }

    /// Runs `f` on the stream with `input` and `output` as its buffers (the caller's
    /// accounting fields untouched); returns `f`'s code and the bytes consumed and produced.
    pub fn run(
        &mut self,
        input: &[u8],
        output: &mut [u8],
        f: impl FnOnce(*mut z_stream) -> c_int,
    ) -> (c_int, usize, usize) {
        let in_len = input.len().min(u32::MAX as usize);
        let out_len = output.len().min(u32::MAX as usize);
        let s = &mut *self.s;
        s.next_in = input.as_ptr();
        s.avail_in = in_len as u32;
        s.next_out = output.as_mut_ptr();
        s.avail_out = out_len as u32;
        let rc = f(self.raw());
        let s = &mut *self.s;
        let used = in_len - s.avail_in as usize;
        let made = out_len - s.avail_out as usize;
        // Leave no pointer into the slices behind.
        s.next_in = std::ptr::null();
        s.avail_in = 0;
        s.next_out = std::ptr::null_mut();
        s.avail_out = 0;
        (rc, used, made)
    }

    /// A deep copy (`deflateCopy` / `inflateCopy`).
    pub fn try_clone(&mut self) -> Result<Self, c_int> {
        // SAFETY: as in `deflate`; `deflateCopy`/`inflateCopy` overwrite it.
        let mut d: Box<z_stream> = Box::new(unsafe { std::mem::zeroed() });
        // SAFETY: `self.s` is a live stream of `side`; `d` is written completely by the copy.
        let rc = unsafe {
            match self.side {
                Side::Deflate => libz_rs_sys::deflateCopy(&mut *d, &mut *self.s),
                Side::Inflate => libz_rs_sys::inflateCopy(&mut *d, &*self.s),
            }
        };
        if rc != Z_OK {
            return Err(rc);
        }
        Ok(Inner {
            s: d,
            side: self.side,
            live: true,
        })
    }

    /// Ends the stream and returns zlib-rs's `*End` code (deflateEnd reports
    /// `Z_DATA_ERROR` for a stream freed before it finished).
    pub fn end(mut self) -> c_int {
        self.end_in_place()
    }

    fn end_in_place(&mut self) -> c_int {
        if !self.live {
            return Z_OK;
        }
        self.live = false;
        // SAFETY: the stream is live (checked and cleared just above: ended once).
        unsafe {
            match self.side {
                Side::Deflate => libz_rs_sys::deflateEnd(&mut *self.s),
                Side::Inflate => libz_rs_sys::inflateEnd(&mut *self.s),
            }
        }
    }
}

/// Copies the fields a call reads and updates (buffers, totals, `msg`, `data_type`, `adler`)
/// from `from` to `to`; allocator, `state` and `opaque` stay each stream's own.
fn copy_fields(to: &mut z_stream, from: &z_stream) {
    to.next_in = from.next_in;
    to.avail_in = from.avail_in;
    to.total_in = from.total_in;
    to.next_out = from.next_out;
    to.avail_out = from.avail_out;
    to.total_out = from.total_out;
    to.msg = from.msg;
    to.data_type = from.data_type;
    to.adler = from.adler;
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.end_in_place();
    }
}
