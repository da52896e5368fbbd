//! Finding uacce devices and choosing one.
//!
//! - [`sysfs`]: scans `<sysfs>/class/uacce/*` and parses each device's attributes.
//! - [`select`](mod@select): picks a device for an algorithm by NUMA distance, then free queues.
//!
//! The sysfs root comes from `UADK_SYSFS_ROOT` (default `/sys`) and device nodes from
//! `UADK_DEV_ROOT` (default `/dev`), so an emulator tree can stand in for the kernel.

pub mod select;
pub mod sysfs;

pub use select::{select, select_for_node, NumaDistances};
pub use sysfs::{scan, Device, Discovery, Roots, Skipped};
