//! One algorithm library's initialisation state (UADK's `wd_<alg>_setting`): its
//! contexts, its scheduler, its asynchronous completions, and the four ways UADK
//! initialises it (`init`, `init2_`, `env_init`, `ctx_num_init`).
//!
//! Each library (`libwd_comp`, and cipher/digest/aead in `libwd_crypto`) has one
//! [`Library`]. Contexts and schedulers themselves live in `libwd.so.2` ([`crate::client`]).
//!
//! - Double initialisation returns `-WD_EEXIST`, as UADK.
//! - **Fork**: a forked child sees the library as uninitialised (a fork counter bumped by
//!   a `pthread_atfork` child handler), so its `init` succeeds instead of `-WD_EEXIST`;
//!   sessions made before the fork keep working in the child (their engines reopen device
//!   queues there).
//! - **Sessions outlive uninit**: a session keeps the setting it was made under, so a
//!   request on it after `uninit` (QEMU calls `wd_comp_uninit2` per channel) still works
//!   instead of reading freed state.
//! - `init2_` with `TASK_HW` or `TASK_MIX` takes the device nearest the caller that offers
//!   the algorithm and the software accelerator when none does (with `TASK_HW`, unless
//!   `WD_RS_TASK_HW_STRICT=1`, which makes it fail with `-WD_ENODEV` as UADK does);
//!   `TASK_INSTR` is software.

use crate::abi::*;
use crate::client;
use crate::env::{self, CtxNumEntry};
use crate::wd_err;
use libc::{c_int, c_void};
use parking_lot::{Mutex, RwLock};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Once};

static FORKS: AtomicU64 = AtomicU64::new(0);
static ATFORK: Once = Once::new();

extern "C" fn on_fork_child() {
    FORKS.fetch_add(1, Ordering::AcqRel);
}

/// Forks seen by this process image (a child sees one more than its parent did).
pub fn fork_generation() -> u64 {
    ATFORK.call_once(|| {
        // SAFETY: registers a child handler that only bumps an atomic (async-signal-safe).
        unsafe { libc::pthread_atfork(None, None, Some(on_fork_child)) };
    });
    FORKS.load(Ordering::Acquire)
}

/// What differs between algorithm families.
pub struct Family {
    /// For messages: "compression", "cipher", "digest", "aead".
    pub name: &'static str,
    /// Algorithm used to find a device for env/ctx_num initialisation.
    pub default_alg: &'static str,
    /// Operation types (scheduler regions per node and mode).
    pub op_types: u8,
    /// `WD_<ALG>_CTX_NUM`.
    pub env_var: &'static str,
    /// Its default.
    pub env_default: &'static str,
    /// Its keys.
    pub env_keys: &'static [&'static str],
    /// Key index → (mode, operation type).
    pub key_to: fn(usize) -> (u8, u8),
}

/// One context of the configuration.
#[derive(Clone, Debug)]
pub struct CtxEntry {
    /// The context handle (from libwd).
    pub handle: HandleT,
    /// Operation type.
    pub op_type: u8,
    /// `CTX_MODE_*`.
    pub mode: u8,
    /// On a device (else software).
    pub device: bool,
    /// Device name.
    pub dev_name: String,
}

/// The scheduler's callbacks, copied at init as UADK copies them.
#[derive(Clone, Copy)]
pub struct SchedRef {
    h: HandleT,
    init: SchedInitFn,
    uninit: Option<SchedUninitFn>,
    pick: PickNextFn,
    poll: Option<PollPolicyFn>,
}

struct Owned {
    ctxs: Vec<HandleT>,
    sched: usize,
}

/// An initialised library.
pub struct Setting<Q> {
    generation: u64,
    /// The contexts, indexed as the scheduler indexes them.
    pub ctxs: Vec<CtxEntry>,
    sched: SchedRef,
    owned: Mutex<Option<Owned>>,
    queues: Vec<Mutex<VecDeque<Q>>>,
    env: Vec<(u32, u8, u8, u32)>,
    /// True if some context is on a device.
    pub any_device: bool,
    /// Why requests go where they go.
    pub why: String,
}

/// Most completions waiting per asynchronous context (UADK's message pool size).
pub const ASYNC_DEPTH: usize = 1024;

