//! A number that names the calling thread among the live threads, read without a call.
//!
//! Why not a `thread_local!`: in a shared library it uses the general-dynamic TLS model,
//! so every access calls `__tls_get_addr` through the PLT (stable Rust cannot pick another
//! model; `#[thread_local]` and `-Z tls-model` are unstable). Measured on a
//! `wd_block_alloc`+`wd_block_free` pair (Intel Xeon, one cache design, one bench binary):
//! 8.5 ns through `__tls_get_addr`; 6.4 ns through a TLS descriptor (an indirect call);
//! 3.4 ns with the
//! initial-exec model (inline assembly), which however marks the library `DF_STATIC_TLS`,
//! so that *all* of its thread-locals (about 1.4 KiB, most of them std's and uadk-pool's)
//! must fit glibc's static-TLS reserve when the library is loaded by `dlopen`, as a Ceph
//! compressor plugin loads it: that fails with
//! `GLIBC_TUNABLES=glibc.rtld.optional_static_tls=0` and leaves little for other plugins;
//! 4.5 ns with this key and a table (see `mempool/cache.rs`; 4.1 ns after later trimming
//! of the cache).
//!
//! So the key is the thread pointer itself: on x86-64 `%fs:0`, which the ABI requires to
//! hold the thread control block's own address (one load, no relocation, no TLS segment).
//! Elsewhere it is the address of a byte in a `thread_local!` (a TLS-descriptor call on
//! aarch64). Either way two live threads never share a key, and a key may come back for
//! a thread created after its previous owner exited (see `tests` below).

/// The calling thread's key (never 0).
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
#[inline(always)]
pub(crate) fn current() -> usize {
    let tp: usize;
    // SAFETY: reads the first word of this thread's control block (%fs base), which the
    // x86-64 TLS ABI defines as the thread pointer itself and which exists for the
    // thread's whole life. Reads nothing else, no stack, flags untouched.
    unsafe {
        std::arch::asm!(
            "mov {tp}, qword ptr fs:[0]",
            tp = out(reg) tp,
            options(nostack, preserves_flags, pure, readonly),
        )
    };
    tp
}

/// The calling thread's key (never 0).
#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
#[inline(always)]
pub(crate) fn current() -> usize {
    portable()
}

/// The address of a byte in this thread's TLS block: the key where there is no
/// thread-pointer read (used on every target other than x86-64 Linux).
#[cfg_attr(all(target_arch = "x86_64", target_os = "linux"), allow(dead_code))]
#[inline]
pub(crate) fn portable() -> usize {
    thread_local! {
        // No destructor: reachable for the thread's whole life, exit handlers included.
        static BYTE: u8 = const { 0 };
    }
    BYTE.with(|b| b as *const u8 as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_live_threads() {
        for key in [current, portable] {
            let here = key();
            assert_ne!(here, 0);
            assert_eq!(here, key());
            // Alive together: each holds until all have read theirs.
            let all_read = std::sync::Barrier::new(4);
            let others: Vec<usize> = std::thread::scope(|s| {
                let hs: Vec<_> = (0..4)
                    .map(|_| {
                        let all_read = &all_read;
                        s.spawn(move || {
                            let k = key();
                            all_read.wait();
                            k
                        })
                    })
                    .collect();
                hs.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let mut all = others.clone();
            all.push(here);
            all.sort_unstable();
            all.dedup();
            assert_eq!(all.len(), 5, "{others:x?} {here:x}");
        }
    }
}
