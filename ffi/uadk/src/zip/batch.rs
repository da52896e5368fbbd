//! Batches: many independent one-shot jobs in flight, collected by poll or wait.
//!
//! A job's input is copied at submit; its output is copied into the caller's `dst` only
//! inside `uadk_zip_batch_poll` / `uadk_zip_batch_wait` on the caller's thread, when its
//! completion is returned, so the library never writes to caller memory behind its back.

use super::{direction, uadk_direction, uadk_zip_session, UADK_COMPRESS, UADK_DECOMPRESS};
use crate::boundary::{call, in_bytes, out_ptr, Failure};
use crate::registry::{self, exclusive, impl_handle};
use crate::report::{uadk_report, UADK_PATH_NONE};
use crate::status::*;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use uadk_zip::{Batch, Completion, Direction};

/// A batch of asynchronous jobs on a session: device jobs are kept in flight on the device
/// queues, the rest run on worker threads. One thread at a time (concurrent use is
/// `UADK_E_BUSY`). Process-bound: its worker threads do not exist in a forked child, where
/// its calls fail with `UADK_E_FORKED`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct uadk_zip_batch {
    /// Opaque id; 0 is no batch.
    pub id: u64,
}

/// The caller's output buffer of one job: written only in poll/wait, on the caller's
/// thread, under the submit contract.
struct Dst {
    ptr: *mut u8,
    cap: usize,
    user_data: u64,
}

// SAFETY: `Dst` is an address and a length that the library dereferences only inside
// `uadk_zip_batch_poll` / `uadk_zip_batch_wait`, on the thread calling them, while the
// submit contract keeps the buffer valid and reserved for the job; moving the address
// between threads (the batch object may be used from any thread, one at a time) is fine.
unsafe impl Send for Dst {}

/// The object behind a `uadk_zip_batch` handle.
pub struct BatchObject {
    batch: Batch,
    pending: HashMap<u64, Dst>,
}
impl_handle!(uadk_zip_batch, ZipBatch, Mutex<BatchObject>, process_bound);

/// One finished job (`uadk_zip_batch_poll` / `uadk_zip_batch_wait`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct uadk_zip_completion {
    /// The id `uadk_zip_batch_submit` returned.
    pub id: u64,
    /// The caller's value given at submit.
    pub user_data: u64,
    /// `UADK_COMPRESS` or `UADK_DECOMPRESS`.
    pub direction: uadk_direction,
    /// The job's status: `UADK_OK`, or why it failed (`UADK_E_OUTPUT_TOO_SMALL` when its
    /// output did not fit `dst`, `UADK_E_DATA_CORRUPT`, ...).
    pub status: uadk_status,
    /// Bytes written to the job's `dst`; with `UADK_E_OUTPUT_TOO_SMALL`, the size needed.
    pub dst_len: usize,
    /// What ran the job and why. For a failed job `path` is `UADK_PATH_NONE` and `reason`
    /// holds the error message.
    pub report: uadk_report,
}

/// Creates a batch on `session` with `workers` software worker threads (at least 1) and at
/// most `depth` jobs waiting for a worker (at least 1; further submits block) into `*out`.
///
/// Thread-safe. The caller owns the batch and destroys it with `uadk_zip_batch_destroy`.
///
/// # Safety
/// `out` must be NULL (an error) or writable.
#[no_mangle]
pub unsafe extern "C" fn uadk_zip_batch_create(
    session: uadk_zip_session,
    workers: u32,
    depth: u32,
    out: *mut uadk_zip_batch,
) -> uadk_status {
    call("uadk_zip_batch_create", || {
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(out, "out") }?;
        let s = registry::get(session)?;
        let batch = Batch::new(&s, workers as usize, depth as usize)?;
        let obj = BatchObject {
            batch,
            pending: HashMap::new(),
        };
        out.write(registry::insert(Arc::new(Mutex::new(obj)))?);
        Ok(())
    })
}

/// Submits a job: compress or decompress (`dir`) the `src_len` bytes at `src` (copied now)
/// into `dst` (`dst_cap` bytes). `*id` receives the job's id; `user_data` comes back in its
/// completion.
///
/// One thread at a time per batch.
///
/// # Safety
/// `src` readable for `src_len` bytes for this call. `dst` (NULL only with `dst_cap` 0)
/// must stay valid, writable and unused by the caller until this job's completion is
/// returned by `uadk_zip_batch_poll` / `uadk_zip_batch_wait` or the batch is destroyed; each
/// pending job needs its own `dst`. `id` writable.
#[no_mangle]
pub unsafe extern "C" fn uadk_zip_batch_submit(
    batch: uadk_zip_batch,
    dir: uadk_direction,
    src: *const u8,
    src_len: usize,
    dst: *mut u8,
    dst_cap: usize,
    user_data: u64,
    id: *mut u64,
) -> uadk_status {
    call("uadk_zip_batch_submit", || {
        // SAFETY: forwarded contracts.
        let (src, id) = unsafe { (in_bytes(src, src_len, "src")?, out_ptr(id, "id")?) };
        if dst.is_null() && dst_cap > 0 {
            return Err(Failure::null("dst"));
        }
        if dst_cap > isize::MAX as usize {
            return Err(Failure::new(
                UADK_E_BAD_LENGTH,
                "`dst_cap` is larger than any object can be",
            ));
        }
        let d = direction(dir)?;
        let obj = registry::get(batch)?;
        let mut b = exclusive::<uadk_zip_batch, _>(&obj)?;
        let job = b.batch.submit(d, src.to_vec())?;
        b.pending.insert(
            job,
            Dst {
                ptr: dst,
                cap: dst_cap,
                user_data,
            },
        );
        id.write(job);
        Ok(())
    })
}