impl<Q> Setting<Q> {
    /// A session key from the scheduler (`param`: the session's `sched_param`).
    ///
    /// # Safety
    /// `param` is NULL or what the library's scheduler expects (UADK: a `struct
    /// sched_params` for the round-robin scheduler).
    pub unsafe fn new_key(&self, param: *mut c_void) -> Result<HandleT, c_int> {
        // SAFETY: the scheduler's own callback, called as UADK calls it.
        let key = unsafe { (self.sched.init)(self.sched.h, param) };
        if key > usize::MAX - 1000 {
            return Err(-((usize::MAX - key + 1) as c_int));
        }
        Ok(key)
    }

    /// Releases a session key (the scheduler's `sched_uninit`, else `free()` as UADK does).
    pub fn free_key(&self, key: HandleT) {
        if key == 0 || key > usize::MAX - 1000 {
            return;
        }
        match self.sched.uninit {
            // SAFETY: the scheduler's own callback with a key it made.
            Some(f) => unsafe { f(self.sched.h, key) },
            // SAFETY: UADK's contract for schedulers without sched_uninit: keys are malloc'd.
            None => unsafe { libc::free(key as *mut c_void) },
        }
    }

    /// The context the scheduler picks for `key` in `mode`, checked as UADK checks it.
    pub fn pick(&self, key: HandleT, mode: u8) -> Result<(usize, &CtxEntry), c_int> {
        // SAFETY: the scheduler's own callback with a key it made.
        let idx = unsafe { (self.sched.pick)(self.sched.h, key as *mut c_void, mode as c_int) } as usize;
        match self.ctxs.get(idx) {
            Some(c) if c.mode == mode => Ok((idx, c)),
            Some(_) => {
                wd_err!(
                    "context {idx} is not a {} context",
                    if mode == 0 { "sync" } else { "async" }
                );
                Err(-WD_EINVAL)
            }
            None => {
                wd_err!(
                    "the scheduler picked context {idx} of {}: no {} context for this session's region",
                    self.ctxs.len(),
                    if mode == 0 { "sync" } else { "async" }
                );
                Err(-WD_EINVAL)
            }
        }
    }

    /// Queues a completion on asynchronous context `idx` (`-WD_EBUSY` when full).
    pub fn push_async(&self, idx: usize, q: Q) -> Result<(), c_int> {
        let mut queue = self.queues.get(idx).ok_or(-WD_EINVAL)?.lock();
        if queue.len() >= ASYNC_DEPTH {
            return Err(-WD_EBUSY);
        }
        queue.push_back(q);
        Ok(())
    }
}

/// One library's state.
pub struct Library<Q> {
    fam: Family,
    state: RwLock<Option<Arc<Setting<Q>>>>,
}

struct Region {
    node: u32,
    mode: u8,
    ty: u8,
    begin: u32,
    end: u32,
}

impl<Q> Library<Q> {
    /// An uninitialised library.
    pub const fn new(fam: Family) -> Self {
        Library {
            fam,
            state: RwLock::new(None),
        }
    }

    /// The family.
    pub fn family(&self) -> &Family {
        &self.fam
    }

    /// The setting of this process, if initialised (a parent's counts as uninitialised).
    pub fn current(&self) -> Option<Arc<Setting<Q>>> {
        let g = fork_generation();
        self.state.read().as_ref().filter(|s| s.generation == g).cloned()
    }

