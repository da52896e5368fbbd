//! Zero copy vs bounce: inputs inside a chunk of the session's pool reach the device as
//! they are (asserted through the session's DMA counters), others are copied through a
//! staging chunk (`Bounce`, the default), sent as they are (`Direct`) or kept off the device
//! (`ZeroCopyOnly`), on QM v2 and v3.

use std::sync::Arc;
use uadk_pool::{Pool, PoolBuilder};
use uadk_zip::software::Library;
use uadk_zip::{Backend, Config, DmaPolicy, Flush, Format, Session};

mod common;
use common::{text, Env};

fn env(tag: &str, versions: &[u32]) -> Env {
    common::env("ddma", tag, versions)
}

fn session(format: Format, dma: DmaPolicy, pool: Option<Arc<Pool>>) -> Session {
    Session::new(Config {
        format,
        backend: Backend::Device,
        fallback: true,
        threads: 1,
        dma,
        pool,
        ..Config::default()
    })
    .unwrap()
}

fn policies(version: u32) {
    let _e = env(&format!("dma{version}"), &[version]);
    let pool = Arc::new(PoolBuilder::new(4 << 20).chunks(4).build().unwrap());
    let data = text(3 << 20, 9);
    let mut chunk = pool.try_alloc_owned().unwrap();
    chunk[..data.len()].copy_from_slice(&data);
    let in_pool: &[u8] = &chunk[..data.len()];
    for format in [Format::Zlib, Format::Gzip] {
        // Bounce (default) with a pool: the chunk is zero copy, a Vec is bounced.
        let s = session(format, DmaPolicy::default(), Some(pool.clone()));
        let (z, r) = s.compress_report(in_pool).unwrap();
        assert_eq!(r.engine.kind(), "device", "{}", r.reason);
        assert_eq!(Library::Zlib.decompress(format, &z, 1 << 26).unwrap(), data);
        let c = s.counters();
        assert_eq!(c.dma_zero_copy_bytes, data.len() as u64, "{c:?}");
        assert_eq!((c.dma_bounced_bytes, c.dma_direct_bytes), (0, 0), "{c:?}");
        // Streaming from the chunk in pieces: still zero copy (Sync sends straight away).
        let mut comp = s.compressor().unwrap();
        let mut z = Vec::new();
        for piece in in_pool.chunks(1 << 20) {
            comp.compress_vec(piece, &mut z, Flush::Sync).unwrap();
        }
        comp.compress_vec(&[], &mut z, Flush::Finish).unwrap();
        assert_eq!(Library::Zlib.decompress(format, &z, 1 << 26).unwrap(), data);
        let c2 = s.counters();
        assert_eq!(c2.dma_zero_copy_bytes, 2 * data.len() as u64, "{c2:?}");
        assert_eq!(c2.dma_bounced_bytes, 0);
        let heap = data.clone();
        let (z, _) = s.compress_report(&heap).unwrap();
        assert_eq!(Library::Zlib.decompress(format, &z, 1 << 26).unwrap(), data);
        let c3 = s.counters();
        assert_eq!(c3.dma_bounced_bytes, data.len() as u64, "{c3:?}");
        // Direct: a Vec goes as it is.
        let d = session(format, DmaPolicy::Direct, None);
        let (z, r) = d.compress_report(&heap).unwrap();
        assert_eq!(r.engine.kind(), "device");
        assert_eq!(Library::Zlib.decompress(format, &z, 1 << 26).unwrap(), data);
        let c = d.counters();
        assert_eq!(
            (c.dma_direct_bytes, c.dma_bounced_bytes, c.dma_zero_copy_bytes),
            (data.len() as u64, 0, 0)
        );
        // Zero-copy only: the chunk runs on the device, a Vec in software with the reason.
        let zc = session(format, DmaPolicy::ZeroCopyOnly, Some(pool.clone()));
        let (_, r) = zc.compress_report(in_pool).unwrap();
        assert_eq!(r.engine.kind(), "device", "{}", r.reason);
        let (z, r) = zc.compress_report(&heap).unwrap();
        assert_eq!(r.engine.kind(), "software");
        assert!(r.reason.contains("zero-copy-only"), "{}", r.reason);
        assert_eq!(Library::Zlib.decompress(format, &z, 1 << 26).unwrap(), data);
        // Decompression of pool-resident compressed data is zero copy too.
        let zs = s.compress(in_pool).unwrap();
        let mut zchunk = pool.try_alloc_owned().unwrap();
        zchunk[..zs.len()].copy_from_slice(&zs);
        let before = s.counters().dma_zero_copy_bytes;
        let (back, r) = s.decompress_report(&zchunk[..zs.len()]).unwrap();
        assert_eq!(r.engine.kind(), "device");
        assert!(back == data);
        assert!(s.counters().dma_zero_copy_bytes - before >= zs.len() as u64 - 18);
    }
}

#[test]
fn v2_zero_copy_bounce_direct() {
    policies(2);
}

#[test]
fn v3_zero_copy_bounce_direct() {
    policies(3);
}
