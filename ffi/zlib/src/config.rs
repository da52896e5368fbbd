//! Settings from the environment, read once when the library is loaded (an ELF
//! constructor), so that programs which clear their environment later (nginx workers) keep
//! them.
//!
//! | variable | values | effect |
//! |---|---|---|
//! | `UADK_Z_BACKEND` | `auto` (default), `device`, `software` | `auto`: a ZIP device for deflate streams and for one-shot calls of at least `UADK_Z_DEVICE_MIN` bytes when one is present, else software. `device`: the device for every request it can take, whatever its size. `software`: never a device. |
//! | `UADK_Z_DEVICE_MIN` | bytes (default 16384) | smallest one-shot `compress2`/`uncompress` input sent to a device under `auto` |
//! | `UADK_Z_STATS` | a path prefix | counters written to `<prefix>.<pid>.json` at every `*End` and one-shot call (see [`crate::stats`]) |

use std::sync::OnceLock;
use uadk_zip::Backend;

/// The parsed settings.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Which engines may run requests.
    pub backend: Backend,
    /// Smallest one-shot input for the device under `auto`.
    pub device_min: usize,
    /// Where counters go, if anywhere.
    pub stats: Option<String>,
    /// A setting that could not be used, said once in the counters file.
    pub warning: Option<String>,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

fn from_env() -> Settings {
    let mut warning = None;
    let backend = match std::env::var("UADK_Z_BACKEND") {
        Ok(v) if !v.is_empty() => v.parse().unwrap_or_else(|e: uadk_zip::Error| {
            warning = Some(format!("UADK_Z_BACKEND={v:?} ignored ({e}); using auto"));
            Backend::Auto
        }),
        _ => Backend::Auto,
    };
    let device_min = match std::env::var("UADK_Z_DEVICE_MIN") {
        Ok(v) => v.parse().unwrap_or_else(|_| {
            warning = Some(format!(
                "UADK_Z_DEVICE_MIN={v:?} is not a byte count; using 16384"
            ));
            16384
        }),
        Err(_) => 16384,
    };
    let stats = std::env::var("UADK_Z_STATS").ok().filter(|s| !s.is_empty());
    Settings {
        backend,
        device_min,
        stats,
        warning,
    }
}

/// The settings (read at load time; on first use when the constructor did not run).
pub fn settings() -> &'static Settings {
    SETTINGS.get_or_init(from_env)
}

extern "C" fn read_at_load() {
    // A panic must not unwind out of an ELF constructor.
    let _ = std::panic::catch_unwind(settings);
}

/// Runs [`read_at_load`] when the shared object is loaded, before `main` and before any
/// program code can change the environment.
#[used]
#[link_section = ".init_array"]
static READ_AT_LOAD: extern "C" fn() = read_at_load;
