//! Process-wide state: the uadk-crypto context every operation runs through, the SEC
//! device attached to it, and the provider's counters with their optional dump file.
//!
//! The context is made on first use, never in `OSSL_provider_init` (which may run inside
//! OpenSSL's configuration loading, where touching libcrypto again could deadlock).
//!
//! Environment (read once, on first use):
//! - `UADK_PROVIDER_BACKEND` = `auto` (default) | `software` | `device`: uadk-crypto's
//!   backend. `auto` attaches a SEC device found through `UADK_SYSFS_ROOT`/`UADK_DEV_ROOT`
//!   (or the real `/sys`, `/dev`) and sends requests above its thresholds to it.
//! - `UADK_PROVIDER_STATS` = a path: the counters are written there as one JSON line, by
//!   every process separately (`%p` in the path becomes the pid; without it `.PID` is
//!   appended), at most once a second while requests run, at provider teardown and at
//!   process exit. nginx workers inherit the setting from the master through `fork`.
//!
//! Fork: uadk-crypto re-opens device queues in a forked child by itself; the counters
//! restart in the child (ours are reset, uadk-crypto's are reported from their value at
//! the fork), so each file describes its own process.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use uadk_crypto::{Backend, Crypto, DigestAlg, DigestSession, Stats};

/// The process's uadk-crypto context and what was found at start.
pub struct Runtime {
    /// The context every session is made from.
    pub crypto: Crypto,
    /// The attached device's name, or why there is none.
    pub device: Result<String, String>,
    stats_path: Option<String>,
    digests: [OnceLock<Option<DigestSession>>; 7],
}

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// The runtime, made on first use.
pub fn get() -> &'static Runtime {
    RUNTIME.get_or_init(|| {
        let backend = std::env::var("UADK_PROVIDER_BACKEND")
            .ok()
            .and_then(|v| Backend::from_str(&v).ok())
            .unwrap_or(Backend::Auto);
        let crypto = Crypto::new(backend);
        let device = if backend == Backend::Software {
            Err("software backend requested (UADK_PROVIDER_BACKEND)".to_string())
        } else {
            uadk_crypto::device::sec::attach_from_env(&crypto).map_err(|e| e.to_string())
        };
        let stats_path = std::env::var("UADK_PROVIDER_STATS")
            .ok()
            .filter(|p| !p.is_empty());
        install_hooks(stats_path.is_some());
        if stats_path.is_some() {
            STATS_ON.store(true, Relaxed);
        }
        Runtime {
            crypto,
            device,
            stats_path,
            digests: Default::default(),
        }
    })
}

/// The runtime if it was ever made (teardown and exit do not create one).
pub fn existing() -> Option<&'static Runtime> {
    RUNTIME.get()
}

impl Runtime {
    /// The shared digest session for `alg` (sessions are `Sync`; each context streams on
    /// its own engine from the session's pool).
    pub fn digest_session(&self, alg: DigestAlg) -> Option<&DigestSession> {
        let i = DigestAlg::all().position(|a| a == alg)?;
        self.digests[i]
            .get_or_init(|| DigestSession::new(&self.crypto, alg).ok())
            .as_ref()
    }

    /// The counters as one JSON line.
    pub fn stats_json(&self) -> String {
        let s = own_stats(self.crypto.stats());
        let c = &COUNTERS;
        let device = match &self.device {
            Ok(name) => format!("\"{}\"", json_escape(name)),
            Err(_) => "null".into(),
        };
        let why = match &self.device {
            Ok(_) => String::new(),
            Err(e) => format!(",\"no_device_because\":\"{}\"", json_escape(e)),
        };
        format!(
            concat!(
                "{{\"provider\":\"uadk_provider\",\"pid\":{},\"device\":{}{},",
                "\"device_requests\":{},\"device_bytes\":{},\"software_requests\":{},\"software_bytes\":{},",
                "\"no_device\":{},\"small_packets\":{},\"fallbacks\":{},\"device_errors\":{},",
                "\"gcm_oneshot\":{},\"gcm_stream\":{},\"tls12_records\":{},\"ccm\":{},",
                "\"cipher_requests\":{},\"digest_oneshot\":{},\"digest_stream\":{},\"delegated\":{}}}"
            ),
            std::process::id(),
            device,
            why,
            s.device_requests,
            s.device_bytes,
            s.software_requests,
            s.software_bytes,
            s.no_device,
            s.small_packets,
            s.fallbacks,
            s.device_errors,
            c.gcm_oneshot.total(),
            c.gcm_stream.total(),
            c.tls12_records.total(),
            c.ccm.total(),
            c.cipher_requests.total(),
            c.digest_oneshot.total(),
            c.digest_stream.total(),
            c.delegated.total(),
        )
    }
}

