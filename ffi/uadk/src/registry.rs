//! Handles: generation-tagged ids in one process-wide registry.
//!
//! A handle is `{ uint64_t id }`: `kind (8 bits) | slot index (24 bits) | generation
//! (32 bits)`. The registry holds the object behind each live id; every call looks the id
//! up, checks the kind and the slot's generation, and clones an `Arc` of the object, so
//!
//! - a destroyed (stale) or double-destroyed handle is `UADK_E_INVALID_HANDLE`, never a
//!   use-after-free: destroying bumps the slot's generation, and an object that another
//!   thread is still using lives until that call returns;
//! - a handle of another type, the zero handle and a forged id are `UADK_E_INVALID_HANDLE`
//!   (a forged id is detected unless it happens to equal a live id exactly: 2^-32 odds for
//!   a random guess at a reused slot);
//! - a slot is reused only after every other free slot (first in, first out), and its
//!   generation wraps only after 2^32 reuses, so a stale id stays invalid for that long.
//!
//! Fork: the registry is copied into a child like all memory. `pthread_atfork` handlers hold
//! the registry lock across `fork()` so the child never inherits it locked. Objects that own
//! threads or pinned memory (pools, zip batches) are *process-bound*: in a child their
//! handles fail with `UADK_E_FORKED`, and destroying them in the child forgets the object
//! (its threads do not exist there, and the parent's pin must not be released by the child).

use crate::boundary::{Failure, Outcome};
use crate::status::{UADK_E_BAD_STATE, UADK_E_BUSY, UADK_E_FORKED, UADK_E_INVALID_HANDLE};
use parking_lot::RwLock;
use std::any::Any;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard, Once, TryLockError};

/// The handle types, with their tag in the id's top byte (never 0, so id 0 is no handle).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Kind {
    Pool = 1,
    ZipSession = 2,
    ZipCompressor = 3,
    ZipDecompressor = 4,
    ZipBatch = 5,
    Crypto = 6,
    CipherSession = 7,
    CipherStream = 8,
    DigestSession = 9,
    DigestStream = 10,
    AeadSession = 11,
    DeviceList = 12,
}

/// Number of kinds + 1 (index 0 unused), for the live counts.
pub(crate) const KINDS: usize = 13;

impl Kind {
    pub(crate) fn c_name(self) -> &'static str {
        match self {
            Kind::Pool => "uadk_pool",
            Kind::ZipSession => "uadk_zip_session",
            Kind::ZipCompressor => "uadk_zip_compressor",
            Kind::ZipDecompressor => "uadk_zip_decompressor",
            Kind::ZipBatch => "uadk_zip_batch",
            Kind::Crypto => "uadk_crypto",
            Kind::CipherSession => "uadk_cipher_session",
            Kind::CipherStream => "uadk_cipher_stream",
            Kind::DigestSession => "uadk_digest_session",
            Kind::DigestStream => "uadk_digest_stream",
            Kind::AeadSession => "uadk_aead_session",
            Kind::DeviceList => "uadk_device_list",
        }
    }
}

/// A C handle type and the Rust object behind it.
pub(crate) trait Handle: Copy {
    /// Its tag.
    const KIND: Kind;
    /// Owns threads or pinned memory that a forked child does not have.
    const PROCESS_BOUND: bool = false;
    /// The object the registry holds.
    type Object: Any + Send + Sync;
    fn id(self) -> u64;
    fn from_id(id: u64) -> Self;
}

/// Implements [`Handle`] for a `#[repr(C)] struct { id: u64 }` written out in the API
/// module (cbindgen does not expand macros, so the structs themselves are not generated).
macro_rules! impl_handle {
    ($t:ty, $kind:ident, $obj:ty $(, $bound:ident)?) => {
        impl $crate::registry::Handle for $t {
            const KIND: $crate::registry::Kind = $crate::registry::Kind::$kind;
            const PROCESS_BOUND: bool = $crate::registry::impl_handle!(@bound $($bound)?);
            type Object = $obj;
            fn id(self) -> u64 {
                self.id
            }
            fn from_id(id: u64) -> Self {
                Self { id }
            }
        }
    };
    (@bound) => {
        false
    };
    (@bound process_bound) => {
        true
    };
}
pub(crate) use impl_handle;

struct Entry {
    kind: Kind,
    object: Arc<dyn Any + Send + Sync>,
    /// The fork generation the object was made in (process-bound kinds only).
    fork_gen: Option<u64>,
}

struct Slot {
    generation: u32,
    entry: Option<Entry>,
}

struct Slab {
    slots: Vec<Slot>,
    free: VecDeque<u32>,
    live: [u64; KINDS],
}

const INDEX_BITS: u32 = 24;
const MAX_SLOTS: usize = 1 << INDEX_BITS;

