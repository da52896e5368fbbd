//! Accelerator listing: uacce devices from uadk-core's discovery, and the software
//! accelerator when no device offers an algorithm that uadk-rs's software does.
//!
//! Lists and devices are allocated with the C allocator: UADK's users free a device from
//! `wd_get_accel_dev` with `free()` (Ceph does) and lists with `wd_free_list_accels`.
//!
//! ```
//! use wd::accel::*;
//! assert_eq!(family("cbc(aes)"), Some("cipher"));
//! assert!(software_offers("gzip") && !software_offers("lz4"));
//! let dev = unsafe { wd_get_accel_dev(c"sha256".as_ptr()) };
//! assert!(!dev.is_null());
//! assert!(unsafe { wd_get_avail_ctx(dev) } > 0);
//! unsafe { libc::free(dev.cast()) };
//! ```

use crate::cmem;
use libc::{c_char, c_int};
use std::ffi::CStr;
use uadk_core::discovery::{scan, select_for_node, Device, NumaDistances, Roots};
use uadk_wd_common::abi::*;
use uadk_wd_common::boundary::guard;
use uadk_wd_common::wd_err;

const CIPHER_NAMES: &[&str] = &[
    "ecb(aes)",
    "cbc(aes)",
    "xts(aes)",
    "ofb(aes)",
    "cfb(aes)",
    "ctr(aes)",
    "cbc-cs1(aes)",
    "cbc-cs2(aes)",
    "cbc-cs3(aes)",
    "ecb(sm4)",
    "cbc(sm4)",
    "xts(sm4)",
    "ofb(sm4)",
    "cfb(sm4)",
    "ctr(sm4)",
    "cbc-cs1(sm4)",
    "cbc-cs2(sm4)",
    "cbc-cs3(sm4)",
    "ecb(des)",
    "cbc(des)",
    "ecb(des3_ede)",
    "cbc(des3_ede)",
];
const AEAD_NAMES: &[&str] = &[
    "ccm(aes)",
    "gcm(aes)",
    "ccm(sm4)",
    "gcm(sm4)",
    "authenc(generic,cbc(aes))",
    "authenc(generic,cbc(sm4))",
];
const DIGEST_NAMES: &[&str] = &[
    "sm3",
    "md5",
    "sha1",
    "sha224",
    "sha256",
    "sha384",
    "sha512",
    "sha512-224",
    "sha512-256",
    "cmac(aes)",
    "gmac(aes)",
    "xcbc-mac-96(aes)",
    "xcbc-prf-128(aes)",
];
const COMP_NAMES: &[&str] = &["zlib", "gzip", "deflate", "lz77_zstd", "lz4", "lz77_only"];

/// What uadk-rs's software offers, families first (the software accelerator's `algs`).
const SOFTWARE: &[&str] = &[
    "zlib", "gzip", "deflate", "cipher", "digest", "aead", "ecb(aes)", "cbc(aes)", "ctr(aes)", "xts(aes)",
    "ecb(sm4)", "cbc(sm4)", "ctr(sm4)", "xts(sm4)", "gcm(aes)", "ccm(aes)", "gcm(sm4)", "ccm(sm4)", "sm3",
    "md5", "sha1", "sha224", "sha256", "sha384", "sha512",
];

/// The family a device advertises for `alg` ("cipher", "digest", "aead", or the
/// compression name itself), as UADK's algorithm table maps them.
pub fn family(alg: &str) -> Option<&'static str> {
    if let Some(c) = COMP_NAMES.iter().find(|c| **c == alg) {
        return Some(c);
    }
    match alg {
        "cipher" => Some("cipher"),
        "digest" => Some("digest"),
        "aead" => Some("aead"),
        a if CIPHER_NAMES.contains(&a) => Some("cipher"),
        a if AEAD_NAMES.contains(&a) => Some("aead"),
        a if DIGEST_NAMES.contains(&a) => Some("digest"),
        _ => None,
    }
}

/// Whether uadk-rs's software runs `alg`.
pub fn software_offers(alg: &str) -> bool {
    SOFTWARE.contains(&alg)
}

/// Whether device `d` offers `alg` (directly or through its family).
pub fn device_offers(d: &Device, alg: &str) -> bool {
    d.supports(alg) || family(alg).is_some_and(|f| d.supports(f))
}

/// The devices discovery finds now.
pub(crate) fn devices() -> Vec<Device> {
    scan(&Roots::from_env()).devices
}

