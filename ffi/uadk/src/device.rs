//! Device listing: a snapshot of uacce discovery (`uadk-core`), under `UADK_SYSFS_ROOT` /
//! `UADK_DEV_ROOT` when set (an emulator tree), else `/sys` and `/dev`.

use crate::boundary::{call, copy_out_str, out_ptr, Failure, Outcome};
use crate::registry::{self, impl_handle};
use crate::status::*;
use std::ffi::c_char;
use std::sync::Arc;
use uadk_core::discovery::{scan, Discovery, Roots};

/// A snapshot of the uacce devices found by `uadk_devices_scan`. Immutable: safe to use
/// from any number of threads at once. Destroy with `uadk_device_list_destroy`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct uadk_device_list {
    /// Opaque id; 0 is no list.
    pub id: u64,
}
impl_handle!(uadk_device_list, DeviceList, Discovery);

/// The numeric facts of one device (`uadk_device_list_get`); its strings come from
/// `uadk_device_list_string`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct uadk_device_info {
    /// QM version parsed from `api` (2, 3, ...), 0 when unknown.
    pub qm_version: u32,
    /// The `flags` attribute (bit 0: SVA).
    pub flags: u32,
    /// Free queues (`available_instances`).
    pub available_instances: u32,
    /// NUMA node, -1 when unknown.
    pub numa_node: i32,
    /// Size of the MMIO region in bytes.
    pub mmio_size: u64,
    /// Size of the DUS region (queues) in bytes.
    pub dus_size: u64,
    /// Number of algorithms the device lists.
    pub algorithm_count: u32,
    /// True when the device is isolated (selection skips it).
    pub isolated: bool,
    /// True when the device uses shared virtual addressing.
    pub sva: bool,
}

/// A string field of a listed device, for `uadk_device_list_string`.
pub type uadk_device_field = i32;
/// The device name, e.g. `hisi_zip-0` (index into the devices).
pub const UADK_DEVICE_FIELD_NAME: uadk_device_field = 0;
/// The `api` attribute, e.g. `hisi_qm_v3` (index into the devices).
pub const UADK_DEVICE_FIELD_API: uadk_device_field = 1;
/// The device node path (index into the devices).
pub const UADK_DEVICE_FIELD_DEV_PATH: uadk_device_field = 2;
/// The algorithms, one per line (index into the devices).
pub const UADK_DEVICE_FIELD_ALGORITHMS: uadk_device_field = 3;
/// The name of a device that discovery skipped (index into the skipped devices).
pub const UADK_DEVICE_FIELD_SKIPPED_NAME: uadk_device_field = 4;
/// Why discovery skipped that device (index into the skipped devices).
pub const UADK_DEVICE_FIELD_SKIPPED_REASON: uadk_device_field = 5;

/// Scans for uacce devices now and returns the snapshot in `*out`. Never fails for lack
/// of devices: an empty list means none (the software paths then run everything).
///
/// Thread-safe. The caller owns the list and destroys it with `uadk_device_list_destroy`.
///
/// # Safety
/// `out` must be NULL (an error) or writable.
#[no_mangle]
pub unsafe extern "C" fn uadk_devices_scan(out: *mut uadk_device_list) -> uadk_status {
    call("uadk_devices_scan", || {
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(out, "out") }?;
        let found = scan(&Roots::from_env());
        out.write(registry::insert(Arc::new(found))?);
        Ok(())
    })
}

/// `*devices` receives the number of devices found, `*skipped` the number discovery skipped
/// (malformed or unreadable); either pointer may be NULL.
///
/// Thread-safe.
///
/// # Safety
/// `devices` and `skipped` must each be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn uadk_device_list_count(
    list: uadk_device_list,
    devices: *mut usize,
    skipped: *mut usize,
) -> uadk_status {
    call("uadk_device_list_count", || {
        let d = registry::get(list)?;
        // SAFETY: forwarded contracts.
        if let Some(p) = unsafe { crate::boundary::opt_out_ptr(devices, "devices") }? {
            p.write(d.devices.len());
        }
        // SAFETY: forwarded contract.
        if let Some(p) = unsafe { crate::boundary::opt_out_ptr(skipped, "skipped") }? {
            p.write(d.skipped.len());
        }
        Ok(())
    })
}

