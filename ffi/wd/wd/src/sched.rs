//! UADK's sample round-robin scheduler, once for the whole process.
//!
//! `wd_sched_rr_alloc` returns a C-allocated `struct wd_sched` (callers may set its `name`,
//! as Ceph does) whose callbacks point here and whose `h_sched_ctx` is a checked handle.
//! Regions are (node, mode, operation type) → context index range. As in UADK, the choice
//! is **per session**: `sched_init` gives a session one sync and one async context from
//! its region in turn, and every request of that session goes there. A session whose
//! node has no region uses the lowest node that has one (and then another operation
//! type's region).
//!
//! `libwd_comp.so.2` and `libwd_crypto.so.2` export `wd_sched_rr_*` (as UADK does) and
//! forward to the private `wd_rs_sched_rr_*` functions here.
//!
//! ```
//! use uadk_wd_common::abi::*;
//! use wd::sched::*;
//! let s = unsafe { wd_rs_sched_rr_alloc(0, 2, 1, None) };
//! let mut p = SchedParams { numa_id: 0, type_: 1, mode: 0, begin: 2, end: 3, ..Default::default() };
//! assert_eq!(unsafe { wd_rs_sched_rr_instance(s, &mut p) }, 0);
//! let (init, pick) = unsafe { ((*s).sched_init.unwrap(), (*s).pick_next_ctx.unwrap()) };
//! let h = unsafe { (*s).h_sched_ctx };
//! let mut q = SchedParams { numa_id: 0, type_: 1, ..Default::default() };
//! let k1 = unsafe { init(h, (&mut q as *mut SchedParams).cast()) };
//! let k2 = unsafe { init(h, (&mut q as *mut SchedParams).cast()) };
//! assert_eq!(unsafe { (pick(h, k1 as *mut _, 0), pick(h, k2 as *mut _, 0)) }, (2, 3));
//! unsafe { libc::free(k1 as *mut _); libc::free(k2 as *mut _); wd_rs_sched_rr_release(s) };
//! ```

use libc::{c_int, c_void};
use parking_lot::Mutex;
use std::sync::{Arc, LazyLock};
use uadk_wd_common::abi::*;
use uadk_wd_common::boundary::guard;
use uadk_wd_common::registry::Registry;
use uadk_wd_common::wd_err;

#[derive(Clone, Copy, Debug)]
struct Region {
    begin: u32,
    end: u32,
    next: u32,
}

struct Rr {
    policy: u32,
    type_num: u8,
    numa_num: u16,
    poll: Option<UserPollFn>,
    c_struct: usize,
    regions: Mutex<Vec<Option<Region>>>,
}

impl Rr {
    fn index(&self, node: usize, mode: usize, ty: usize) -> usize {
        (node * 2 + mode) * self.type_num as usize + ty
    }

    /// Takes the next context of region (node, mode, ty), falling back to the lowest
    /// node that has such a region, then to another operation type's region (a library
    /// initialised with one type's contexts serves sessions of every type).
    fn take(&self, node: usize, mode: usize, ty: usize) -> u32 {
        let mut regions = self.regions.lock();
        let types = std::iter::once(ty).chain(0..self.type_num as usize);
        for t in types {
            let nodes = std::iter::once(node).chain(0..self.numa_num as usize);
            for n in nodes {
                if n >= self.numa_num as usize {
                    continue;
                }
                let i = self.index(n, mode, t);
                if let Some(Some(r)) = regions.get_mut(i) {
                    let pick = if self.policy == SCHED_POLICY_SINGLE {
                        r.begin
                    } else {
                        r.next
                    };
                    r.next = if r.next >= r.end { r.begin } else { r.next + 1 };
                    return pick;
                }
            }
        }
        u32::MAX
    }
}

/// A session's key (C-allocated: UADK's libraries free keys with `free()`).
#[repr(C)]
struct Key {
    numa_id: c_int,
    type_: u8,
    mode: u8,
    sync_ctx: u32,
    async_ctx: u32,
}

static SCHEDS: LazyLock<Registry<Rr>> = LazyLock::new(|| Registry::new(0x53));
const NAME: &std::ffi::CStr = c"sched_rr";

fn err_handle(e: c_int) -> HandleT {
    (-(e as isize)) as usize
}