/// The calling CPU's NUMA node (0 when unknown).
pub(crate) fn current_node() -> c_int {
    uadk_core::sys::cpu::current_node().map_or(0, |n| n as c_int)
}

/// A device as `struct uacce_dev`.
pub(crate) fn to_uacce(d: &Device) -> UacceDev {
    let mut u = blank();
    u.flags = d.flags as c_int;
    u.numa_id = d.node.map_or(-1, |n| n as c_int);
    fill(&mut u.api, &d.api);
    fill(&mut u.algs, &d.algorithms.join("\n"));
    let root = Roots::from_env().sysfs.join("class/uacce").join(&d.name);
    fill(&mut u.dev_root, &root.to_string_lossy());
    fill(&mut u.char_dev_path, &d.dev_path.to_string_lossy());
    u.qfrs_offs = [d.mmio_size as libc::c_ulong, d.dus_size as libc::c_ulong, 0];
    u
}

/// The software accelerator as `struct uacce_dev`.
pub(crate) fn software_uacce() -> UacceDev {
    let mut u = blank();
    u.flags = UACCE_DEV_SVA;
    u.numa_id = current_node();
    fill(&mut u.api, SOFT_API);
    fill(&mut u.algs, &SOFTWARE.join("\n"));
    fill(&mut u.dev_root, SOFT_DEV_PATH);
    fill(&mut u.char_dev_path, SOFT_DEV_PATH);
    u
}

fn blank() -> UacceDev {
    UacceDev {
        flags: 0,
        numa_id: 0,
        api: [0; WD_NAME_SIZE],
        algs: [0; MAX_ATTR_STR_SIZE],
        dev_root: [0; PATH_STR_SIZE],
        char_dev_path: [0; MAX_DEV_NAME_LEN],
        qfrs_offs: [0; UACCE_QFRT_MAX],
    }
}

/// What a `struct uacce_dev` from a caller names.
pub(crate) enum Named {
    /// The software accelerator.
    Software,
    /// A device that discovery still finds.
    Device(Device),
}

/// Identifies the device a caller's `struct uacce_dev` names (by `char_dev_path`).
///
/// # Safety
/// `dev` is NULL or points to a readable `struct uacce_dev`.
pub(crate) unsafe fn identify(dev: *const UacceDev) -> Option<Named> {
    if dev.is_null() {
        return None;
    }
    // SAFETY: the caller guarantees a readable struct; only the path array is read.
    let path = read(unsafe { &(*dev).char_dev_path });
    if path == SOFT_DEV_PATH {
        return Some(Named::Software);
    }
    devices()
        .into_iter()
        .find(|d| d.dev_path.to_string_lossy() == path)
        .map(Named::Device)
}

fn alg_arg(alg: *const c_char) -> Option<String> {
    if alg.is_null() {
        return None;
    }
    // SAFETY: the caller passes a NUL-terminated algorithm name.
    Some(unsafe { CStr::from_ptr(alg) }.to_string_lossy().into_owned())
}

fn push(head: &mut *mut UacceDevList, tail: &mut *mut UacceDevList, u: UacceDev) -> bool {
    let node: *mut UacceDevList = cmem::calloc();
    let dev: *mut UacceDev = cmem::calloc();
    if node.is_null() || dev.is_null() {
        // SAFETY: free(NULL) is a no-op; both came from calloc.
        unsafe {
            libc::free(node.cast());
            libc::free(dev.cast());
        }
        return false;
    }
    // SAFETY: both are fresh, zeroed allocations of the right size.
    unsafe {
        dev.write(u);
        (*node).dev = dev;
        if tail.is_null() {
            *head = node;
        } else {
            (**tail).next = node;
        }
    }
    *tail = node;
    true
}

/// The devices offering `alg_name`, or the software accelerator when none does and
/// uadk-rs's software offers it; NULL for an unknown algorithm or NULL name. Free with
/// [`wd_free_list_accels`].
///
/// # Safety
/// `alg_name` is NULL or a NUL-terminated string.
pub unsafe extern "C" fn wd_get_accel_list(alg_name: *const c_char) -> *mut UacceDevList {
    guard("wd_get_accel_list", std::ptr::null_mut(), || {
        let Some(alg) = alg_arg(alg_name) else {
            wd_err!("wd_get_accel_list: alg_name is NULL");
            return std::ptr::null_mut();
        };
        let mut head = std::ptr::null_mut();
        let mut tail = std::ptr::null_mut();
        for d in devices().iter().filter(|d| !d.isolated && device_offers(d, &alg)) {
            if !push(&mut head, &mut tail, to_uacce(d)) {
                // SAFETY: `head` is a list built above from calloc'd nodes.
                unsafe { wd_free_list_accels(head) };
                return std::ptr::null_mut();
            }
        }
        if head.is_null() && software_offers(&alg) {
            push(&mut head, &mut tail, software_uacce());
        }
        if head.is_null() {
            wd_err!("wd_get_accel_list: no device and no software for {alg:?}");
        }
        head
    })
}

