//! The C types and constants of UADK's public headers (UADK 2.11 layout), as declared in
//! `ffi/wd/include/uadk/`. Enumerations are kept as plain `u32` fields and checked by
//! range where they are read: a C caller can put any value in them.
//!
//! ```
//! use uadk_wd_common::abi::*;
//! assert_eq!(std::mem::size_of::<UacceDev>(), 992);
//! assert_eq!(std::mem::size_of::<WdCompReq>(), 72);
//! assert_eq!(-WD_EINVAL, -22);
//! ```

use libc::{c_char, c_int, c_ulong, c_void};

/// UADK's `handle_t` (`uintptr_t`).
pub type HandleT = usize;

/// Success.
pub const WD_SUCCESS: c_int = 0;
/// Status: a stream ended.
pub const WD_STREAM_END: c_int = 1;
/// Status: a stream started.
pub const WD_STREAM_START: c_int = 2;
/// Status: computed in software.
pub const WD_SOFT_COMPUTING: c_int = 3;
/// I/O error.
pub const WD_EIO: c_int = libc::EIO;
/// Try again (also a request status: call again to drain output).
pub const WD_EAGAIN: c_int = libc::EAGAIN;
/// Out of memory.
pub const WD_ENOMEM: c_int = libc::ENOMEM;
/// Permission denied.
pub const WD_EACCES: c_int = libc::EACCES;
/// Busy (queue or message pool full).
pub const WD_EBUSY: c_int = libc::EBUSY;
/// Already initialised.
pub const WD_EEXIST: c_int = libc::EEXIST;
/// No such device.
pub const WD_ENODEV: c_int = libc::ENODEV;
/// Invalid argument.
pub const WD_EINVAL: c_int = libc::EINVAL;
/// Timed out.
pub const WD_ETIMEDOUT: c_int = libc::ETIMEDOUT;
/// Bad address.
pub const WD_ADDR_ERR: c_int = 61;
/// Device refuses access.
pub const WD_HW_EACCESS: c_int = 62;
/// Bad scatter-gather list.
pub const WD_SGL_ERR: c_int = 63;
/// Verification failed.
pub const WD_VERIFY_ERR: c_int = 64;
/// Bad output parameter.
pub const WD_OUT_EPARA: c_int = 66;
/// Bad input parameter or data.
pub const WD_IN_EPARA: c_int = 67;
/// Nothing processed.
pub const WD_ENOPROC: c_int = 68;

/// `WD_NAME_SIZE`.
pub const WD_NAME_SIZE: usize = 64;
/// `MAX_ATTR_STR_SIZE`.
pub const MAX_ATTR_STR_SIZE: usize = 384;
/// `PATH_STR_SIZE`.
pub const PATH_STR_SIZE: usize = 256;
/// `MAX_DEV_NAME_LEN`.
pub const MAX_DEV_NAME_LEN: usize = 256;
/// `UACCE_QFRT_MAX`.
pub const UACCE_QFRT_MAX: usize = 3;
/// `CRYPTO_MAX_ALG_NAME`.
pub const CRYPTO_MAX_ALG_NAME: usize = 128;
/// `WD_CTX_CNT_NUM`: most contexts per device that uadk-rs hands out for the software
/// accelerator, and the async message slots per context.
pub const WD_CTX_CNT_NUM: u32 = 1024;
/// `UACCE_DEV_SVA`.
pub const UACCE_DEV_SVA: c_int = 1;

