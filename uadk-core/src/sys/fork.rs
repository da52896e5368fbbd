//! Fork detection without a system call on the hot path.
//!
//! A `pthread_atfork` child handler bumps a process-global generation counter, so code that
//! recorded the generation when it opened a queue can tell, with one atomic load, that it now
//! runs in a forked child (whose copy of the queue mappings the kernel wiped).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

static GENERATION: AtomicU64 = AtomicU64::new(0);
static INSTALL: Once = Once::new();

extern "C" fn child_after_fork() {
    GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// Returns the current fork generation (installing the atfork handler on first use).
/// The value changes in a child process after `fork()`.
pub fn generation() -> u64 {
    INSTALL.call_once(|| {
        // SAFETY: registers a child handler that only performs an atomic increment, which is
        // async-signal-safe and valid in a freshly forked child.
        unsafe {
            libc::pthread_atfork(None, None, Some(child_after_fork));
        }
    });
    GENERATION.load(Ordering::Relaxed)
}