fn index_error(index: usize, n: usize, what: &str) -> Failure {
    Failure::invalid(format!(
        "index {index} is past the {n} {what}; use uadk_device_list_count"
    ))
}

/// Fills `*info` with device `index` (0-based, below the count of devices).
///
/// Thread-safe.
///
/// # Safety
/// `info` must be NULL (an error) or writable.
#[no_mangle]
pub unsafe extern "C" fn uadk_device_list_get(
    list: uadk_device_list,
    index: usize,
    info: *mut uadk_device_info,
) -> uadk_status {
    call("uadk_device_list_get", || {
        // SAFETY: forwarded contract.
        let info = unsafe { out_ptr(info, "info") }?;
        let d = registry::get(list)?;
        let dev = d
            .devices
            .get(index)
            .ok_or_else(|| index_error(index, d.devices.len(), "devices"))?;
        info.write(uadk_device_info {
            qm_version: dev.qm_version.unwrap_or(0),
            flags: dev.flags,
            available_instances: dev.available_instances,
            numa_node: dev.node.and_then(|n| i32::try_from(n).ok()).unwrap_or(-1),
            mmio_size: dev.mmio_size as u64,
            dus_size: dev.dus_size as u64,
            algorithm_count: u32::try_from(dev.algorithms.len()).unwrap_or(u32::MAX),
            isolated: dev.isolated,
            sva: dev.sva(),
        });
        Ok(())
    })
}

fn field_text(d: &Discovery, index: usize, field: uadk_device_field) -> Outcome<String> {
    let dev = |i: usize| {
        d.devices
            .get(i)
            .ok_or_else(|| index_error(i, d.devices.len(), "devices"))
    };
    let skipped = |i: usize| {
        d.skipped
            .get(i)
            .ok_or_else(|| index_error(i, d.skipped.len(), "skipped devices"))
    };
    Ok(match field {
        UADK_DEVICE_FIELD_NAME => dev(index)?.name.clone(),
        UADK_DEVICE_FIELD_API => dev(index)?.api.clone(),
        UADK_DEVICE_FIELD_DEV_PATH => dev(index)?.dev_path.display().to_string(),
        UADK_DEVICE_FIELD_ALGORITHMS => dev(index)?.algorithms.join("\n"),
        UADK_DEVICE_FIELD_SKIPPED_NAME => skipped(index)?.name.clone(),
        UADK_DEVICE_FIELD_SKIPPED_REASON => skipped(index)?.reason.clone(),
        other => {
            return Err(Failure::invalid(format!(
                "unknown device field {other}; use one of the UADK_DEVICE_FIELD_* values"
            )))
        }
    })
}

/// Copies string `field` (a `UADK_DEVICE_FIELD_*`) of device `index` (or of skipped device
/// `index` for the `SKIPPED_*` fields) into `buf` (`cap` bytes, NUL-terminated, cut to fit;
/// `UADK_E_OUTPUT_TOO_SMALL` when cut). `*len`, if not NULL, receives the full length
/// without the NUL; `buf` may be NULL when `cap` is 0.
///
/// Thread-safe.
///
/// # Safety
/// `buf` must be writable for `cap` bytes; `len` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn uadk_device_list_string(
    list: uadk_device_list,
    index: usize,
    field: uadk_device_field,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> uadk_status {
    call("uadk_device_list_string", || {
        let d = registry::get(list)?;
        let s = field_text(&d, index, field)?;
        // SAFETY: forwarded contract.
        unsafe { copy_out_str(&s, buf, cap, len) }
    })
}

/// Destroys the list. A zero handle is a no-op; a destroyed one is
/// `UADK_E_INVALID_HANDLE`.
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn uadk_device_list_destroy(list: uadk_device_list) -> uadk_status {
    call("uadk_device_list_destroy", || registry::destroy(list))
}