/// `CTX_MODE_SYNC`.
pub const CTX_MODE_SYNC: u8 = 0;
/// `CTX_MODE_ASYNC`.
pub const CTX_MODE_ASYNC: u8 = 1;
/// `TASK_MIX`.
pub const TASK_MIX: c_int = 0;
/// `TASK_HW`.
pub const TASK_HW: c_int = 1;
/// `TASK_INSTR`.
pub const TASK_INSTR: c_int = 2;
/// `TASK_MAX_TYPE`.
pub const TASK_MAX_TYPE: c_int = 3;
/// `SCHED_POLICY_RR`.
pub const SCHED_POLICY_RR: u32 = 0;
/// `SCHED_POLICY_NONE`.
pub const SCHED_POLICY_NONE: u32 = 1;
/// `SCHED_POLICY_SINGLE`.
pub const SCHED_POLICY_SINGLE: u32 = 2;
/// `SCHED_POLICY_BUTT`.
pub const SCHED_POLICY_BUTT: u32 = 7;
/// `WD_FLAT_BUF`.
pub const WD_FLAT_BUF: u32 = 0;
/// `WD_SGL_BUF`.
pub const WD_SGL_BUF: u32 = 1;

/// `struct uacce_dev`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct UacceDev {
    /// `UACCE_DEV_*` flags.
    pub flags: c_int,
    /// NUMA node.
    pub numa_id: c_int,
    /// `api` attribute.
    pub api: [c_char; WD_NAME_SIZE],
    /// `algorithms` attribute.
    pub algs: [c_char; MAX_ATTR_STR_SIZE],
    /// sysfs directory.
    pub dev_root: [c_char; PATH_STR_SIZE],
    /// Device node path.
    pub char_dev_path: [c_char; MAX_DEV_NAME_LEN],
    /// Region sizes.
    pub qfrs_offs: [c_ulong; UACCE_QFRT_MAX],
}

/// `struct uacce_dev_list`.
#[repr(C)]
pub struct UacceDevList {
    /// The device.
    pub dev: *mut UacceDev,
    /// Next entry.
    pub next: *mut UacceDevList,
}

/// libnuma's `struct bitmask`.
#[repr(C)]
pub struct Bitmask {
    /// Bits.
    pub size: c_ulong,
    /// The words.
    pub maskp: *mut c_ulong,
}

/// `struct wd_ctx`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct WdCtx {
    /// Context handle.
    pub ctx: HandleT,
    /// Operation type.
    pub op_type: u8,
    /// `CTX_MODE_*`.
    pub ctx_mode: u8,
}

/// `struct wd_cap_config`.
#[repr(C)]
pub struct WdCapConfig {
    /// Async message slots per context.
    pub ctx_msg_num: u32,
    /// Reserved.
    pub resv: u32,
}

/// `struct wd_ctx_config`.
#[repr(C)]
pub struct WdCtxConfig {
    /// Entries in `ctxs`.
    pub ctx_num: u32,
    /// The contexts.
    pub ctxs: *mut WdCtx,
    /// For the caller's scheduler.
    pub priv_: *mut c_void,
    /// Capabilities (may be NULL; not read by uadk-rs).
    pub cap: *mut WdCapConfig,
}

/// `struct wd_ctx_nums`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct WdCtxNums {
    /// Sync contexts per set.
    pub sync_ctx_num: u32,
    /// Async contexts per set.
    pub async_ctx_num: u32,
}

/// `struct wd_ctx_params`.
#[repr(C)]
pub struct WdCtxParams {
    /// Entries in `ctx_set_num`.
    pub op_type_num: u32,
    /// Per operation type.
    pub ctx_set_num: *mut WdCtxNums,
    /// NUMA nodes (may be NULL).
    pub bmp: *mut Bitmask,
    /// Capabilities (may be NULL).
    pub cap: *mut WdCapConfig,
}

/// `sched_init` callback.
pub type SchedInitFn = unsafe extern "C" fn(HandleT, *mut c_void) -> HandleT;
/// `sched_uninit` callback.
pub type SchedUninitFn = unsafe extern "C" fn(HandleT, HandleT);
/// `pick_next_ctx` callback.
pub type PickNextFn = unsafe extern "C" fn(HandleT, *mut c_void, c_int) -> u32;
/// `poll_policy` callback.
pub type PollPolicyFn = unsafe extern "C" fn(HandleT, u32, *mut u32) -> c_int;
/// `set_param` callback.
pub type SetParamFn = unsafe extern "C" fn(HandleT, *mut c_void, *mut c_void);
/// `user_poll_func`.
pub type UserPollFn = unsafe extern "C" fn(u32, u32, *mut u32) -> c_int;