/// Private: `wd_sched_rr_alloc`. NULL for a bad policy, no types or no nodes.
///
/// # Safety
/// `func` is NULL or a function with `user_poll_func`'s signature.
pub unsafe extern "C" fn wd_rs_sched_rr_alloc(
    sched_type: u8,
    type_num: u8,
    numa_num: u16,
    func: Option<UserPollFn>,
) -> *mut WdSched {
    guard("wd_sched_rr_alloc", std::ptr::null_mut(), || {
        if sched_type as u32 >= SCHED_POLICY_BUTT || type_num == 0 || numa_num == 0 || numa_num > 1024 {
            wd_err!("wd_sched_rr_alloc: bad policy {sched_type}, type_num {type_num} or numa_num {numa_num}");
            return std::ptr::null_mut();
        }
        let s: *mut WdSched = crate::cmem::calloc();
        if s.is_null() {
            return std::ptr::null_mut();
        }
        let slots = (numa_num as usize) * 2 * (type_num as usize);
        let h = SCHEDS.insert(Arc::new(Rr {
            policy: sched_type as u32,
            type_num,
            numa_num,
            poll: func,
            c_struct: s as usize,
            regions: Mutex::new(vec![None; slots]),
        }));
        // SAFETY: `s` is a fresh zeroed allocation of a WdSched.
        unsafe {
            s.write(WdSched {
                name: NAME.as_ptr(),
                sched_policy: sched_type as c_int,
                sched_init: Some(sched_init),
                sched_uninit: Some(sched_uninit),
                pick_next_ctx: Some(pick_next_ctx),
                poll_policy: Some(poll_policy),
                set_param: Some(set_param),
                h_sched_ctx: h,
            });
        }
        s
    })
}

fn ours(sched: *const WdSched) -> Option<(HandleT, Arc<Rr>)> {
    if sched.is_null() {
        return None;
    }
    // SAFETY: the caller passes a scheduler; reading its handle field is all we do, and
    // the handle is then checked against the registry (and its recorded address).
    let h = unsafe { std::ptr::addr_of!((*sched).h_sched_ctx).read() };
    let rr = SCHEDS.get(h)?;
    (rr.c_struct == sched as usize).then_some((h, rr))
}

/// Private: `wd_sched_rr_instance`. 0, or `-WD_EINVAL` for a foreign scheduler or a bad
/// region (node, type or mode out of range, `begin > end`).
///
/// # Safety
/// `sched` and `param` are NULL or valid pointers.
pub unsafe extern "C" fn wd_rs_sched_rr_instance(sched: *const WdSched, param: *mut SchedParams) -> c_int {
    guard("wd_sched_rr_instance", -WD_EINVAL, || {
        let Some((_, rr)) = ours(sched) else {
            wd_err!("wd_sched_rr_instance: not a scheduler from wd_sched_rr_alloc");
            return -WD_EINVAL;
        };
        if param.is_null() {
            return -WD_EINVAL;
        }
        // SAFETY: non-NULL and readable per the contract.
        let p = unsafe { param.read() };
        if p.numa_id < 0
            || p.numa_id as u32 >= rr.numa_num as u32
            || p.type_ >= rr.type_num
            || p.mode > 1
            || p.begin > p.end
        {
            wd_err!(
                "wd_sched_rr_instance: bad region (node {}, type {}, mode {}, {}..={})",
                p.numa_id,
                p.type_,
                p.mode,
                p.begin,
                p.end
            );
            return -WD_EINVAL;
        }
        let i = rr.index(p.numa_id as usize, p.mode as usize, p.type_ as usize);
        rr.regions.lock()[i] = Some(Region {
            begin: p.begin,
            end: p.end,
            next: p.begin,
        });
        0
    })
}

/// Private: `wd_sched_rr_release`. Foreign pointers are ignored.
///
/// # Safety
/// `sched` is NULL or a scheduler.
pub unsafe extern "C" fn wd_rs_sched_rr_release(sched: *mut WdSched) {
    guard("wd_sched_rr_release", (), || {
        let Some((h, _)) = ours(sched) else {
            wd_err!("wd_sched_rr_release: not a live scheduler from wd_sched_rr_alloc");
            return;
        };
        SCHEDS.remove(h);
        // SAFETY: allocated by wd_rs_sched_rr_alloc with calloc; removed from the registry
        // first, so it is freed once.
        unsafe { libc::free(sched.cast()) };
    })
}

