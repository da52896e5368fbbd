//! Every system call the pool makes, each behind a small safe function.
//!
//! This is the only place in the crate with `unsafe` code apart from the chunk handle's
//! slice construction. Each call is positively identified: numbers come from `libc`'s
//! constants for mainline syscalls, and the one non-mainline call, `mempinfd`, only ever
//! runs with a number the user or the kernel stated (see [`crate::probe`]).

pub(crate) mod limits;
pub(crate) mod mmap;
pub(crate) mod numa;
pub(crate) mod pin;