/// `struct wd_sched` (UADK 2.11 layout).
#[repr(C)]
pub struct WdSched {
    /// Name.
    pub name: *const c_char,
    /// Policy.
    pub sched_policy: c_int,
    /// Session key constructor.
    pub sched_init: Option<SchedInitFn>,
    /// Session key destructor.
    pub sched_uninit: Option<SchedUninitFn>,
    /// Context choice.
    pub pick_next_ctx: Option<PickNextFn>,
    /// Poll policy.
    pub poll_policy: Option<PollPolicyFn>,
    /// Parameter update.
    pub set_param: Option<SetParamFn>,
    /// The scheduler's own context.
    pub h_sched_ctx: HandleT,
}

/// `struct sched_params`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct SchedParams {
    /// NUMA node (< 0: the caller's).
    pub numa_id: c_int,
    /// Operation type.
    pub type_: u8,
    /// Mode.
    pub mode: u8,
    /// First context index.
    pub begin: u32,
    /// Last context index.
    pub end: u32,
    /// Device id.
    pub dev_id: u32,
    /// Context property.
    pub ctx_prop: c_int,
}

/// `struct wd_mm_ops`.
#[repr(C)]
pub struct WdMmOps {
    /// Allocation.
    pub alloc: Option<unsafe extern "C" fn(*mut c_void, usize) -> *mut c_void>,
    /// Free.
    pub free: Option<unsafe extern "C" fn(*mut c_void, *mut c_void)>,
    /// VA to IOVA.
    pub iova_map: Option<unsafe extern "C" fn(*mut c_void, *mut c_void, usize) -> *mut c_void>,
    /// Unmap.
    pub iova_unmap: Option<unsafe extern "C" fn(*mut c_void, *mut c_void, *mut c_void, usize)>,
    /// Buffer size.
    pub get_bufsize: Option<unsafe extern "C" fn(*mut c_void) -> u32>,
    /// Callback argument.
    pub usr: *mut c_void,
    /// SVA mode.
    pub sva_mode: bool,
}

/// `struct wd_datalist`.
#[repr(C)]
pub struct WdDatalist {
    /// Data.
    pub data: *mut c_void,
    /// Bytes.
    pub len: u32,
    /// Next entry.
    pub next: *mut WdDatalist,
}

/// Compression completion callback.
pub type CompCb = unsafe extern "C" fn(*mut WdCompReq, *mut c_void) -> *mut c_void;

/// `struct wd_comp_req`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct WdCompReq {
    /// Source (or `list_src`).
    pub src: *mut c_void,
    /// In: bytes; out: consumed.
    pub src_len: u32,
    /// Destination (or `list_dst`).
    pub dst: *mut c_void,
    /// In: room; out: produced.
    pub dst_len: u32,
    /// Async callback.
    pub cb: Option<CompCb>,
    /// Its argument.
    pub cb_param: *mut c_void,
    /// `WD_DIR_*`.
    pub op_type: u32,
    /// `WD_FLAT_BUF` / `WD_SGL_BUF`.
    pub data_fmt: u32,
    /// Last block of a stream.
    pub last: u32,
    /// Out: status.
    pub status: u32,
    /// lz77 output descriptor.
    pub priv_: *mut c_void,
}

/// `struct wd_comp_sess_setup`.
#[repr(C)]
pub struct WdCompSessSetup {
    /// `WD_DEFLATE` / `WD_ZLIB` / `WD_GZIP` / ...
    pub alg_type: u32,
    /// Level.
    pub comp_lv: u32,
    /// Window.
    pub win_sz: u32,
    /// Direction.
    pub op_type: u32,
    /// `struct sched_params *`.
    pub sched_param: *mut c_void,
    /// Memory ops (not read by uadk-rs).
    pub mm_ops: WdMmOps,
    /// Memory type (not read by uadk-rs).
    pub mm_type: u32,
}

