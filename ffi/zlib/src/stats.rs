//! Process-wide counters: how many streams and calls ran on which path (device or software,
//! which engine) and why, and the bytes they moved.
//!
//! With `UADK_Z_STATS=<prefix>` they are written as JSON to `<prefix>.<pid>.json` (through a
//! temporary file and a rename, so a reader never sees half a file) at every `deflateEnd`,
//! `inflateEnd` and one-shot call — not at exit: Ceph's OSD leaves with `_exit`, nginx's
//! workers are killed. [`snapshot_json`] gives the same text to tests in the process.
//!
//! ```text
//! {"pid":4242,"library":"libuadk_z 0.1.0 (zlib 1.2.13 ABI)","backend":"Auto",
//!  "counters":{"deflate_streams":12,...},
//!  "routes":{"deflate software:isa-l (level 1-3: ISA-L streaming)":12,...}}
//! ```

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// A counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum C {
    /// deflate streams initialised.
    DeflateStreams,
    /// deflate streams (or parts of streams) served by a fast engine in software.
    DeflateFastSoftware,
    /// deflate streams served by a device.
    DeflateFastDevice,
    /// deflate streams served by zlib-rs from the start.
    DeflateZlibRs,
    /// fast deflate streams continued on zlib-rs after a call that needs it.
    DeflateSwitched,
    /// uncompressed bytes consumed by deflate.
    DeflateBytesIn,
    /// compressed bytes produced by deflate.
    DeflateBytesOut,
    /// inflate streams initialised.
    InflateStreams,
    /// inflate streams whose body ran on a fast engine (ISA-L).
    InflateFast,
    /// inflate streams served by zlib-rs.
    InflateZlibRs,
    /// compressed bytes consumed by inflate.
    InflateBytesIn,
    /// uncompressed bytes produced by inflate.
    InflateBytesOut,
    /// inflate calls that returned `Z_DATA_ERROR`.
    InflateDataErrors,
    /// compress/compress2 calls on a fast engine (device or software).
    OneShotCompressFast,
    /// compress/compress2 calls on zlib-rs (level 0, or the exact partial-output semantics).
    OneShotCompressZlibRs,
    /// uncompress/uncompress2 calls on a fast engine.
    OneShotUncompressFast,
    /// uncompress/uncompress2 calls on zlib-rs (bad input, short output, trailing data).
    OneShotUncompressZlibRs,
    /// one-shot calls that ran on a device.
    OneShotDevice,
    /// calls refused because a fast stream cannot do what they ask mid-stream.
    Unsupported,
    /// calls with an invalid or foreign stream (`Z_STREAM_ERROR`).
    BadStream,
    /// panics caught at the C boundary.
    Panics,
}

const NAMES: [&str; 21] = [
    "deflate_streams",
    "deflate_fast_software",
    "deflate_fast_device",
    "deflate_zlib_rs",
    "deflate_switched_to_zlib_rs",
    "deflate_bytes_in",
    "deflate_bytes_out",
    "inflate_streams",
    "inflate_fast",
    "inflate_zlib_rs",
    "inflate_bytes_in",
    "inflate_bytes_out",
    "inflate_data_errors",
    "oneshot_compress_fast",
    "oneshot_compress_zlib_rs",
    "oneshot_uncompress_fast",
    "oneshot_uncompress_zlib_rs",
    "oneshot_device",
    "unsupported_midstream",
    "bad_stream",
    "panics",
];

static COUNTERS: [AtomicU64; 21] = [const { AtomicU64::new(0) }; 21];
static ROUTES: Mutex<BTreeMap<String, u64>> = Mutex::new(BTreeMap::new());

/// Adds `n` to counter `c`.
pub fn add(c: C, n: u64) {
    COUNTERS[c as usize].fetch_add(n, Ordering::Relaxed);
}

/// Adds one to counter `c`.
pub fn bump(c: C) {
    add(c, 1);
}

/// Records that a stream or call took `route` (e.g. `deflate software:isa-l (why)`).
pub fn route(route: String) {
    *ROUTES.lock().entry(route).or_insert(0) += 1;
}

/// The counters and routes as one JSON object.
pub fn snapshot_json() -> String {
    let s = crate::config::settings();
    let mut out = format!(
        "{{\"pid\":{},\"library\":\"libuadk_z {} (zlib {} ABI)\",\"backend\":\"{:?}\"",
        std::process::id(),
        env!("CARGO_PKG_VERSION"),
        crate::abi::ZLIB_VERSION.to_str().unwrap_or("?"),
        s.backend
    );
    if let Some(w) = &s.warning {
        out.push_str(&format!(",\"warning\":{}", json_str(w)));
    }
    out.push_str(",\"counters\":{");
    for (i, name) in NAMES.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!("\"{name}\":{}", COUNTERS[i].load(Ordering::Relaxed)));
    }
    out.push_str("},\"routes\":{");
    for (i, (r, n)) in ROUTES.lock().iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!("{}:{n}", json_str(r)));
    }
    out.push_str("}}\n");
    out
}

fn json_str(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for ch in s.chars() {
        match ch {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// Writes the counters file when `UADK_Z_STATS` is set (errors are ignored: counters must
/// never fail a zlib call).
pub fn publish() {
    let Some(prefix) = &crate::config::settings().stats else {
        return;
    };
    let pid = std::process::id();
    let path = format!("{prefix}.{pid}.json");
    let tmp = format!("{prefix}.{pid}.json.tmp");
    if std::fs::write(&tmp, snapshot_json()).is_ok() {
        let _ = std::fs::rename(&tmp, &path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cover_every_counter() {
        assert_eq!(NAMES.len(), C::Panics as usize + 1);
    }

    #[test]
    fn snapshot_is_json_with_routes() {
        route("test software:none (a \"quoted\" reason)".into());
        let j = snapshot_json();
        assert!(j.starts_with("{\"pid\":"));
        assert!(j.contains("\\\"quoted\\\""));
        assert!(j.contains("\"deflate_streams\":"));
    }
}