    fn install(
        &self,
        entries: Vec<WdCtx>,
        sched: *const WdSched,
        owned: Option<Owned>,
        env: Vec<(u32, u8, u8, u32)>,
    ) -> c_int {
        let mut ctxs = Vec::with_capacity(entries.len());
        for (i, c) in entries.iter().enumerate() {
            let Some(info) = client::ctx_info(c.ctx) else {
                wd_err!(
                    "{} init: ctxs[{i}] ({:#x}) is not a context from wd_request_ctx",
                    self.fam.name,
                    c.ctx
                );
                return -WD_EINVAL;
            };
            if c.ctx_mode > CTX_MODE_ASYNC {
                wd_err!(
                    "{} init: ctxs[{i}].ctx_mode {} is not 0 (sync) or 1 (async)",
                    self.fam.name,
                    c.ctx_mode
                );
                return -WD_EINVAL;
            }
            ctxs.push(CtxEntry {
                handle: c.ctx,
                op_type: c.op_type,
                mode: c.ctx_mode,
                device: info.kind == CTX_KIND_DEVICE,
                dev_name: read(&info.dev_name),
            });
        }
        if sched.is_null() {
            wd_err!("{} init: the scheduler is NULL", self.fam.name);
            return -WD_EINVAL;
        }
        // SAFETY: non-NULL; the caller passes a struct wd_sched (UADK 2.11 layout).
        let s = unsafe { sched.read() };
        let (Some(init), Some(pick)) = (s.sched_init, s.pick_next_ctx) else {
            wd_err!(
                "{} init: the scheduler has no sched_init or pick_next_ctx",
                self.fam.name
            );
            return -WD_EINVAL;
        };
        let any_device = ctxs.iter().any(|c| c.device);
        let why = if any_device {
            let names: Vec<&str> = ctxs
                .iter()
                .filter(|c| c.device)
                .map(|c| c.dev_name.as_str())
                .collect();
            format!("contexts on {}", names.join(", "))
        } else {
            format!(
                "no uacce device offers {} here: every context is a software context",
                self.fam.default_alg
            )
        };
        client::note_backend(self.fam.name, !any_device, &why);
        let queues = (0..ctxs.len()).map(|_| Mutex::new(VecDeque::new())).collect();
        *self.state.write() = Some(Arc::new(Setting {
            generation: fork_generation(),
            ctxs,
            sched: SchedRef {
                h: s.h_sched_ctx,
                init,
                uninit: s.sched_uninit,
                pick,
                poll: s.poll_policy,
            },
            owned: Mutex::new(owned),
            queues,
            env,
            any_device,
            why,
        }));
        0
    }

    /// `wd_<alg>_init(config, sched)`.
    ///
    /// # Safety
    /// `config` and `sched` are NULL or valid pointers (UADK 2.11 layouts).
    pub unsafe fn init(&self, config: *mut WdCtxConfig, sched: *mut WdSched) -> c_int {
        if self.current().is_some() {
            return -WD_EEXIST;
        }
        if config.is_null() {
            wd_err!("{} init: config is NULL", self.fam.name);
            return -WD_EINVAL;
        }
        // SAFETY: non-NULL per the check; layout per the contract.
        let (n, ctxs) = unsafe { ((*config).ctx_num, (*config).ctxs) };
        if n == 0 || ctxs.is_null() || n > 65536 {
            wd_err!("{} init: config has {n} contexts at {ctxs:?}", self.fam.name);
            return -WD_EINVAL;
        }
        // SAFETY: the caller's array of ctx_num entries.
        let entries = unsafe { std::slice::from_raw_parts(ctxs, n as usize) }.to_vec();
        self.install(entries, sched, None, Vec::new())
    }

    /// Releases whatever the current initialisation owns and forgets it.
    pub fn uninit(&self) {
        let Some(s) = self.state.write().take() else {
            return;
        };
        let owned = s.owned.lock().take();
        if let Some(o) = owned {
            for c in o.ctxs {
                client::release_ctx(c);
            }
            if o.sched != 0 {
                // SAFETY: a scheduler this library allocated with wd_rs_sched_rr_alloc.
                unsafe { client::sched_rr_release(o.sched as *mut WdSched) };
            }
        }
    }