/// `struct wd_mempool_stats`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct WdMempoolStats {
    /// `WD_HUGE_PAGE` / `WD_NORMAL_PAGE`.
    pub page_type: u32,
    /// Page size.
    pub page_size: c_ulong,
    /// Pages.
    pub page_num: c_ulong,
    /// Accounting unit.
    pub blk_size: c_ulong,
    /// Units.
    pub blk_num: c_ulong,
    /// Free units.
    pub free_blk_num: c_ulong,
    /// Percent used.
    pub blk_usage_rate: c_ulong,
}

/// `struct wd_blockpool_stats`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct WdBlockpoolStats {
    /// Block size.
    pub block_size: c_ulong,
    /// Blocks.
    pub block_num: c_ulong,
    /// Free blocks.
    pub free_block_num: c_ulong,
    /// Percent used.
    pub block_usage_rate: c_ulong,
    /// Percent of memory not in blocks.
    pub mem_waste_rate: c_ulong,
}

/// `struct wd_mempool_setup` (wd_bmm.h).
#[repr(C)]
pub struct WdMempoolSetup {
    /// Block size.
    pub block_size: u32,
    /// Blocks.
    pub block_num: u32,
    /// Alignment.
    pub align_size: u32,
    /// Caller memory ops (not used).
    pub ops: WdMmOps,
}

/// `struct wd_capability`.
#[repr(C)]
pub struct WdCapability {
    /// Algorithm.
    pub alg_name: [c_char; CRYPTO_MAX_ALG_NAME],
    /// Driver.
    pub drv_name: [c_char; CRYPTO_MAX_ALG_NAME],
    /// Usable now.
    pub available: bool,
    /// Priority.
    pub priority: c_int,
    /// `UADK_ALG_*`.
    pub calc_type: c_int,
    /// Next entry.
    pub next: *mut WdCapability,
}

/// Cipher completion callback.
pub type CipherCb = unsafe extern "C" fn(*mut WdCipherReq, *mut c_void) -> *mut c_void;

/// `struct wd_cipher_sess_setup`.
#[repr(C)]
pub struct WdCipherSessSetup {
    /// `WD_CIPHER_SM4` ...
    pub alg: u32,
    /// `WD_CIPHER_ECB` ...
    pub mode: u32,
    /// `struct sched_params *`.
    pub sched_param: *mut c_void,
    /// Not read.
    pub mm_ops: WdMmOps,
    /// Not read.
    pub mm_type: u32,
}

/// `struct wd_cipher_req`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct WdCipherReq {
    /// Encrypt / decrypt.
    pub op_type: u32,
    /// Source.
    pub src: *mut c_void,
    /// Destination.
    pub dst: *mut c_void,
    /// IV.
    pub iv: *mut c_void,
    /// Input bytes.
    pub in_bytes: u32,
    /// IV bytes.
    pub iv_bytes: u32,
    /// Room in `dst`.
    pub out_buf_bytes: u32,
    /// Out: bytes written.
    pub out_bytes: u32,
    /// Out: status.
    pub state: u16,
    /// Unused.
    pub type_: u8,
    /// Buffer format.
    pub data_fmt: u8,
    /// Async callback.
    pub cb: Option<CipherCb>,
    /// Its argument.
    pub cb_param: *mut c_void,
}

/// Digest completion callback (called with the request pointer).
pub type DigestCb = unsafe extern "C" fn(*mut c_void) -> *mut c_void;

/// `struct wd_digest_sess_setup`.
#[repr(C)]
pub struct WdDigestSessSetup {
    /// `WD_DIGEST_SM3` ...
    pub alg: u32,
    /// Normal / HMAC.
    pub mode: u32,
    /// `struct sched_params *`.
    pub sched_param: *mut c_void,
    /// Not read.
    pub mm_ops: WdMmOps,
    /// Not read.
    pub mm_type: u32,
}

