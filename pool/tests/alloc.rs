//! Allocation behaviour: exhaustion and refill, alignment, pointer lookup, many pools,
//! blocking allocation.

use std::time::Duration;
use uadk_pool::{PoolBuilder, PoolError};

#[test]
fn exhaust_then_refill() {
    let pool = PoolBuilder::new(4096).chunks(40).build().unwrap();
    let mut held: Vec<_> = std::iter::from_fn(|| pool.try_alloc()).collect();
    assert_eq!(held.len(), 40);
    assert!(pool.try_alloc().is_none());
    let s = pool.stats();
    assert_eq!((s.chunks_in_use, s.chunks_free), (40, 0));
    assert_eq!(
        s.failed_allocs, 2,
        "the None above and the one that ended from_fn"
    );
    assert_eq!(s.high_water, 40);
    // Every chunk is distinct.
    let mut idx: Vec<u32> = held.iter().map(|c| c.index()).collect();
    idx.sort_unstable();
    idx.dedup();
    assert_eq!(idx.len(), 40);
    for (i, c) in held.iter_mut().enumerate() {
        c.fill(i as u8);
    }
    for (i, c) in held.iter().enumerate() {
        assert!(c.iter().all(|b| *b == i as u8), "chunk {i} was overwritten");
    }
    held.clear();
    assert_eq!(pool.stats().chunks_in_use, 0);
    let again: Vec<_> = std::iter::from_fn(|| pool.try_alloc()).collect();
    assert_eq!(again.len(), 40);
}

#[test]
fn chunks_are_aligned() {
    for (size, align) in [(4096 + 100, 64), (4096 + 1, 4096), (64 << 10, 64), (5000, 512)] {
        let pool = PoolBuilder::new(size).chunks(8).align(align).build().unwrap();
        assert_eq!(pool.stride() % align, 0);
        assert!(pool.stride() >= size);
        let cs: Vec<_> = std::iter::from_fn(|| pool.try_alloc()).collect();
        for c in &cs {
            assert_eq!(c.as_ptr() as usize % align, 0, "size {size} align {align}");
            assert_eq!(c.len(), size);
        }
    }
}

#[test]
fn bad_configs_are_errors() {
    for b in [
        PoolBuilder::new(4095),
        PoolBuilder::new((64 << 20) + 1),
        PoolBuilder::new(4096).chunks(0),
        PoolBuilder::new(4096).align(48),
        PoolBuilder::new(4096).align(8192),
        PoolBuilder::new(64 << 20).chunks(u32::MAX - 1),
    ] {
        match b.build() {
            Err(PoolError::InvalidConfig(msg)) => assert!(!msg.is_empty()),
            other => panic!("expected InvalidConfig, got {other:?}"),
        }
    }
}

#[test]
fn pointer_lookup() {
    let pool = PoolBuilder::new(4096 + 64).chunks(4).build().unwrap();
    let other = PoolBuilder::new(4096).chunks(4).build().unwrap();
    let c = pool.try_alloc().unwrap();
    let p = c.as_ptr();
    let at = pool.locate(p, c.len()).unwrap();
    assert_eq!((at.index, at.offset), (c.index(), 0));
    let mid = p.wrapping_add(1000);
    assert_eq!(pool.locate(mid, 10).unwrap().offset, 1000);
    assert!(pool.locate(p, c.len() + 1).is_none(), "runs past the chunk");
    assert!(pool.locate(p.wrapping_add(c.len() - 1), 2).is_none());
    assert!(pool.locate(p, 0).is_none(), "empty range");
    assert!(pool.locate(p.wrapping_sub(1), 1).is_none() || c.index() > 0);
    assert!(pool.locate(std::ptr::null(), 1).is_none());
    assert!(pool.locate(usize::MAX as *const u8, 1).is_none());
    let region = pool.region();
    assert!(
        pool.locate((region.end) as *const u8, 1).is_none(),
        "past the region"
    );
    assert!(!other.contains(p, 1), "a chunk of one pool is not in another");
    let heap = Box::new([0u8; 64]);
    assert!(!pool.contains(heap.as_ptr(), 64));
}

