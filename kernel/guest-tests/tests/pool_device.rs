//! The pool's chunks against the software uacce device with `soft_qm.pinned_only=1`: the
//! device itself checks that every buffer page is long-term pinned (folio_maybe_dma_pinned),
//! so chunks of a pool pinned through mempinfd go through, and ordinary heap buffers — or a
//! request mixing a chunk with a heap buffer — are refused with the address-fault status.

use uadk_kernel_guest::*;
use uadk_pool::{PageKind, PinLevel, PoolBuilder};

#[test]
fn pool_chunks_pass_pinned_only_and_heap_buffers_are_refused() {
    if !in_guest() {
        return;
    }
    let dev = zip_device();
    let comp = open_queue(&dev, 0);
    let decomp = open_queue(&dev, 1);
    let len = 100_000;
    let data = text(len, 5);
    for kind in [PageKind::Normal, PageKind::Huge2M] {
        let pool = PoolBuilder::new(256 << 10)
            .chunks(4)
            .pages(kind)
            .require_pin(PinLevel::LongTermPinned)
            .build()
            .unwrap_or_else(|e| panic!("{kind}: a long-term pinned pool: {e}"));
        assert_eq!(
            pool.pin_level(),
            PinLevel::LongTermPinned,
            "{}",
            pool.info().pinning
        );
        let mut src = pool.try_alloc().unwrap();
        let mut dst = pool.try_alloc().unwrap();
        let mut back = pool.try_alloc().unwrap();
        src[..len].copy_from_slice(&data);
        let _p = PinnedOnly::set();

        // Pool → pool: accepted, and the result is right.
        // SAFETY: the chunks live until the end of the loop body, past each synchronous run.
        let done = unsafe { run(&comp, &zlib_sqe(src.as_ptr(), len, dst.as_mut_ptr(), dst.len())) };
        assert_eq!(status(&done), ST_OK, "{kind}: pinned chunks refused");
        let n = done.u32(OFF_PRODUCED) as usize;
        assert!(n > 4 && n < len / 2, "{kind}: {n} bytes");
        assert_eq!(dst[n - 4..n], adler32(&data).to_be_bytes(), "{kind}");
        // SAFETY: as above.
        let done = unsafe { run(&decomp, &zlib_sqe(dst.as_ptr(), n, back.as_mut_ptr(), back.len())) };
        assert_eq!(status(&done), ST_DECOMP_END, "{kind}");
        assert_eq!(done.u32(OFF_PRODUCED) as usize, len);
        assert_eq!(
            &back[..len],
            &data[..],
            "{kind}: round trip through pinned chunks"
        );

        // Heap → heap, pool → heap, heap → pool: refused, nothing consumed or produced.
        let heap_src = data.clone();
        let mut heap_dst = vec![0u8; 256 << 10];
        let cases = [
            ("heap to heap", heap_src.as_ptr(), heap_dst.as_mut_ptr()),
            ("pool to heap", src.as_ptr(), heap_dst.as_mut_ptr()),
            ("heap to pool", heap_src.as_ptr(), dst.as_mut_ptr()),
        ];
        for (what, s, d) in cases {
            // SAFETY: all buffers named live until the end of the loop body.
            let done = unsafe { run(&comp, &zlib_sqe(s, len, d, 256 << 10)) };
            assert_eq!(status(&done), ST_ADDR_FAULT, "{kind}: {what}");
            assert_eq!(done.u32(OFF_PRODUCED), 0, "{kind}: {what}");
            assert_eq!(done.u32(OFF_CONSUMED), 0, "{kind}: {what}");
        }
        assert!(
            heap_dst.iter().all(|&b| b == 0),
            "{kind}: a refused request wrote output"
        );
    }
}

#[test]
fn without_pinned_only_heap_buffers_work() {
    if !in_guest() {
        return;
    }
    let dev = zip_device();
    let comp = open_queue(&dev, 0);
    let data = text(50_000, 9);
    let mut out = vec![0u8; 64 << 10];
    // SAFETY: `data` and `out` outlive the synchronous call.
    let done = unsafe {
        run(
            &comp,
            &zlib_sqe(data.as_ptr(), data.len(), out.as_mut_ptr(), out.len()),
        )
    };
    assert_eq!(status(&done), ST_OK);
    let n = done.u32(OFF_PRODUCED) as usize;
    assert_eq!(out[n - 4..n], adler32(&data).to_be_bytes());
}