static REGISTRY: RwLock<Slab> = RwLock::new(Slab {
    slots: Vec::new(),
    free: VecDeque::new(),
    live: [0; KINDS],
});
static CREATED: AtomicU64 = AtomicU64::new(0);
static ATFORK: Once = Once::new();

unsafe extern "C" fn before_fork() {
    // Held across fork(): neither process can inherit it half-updated.
    std::mem::forget(REGISTRY.write());
}

unsafe extern "C" fn after_fork() {
    // SAFETY: `before_fork` took the write lock in this thread and leaked its guard; in the
    // parent and in the child (whose only thread is this one's copy) exactly one release
    // matches it.
    unsafe { REGISTRY.force_unlock_write() };
}

fn install_atfork() {
    ATFORK.call_once(|| {
        // Also installs uadk-core's generation counter handler, used for process-bound objects.
        let _ = uadk_core::sys::fork::generation();
        // SAFETY: registers handlers that only lock/unlock a lock this module owns; they run
        // in the forking thread (prepare, parent) and in the child's only thread.
        let rc = unsafe { libc::pthread_atfork(Some(before_fork), Some(after_fork), Some(after_fork)) };
        if rc != 0 {
            eprintln!(
                "libuadk: pthread_atfork failed ({rc}); fork() while another thread creates or destroys handles may deadlock the child"
            );
        }
    });
}

fn fork_generation() -> u64 {
    uadk_core::sys::fork::generation()
}

fn split(id: u64) -> (u8, usize, u32) {
    (
        (id >> 56) as u8,
        ((id >> 32) as usize) & (MAX_SLOTS - 1),
        id as u32,
    )
}

fn bad_handle<H: Handle>(h: H, why: &str) -> Failure {
    Failure::new(
        UADK_E_INVALID_HANDLE,
        format!(
            "{} {:#x} {why}; use a handle returned by its create function and not yet destroyed",
            H::KIND.c_name(),
            h.id()
        ),
    )
}

fn forked<H: Handle>() -> Failure {
    Failure::new(
        UADK_E_FORKED,
        format!(
            "this {} was created in the parent process before fork(); its threads and pinned memory stay with the parent: create a new one in this process",
            H::KIND.c_name()
        ),
    )
}

/// Registers `object` and returns its new handle.
pub(crate) fn insert<H: Handle>(object: Arc<H::Object>) -> Outcome<H> {
    install_atfork();
    let entry = Entry {
        kind: H::KIND,
        object,
        fork_gen: H::PROCESS_BOUND.then(fork_generation),
    };
    let mut reg = REGISTRY.write();
    let index = match reg.free.pop_front() {
        Some(i) => i as usize,
        None if reg.slots.len() < MAX_SLOTS => {
            reg.slots.push(Slot {
                generation: 1,
                entry: None,
            });
            reg.slots.len() - 1
        }
        None => {
            return Err(Failure::new(
                crate::status::UADK_E_INVALID_ARGUMENT,
                format!("too many live handles ({MAX_SLOTS}); destroy handles that are no longer used"),
            ))
        }
    };
    let slot = &mut reg.slots[index];
    slot.entry = Some(entry);
    let generation = slot.generation;
    reg.live[H::KIND as usize] += 1;
    drop(reg);
    CREATED.fetch_add(1, Relaxed);
    Ok(H::from_id(
        (H::KIND as u64) << 56 | (index as u64) << 32 | generation as u64,
    ))
}

/// The object behind `h`.
pub(crate) fn get<H: Handle>(h: H) -> Outcome<Arc<H::Object>> {
    let (kind, index, generation) = split(h.id());
    if h.id() == 0 {
        return Err(bad_handle(h, "is the zero handle"));
    }
    if kind != H::KIND as u8 {
        return Err(bad_handle(h, "is not a handle of this type"));
    }
    let reg = REGISTRY.read();
    let entry = reg
        .slots
        .get(index)
        .filter(|s| s.generation == generation)
        .and_then(|s| s.entry.as_ref())
        .filter(|e| e.kind == H::KIND)
        .ok_or_else(|| bad_handle(h, "was destroyed or never issued"))?;
    if entry.fork_gen.is_some_and(|g| g != fork_generation()) {
        return Err(forked::<H>());
    }
    let object = entry.object.clone();
    drop(reg);
    object
        .downcast::<H::Object>()
        .map_err(|_| bad_handle(h, "has an object of another type"))
}