/// Frees a list from [`wd_get_accel_list`] and its devices.
///
/// # Safety
/// `list` is NULL or a list from `wd_get_accel_list` (or built from calloc'd nodes).
pub unsafe extern "C" fn wd_free_list_accels(list: *mut UacceDevList) {
    guard("wd_free_list_accels", (), || {
        let mut p = list;
        while !p.is_null() {
            // SAFETY: each node and device was allocated with the C allocator.
            unsafe {
                let next = (*p).next;
                libc::free((*p).dev.cast());
                libc::free(p.cast());
                p = next;
            }
        }
    })
}

/// The device offering `alg_name` nearest to the calling CPU (most free queues among
/// equals), or the software accelerator; NULL if neither. Free with `free()`.
///
/// # Safety
/// `alg_name` is NULL or a NUL-terminated string.
pub unsafe extern "C" fn wd_get_accel_dev(alg_name: *const c_char) -> *mut UacceDev {
    guard("wd_get_accel_dev", std::ptr::null_mut(), || {
        let Some(alg) = alg_arg(alg_name) else {
            return std::ptr::null_mut();
        };
        let devs = devices();
        let node = uadk_core::sys::cpu::current_node();
        let dist = NumaDistances::load(&Roots::from_env().sysfs);
        let mut offering: Vec<Device> = devs.into_iter().filter(|d| device_offers(d, &alg)).collect();
        // select_for_node matches the advertised name; advertise the asked one.
        for d in offering.iter_mut() {
            if !d.supports(&alg) {
                d.algorithms.push(alg.clone());
            }
        }
        let u = match select_for_node(&offering, &alg, node, &dist) {
            Some(d) => {
                let mut u = to_uacce(d);
                // Report the device's own algorithm list, not the one extended above.
                if let Some(orig) = devices().into_iter().find(|x| x.name == d.name) {
                    fill(&mut u.algs, &orig.algorithms.join("\n"));
                }
                u
            }
            None if software_offers(&alg) => software_uacce(),
            None => {
                wd_err!("wd_get_accel_dev: no device and no software for {alg:?}");
                return std::ptr::null_mut();
            }
        };
        let p: *mut UacceDev = cmem::calloc();
        if !p.is_null() {
            // SAFETY: a fresh allocation of the right size.
            unsafe { p.write(u) };
        }
        p
    })
}

/// The device of `list` on `numa_id` with the most free contexts (any node when
/// `numa_id < 0`); `WD_ERR_PTR(-WD_ENODEV)` when none, `-WD_EINVAL` for a NULL list.
///
/// # Safety
/// `list` is NULL or a valid list.
pub unsafe extern "C" fn wd_find_dev_by_numa(list: *mut UacceDevList, numa_id: c_int) -> *mut UacceDev {
    let err = |e: c_int| (-(e as isize)) as usize as *mut UacceDev;
    guard("wd_find_dev_by_numa", err(WD_EINVAL), || {
        if list.is_null() {
            return err(WD_EINVAL);
        }
        let mut best: (*mut UacceDev, c_int) = (std::ptr::null_mut(), 0);
        let mut p = list;
        while !p.is_null() {
            // SAFETY: `p` is a node of the caller's valid list.
            let (dev, next) = unsafe { ((*p).dev, (*p).next) };
            if !dev.is_null() {
                // SAFETY: `dev` points to a device of the list.
                let node = unsafe { (*dev).numa_id };
                if numa_id < 0 || node == numa_id {
                    // SAFETY: as above.
                    let free = unsafe { wd_get_avail_ctx(dev) };
                    if free > best.1 {
                        best = (dev, free);
                    }
                }
            }
            p = next;
        }
        if best.0.is_null() {
            err(WD_ENODEV)
        } else {
            best.0
        }
    })
}