    /// Requests the contexts for `numbers` ((node, mode, type) → count) on `dev` and builds
    /// a round-robin scheduler over them (or instances `user_sched`).
    fn build(
        &self,
        dev: &mut UacceDev,
        numbers: &[(u32, u8, u8, u32)],
        sched_type: u8,
        poll: UserPollFn,
        user_sched: *mut WdSched,
    ) -> c_int {
        let mut entries = Vec::new();
        let mut regions = Vec::new();
        let mut handles = Vec::new();
        let release = |hs: &[HandleT]| hs.iter().for_each(|h| client::release_ctx(*h));
        for &(node, mode, ty, num) in numbers {
            if num == 0 {
                continue;
            }
            let begin = entries.len() as u32;
            for _ in 0..num {
                let h = client::request_ctx(dev);
                if h == 0 {
                    wd_err!(
                        "{} init: could not request a context on {}",
                        self.fam.name,
                        read(&dev.char_dev_path)
                    );
                    release(&handles);
                    return -WD_EBUSY;
                }
                handles.push(h);
                entries.push(WdCtx {
                    ctx: h,
                    op_type: ty,
                    ctx_mode: mode,
                });
            }
            regions.push(Region {
                node,
                mode,
                ty,
                begin,
                end: entries.len() as u32 - 1,
            });
        }
        if entries.is_empty() {
            wd_err!("{} init: no contexts requested", self.fam.name);
            return -WD_EINVAL;
        }
        let numa_num = regions.iter().map(|r| r.node + 1).max().unwrap_or(1).min(1024) as u16;
        let (sched, owned_sched) = if user_sched.is_null() {
            // SAFETY: `poll` is this library's poll_ctx function.
            let s = unsafe { client::sched_rr_alloc(sched_type, self.fam.op_types, numa_num, Some(poll)) };
            if s.is_null() {
                release(&handles);
                return -WD_ENOMEM;
            }
            (s, true)
        } else {
            (user_sched, false)
        };
        for r in &regions {
            let mut p = SchedParams {
                numa_id: r.node as c_int,
                type_: r.ty,
                mode: r.mode,
                begin: r.begin,
                end: r.end,
                ..Default::default()
            };
            // SAFETY: `sched` is ours or the caller's scheduler; `p` is valid. A foreign
            // scheduler refuses (it fills its own regions), which is not an error here.
            let ret = unsafe { client::sched_rr_instance(sched, &mut p) };
            if ret != 0 && owned_sched {
                release(&handles);
                // SAFETY: allocated above.
                unsafe { client::sched_rr_release(sched) };
                return ret;
            }
        }
        let env = numbers.to_vec();
        let owned = Owned {
            ctxs: handles.clone(),
            sched: if owned_sched { sched as usize } else { 0 },
        };
        let ret = self.install(entries, sched, Some(owned), env);
        if ret != 0 {
            release(&handles);
            if owned_sched {
                // SAFETY: allocated above.
                unsafe { client::sched_rr_release(sched) };
            }
        }
        ret
    }

    fn env_numbers(&self, value: &str) -> Result<Vec<(u32, u8, u8, u32)>, c_int> {
        let parsed: Vec<CtxNumEntry> = env::parse_ctx_num(value, self.fam.env_keys).map_err(|e| {
            wd_err!("{}: {e}", self.fam.env_var);
            -WD_EINVAL
        })?;
        let mut out: Vec<(u32, u8, u8, u32)> = Vec::new();
        for e in parsed {
            let (mode, ty) = (self.fam.key_to)(e.key);
            match out.iter_mut().find(|x| x.0 == e.node && x.1 == mode && x.2 == ty) {
                Some(x) => x.3 = x.3.max(e.num),
                None => out.push((e.node, mode, ty, e.num)),
            }
        }
        Ok(out)
    }

