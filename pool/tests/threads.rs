//! Concurrency: many threads allocate, pass chunks to each other, and free them elsewhere.

use std::sync::mpsc;
use uadk_pool::PoolBuilder;

#[test]
fn cross_thread_free_under_32_threads() {
    const THREADS: usize = 32;
    const ROUNDS: usize = 4000;
    let pool = PoolBuilder::new(4096)
        .chunks(256)
        .thread_cache(8)
        .build()
        .unwrap();
    std::thread::scope(|s| {
        // Each producer sends its chunks to the next thread, which checks and frees them.
        let (txs, rxs): (Vec<_>, Vec<_>) = (0..THREADS).map(|_| mpsc::sync_channel(4)).unzip();
        for (t, rx) in rxs.into_iter().enumerate() {
            let tx = txs[(t + 1) % THREADS].clone();
            let pool = &pool;
            s.spawn(move || {
                let mut sent = 0;
                let mut received = 0;
                while sent < ROUNDS || received < ROUNDS {
                    if sent < ROUNDS {
                        if let Some(mut c) = pool.try_alloc() {
                            let stamp = (t * ROUNDS + sent) as u64;
                            c[..8].copy_from_slice(&stamp.to_le_bytes());
                            let last = c.len() - 8;
                            c[last..].copy_from_slice(&stamp.to_le_bytes());
                            if tx.try_send((stamp, c)).is_ok() {
                                sent += 1;
                            }
                        }
                    }
                    while let Ok((stamp, c)) = rx.try_recv() {
                        let head = u64::from_le_bytes(c[..8].try_into().unwrap());
                        let tail = u64::from_le_bytes(c[c.len() - 8..].try_into().unwrap());
                        assert_eq!((head, tail), (stamp, stamp), "chunk shared by two owners");
                        received += 1;
                        drop(c); // freed on a thread that did not allocate it
                    }
                    std::thread::yield_now();
                }
            });
        }
        drop(txs);
    });
    // Every thread exited, so every thread cache goes back. A scoped thread counts as joined
    // once its closure returns, slightly before its thread-local destructors (which return
    // the cache) have run, so allow a moment for the last ones.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while pool.stats().chunks_cached != 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let st = pool.stats();
    assert_eq!(st.chunks_in_use, 0, "{st:?}");
    assert_eq!(st.chunks_cached, 0, "{st:?}");
    assert_eq!(
        std::iter::from_fn(|| pool.try_alloc()).collect::<Vec<_>>().len(),
        256
    );
}

#[test]
fn stress_alloc_free_16_threads_no_duplicates() {
    let pool = PoolBuilder::new(4096).chunks(64).build().unwrap();
    let owners: Vec<std::sync::atomic::AtomicUsize> = (0..64).map(|_| Default::default()).collect();
    std::thread::scope(|s| {
        for t in 1..=16usize {
            let (pool, owners) = (&pool, &owners);
            s.spawn(move || {
                use std::sync::atomic::Ordering::SeqCst;
                let mut mine = Vec::new();
                for i in 0..20_000 {
                    if i % 5 < 3 {
                        if let Some(c) = pool.try_alloc() {
                            let prev = owners[c.index() as usize].swap(t, SeqCst);
                            assert_eq!(prev, 0, "chunk {} handed out twice", c.index());
                            mine.push(c);
                        }
                    } else if let Some(c) = mine.pop() {
                        owners[c.index() as usize].store(0, SeqCst);
                    }
                }
                for c in mine {
                    owners[c.index() as usize].store(0, SeqCst);
                }
            });
        }
    });
    assert_eq!(pool.stats().chunks_in_use, 0);
}