/// Turns a completion into the C struct, copying the output into the job's `dst`.
fn deliver(c: Completion, dst: Option<Dst>) -> uadk_zip_completion {
    let (direction, compress) = match c.direction {
        Direction::Compress => (UADK_COMPRESS, true),
        Direction::Decompress => (UADK_DECOMPRESS, false),
    };
    let user_data = dst.as_ref().map_or(0, |d| d.user_data);
    let failed = |f: Failure| uadk_zip_completion {
        id: c.id,
        user_data,
        direction,
        status: f.code,
        dst_len: 0,
        report: uadk_report::new(UADK_PATH_NONE, "", &f.message),
    };
    let (data, rep) = match c.result {
        Ok(v) => v,
        Err(e) => return failed(e.into()),
    };
    let report = uadk_report::from_zip(&rep, compress);
    let Some(dst) = dst else {
        return failed(Failure::new(
            UADK_E_INTERNAL,
            "a completion for a job this batch does not know",
        ));
    };
    if data.len() > dst.cap {
        let mut c = failed(Failure::new(
            UADK_E_OUTPUT_TOO_SMALL,
            format!(
                "the job's output is {} bytes but dst holds {}",
                data.len(),
                dst.cap
            ),
        ));
        c.dst_len = data.len();
        return c;
    }
    if !data.is_empty() {
        // SAFETY: `dst.ptr` is non-NULL (a nonzero capacity came with a non-NULL pointer,
        // checked at submit) and writable for `dst.cap >= data.len()` bytes, reserved for
        // this job until now by the submit contract; `data` is our own vector, so the two
        // cannot overlap.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), dst.ptr, data.len()) };
    }
    uadk_zip_completion {
        id: c.id,
        user_data,
        direction,
        status: UADK_OK,
        dst_len: data.len(),
        report,
    }
}

/// Returns a finished job in `*completion` without blocking (its output is copied into its
/// `dst` now), or `UADK_E_AGAIN` when none is ready.
///
/// One thread at a time per batch.
///
/// # Safety
/// `completion` must be NULL (an error) or writable; the `dst` of every pending job must
/// still be valid (submit contract).
#[no_mangle]
pub unsafe extern "C" fn uadk_zip_batch_poll(
    batch: uadk_zip_batch,
    completion: *mut uadk_zip_completion,
) -> uadk_status {
    call("uadk_zip_batch_poll", || {
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(completion, "completion") }?;
        let obj = registry::get(batch)?;
        let mut b = exclusive::<uadk_zip_batch, _>(&obj)?;
        let c = b
            .batch
            .poll()
            .ok_or_else(|| Failure::new(UADK_E_AGAIN, "no job has finished yet; poll again later"))?;
        let dst = b.pending.remove(&c.id);
        out.write(deliver(c, dst));
        Ok(())
    })
}

/// Waits for the next finished job and returns it in `*completion` (its output copied into
/// its `dst`). `UADK_E_BAD_STATE` when no job is in flight.
///
/// One thread at a time per batch.
///
/// # Safety
/// As `uadk_zip_batch_poll`.
#[no_mangle]
pub unsafe extern "C" fn uadk_zip_batch_wait(
    batch: uadk_zip_batch,
    completion: *mut uadk_zip_completion,
) -> uadk_status {
    call("uadk_zip_batch_wait", || {
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(completion, "completion") }?;
        let obj = registry::get(batch)?;
        let mut b = exclusive::<uadk_zip_batch, _>(&obj)?;
        let c = b.batch.wait().ok_or_else(|| {
            Failure::new(UADK_E_BAD_STATE, "no job is in flight; submit one before waiting")
        })?;
        let dst = b.pending.remove(&c.id);
        out.write(deliver(c, dst));
        Ok(())
    })
}

/// `*in_flight` receives the number of submitted jobs whose completion was not returned yet.
///
/// One thread at a time per batch.
///
/// # Safety
/// `in_flight` must be NULL (an error) or writable.
#[no_mangle]
pub unsafe extern "C" fn uadk_zip_batch_in_flight(
    batch: uadk_zip_batch,
    in_flight: *mut usize,
) -> uadk_status {
    call("uadk_zip_batch_in_flight", || {
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(in_flight, "in_flight") }?;
        let obj = registry::get(batch)?;
        let b = exclusive::<uadk_zip_batch, _>(&obj)?;
        out.write(b.batch.in_flight());
        Ok(())
    })
}

/// Destroys the batch: waits for the jobs in flight to finish (their outputs are
/// discarded; no `dst` is written) and stops the workers. A zero handle is a no-op; a
/// destroyed one is `UADK_E_INVALID_HANDLE`. In a forked child the handle is removed
/// without touching the parent's threads.
///
/// Thread-safe; blocks while jobs finish.
#[no_mangle]
pub extern "C" fn uadk_zip_batch_destroy(batch: uadk_zip_batch) -> uadk_status {
    call("uadk_zip_batch_destroy", || registry::destroy(batch))
}