    /// `wd_<alg>_init2_`. `alg_ok` says whether this family offers `alg`.
    ///
    /// # Safety
    /// `params` is NULL or a valid `struct wd_ctx_params`.
    pub unsafe fn init2(
        &self,
        alg: Option<&str>,
        alg_ok: bool,
        sched_type: u32,
        task_type: c_int,
        params: *mut WdCtxParams,
        poll: UserPollFn,
    ) -> c_int {
        if self.current().is_some() {
            return -WD_EEXIST;
        }
        let Some(alg) = alg else {
            wd_err!("{} init2: alg is NULL", self.fam.name);
            return -WD_EINVAL;
        };
        if !alg_ok || sched_type >= SCHED_POLICY_BUTT || !(0..TASK_MAX_TYPE).contains(&task_type) {
            wd_err!(
                "{} init2: alg {alg:?} (offered: {}), sched_type {sched_type} or task_type {task_type} invalid",
                self.fam.name,
                alg_ok
            );
            return -WD_EINVAL;
        }
        let (mut dev, software) = if task_type == TASK_INSTR {
            (software_dev(), true)
        } else {
            match client::accel_dev(alg) {
                Some(d) => d,
                None => return -WD_ENODEV,
            }
        };
        if software && task_type == TASK_HW && env::flag("WD_RS_TASK_HW_STRICT") {
            wd_err!(
                "{} init2: TASK_HW and no device offers {alg} (WD_RS_TASK_HW_STRICT=1)",
                self.fam.name
            );
            return -WD_ENODEV;
        }
        let mut per_type = vec![(1u32, 1u32); self.fam.op_types as usize];
        let mut nodes: Vec<u32> = Vec::new();
        if !params.is_null() {
            // SAFETY: non-NULL per the check; layout per the contract.
            let p = unsafe { params.read() };
            if p.op_type_num as usize > per_type.len() || (p.op_type_num > 0 && p.ctx_set_num.is_null()) {
                wd_err!(
                    "{} init2: op_type_num {} (at most {})",
                    self.fam.name,
                    p.op_type_num,
                    per_type.len()
                );
                return -WD_EINVAL;
            }
            for (t, slot) in per_type.iter_mut().enumerate().take(p.op_type_num as usize) {
                // SAFETY: the caller's array of op_type_num entries.
                let n = unsafe { p.ctx_set_num.add(t).read() };
                *slot = (n.sync_ctx_num, n.async_ctx_num);
            }
            if !p.bmp.is_null() {
                // SAFETY: a libnuma bitmask: size bits in maskp words.
                nodes = unsafe { bitmask_nodes(p.bmp) };
            }
        }
        let mut numbers = Vec::new();
        let env_value = if software {
            None
        } else {
            env::get(self.fam.env_var)
        };
        if let Some(v) = env_value {
            // UADK: the variable overrides the caller's numbers, for hardware only.
            match self.env_numbers(&v) {
                Ok(n) if !n.is_empty() => numbers = n,
                Ok(_) => {}
                Err(e) => return e,
            }
        }
        if numbers.is_empty() {
            if nodes.is_empty() {
                nodes.push(dev.numa_id.max(0) as u32);
            }
            for &node in &nodes {
                for (ty, &(s, a)) in per_type.iter().enumerate() {
                    numbers.push((node, CTX_MODE_SYNC, ty as u8, s));
                    numbers.push((node, CTX_MODE_ASYNC, ty as u8, a));
                }
            }
        }
        let policy = if sched_type == SCHED_POLICY_NONE || sched_type == SCHED_POLICY_SINGLE {
            sched_type as u8
        } else {
            SCHED_POLICY_RR as u8
        };
        self.build(&mut dev, &numbers, policy, poll, std::ptr::null_mut())
    }

    /// `wd_<alg>_env_init(sched)`: contexts from `WD_<ALG>_CTX_NUM` (or its default).
    pub fn env_init(&self, sched: *mut WdSched, poll: UserPollFn) -> c_int {
        if self.current().is_some() {
            return -WD_EEXIST;
        }
        let value = env::get(self.fam.env_var).unwrap_or_else(|| self.fam.env_default.to_string());
        let numbers = match self.env_numbers(&value) {
            Ok(n) => n,
            Err(e) => return e,
        };
        let Some((mut dev, _)) = client::accel_dev(self.fam.default_alg) else {
            return -WD_ENODEV;
        };
        self.build(&mut dev, &numbers, SCHED_POLICY_RR as u8, poll, sched)
    }

    /// `wd_<alg>_ctx_num_init(node, type, num, mode)`.
    pub fn ctx_num_init(&self, node: u32, ty: u32, num: u32, mode: u8, poll: UserPollFn) -> c_int {
        if self.current().is_some() {
            return -WD_EEXIST;
        }
        if ty >= self.fam.op_types as u32 || mode > CTX_MODE_ASYNC || num == 0 || num > 1024 || node > 1023 {
            wd_err!(
                "{} ctx_num_init: node {node}, type {ty}, num {num} or mode {mode} invalid",
                self.fam.name
            );
            return -WD_EINVAL;
        }
        let Some((mut dev, _)) = client::accel_dev(self.fam.default_alg) else {
            return -WD_ENODEV;
        };
        self.build(
            &mut dev,
            &[(node, mode, ty as u8, num)],
            SCHED_POLICY_RR as u8,
            poll,
            std::ptr::null_mut(),
        )
    }

    /// `wd_<alg>_get_env_param`: contexts of (node, type, mode) in the current env-style
    /// initialisation, or as `WD_<ALG>_CTX_NUM` (or its default) would make them.
    ///
    /// # Safety
    /// `num` and `is_enable` are NULL or writable.
    pub unsafe fn get_env_param(
        &self,
        node: u32,
        ty: u32,
        mode: u32,
        num: *mut u32,
        is_enable: *mut u8,
    ) -> c_int {
        if num.is_null() || is_enable.is_null() || ty >= self.fam.op_types as u32 || mode > 1 {
            return -WD_EINVAL;
        }
        let numbers = match self.current().filter(|s| !s.env.is_empty()) {
            Some(s) => s.env.clone(),
            None => {
                let value = env::get(self.fam.env_var).unwrap_or_else(|| self.fam.env_default.to_string());
                match self.env_numbers(&value) {
                    Ok(n) => n,
                    Err(e) => return e,
                }
            }
        };
        let n: u32 = numbers
            .iter()
            .filter(|x| x.0 == node && x.1 as u32 == mode && x.2 as u32 == ty)
            .map(|x| x.3)
            .sum();
        // SAFETY: non-NULL and writable per the contract.
        unsafe {
            *num = n;
            *is_enable = 0;
        }
        0
    }

