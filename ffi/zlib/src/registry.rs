//! The per-stream state behind `z_stream.state`, and the registry that makes every entry
//! point check it before use.
//!
//! zlib checks `strm->state->strm == strm` and the state's status; we go further and keep
//! the address of every live state in a set, so a zeroed, ended, copied-by-`memcpy` or
//! foreign (`inflateBackInit_`, another library's) stream is answered with
//! `Z_STREAM_ERROR` instead of being dereferenced. States are allocated with Rust's
//! allocator (malloc), never with the caller's `zalloc`.

use crate::abi::z_stream;
use crate::deflate::Deflate;
use crate::inflate::Inflate;
use parking_lot::RwLock;
use std::collections::HashSet;
use std::sync::LazyLock;

/// What a state serves.
pub enum Kind {
    /// A deflate stream.
    Deflate(Box<Deflate>),
    /// An inflate stream.
    Inflate(Box<Inflate>),
}

/// Our `internal_state`.
pub struct State {
    /// The `z_stream` this state was installed in (zlib's `state->strm`).
    owner: *const z_stream,
    /// The stream.
    pub kind: Kind,
}

static LIVE: LazyLock<RwLock<HashSet<usize>>> = LazyLock::new(|| RwLock::new(HashSet::new()));

/// Boxes `kind`, registers it and stores it in `strm.state`.
pub fn install(strm: &mut z_stream, kind: Kind) {
    let st = Box::new(State {
        owner: strm as *const z_stream,
        kind,
    });
    let p = Box::into_raw(st);
    LIVE.write().insert(p as usize);
    strm.state = p.cast();
}

/// The caller's stream and its live state, when `strm` is a stream of ours that was
/// initialised in place and not ended (`None` otherwise, for `Z_STREAM_ERROR`).
///
/// # Safety
/// `strm` is null or points to a `z_stream` the caller owns for the duration of the call
/// (zlib's own contract); no other reference to it or its state is live.
pub unsafe fn get<'a>(strm: *mut z_stream) -> Option<(&'a mut z_stream, &'a mut State)> {
    if strm.is_null() {
        return None;
    }
    // SAFETY: non-null and valid for the call (caller's contract).
    let s = unsafe { &mut *strm };
    if s.zalloc.is_none() || s.zfree.is_none() || s.state.is_null() {
        return None;
    }
    let p = s.state.cast::<State>();
    if !LIVE.read().contains(&(p as usize)) {
        return None;
    }
    // SAFETY: `p` is registered, so it is a live `Box<State>` made by `install` and not yet
    // released by `remove`; the caller holds the only access to its stream.
    let st = unsafe { &mut *p };
    if !std::ptr::eq(st.owner, strm) {
        return None;
    }
    Some((s, st))
}

/// Unregisters and returns the state of `strm` (already checked with [`get`]), clearing
/// `strm.state` as zlib's `*End` does.
pub fn remove(strm: &mut z_stream) -> Option<Box<State>> {
    let p = strm.state.cast::<State>();
    if !LIVE.write().remove(&(p as usize)) {
        return None;
    }
    strm.state = std::ptr::null_mut();
    // SAFETY: `p` was registered, so it came from `Box::into_raw` in `install`, and it is
    // now unregistered: nobody else can reach it.
    Some(unsafe { Box::from_raw(p) })
}