#[test]
fn many_pools_in_one_thread() {
    // More pools than a thread caches for: the extra ones use the shared list directly.
    let pools: Vec<_> = (0..7)
        .map(|_| PoolBuilder::new(4096).chunks(16).build().unwrap())
        .collect();
    for _ in 0..3 {
        let held: Vec<Vec<_>> = pools
            .iter()
            .map(|p| std::iter::from_fn(|| p.try_alloc()).collect::<Vec<_>>())
            .collect();
        for h in &held {
            assert_eq!(h.len(), 16);
        }
    }
    for p in &pools {
        assert_eq!(p.stats().chunks_in_use, 0);
    }
    // A dropped pool's stale cache entry does not confuse a new one.
    drop(pools);
    let p = PoolBuilder::new(4096).chunks(3).build().unwrap();
    assert_eq!(std::iter::from_fn(|| p.try_alloc()).collect::<Vec<_>>().len(), 3);
}

#[test]
fn owned_chunks_outlive_the_pool_handle() {
    let pool = PoolBuilder::new(4096).chunks(2).build().unwrap();
    let mut c = pool.try_alloc_owned().unwrap();
    drop(pool);
    c.fill(9);
    let t = std::thread::spawn(move || c.iter().all(|b| *b == 9));
    assert!(t.join().unwrap());
}

#[test]
fn alloc_timeout_waits_for_a_free() {
    let pool = PoolBuilder::new(4096).chunks(16).build().unwrap();
    std::thread::scope(|s| {
        let held: Vec<_> = std::iter::from_fn(|| pool.try_alloc()).collect();
        assert_eq!(held.len(), 16);
        let waiter = s.spawn(|| pool.alloc_timeout(Duration::from_secs(10)).map(|c| c.index()));
        std::thread::sleep(Duration::from_millis(50));
        // Freed from this thread, whose cache would otherwise keep it: the waiter sees it.
        let first = held[0].index();
        drop(held);
        let got = waiter.join().unwrap().expect("the waiter got a chunk");
        assert!(got < 16, "{got} {first}");
    });
}

#[test]
fn alloc_timeout_times_out() {
    let pool = PoolBuilder::new(4096).chunks(1).build().unwrap();
    let _c = pool.try_alloc().unwrap();
    let e = pool.alloc_timeout(Duration::from_millis(20)).unwrap_err();
    assert!(matches!(e, PoolError::Timeout(_)));
    assert!(e.to_string().contains("exhausted"));
}

#[test]
fn release_thread_cache_makes_chunks_visible() {
    let pool = PoolBuilder::new(4096).chunks(64).thread_cache(8).build().unwrap();
    drop(std::iter::from_fn(|| pool.try_alloc()).collect::<Vec<_>>());
    assert!(pool.stats().chunks_cached > 0);
    pool.release_thread_cache();
    let s = pool.stats();
    assert_eq!((s.chunks_cached, s.chunks_free), (0, 64));
    // Another thread can now take every chunk.
    std::thread::scope(|sc| {
        sc.spawn(|| {
            assert_eq!(
                std::iter::from_fn(|| pool.try_alloc()).collect::<Vec<_>>().len(),
                64
            )
        });
    });
}

#[test]
fn pools_and_chunks_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<uadk_pool::Pool>();
    send::<uadk_pool::Chunk<'static>>();
    send::<uadk_pool::OwnedChunk>();
    let pool = std::sync::Arc::new(PoolBuilder::new(4096).chunks(4).build().unwrap());
    let p2 = pool.clone();
    let idx = std::thread::spawn(move || p2.try_alloc_owned().unwrap())
        .join()
        .unwrap();
    assert!(pool.contains(idx.as_ptr(), 1));
}