    /// `wd_<alg>_poll_ctx(idx, expt, count)`: delivers up to `expt` completions of
    /// asynchronous context `idx` (in submission order) through `deliver`; `-WD_EAGAIN` when
    /// fewer were waiting, `-WD_EINVAL` for a bad index, a sync context or NULL `count`.
    ///
    /// # Safety
    /// `count` is NULL or writable.
    pub unsafe fn poll_ctx(&self, idx: u32, expt: u32, count: *mut u32, deliver: impl Fn(Q)) -> c_int {
        if count.is_null() {
            return -WD_EINVAL;
        }
        // SAFETY: non-NULL and writable per the contract.
        unsafe { *count = 0 };
        let Some(s) = self.current() else {
            wd_err!("{} poll: the library is not initialised", self.fam.name);
            return -WD_EINVAL;
        };
        match s.ctxs.get(idx as usize) {
            Some(c) if c.mode == CTX_MODE_ASYNC => {}
            _ => {
                wd_err!("{} poll: context {idx} is not an async context", self.fam.name);
                return -WD_EINVAL;
            }
        }
        let want = if expt == 0 { usize::MAX } else { expt as usize };
        let taken: Vec<Q> = {
            let mut q = s.queues[idx as usize].lock();
            let n = want.min(q.len());
            q.drain(..n).collect()
        };
        let got = taken.len();
        for item in taken {
            deliver(item);
        }
        // SAFETY: as above.
        unsafe { *count = got as u32 };
        if expt != 0 && got < want {
            -WD_EAGAIN
        } else {
            0
        }
    }

    /// `wd_<alg>_poll(expt, count)`: the scheduler's poll policy.
    ///
    /// # Safety
    /// `count` is NULL or writable.
    pub unsafe fn poll(&self, expt: u32, count: *mut u32) -> c_int {
        if count.is_null() {
            return -WD_EINVAL;
        }
        let Some(s) = self.current() else {
            return -WD_EINVAL;
        };
        let Some(policy) = s.sched.poll else {
            return -WD_EINVAL;
        };
        let mut n = 0u32;
        // SAFETY: the scheduler's own callback.
        let ret = unsafe { policy(s.sched.h, expt, &mut n) };
        // SAFETY: non-NULL and writable per the contract.
        unsafe { *count = n };
        ret
    }
}

/// A description of the software accelerator (enough for `wd_request_ctx`).
pub fn software_dev() -> UacceDev {
    let mut u = UacceDev {
        flags: UACCE_DEV_SVA,
        numa_id: 0,
        api: [0; WD_NAME_SIZE],
        algs: [0; MAX_ATTR_STR_SIZE],
        dev_root: [0; PATH_STR_SIZE],
        char_dev_path: [0; MAX_DEV_NAME_LEN],
        qfrs_offs: [0; UACCE_QFRT_MAX],
    };
    fill(&mut u.api, SOFT_API);
    fill(&mut u.dev_root, SOFT_DEV_PATH);
    fill(&mut u.char_dev_path, SOFT_DEV_PATH);
    u
}

/// The nodes set in a libnuma bitmask.
///
/// # Safety
/// `bmp` points to a valid `struct bitmask`.
unsafe fn bitmask_nodes(bmp: *const Bitmask) -> Vec<u32> {
    // SAFETY: valid per the contract.
    let (size, words) = unsafe { ((*bmp).size as usize, (*bmp).maskp) };
    if words.is_null() {
        return Vec::new();
    }
    let bits = 8 * std::mem::size_of::<libc::c_ulong>();
    (0..size.min(1024))
        // SAFETY: `size` bits are backed by ceil(size / bits) words.
        .filter(|n| unsafe { *words.add(n / bits) } >> (n % bits) & 1 == 1)
        .map(|n| n as u32)
        .collect()
}