/// Free contexts on `dev`: the device's `available_instances`, or for the software
/// accelerator the contexts left of its 1024; `-WD_EINVAL`/`-WD_ENODEV` on error.
///
/// # Safety
/// `dev` is NULL or points to a readable `struct uacce_dev`.
pub unsafe extern "C" fn wd_get_avail_ctx(dev: *mut UacceDev) -> c_int {
    guard("wd_get_avail_ctx", -WD_EINVAL, || {
        if dev.is_null() {
            return -WD_EINVAL;
        }
        // SAFETY: checked non-NULL; the caller guarantees it is readable.
        match unsafe { identify(dev) } {
            Some(Named::Software) => crate::ctx::software_free() as c_int,
            Some(Named::Device(d)) => d.available_instances.min(i32::MAX as u32) as c_int,
            None => -WD_ENODEV,
        }
    })
}

/// 1 if `dev` is isolated (too many errors), 0 if not, `-WD_EINVAL` on error.
///
/// # Safety
/// `dev` is NULL or points to a readable `struct uacce_dev`.
pub unsafe extern "C" fn wd_is_isolate(dev: *mut UacceDev) -> c_int {
    guard("wd_is_isolate", -WD_EINVAL, || {
        // SAFETY: NULL is handled by identify; otherwise readable per the contract.
        match unsafe { identify(dev) } {
            Some(Named::Software) => 0,
            Some(Named::Device(d)) => d.isolated as c_int,
            None => -WD_EINVAL,
        }
    })
}

/// The device name of a device path (`/dev/hisi_zip-0` → `hisi_zip-0`), or with
/// `no_apdx == 1` its driver name (`hisi_zip`). `malloc`'d; free with `free()`.
///
/// # Safety
/// `dev_path` is NULL or a NUL-terminated string.
pub unsafe extern "C" fn wd_get_accel_name(dev_path: *mut c_char, no_apdx: c_int) -> *mut c_char {
    guard("wd_get_accel_name", std::ptr::null_mut(), || {
        let Some(path) = alg_arg(dev_path) else {
            return std::ptr::null_mut();
        };
        let base = path.rsplit('/').next().unwrap_or(&path).to_string();
        let base = if base == SOFT_DEV_PATH {
            SOFT_DEV_NAME.to_string()
        } else {
            base
        };
        if base.is_empty() {
            return std::ptr::null_mut();
        }
        let name = match (no_apdx, base.rsplit_once('-')) {
            (1, Some((drv, n))) if n.chars().all(|c| c.is_ascii_digit()) => drv.to_string(),
            _ => base,
        };
        cmem::strdup(&name)
    })
}

/// A `calloc`'d copy of `dev` (free with `free()`), or NULL.
///
/// # Safety
/// `dev` is NULL or points to a readable `struct uacce_dev`.
pub unsafe extern "C" fn wd_clone_dev(dev: *mut UacceDev) -> *mut UacceDev {
    guard("wd_clone_dev", std::ptr::null_mut(), || {
        if dev.is_null() {
            return std::ptr::null_mut();
        }
        let p: *mut UacceDev = cmem::calloc();
        if !p.is_null() {
            // SAFETY: `dev` is readable per the contract; `p` is a fresh allocation.
            unsafe { p.write(*dev) };
        }
        p
    })
}

/// Appends `node` at the end of the list `head`.
///
/// # Safety
/// Both are NULL or valid list nodes.
pub unsafe extern "C" fn wd_add_dev_to_list(head: *mut UacceDevList, node: *mut UacceDevList) {
    guard("wd_add_dev_to_list", (), || {
        if head.is_null() || node.is_null() {
            return;
        }
        let mut p = head;
        // SAFETY: valid list nodes per the contract; the walk stops at the last node.
        unsafe {
            while !(*p).next.is_null() {
                if p == node {
                    return;
                }
                p = (*p).next;
            }
            if p != node {
                (*p).next = node;
            }
        }
    })
}

const MASK_BITS: usize = 1024;

