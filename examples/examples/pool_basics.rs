//! Create a buffer pool, see what it got, and use its chunks from several threads.
//!
//! `cargo run -p uadk-examples --example pool_basics`

use std::time::Duration;
use uadk_pool::{PageKind, PoolBuilder};

fn main() -> Result<(), uadk_pool::PoolError> {
    // 32 chunks of 64 KiB on the best pages the machine offers. `PageKind::Huge2M` without
    // `.fallback(true)` would fail with a message telling how to reserve hugepages.
    let pool = PoolBuilder::new(64 << 10)
        .chunks(32)
        .pages(PageKind::Auto)
        .build()?;

    let info = pool.info();
    println!("backing:  {} ({} byte pages)", info.backing, info.page_size);
    println!("pinning:  {}", info.pinning);
    for a in &info.pin_attempts {
        match &a.failure {
            None => println!("  {:<10} held", a.strategy),
            Some(why) => println!("  {:<10} not used: {why}", a.strategy),
        }
    }

    // Chunks deref to [u8] and go back to the pool when dropped, on any thread.
    std::thread::scope(|s| {
        for t in 0..4u8 {
            let pool = &pool;
            s.spawn(move || {
                for _ in 0..1000 {
                    let mut c = pool.alloc_timeout(Duration::from_secs(1)).expect("chunk");
                    c[0] = t;
                    assert!(pool.contains(c.as_ptr(), c.len()));
                }
            });
        }
    });

    println!("stats:    {:?}", pool.stats());
    Ok(())
}