unsafe extern "C" fn sched_init(h: HandleT, param: *mut c_void) -> HandleT {
    guard("sched_init", err_handle(WD_EINVAL), || {
        let Some(rr) = SCHEDS.get(h) else {
            return err_handle(WD_EINVAL);
        };
        let p = if param.is_null() {
            SchedParams {
                numa_id: -1,
                ..Default::default()
            }
        } else {
            // SAFETY: UADK's contract: sched_param points to a struct sched_params.
            unsafe { (param as *const SchedParams).read() }
        };
        if p.type_ >= rr.type_num {
            wd_err!(
                "sched_init: operation type {} beyond the scheduler's {}",
                p.type_,
                rr.type_num
            );
            return err_handle(WD_EINVAL);
        }
        let node = if p.numa_id < 0 {
            crate::accel::current_node().max(0) as usize
        } else {
            p.numa_id as usize
        };
        let key: *mut Key = crate::cmem::calloc();
        if key.is_null() {
            return err_handle(WD_ENOMEM);
        }
        let k = Key {
            numa_id: node as c_int,
            type_: p.type_,
            mode: p.mode,
            sync_ctx: rr.take(node, 0, p.type_ as usize),
            async_ctx: rr.take(node, 1, p.type_ as usize),
        };
        // SAFETY: fresh allocation of a Key.
        unsafe { key.write(k) };
        key as HandleT
    })
}

unsafe extern "C" fn sched_uninit(h: HandleT, key: HandleT) {
    let _ = h;
    if key != 0 && key < usize::MAX - 1000 {
        // SAFETY: keys are allocated by sched_init with calloc.
        unsafe { libc::free(key as *mut c_void) };
    }
}

unsafe extern "C" fn pick_next_ctx(h: HandleT, key: *mut c_void, mode: c_int) -> u32 {
    guard("pick_next_ctx", u32::MAX, || {
        let Some(rr) = SCHEDS.get(h) else { return u32::MAX };
        if rr.policy == SCHED_POLICY_NONE {
            return 0;
        }
        if key.is_null() || (key as usize) > usize::MAX - 1000 {
            return u32::MAX;
        }
        // SAFETY: keys come from sched_init (the calling library passes them back).
        let k = unsafe { (key as *const Key).read() };
        if mode == CTX_MODE_SYNC as c_int {
            k.sync_ctx
        } else {
            k.async_ctx
        }
    })
}

unsafe extern "C" fn poll_policy(h: HandleT, expect: u32, count: *mut u32) -> c_int {
    guard("poll_policy", -WD_EINVAL, || {
        let Some(rr) = SCHEDS.get(h) else {
            return -WD_EINVAL;
        };
        if count.is_null() {
            return -WD_EINVAL;
        }
        let Some(poll) = rr.poll else {
            wd_err!("poll_policy: the scheduler was allocated without a poll function");
            return -WD_EINVAL;
        };
        let ranges: Vec<(u32, u32)> = rr
            .regions
            .lock()
            .iter()
            .enumerate()
            .filter(|(i, _)| (i / rr.type_num as usize) % 2 == 1)
            .filter_map(|(_, r)| r.map(|r| (r.begin, r.end)))
            .collect();
        let mut total = 0u32;
        for _ in 0..POLL_ROUNDS {
            let before = total;
            for &(b, e) in &ranges {
                for pos in b..=e {
                    if total >= expect {
                        break;
                    }
                    let mut n = 0u32;
                    // SAFETY: the caller's poll function, called as UADK calls it.
                    let ret = unsafe { poll(pos, expect - total, &mut n) };
                    if ret < 0 && ret != -WD_EAGAIN {
                        // SAFETY: checked non-NULL above.
                        unsafe { *count = total };
                        return ret;
                    }
                    total = total.saturating_add(n);
                }
            }
            if total >= expect || total == before {
                break;
            }
        }
        // SAFETY: checked non-NULL above.
        unsafe { *count = total };
        0
    })
}

const POLL_ROUNDS: usize = 1000;