/// A libnuma node mask (`struct bitmask`, C-allocated, freeable by libnuma) with the nodes
/// of the list's devices; `WD_ERR_PTR(-WD_EINVAL)` for a NULL list.
///
/// # Safety
/// `list` is NULL or a valid list.
pub unsafe extern "C" fn wd_create_device_nodemask(list: *mut UacceDevList) -> *mut Bitmask {
    let err = (-(WD_EINVAL as isize)) as usize as *mut Bitmask;
    guard("wd_create_device_nodemask", err, || {
        if list.is_null() {
            return err;
        }
        let bmp: *mut Bitmask = cmem::calloc();
        let words = cmem::calloc_bytes(MASK_BITS / 8) as *mut libc::c_ulong;
        if bmp.is_null() || words.is_null() {
            // SAFETY: free(NULL) is a no-op; both came from calloc.
            unsafe {
                libc::free(bmp.cast());
                libc::free(words.cast());
            }
            return (-(WD_ENOMEM as isize)) as usize as *mut Bitmask;
        }
        let bits = 8 * std::mem::size_of::<libc::c_ulong>();
        // SAFETY: fresh allocations; the list is valid per the contract; node numbers are
        // bounded by MASK_BITS before indexing.
        unsafe {
            (*bmp).size = MASK_BITS as libc::c_ulong;
            (*bmp).maskp = words;
            let mut p = list;
            while !p.is_null() {
                let dev = (*p).dev;
                if !dev.is_null() {
                    let n = (*dev).numa_id.max(0) as usize;
                    if n < MASK_BITS {
                        *words.add(n / bits) |= 1 << (n % bits);
                    }
                }
                p = (*p).next;
            }
        }
        bmp
    })
}

/// Frees a mask from [`wd_create_device_nodemask`].
///
/// # Safety
/// `bmp` is NULL, an error pointer, or a mask from `wd_create_device_nodemask`.
pub unsafe extern "C" fn wd_free_device_nodemask(bmp: *mut Bitmask) {
    guard("wd_free_device_nodemask", (), || {
        if bmp.is_null() || (bmp as usize) > usize::MAX - 1000 {
            return;
        }
        // SAFETY: both parts were allocated with calloc.
        unsafe {
            libc::free((*bmp).maskp.cast());
            libc::free(bmp.cast());
        }
    })
}

/// Bandwidth usage of `dev` for an algorithm: 0 for the software accelerator (work runs
/// on the caller's thread), `-WD_EINVAL` for devices (not reported by uadk-rs).
///
/// # Safety
/// `dev` is NULL or points to a readable `struct uacce_dev`; `alg_name` NULL or a string.
pub unsafe extern "C" fn wd_get_dev_usage(
    dev: *mut UacceDev,
    alg_name: *const c_char,
    alg_op_type: u8,
) -> c_int {
    let _ = (alg_name, alg_op_type);
    guard("wd_get_dev_usage", -WD_EINVAL, || {
        // SAFETY: NULL is handled by identify; otherwise readable per the contract.
        match unsafe { identify(dev) } {
            Some(Named::Software) => 0,
            _ => -WD_EINVAL,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families() {
        assert_eq!(family("gzip"), Some("gzip"));
        assert_eq!(family("gcm(sm4)"), Some("aead"));
        assert_eq!(family("sha512"), Some("digest"));
        assert_eq!(family("rsa"), None);
        assert!(!software_offers("rsa"));
    }

    #[test]
    fn accel_name() {
        // SAFETY: the path is a NUL-terminated literal; wd_get_accel_name only reads it
        // (the `*mut` is the C signature's).
        let n = unsafe { wd_get_accel_name(c"/dev/hisi_zip-12".as_ptr() as *mut _, 1) };
        assert!(!n.is_null());
        // SAFETY: `n` is non-NULL (checked above), a NUL-terminated string from strdup.
        assert_eq!(unsafe { CStr::from_ptr(n) }.to_str().unwrap(), "hisi_zip");
        // SAFETY: `n` was malloc'd by wd_get_accel_name and is freed once, not used after.
        unsafe { libc::free(n.cast()) };
        // SAFETY: as above.
        let n = unsafe { wd_get_accel_name(c"/dev/hisi_zip-12".as_ptr() as *mut _, 0) };
        assert!(!n.is_null());
        // SAFETY: `n` is non-NULL (checked above), a NUL-terminated string from strdup.
        assert_eq!(unsafe { CStr::from_ptr(n) }.to_str().unwrap(), "hisi_zip-12");
        // SAFETY: `n` was malloc'd by wd_get_accel_name and is freed once, not used after.
        unsafe { libc::free(n.cast()) };
        // SAFETY: NULL is an allowed `dev_path` (the function returns NULL for it).
        assert!(unsafe { wd_get_accel_name(std::ptr::null_mut(), 0) }.is_null());
    }

    #[test]
    fn unknown_algorithm_lists_nothing() {
        // SAFETY: each name is NULL or a NUL-terminated literal, as the functions allow;
        // the results are NULL, so there is nothing to free.
        unsafe {
            assert!(wd_get_accel_list(c"no-such-alg".as_ptr()).is_null());
            assert!(wd_get_accel_list(std::ptr::null()).is_null());
            assert!(wd_get_accel_dev(c"lz4".as_ptr()).is_null());
        }
    }
}
