//! Which NUMA node the calling thread runs on.

/// The NUMA node of the CPU the calling thread is running on, if the kernel reports it.
pub fn current_node() -> Option<u32> {
    let mut cpu: libc::c_uint = 0;
    let mut node: libc::c_uint = 0;
    // SAFETY: getcpu writes two unsigned ints into the provided locals; the cache argument
    // is unused by modern kernels and may be null.
    let r = unsafe {
        libc::syscall(
            libc::SYS_getcpu,
            &mut cpu as *mut libc::c_uint,
            &mut node as *mut libc::c_uint,
            std::ptr::null_mut::<libc::c_void>(),
        )
    };
    if r == 0 {
        Some(node)
    } else {
        None
    }
}
