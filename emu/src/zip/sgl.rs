//! Hardware SGLs (dw9 buffer type 1, reference §3.7) as the device walks them.
//!
//! An SGL is a 64-byte-aligned header — `next_dma` u64 @0, `entry_sum_in_chain` u16 @8,
//! `entry_sum_in_sgl` u16 @10, `entry_length_in_sgl` u16 @12 — followed at +64 by 32-byte
//! entries: `buff` u64 @0, `page_ctrl` u64 @8, `len` u32 @16. SGLs chain through
//! `next_dma` (0 ends the chain). Limits: 255 entries per SGL (`HISI_SGE_NUM_IN_SGL`),
//! 8 MiB per entry (`HISI_MAX_SIZE_IN_SGE`); the model also bounds a chain to 256 SGLs (the
//! driver's pool size) so a looping chain cannot hang the engine. The SQE's SGL offset
//! (dw7 / dw8 bits 23:0) skips that many data bytes from the start of the chain.

use super::dma::DeviceMemory;
use super::{MAX_SIZE, STATUS_ADDR_FAULT, STATUS_SGL};

/// SGL header size (entries start here).
pub const SGL_HEADER: u64 = 64;
/// Entry size.
pub const SGE_SIZE: u64 = 32;
/// Required SGL alignment.
pub const SGL_ALIGN: u64 = 64;
/// `HISI_SGE_NUM_IN_SGL`: entries one SGL may hold.
pub const MAX_SGE_PER_SGL: u16 = 255;
/// SGLs one chain may have in this model (the driver's pool holds 256).
pub const MAX_SGLS_PER_CHAIN: usize = 256;
/// `HISI_MAX_SIZE_IN_SGE`.
pub const MAX_SGE_LEN: u32 = MAX_SIZE;

/// Client memory ranges `(address, length)` covering `len` bytes of a buffer.
pub type Segments = Vec<(u64, u64)>;

/// A flat buffer as segments.
pub fn flat(addr: u64, len: u64) -> Segments {
    vec![(addr, len)]
}

/// Walks the SGL chain at `head` and returns the ranges holding data bytes
/// `[offset, offset + len)`. `Err` carries the status.
pub fn walk<M: DeviceMemory>(mem: &mut M, head: u64, offset: u32, len: u64) -> Result<Segments, u8> {
    let mut segs = Vec::new();
    let mut skip = offset as u64;
    let mut want = len;
    let mut sgl = head;
    let mut sgls = 0usize;
    while want > 0 {
        if sgl == 0 {
            return Err(STATUS_SGL); // chain shorter than the request
        }
        if !sgl.is_multiple_of(SGL_ALIGN) {
            return Err(STATUS_SGL);
        }
        sgls += 1;
        if sgls > MAX_SGLS_PER_CHAIN {
            return Err(STATUS_SGL);
        }
        let mut h = [0u8; SGL_HEADER as usize];
        mem.read(sgl, &mut h).map_err(|_| STATUS_ADDR_FAULT)?;
        let next = u64::from_le_bytes(h[0..8].try_into().unwrap_or_default());
        let n = u16::from_le_bytes([h[10], h[11]]);
        if n == 0 || n > MAX_SGE_PER_SGL {
            return Err(STATUS_SGL);
        }
        let mut entries = vec![0u8; n as usize * SGE_SIZE as usize];
        mem.read(sgl + SGL_HEADER, &mut entries)
            .map_err(|_| STATUS_ADDR_FAULT)?;
        for e in entries.chunks_exact(SGE_SIZE as usize) {
            if want == 0 {
                break;
            }
            let buff = u64::from_le_bytes(e[0..8].try_into().unwrap_or_default());
            let elen = u32::from_le_bytes(e[16..20].try_into().unwrap_or_default());
            if elen > MAX_SGE_LEN {
                return Err(STATUS_SGL);
            }
            let mut elen = elen as u64;
            let mut base = buff;
            if skip >= elen {
                skip -= elen;
                continue;
            }
            base += skip;
            elen -= skip;
            skip = 0;
            let take = elen.min(want);
            if base == 0 || base.checked_add(take).is_none() {
                return Err(STATUS_ADDR_FAULT);
            }
            segs.push((base, take));
            want -= take;
        }
        sgl = next;
    }
    Ok(segs)
}

/// Reads the segments into one buffer.
pub fn gather<M: DeviceMemory>(mem: &mut M, segs: &Segments, total: usize) -> Result<Vec<u8>, u8> {
    let mut out = vec![0u8; total];
    let mut at = 0usize;
    for &(a, l) in segs {
        let l = l as usize;
        mem.read(a, &mut out[at..at + l]).map_err(|_| STATUS_ADDR_FAULT)?;
        at += l;
    }
    Ok(out)
}

/// Writes `data` over the segments in order (`data` never exceeds their total).
pub fn scatter<M: DeviceMemory>(mem: &mut M, segs: &Segments, data: &[u8]) -> Result<(), u8> {
    let mut at = 0usize;
    for &(a, l) in segs {
        if at >= data.len() {
            break;
        }
        let n = (l as usize).min(data.len() - at);
        mem.write(a, &data[at..at + n]).map_err(|_| STATUS_ADDR_FAULT)?;
        at += n;
    }
    if at < data.len() {
        return Err(STATUS_SGL);
    }
    Ok(())
}
