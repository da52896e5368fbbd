//! SIGINT, SIGTERM and SIGHUP while files are being written.
//!
//! A background thread (signal-hook's iterator: the handler itself only writes to a pipe)
//! receives the signal, removes every uncommitted temporary output
//! ([`crate::tempout::remove_all`]) and then ends the process the way the signal would have:
//! default action re-raised, so the parent sees "killed by SIGINT" and a shell reports
//! 128 + n (gzip does the same); should re-raising fail, the exit status is 128 + n.

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// Installs the handlers (once per process; later calls do nothing).
///
/// # Errors
/// The handlers could not be registered.
pub fn install() -> std::io::Result<()> {
    static ONCE: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    if ONCE.get().is_some() {
        return Ok(());
    }
    let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    std::thread::Builder::new()
        .name("uadk-signals".into())
        .spawn(move || {
            if let Some(sig) = signals.forever().next() {
                crate::tempout::remove_all();
                let _ = signal_hook::low_level::emulate_default_handler(sig);
                std::process::exit(128 + sig);
            }
        })?;
    let _ = ONCE.set(());
    Ok(())
}