unsafe extern "C" fn set_param(h: HandleT, key: *mut c_void, param: *mut c_void) {
    guard("set_param", (), || {
        let Some(rr) = SCHEDS.get(h) else { return };
        if key.is_null() || param.is_null() {
            return;
        }
        // SAFETY: key from sched_init, param a struct sched_params (UADK's contract).
        unsafe {
            let p = (param as *const SchedParams).read();
            let k = key as *mut Key;
            if p.type_ < rr.type_num {
                let node = p.numa_id.max(0) as usize;
                (*k).numa_id = node as c_int;
                (*k).type_ = p.type_;
                (*k).sync_ctx = rr.take(node, 0, p.type_ as usize);
                (*k).async_ctx = rr.take(node, 1, p.type_ as usize);
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_arguments() {
        // SAFETY: a `None` poll function is allowed; nothing else is a pointer.
        assert!(unsafe { wd_rs_sched_rr_alloc(9, 2, 1, None) }.is_null());
        // SAFETY: as above.
        assert!(unsafe { wd_rs_sched_rr_alloc(0, 0, 1, None) }.is_null());
        // SAFETY: as above.
        let s = unsafe { wd_rs_sched_rr_alloc(0, 2, 2, None) };
        assert!(!s.is_null());
        let mut p = SchedParams {
            numa_id: 2,
            ..Default::default()
        };
        // SAFETY: `s` is the live scheduler allocated above; `p` a live `SchedParams`.
        assert_eq!(unsafe { wd_rs_sched_rr_instance(s, &mut p) }, -WD_EINVAL);
        p = SchedParams {
            numa_id: 0,
            type_: 0,
            mode: 0,
            begin: 3,
            end: 1,
            ..Default::default()
        };
        // SAFETY: as above.
        assert_eq!(unsafe { wd_rs_sched_rr_instance(s, &mut p) }, -WD_EINVAL);
        assert_eq!(
            // SAFETY: `s` is live; a NULL `param` is allowed.
            unsafe { wd_rs_sched_rr_instance(s, std::ptr::null_mut()) },
            -WD_EINVAL
        );
        let fake = WdSched {
            name: std::ptr::null(),
            sched_policy: 0,
            sched_init: None,
            sched_uninit: None,
            pick_next_ctx: None,
            poll_policy: None,
            set_param: None,
            // SAFETY: `s` is non-NULL (checked above) and points to the initialised
            // `WdSched` that wd_rs_sched_rr_alloc wrote; it is not released yet.
            h_sched_ctx: unsafe { (*s).h_sched_ctx },
        };
        p = SchedParams {
            numa_id: 0,
            type_: 0,
            mode: 0,
            begin: 0,
            end: 0,
            ..Default::default()
        };
        // SAFETY: `fake` and `p` are live locals (`fake` is refused: its address is not
        // the one recorded for the handle).
        assert_eq!(unsafe { wd_rs_sched_rr_instance(&fake, &mut p) }, -WD_EINVAL);
        // SAFETY: `s` came from wd_rs_sched_rr_alloc and is released once, not used after.
        unsafe { wd_rs_sched_rr_release(s) };
        assert_eq!(
            // SAFETY: a NULL `param` is allowed; the stale handle is checked in the registry.
            unsafe { sched_init(fake.h_sched_ctx, std::ptr::null_mut()) },
            err_handle(WD_EINVAL)
        );
    }

    #[test]
    fn missing_node_falls_back_and_async_is_separate() {
        // SAFETY: a `None` poll function is allowed; nothing else is a pointer.
        let s = unsafe { wd_rs_sched_rr_alloc(0, 1, 2, None) };
        assert!(!s.is_null());
        let mut p = SchedParams {
            numa_id: 0,
            type_: 0,
            mode: 1,
            begin: 5,
            end: 5,
            ..Default::default()
        };
        // SAFETY: `s` is the live scheduler allocated above; `p` a live `SchedParams`.
        assert_eq!(unsafe { wd_rs_sched_rr_instance(s, &mut p) }, 0);
        // SAFETY: `s` is non-NULL (checked above) and points to an initialised `WdSched`.
        let h = unsafe { (*s).h_sched_ctx };
        let mut q = SchedParams {
            numa_id: 1,
            ..Default::default()
        };
        // SAFETY: `param` points to `q`, a live `SchedParams`, as sched_init expects.
        let k = unsafe { sched_init(h, (&mut q as *mut SchedParams).cast()) };
        // SAFETY: `k` is a key from sched_init (an error handle would be refused, not read).
        assert_eq!(unsafe { pick_next_ctx(h, k as *mut _, 1) }, 5);
        // SAFETY: as above.
        assert_eq!(unsafe { pick_next_ctx(h, k as *mut _, 0) }, u32::MAX);
        // SAFETY: `k` is a calloc'd key from sched_init and `s` a scheduler from
        // wd_rs_sched_rr_alloc; each is freed once and not used after.
        unsafe {
            sched_uninit(h, k);
            wd_rs_sched_rr_release(s);
        }
    }
}