/// `struct wd_digest_req`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct WdDigestReq {
    /// Input.
    pub in_: *mut c_void,
    /// Output.
    pub out: *mut c_void,
    /// Input bytes.
    pub in_bytes: u32,
    /// Digest bytes wanted.
    pub out_bytes: u32,
    /// Room in `out`.
    pub out_buf_bytes: u32,
    /// IV (GMAC).
    pub iv: *mut u8,
    /// IV bytes.
    pub iv_bytes: u32,
    /// Out: status.
    pub state: u16,
    /// `WD_DIGEST_END` / `WD_DIGEST_DOING` ...
    pub has_next: u16,
    /// Buffer format.
    pub data_fmt: u8,
    /// Async callback.
    pub cb: Option<DigestCb>,
    /// Its argument.
    pub cb_param: *mut c_void,
    /// Bytes of the message so far.
    pub long_data_len: u64,
}

/// AEAD completion callback.
pub type AeadCb = unsafe extern "C" fn(*mut WdAeadReq, *mut c_void) -> *mut c_void;

/// `struct wd_aead_sess_setup`.
#[repr(C)]
pub struct WdAeadSessSetup {
    /// Cipher algorithm.
    pub calg: u32,
    /// Cipher mode.
    pub cmode: u32,
    /// Digest algorithm.
    pub dalg: u32,
    /// Digest mode.
    pub dmode: u32,
    /// `struct sched_params *`.
    pub sched_param: *mut c_void,
    /// Not read.
    pub mm_ops: WdMmOps,
    /// Not read.
    pub mm_type: u32,
}

/// `struct wd_aead_req`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct WdAeadReq {
    /// `WD_CIPHER_ENCRYPTION_DIGEST` ...
    pub op_type: u32,
    /// Associated data then payload.
    pub src: *mut c_void,
    /// Associated data then result.
    pub dst: *mut c_void,
    /// Tag.
    pub mac: *mut c_void,
    /// IV.
    pub iv: *mut c_void,
    /// Payload bytes.
    pub in_bytes: u32,
    /// Room in `dst`.
    pub out_bytes: u32,
    /// IV bytes.
    pub iv_bytes: u16,
    /// Room in `mac`.
    pub mac_bytes: u16,
    /// Associated data bytes.
    pub assoc_bytes: u16,
    /// Out: status.
    pub state: u16,
    /// Buffer format.
    pub data_fmt: u8,
    /// Async callback.
    pub cb: Option<AeadCb>,
    /// Its argument.
    pub cb_param: *mut c_void,
    /// `AEAD_MSG_*`.
    pub msg_state: u32,
}

/// zlib-wrapper allocation callback (not used).
pub type AllocFunc = unsafe extern "C" fn(*mut c_void, u32, u32);
/// zlib-wrapper free callback (not used).
pub type FreeFunc = unsafe extern "C" fn(*mut c_void, *mut c_void);

/// `z_stream` of `wd_zlibwrapper.h` (UADK's own layout, not zlib's).
#[repr(C)]
pub struct ZStream {
    /// Next input byte.
    pub next_in: *const u8,
    /// Input bytes available.
    pub avail_in: u32,
    /// Input bytes read so far.
    pub total_in: u64,
    /// Next output byte.
    pub next_out: *mut u8,
    /// Output room.
    pub avail_out: u32,
    /// Output bytes so far.
    pub total_out: u64,
    /// Last error message.
    pub msg: *const c_char,
    /// Not used.
    pub state: *mut c_void,
    /// Not used.
    pub zalloc: Option<AllocFunc>,
    /// Not used.
    pub zfree: Option<FreeFunc>,
    /// Not used.
    pub opaque: *mut c_void,
    /// Not used.
    pub data_type: c_int,
    /// Not used.
    pub adler: u64,
    /// The session handle.
    pub reserved: u64,
}

/// Copies `s` into a fixed C character array, truncated, always NUL-terminated.
///
/// ```
/// let mut a = [1 as libc::c_char; 4];
/// uadk_wd_common::abi::fill(&mut a, "hello");
/// assert_eq!(a, [b'h' as libc::c_char, b'e' as _, b'l' as _, 0]);
/// ```
pub fn fill(dst: &mut [c_char], s: &str) {
    if dst.is_empty() {
        return;
    }
    let n = s.len().min(dst.len() - 1);
    for (d, b) in dst.iter_mut().zip(s.as_bytes()[..n].iter()) {
        *d = *b as c_char;
    }
    for d in dst[n..].iter_mut() {
        *d = 0;
    }
}