fn json_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| match c {
            '"' => vec!['\\', '"'],
            '\\' => vec!['\\', '\\'],
            c if (c as u32) < 0x20 => vec![' '],
            c => vec![c],
        })
        .collect()
}

pub use crate::counters::{count, counted, uncount, Counter, Counters, COUNTERS};

/// Whether a stats file is configured (so the hot path skips the check otherwise).
static STATS_ON: AtomicBool = AtomicBool::new(false);

/// Called by [`count`] every 1024 events of a counter in a thread: writes the stats file
/// (if configured) when a second has passed since the last write.
#[cold]
pub(crate) fn paced_write() {
    if STATS_ON.load(Relaxed) {
        if let Some(rt) = existing() {
            rt.maybe_write(false);
        }
    }
}

static LAST_WRITE: Mutex<Option<Instant>> = Mutex::new(None);

impl Runtime {
    /// Writes the stats file (if configured): always when `force`, else at most once a
    /// second.
    pub fn maybe_write(&self, force: bool) {
        let Some(path) = &self.stats_path else { return };
        {
            let Ok(mut last) = LAST_WRITE.try_lock() else {
                return;
            };
            let now = Instant::now();
            if !force && last.is_some_and(|t| now.duration_since(t) < Duration::from_secs(1)) {
                return;
            }
            *last = Some(now);
        }
        let pid = std::process::id();
        let file = if path.contains("%p") {
            PathBuf::from(path.replace("%p", &pid.to_string()))
        } else {
            PathBuf::from(format!("{path}.{pid}"))
        };
        let tmp = file.with_extension(format!("tmp{pid}"));
        // Best effort: a stats file that cannot be written must not fail a request.
        if std::fs::write(&tmp, self.stats_json() + "\n").is_ok() {
            let _ = std::fs::rename(&tmp, &file);
        }
    }
}

static HOOKS: AtomicBool = AtomicBool::new(false);

extern "C" fn write_at_exit() {
    crate::boundary::void_call(|| {
        if let Some(rt) = existing() {
            rt.maybe_write(true);
        }
    });
}

/// uadk-crypto's counters when this process was forked (they are inherited; ours count
/// from there): device_requests, device_bytes, software_requests, software_bytes,
/// no_device, small_packets, fallbacks, device_errors.
static BASELINE: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];

fn as_array(s: &Stats) -> [u64; 8] {
    [
        s.device_requests,
        s.device_bytes,
        s.software_requests,
        s.software_bytes,
        s.no_device,
        s.small_packets,
        s.fallbacks,
        s.device_errors,
    ]
}

/// This process's share of uadk-crypto's counters.
fn own_stats(s: Stats) -> Stats {
    let b: Vec<u64> = BASELINE.iter().map(|v| v.load(Relaxed)).collect();
    let a = as_array(&s);
    let d = |i: usize| a[i].saturating_sub(b[i]);
    Stats {
        device_requests: d(0),
        device_bytes: d(1),
        software_requests: d(2),
        software_bytes: d(3),
        no_device: d(4),
        small_packets: d(5),
        fallbacks: d(6),
        device_errors: d(7),
    }
}

extern "C" fn reset_in_child() {
    // Only atomic loads and stores: safe in a freshly forked child.
    if let Some(rt) = RUNTIME.get() {
        for (slot, v) in BASELINE.iter().zip(as_array(&rt.crypto.stats())) {
            slot.store(v, Relaxed);
        }
    }
    crate::counters::reset_in_child();
}

fn install_hooks(write_at_exit_too: bool) {
    if HOOKS.swap(true, Relaxed) {
        return;
    }
    // SAFETY: registers plain `extern "C"` functions with no arguments: `reset_in_child`
    // does atomic loads and stores only (async-signal-safe, fine in a forked child);
    // `write_at_exit` catches panics. The module is linked `-z nodelete`, so the functions
    // stay mapped until the process ends even if OpenSSL unloads the provider.
    unsafe {
        libc::pthread_atfork(None, None, Some(reset_in_child));
        if write_at_exit_too {
            libc::atexit(write_at_exit);
        }
    }
}