/// Removes `h` from the registry and drops its object (outside the lock; a call still using
/// it on another thread keeps it alive until that call returns). The zero handle is a
/// no-op. In a forked child a process-bound object is forgotten instead of dropped.
pub(crate) fn destroy<H: Handle>(h: H) -> Outcome {
    if h.id() == 0 {
        return Ok(());
    }
    let (kind, index, generation) = split(h.id());
    if kind != H::KIND as u8 {
        return Err(bad_handle(h, "is not a handle of this type"));
    }
    let mut reg = REGISTRY.write();
    let slot = reg
        .slots
        .get_mut(index)
        .filter(|s| s.generation == generation && s.entry.as_ref().is_some_and(|e| e.kind == H::KIND))
        .ok_or_else(|| bad_handle(h, "was already destroyed or never issued"))?;
    let entry = slot.entry.take().expect("checked above");
    slot.generation = slot.generation.wrapping_add(1).max(1);
    reg.free.push_back(index as u32);
    reg.live[H::KIND as usize] -= 1;
    drop(reg);
    if entry.fork_gen.is_some_and(|g| g != fork_generation()) {
        // The parent's threads and pins are not ours to stop or release.
        std::mem::forget(entry.object);
    } else {
        drop(entry.object);
    }
    Ok(())
}

/// Exclusive use of a one-thread-at-a-time object: `UADK_E_BUSY` when another thread is
/// using it, `UADK_E_BAD_STATE` when an earlier call panicked while using it (poisoned).
pub(crate) fn exclusive<H: Handle, T>(m: &Mutex<T>) -> Outcome<MutexGuard<'_, T>> {
    match m.try_lock() {
        Ok(g) => Ok(g),
        Err(TryLockError::WouldBlock) => Err(Failure::new(
            UADK_E_BUSY,
            format!(
                "this {} is being used by another thread; use it from one thread at a time",
                H::KIND.c_name()
            ),
        )),
        Err(TryLockError::Poisoned(_)) => Err(Failure::new(
            UADK_E_BAD_STATE,
            format!(
                "this {} is unusable after an internal error in an earlier call; destroy it",
                H::KIND.c_name()
            ),
        )),
    }
}

/// Live handles of every kind, and handles created since the process started.
pub(crate) fn counts() -> (u64, u64) {
    let reg = REGISTRY.read();
    (reg.live.iter().sum(), CREATED.load(Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy)]
    struct TestHandle {
        id: u64,
    }
    impl_handle!(TestHandle, DeviceList, String);

    #[derive(Clone, Copy)]
    struct OtherHandle {
        id: u64,
    }
    impl_handle!(OtherHandle, Pool, String);

    #[test]
    fn stale_double_destroyed_forged_and_wrong_type_handles_are_errors() {
        let h: TestHandle = insert(Arc::new("x".to_string())).unwrap();
        assert_eq!(*get(h).unwrap(), "x");
        assert_eq!(
            get(OtherHandle { id: h.id }).unwrap_err().code,
            UADK_E_INVALID_HANDLE
        );
        assert_eq!(
            get(TestHandle { id: h.id ^ 1 }).unwrap_err().code,
            UADK_E_INVALID_HANDLE
        );
        destroy(h).unwrap();
        assert_eq!(get(h).unwrap_err().code, UADK_E_INVALID_HANDLE);
        assert_eq!(destroy(h).unwrap_err().code, UADK_E_INVALID_HANDLE);
        assert!(destroy(TestHandle { id: 0 }).is_ok());
        assert_eq!(get(TestHandle { id: 0 }).unwrap_err().code, UADK_E_INVALID_HANDLE);
        // The slot is reused with a new generation: the old id stays invalid.
        let again: TestHandle = insert(Arc::new("y".to_string())).unwrap();
        assert_ne!(again.id, h.id);
        assert_eq!(get(h).unwrap_err().code, UADK_E_INVALID_HANDLE);
        destroy(again).unwrap();
    }

    #[test]
    fn concurrent_use_is_busy_and_a_panic_poisons() {
        let m = Arc::new(Mutex::new(0u32));
        let held = m.lock().unwrap();
        let other = {
            let m = m.clone();
            std::thread::spawn(move || exclusive::<TestHandle, _>(&m).map(|_| ()).unwrap_err().code)
        };
        assert_eq!(other.join().unwrap(), UADK_E_BUSY);
        drop(held);
        assert!(exclusive::<TestHandle, _>(&m).is_ok());
        let m2 = m.clone();
        let _ = std::thread::spawn(move || {
            let _g = m2.lock().unwrap();
            panic!("poison it");
        })
        .join();
        assert_eq!(
            exclusive::<TestHandle, _>(&m).map(|_| ()).unwrap_err().code,
            UADK_E_BAD_STATE
        );
    }

    #[test]
    fn an_object_in_use_outlives_its_destroy() {
        let h: TestHandle = insert(Arc::new("kept".to_string())).unwrap();
        let held = get(h).unwrap();
        destroy(h).unwrap();
        assert_eq!(*held, "kept");
    }
}