/// The string in a fixed C character array (up to its first NUL, lossy UTF-8).
///
/// ```
/// let a = [b'a' as libc::c_char, 0, b'b' as _];
/// assert_eq!(uadk_wd_common::abi::read(&a), "a");
/// ```
pub fn read(src: &[c_char]) -> String {
    let bytes: Vec<u8> = src.iter().take_while(|c| **c != 0).map(|c| *c as u8).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    #[test]
    fn layouts_match_uadk_2_11() {
        assert_eq!(size_of::<UacceDev>(), 992);
        assert_eq!(offset_of!(UacceDev, qfrs_offs), 968);
        assert_eq!(size_of::<WdCtx>(), 16);
        assert_eq!(size_of::<WdCtxConfig>(), 32);
        assert_eq!(size_of::<WdSched>(), 64);
        assert_eq!(offset_of!(WdSched, h_sched_ctx), 56);
        assert_eq!(size_of::<SchedParams>(), 24);
        assert_eq!(size_of::<WdMmOps>(), 56);
        assert_eq!(size_of::<WdCompReq>(), 72);
        assert_eq!(offset_of!(WdCompReq, status), 60);
        assert_eq!(size_of::<WdCompSessSetup>(), 88);
        assert_eq!(size_of::<WdCipherReq>(), 72);
        assert_eq!(size_of::<WdDigestReq>(), 80);
        assert_eq!(size_of::<WdAeadReq>(), 88);
        assert_eq!(size_of::<ZStream>(), 112);
        assert_eq!(size_of::<WdMempoolStats>(), 56);
    }
}

/// What `wd_rs_ctx_query` (libwd's private interface, node `UADK_RS_PRIVATE_1.0`) reports
/// about a context to the algorithm libraries.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct CtxInfo {
    /// [`CTX_KIND_SOFTWARE`] or [`CTX_KIND_DEVICE`].
    pub kind: c_int,
    /// NUMA node.
    pub numa_id: c_int,
    /// `qm_version` of the device (0 for software or unknown).
    pub qm_version: c_int,
    /// Device name, e.g. `hisi_zip-0`.
    pub dev_name: [c_char; WD_NAME_SIZE],
    /// `api` string.
    pub api: [c_char; WD_NAME_SIZE],
    /// Newline-separated algorithms.
    pub algs: [c_char; MAX_ATTR_STR_SIZE],
}

/// A software context.
pub const CTX_KIND_SOFTWARE: c_int = 0;
/// A context on a uacce device.
pub const CTX_KIND_DEVICE: c_int = 1;

impl Default for CtxInfo {
    fn default() -> Self {
        CtxInfo {
            kind: CTX_KIND_SOFTWARE,
            numa_id: 0,
            qm_version: 0,
            dev_name: [0; WD_NAME_SIZE],
            api: [0; WD_NAME_SIZE],
            algs: [0; MAX_ATTR_STR_SIZE],
        }
    }
}

/// The software accelerator's `api` string.
pub const SOFT_API: &str = "uadk_rs_software_v1";
/// The software accelerator's `char_dev_path`.
pub const SOFT_DEV_PATH: &str = "uadk-rs:software";
/// The software accelerator's device name.
pub const SOFT_DEV_NAME: &str = "uadk_rs_soft-0";
/// The software accelerator's driver name.
pub const SOFT_DRV_NAME: &str = "uadk_rs_soft";

/// `struct wd_rs_counters` (wd_rs.h): one algorithm library's request counters.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WdRsCounters {
    /// Completed on a device.
    pub device_requests: u64,
    /// Completed in software (fallbacks included).
    pub software_requests: u64,
    /// Device failures redone in software.
    pub fallbacks: u64,
    /// Requests that returned an error.
    pub errors: u64,
}
