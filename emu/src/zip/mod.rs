//! The ZIP device model: executes `struct hisi_zip_sqe` descriptors (reference §6) like the
//! HiSilicon ZIP engine, with `miniz_oxide` as the deflate codec underneath.
//!
//! The direction comes from the queue, as on the hardware: `qc_type` of `SET_QP_CTX`
//! (0 compress, 1 decompress). The device writes its results back into the SQE in place.
//!
//! ## Fields honoured
//!
//! | SQE field | in/out | what the engine does |
//! |---|---|---|
//! | dw7 bits 31:28 SQE type | in | QM v2 accepts type 0 only, QM v3 type 3 only (below) |
//! | dw9 bits 7:0 request type | in | zlib 0x2 / gzip 0x3 on v2 and v3; raw deflate 0x1 on v3 only |
//! | dw9 bits 11:8 buffer type | in | 0 flat, 1 hardware SGL ([`sgl`]); others rejected |
//! | dw7 / dw8 bits 23:0 SGL offsets | in | SGL buffers: data bytes skipped at the chain start |
//! | dw9 bits 15:12 window | in | `WS_4K`..`WS_32K` (0..=4) accepted, larger rejected |
//! | dw4 input length, dw14 `dest_avail_out` | in | limits below |
//! | dw18–21 source / destination | in | client virtual addresses (SVA) |
//! | dw7 bit 26 stateful, bit 27 new stream, bit 25 flush | in | stream model ([`stream`]) |
//! | dw22–23 stream context address | in | stateful only: must be mapped; keys the stream |
//! | dw30 isize, dw31 checksum | in/out | stateful continuation reads them; always written |
//! | dw0 consumed, dw1 produced | out | bytes of input used / output written |
//! | dw3 bits 7:0 status, bit 8 last block | out | status codes below |
//! | dw15 ctx_dw0 bits 3:0 ctx status, bit 7 BFINAL | out | stateful no-space reporting |
//! | dw29 ctx_dw2 bits 15:0 window length | out | stateful: history held, ≤ 32 KiB |
//! | dw13 / dw26 tag | — | untouched (the driver matches completions with it) |
//!
//! Headers are the driver's: it writes `78 9c` / the 10-byte gzip header before compressed
//! output and skips them on decompress input (§6.4). The device produces and consumes only
//! the deflate body **and the trailer**: zlib adler32 big-endian, gzip crc32 + isize
//! little-endian, none for raw deflate; on decompress it checks the trailer (0x10 on
//! mismatch). Compression level is ignored (§6.2): one fixed effort ([`codec::DEVICE_LEVEL`]).
//!
//! ## Statuses (dw3 bits 7:0)
//!
//! From the reference: [`STATUS_OK`], [`STATUS_NEGACOMPRESS`] (stateless compress output
//! larger than input, still a success), [`STATUS_OUT_TOO_SMALL`], [`STATUS_CRC_ERR`],
//! [`STATUS_DECOMP_END`]. The reference says only "anything else is a parameter/data error"
//! for the rest, so the remaining nonzero codes are this emulator's model codes (0x30..),
//! all mapped by the driver to `WD_IN_EPARA`: [`STATUS_SQE_TYPE`], [`STATUS_ALG`],
//! [`STATUS_BUF_TYPE`], [`STATUS_WINDOW`], [`STATUS_LENGTH`], [`STATUS_ADDR_FAULT`],
//! [`STATUS_DATA`], [`STATUS_STREAM_CTX`], [`STATUS_SGL`], [`STATUS_UNSUPPORTED`],
//! [`STATUS_INJECTED`].
//! Every failure writes consumed = produced = 0 and leaves the output buffer untouched
//! (except an address fault part-way through an SGL output).
//!
//! ## Versions (§6.3)
//!
//! - QM v2 (`hisi_qm_v2`): SQE type 0 only (type 3 → [`STATUS_SQE_TYPE`]); zlib and gzip
//!   only — raw deflate and the lz77/lz4 types → [`STATUS_ALG`].
//! - QM v3: SQE type 3; zlib, gzip, raw deflate. Type 0 on v3 → [`STATUS_UNSUPPORTED`] (the
//!   reference does not say whether v3 silicon still takes the old format; the model refuses
//!   it so a driver building the wrong format for the version is caught). lz4 / lz77_only /
//!   lz77_zstd are valid v3 types that this model does not execute → [`STATUS_UNSUPPORTED`].
//!
//! ## Limits (§1 item 13, §6.4)
//!
//! Input and output ≤ 8 MiB ([`MAX_SIZE`]) per SQE; `dest_avail_out` ≥ 200 B ([`MIN_OUT`],
//! `SW_STOREBUF_TH`: smaller outputs go through the driver's bounce buffer); input length 0
//! only on a continued stateful stream (draining pending output). Violations →
//! [`STATUS_LENGTH`].
//!
//! ## Stateless requests (dw7 bit 26 = 0)
//!
//! One complete stream per SQE. Compress: deflate body + trailer must fit `dest_avail_out`,
//! else [`STATUS_OUT_TOO_SMALL`]. Decompress: the body must end inside the input (truncated
//! or corrupt → [`STATUS_DATA`]), the whole trailer must follow (checked, 0x10 on mismatch),
//! output must fit ([`STATUS_OUT_TOO_SMALL`]); success is [`STATUS_DECOMP_END`] with the
//! last-block bit. Bytes after the trailer are not consumed.
//!
//! ## Modelled vs simplified
//!
//! - Stateful streams keep their codec state engine-side, not in the client's context
//!   buffer (see [`stream`]); ctx_dw1 and the ctx_dw0 header-bit count are not produced;
//!   each non-final compress request ends with a sync flush (byte-aligned output).
//! - A stateful request whose output write faults has still advanced its stream.
//! - The window size field is validated but compression always uses a 32 KiB window (the
//!   driver's zlib header announces 32 KiB anyway); decompression accepts any distance.
//! - lz4 and the lz77 variants are not executed.
//! - Client memory is read/written with kernel-validated `process_vm_readv/writev`
//!   ([`dma`]), for in-process and cross-process (daemon) clients; the stream context
//!   buffer is only probed (4 bytes read), never written.

pub mod codec;
pub mod dma;
pub mod sgl;
pub mod sqe;
pub mod stream;

use uadk_core::qm::Sqe;

use codec::Format;
use dma::DeviceMemory;
use sqe::*;

/// Success.
pub const STATUS_OK: u8 = 0x00;
/// `HZ_NEGACOMPRESS`: compressed output larger than the input — still a success.
pub const STATUS_NEGACOMPRESS: u8 = 0x0d;
/// Output buffer too small for the result.
pub const STATUS_OUT_TOO_SMALL: u8 = 0x0e;
/// `HZ_CRC_ERR`: the stream's trailer does not match the decompressed data.
pub const STATUS_CRC_ERR: u8 = 0x10;
/// `HZ_DECOMP_END`: decompression reached the end of the stream (success).
pub const STATUS_DECOMP_END: u8 = 0x13;
/// Model code: SQE type (dw7 bits 31:28) not accepted by this QM version.
pub const STATUS_SQE_TYPE: u8 = 0x30;
/// Model code: request type (dw9 bits 7:0) unknown or not offered by this QM version.
pub const STATUS_ALG: u8 = 0x31;
/// Model code: buffer type (dw9 bits 11:8) undefined.
pub const STATUS_BUF_TYPE: u8 = 0x32;
/// Model code: window size (dw9 bits 15:12) undefined.
pub const STATUS_WINDOW: u8 = 0x33;
/// Model code: input/output length outside the device limits.
pub const STATUS_LENGTH: u8 = 0x34;
/// Model code: the device could not access a client buffer (SMMU fault).
pub const STATUS_ADDR_FAULT: u8 = 0x35;
/// Model code: compressed input is corrupt or truncated.
pub const STATUS_DATA: u8 = 0x36;
/// Model code: a continued stateful request names no stream the device knows, or one of the
/// other direction / algorithm.
pub const STATUS_STREAM_CTX: u8 = 0x37;
/// Model code: a malformed hardware SGL (misaligned, 0 or > 255 entries, entry > 8 MiB,
/// chain too short for the request or longer than 256 SGLs).
pub const STATUS_SGL: u8 = 0x38;
/// Model code: a valid request this emulator does not execute (lz4, lz77, type 0 on v3).
pub const STATUS_UNSUPPORTED: u8 = 0x3e;
/// Model code: injected by fault injection.
pub const STATUS_INJECTED: u8 = 0x3f;

/// `HZ_MAX_SIZE`: largest input and output of one SQE.
pub const MAX_SIZE: u32 = 8 << 20;
/// `SW_STOREBUF_TH`: smallest output buffer the device accepts.
pub const MIN_OUT: u32 = 200;

/// Direction, from the queue's `qc_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// `qc_type` 0.
    Compress,
    /// `qc_type` 1.
    Decompress,
}

/// Result of executing one SQE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Status written to dw3 bits 7:0.
    pub status: u8,
    /// Input bytes consumed (the engine's byte counter).
    pub bytes: u64,
}

/// What a request produced, before it is written back.
pub(crate) struct Done {
    status: u8,
    consumed: u32,
    produced: u32,
    last: bool,
    ctx_status: u32,
    bfinal: bool,
    /// Window length for ctx_dw2 bits 15:0 (stateful requests).
    window: Option<u32>,
    /// Running (checksum, isize) to write to dw31/dw30.
    check: Option<(u32, u32)>,
    /// Bytes for the destination buffer (`produced` of them).
    out: Vec<u8>,
}

impl Done {
    fn fail(status: u8) -> Done {
        Done {
            status,
            consumed: 0,
            produced: 0,
            last: false,
            ctx_status: 0,
            bfinal: false,
            window: None,
            check: None,
            out: Vec::new(),
        }
    }
}

/// Writes a status into dw3 bits 7:0 keeping the other bits.
pub fn write_status(s: &mut Sqe, status: u8) {
    let dw3 = s.u32(OFF_DW3);
    s.set_u32(OFF_DW3, (dw3 & !DW3_STATUS_MASK) | status as u32);
}

/// Completes an SQE as a misreporting device would (the `bad_count_rate` fault): status OK,
/// the last-block bit set, one byte more consumed than `input_data_length` and one byte more
/// produced than `dest_avail_out`. Memory is not touched.
pub fn write_bad_counts(s: &mut Sqe) {
    let f = sqe::decode(s);
    s.set_u32(OFF_CONSUMED, f.in_len.saturating_add(1));
    s.set_u32(OFF_PRODUCED, f.avail_out.saturating_add(1));
    let dw3 = s.u32(OFF_DW3) & !DW3_STATUS_MASK;
    s.set_u32(OFF_DW3, dw3 | STATUS_OK as u32 | DW3_LAST_BLOCK);
}

/// Executes one ZIP SQE on a QM `qm_version` device whose queue has `qc_type`, against
/// client memory, and writes the results back into the SQE. `iopf` is (latency ns, churn
/// period) of the IO page fault model; faults charged are added to `faults`.
pub fn execute<M: DeviceMemory>(
    qm_version: u32,
    qc_type: u16,
    s: &mut Sqe,
    mem: &mut M,
    iopf: (u64, u64),
    faults: &mut u64,
) -> Outcome {
    let f = sqe::decode(s);
    let done = run(qm_version, qc_type, &f, mem, iopf, faults);
    if done.status != STATUS_OK && done.status != STATUS_DECOMP_END {
        log::debug!("ZIP SQE failed with status {:#x}: {f:?}", done.status);
    }
    s.set_u32(OFF_CONSUMED, done.consumed);
    s.set_u32(OFF_PRODUCED, done.produced);
    s.set_u32(OFF_COMP_DATA_LENGTH, 0);
    let dw3 = s.u32(OFF_DW3) & !(DW3_STATUS_MASK | DW3_LAST_BLOCK);
    s.set_u32(
        OFF_DW3,
        dw3 | done.status as u32 | if done.last { DW3_LAST_BLOCK } else { 0 },
    );
    let ctx0 = s.u32(OFF_CTX_DW0) & !(CTX_STATUS_MASK | CTX_BFINAL);
    s.set_u32(
        OFF_CTX_DW0,
        ctx0 | done.ctx_status | if done.bfinal { CTX_BFINAL } else { 0 },
    );
    if let Some(w) = done.window {
        let ctx2 = s.u32(OFF_CTX_DW2) & !CTX_WINDOW_MASK;
        s.set_u32(OFF_CTX_DW2, ctx2 | w);
    }
    if let Some((check, isize)) = done.check {
        s.set_u32(OFF_CHECKSUM, check);
        s.set_u32(OFF_ISIZE, isize);
    }
    Outcome {
        status: done.status,
        bytes: done.consumed as u64,
    }
}

/// Validates the descriptor in the order the fields are decoded; `Err` carries the status.
fn validate(qm_version: u32, qc_type: u16, f: &ZipSqe) -> Result<(Dir, Format), u8> {
    let dir = match qc_type {
        0 => Dir::Compress,
        1 => Dir::Decompress,
        _ => return Err(STATUS_UNSUPPORTED),
    };
    let v3 = qm_version >= 3;
    match (v3, f.sqe_type) {
        (false, SQE_TYPE_0) | (true, SQE_TYPE_3) => {}
        (true, SQE_TYPE_0) => return Err(STATUS_UNSUPPORTED),
        _ => return Err(STATUS_SQE_TYPE),
    }
    let fmt = match f.req_type {
        HW_ZLIB => Format::Zlib,
        HW_GZIP => Format::Gzip,
        HW_DEFLATE if v3 => Format::Deflate,
        HW_LZ4 | HW_LZ77_ONLY | HW_LZ77_ONLY_PRICE | HW_LZ77_ZSTD_PRICE | HW_LZ77_ZSTD if v3 => {
            return Err(STATUS_UNSUPPORTED)
        }
        _ => return Err(STATUS_ALG),
    };
    match f.buf_type {
        BUF_FLAT | BUF_SGL => {}
        _ => return Err(STATUS_BUF_TYPE),
    }
    if f.window > WS_32K {
        return Err(STATUS_WINDOW);
    }
    let drain = f.stateful && !f.new_stream;
    if f.in_len > MAX_SIZE || (f.in_len == 0 && !drain) || f.avail_out < MIN_OUT || f.avail_out > MAX_SIZE {
        return Err(STATUS_LENGTH);
    }
    Ok((dir, fmt))
}

fn run<M: DeviceMemory>(
    qm_version: u32,
    qc_type: u16,
    f: &ZipSqe,
    mem: &mut M,
    iopf: (u64, u64),
    faults: &mut u64,
) -> Done {
    let (dir, fmt) = match validate(qm_version, qc_type, f) {
        Ok(v) => v,
        Err(status) => return Done::fail(status),
    };
    if f.dst == 0 || (f.in_len > 0 && f.src == 0) {
        return Done::fail(STATUS_ADDR_FAULT);
    }
    let segs = if f.buf_type == BUF_SGL {
        sgl::walk(mem, f.src, f.in_sgl_offset, f.in_len as u64).and_then(|i| {
            let o = sgl::walk(mem, f.dst, f.out_sgl_offset, f.avail_out as u64)?;
            Ok((i, o))
        })
    } else {
        Ok((
            sgl::flat(f.src, f.in_len as u64),
            sgl::flat(f.dst, f.avail_out as u64),
        ))
    };
    let (in_segs, out_segs) = match segs {
        Ok(s) => s,
        Err(status) => return Done::fail(status),
    };
    let (latency, churn) = iopf;
    let ranges: Vec<(u64, u64)> = in_segs.iter().chain(out_segs.iter()).copied().collect();
    *faults += mem.charge(&ranges, latency, churn);
    if f.stateful {
        let mut probe = [0u8; 4];
        if f.ctx_addr == 0 || mem.read(f.ctx_addr, &mut probe).is_err() {
            return Done::fail(STATUS_ADDR_FAULT);
        }
    }
    let input = match sgl::gather(mem, &in_segs, f.in_len as usize) {
        Ok(i) => i,
        Err(status) => return Done::fail(status),
    };
    let done = match (f.stateful, dir) {
        (true, _) => stream::run(dir, fmt, f, &input),
        (false, Dir::Compress) => compress_stateless(fmt, f, &input),
        (false, Dir::Decompress) => decompress_stateless(fmt, f, &input),
    };
    if let Err(status) = sgl::scatter(mem, &out_segs, &done.out) {
        return Done::fail(status);
    }
    done
}

fn compress_stateless(fmt: Format, f: &ZipSqe, input: &[u8]) -> Done {
    let Some(mut out) = codec::deflate_all(input) else {
        return Done::fail(STATUS_DATA);
    };
    let check = fmt.update(fmt.initial_check(), input);
    let isize = input.len() as u32;
    out.extend_from_slice(&fmt.trailer(check, isize));
    if out.len() > f.avail_out as usize {
        return Done::fail(STATUS_OUT_TOO_SMALL);
    }
    Done {
        status: if out.len() > input.len() {
            STATUS_NEGACOMPRESS
        } else {
            STATUS_OK
        },
        consumed: input.len() as u32,
        produced: out.len() as u32,
        last: true,
        ctx_status: 0,
        bfinal: true,
        window: None,
        check: Some((check, isize)),
        out,
    }
}

fn decompress_stateless(fmt: Format, f: &ZipSqe, input: &[u8]) -> Done {
    use miniz_oxide::inflate::stream::{inflate, InflateState};
    use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};
    let mut state = InflateState::new_boxed(DataFormat::Raw);
    let mut out = vec![0u8; f.avail_out as usize];
    let r = inflate(&mut state, input, &mut out, MZFlush::Finish);
    match r.status {
        Ok(MZStatus::StreamEnd) => {}
        Err(MZError::Data) => return Done::fail(STATUS_DATA),
        _ if r.bytes_written == out.len() => return Done::fail(STATUS_OUT_TOO_SMALL),
        _ => return Done::fail(STATUS_DATA),
    }
    out.truncate(r.bytes_written);
    let body = r.bytes_consumed;
    let tl = fmt.trailer_len();
    if input.len() - body < tl {
        return Done::fail(STATUS_DATA);
    }
    let check = fmt.update(fmt.initial_check(), &out);
    let isize = out.len() as u32;
    if input[body..body + tl] != fmt.trailer(check, isize)[..] {
        return Done::fail(STATUS_CRC_ERR);
    }
    Done {
        status: STATUS_DECOMP_END,
        consumed: (body + tl) as u32,
        produced: out.len() as u32,
        last: true,
        ctx_status: 0,
        bfinal: true,
        window: None,
        check: Some((check, isize)),
        out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::ClientMem;

    fn sqe(version: u32, alg: u8, src: &[u8], dst: &mut [u8], dw7: u32) -> Sqe {
        let mut s = Sqe::zeroed();
        let t = if version >= 3 { SQE_TYPE_3 } else { SQE_TYPE_0 } as u32;
        s.set_u32(OFF_INPUT_LENGTH, src.len() as u32);
        s.set_u32(OFF_DW7, dw7 | t << DW7_SQE_TYPE_SHIFT);
        s.set_u32(OFF_DW9, alg as u32);
        s.set_u32(OFF_DEST_AVAIL_OUT, dst.len() as u32);
        s.set_u64(OFF_SOURCE_ADDR, src.as_ptr() as u64);
        s.set_u64(OFF_DEST_ADDR, dst.as_mut_ptr() as u64);
        s
    }

    fn exec(version: u32, qc: u16, s: &mut Sqe) -> u8 {
        let mut mem = ClientMem::new(std::process::id());
        let mut faults = 0;
        execute(version, qc, s, &mut mem, (0, 0), &mut faults).status
    }

    #[test]
    fn writes_back_in_place_and_keeps_tags_and_other_bits() {
        let src = vec![7u8; 3000];
        let mut dst = vec![0u8; 1000];
        let mut s = sqe(3, HW_ZLIB, &src, &mut dst, DW7_FLUSH);
        s.set_u32(OFF_TAG_TYPE3, 0xdead_beef);
        s.set_u32(OFF_TAG_TYPE0, 0x1234_5678);
        s.set_u32(OFF_DW3, 0xffff_fe00 | 0x55);
        assert_eq!(exec(3, 0, &mut s), STATUS_OK);
        assert_eq!(s.u32(OFF_TAG_TYPE3), 0xdead_beef);
        assert_eq!(s.u32(OFF_TAG_TYPE0), 0x1234_5678);
        assert_eq!(s.u32(OFF_DW3), 0xffff_fe00 | DW3_LAST_BLOCK);
        assert_eq!(s.u32(OFF_CONSUMED), 3000);
        let n = s.u32(OFF_PRODUCED) as usize;
        assert!(n > 4 && n < 100);
        let adler = codec::adler32(1, &src);
        assert_eq!(s.u32(OFF_CHECKSUM), adler);
        assert_eq!(dst[n - 4..n], adler.to_be_bytes());
        let mut z = vec![0x78, 0x9c];
        z.extend_from_slice(&dst[..n]);
        assert_eq!(miniz_oxide::inflate::decompress_to_vec_zlib(&z).unwrap(), src);
        // A failure clears the counts and the last-block bit.
        s.set_u32(OFF_DW9, 0x77);
        assert_eq!(exec(3, 0, &mut s), STATUS_ALG);
        assert_eq!((s.u32(OFF_CONSUMED), s.u32(OFF_PRODUCED)), (0, 0));
        assert_eq!(s.u32(OFF_DW3) & DW3_LAST_BLOCK, 0);
    }

    #[test]
    fn bad_counts_fault_reports_ok_with_impossible_lengths_and_writes_nothing() {
        let src = vec![7u8; 3000];
        let mut dst = vec![0xa5u8; 1000];
        let mut s = sqe(2, HW_GZIP, &src, &mut dst, DW7_FLUSH);
        s.set_u32(OFF_DW3, 0x4400 | 0x12);
        write_bad_counts(&mut s);
        assert_eq!(s.u32(OFF_DW3), 0x4400 | DW3_LAST_BLOCK | STATUS_OK as u32);
        assert_eq!((s.u32(OFF_CONSUMED), s.u32(OFF_PRODUCED)), (3001, 1001));
        assert!(dst.iter().all(|&b| b == 0xa5));
    }

    #[test]
    fn validation_order_and_direction() {
        let src = vec![1u8; 10];
        let mut dst = vec![0u8; 300];
        // qc_type other than 0/1 (the session refuses it; the engine stays defensive).
        let mut s = sqe(3, HW_ZLIB, &src, &mut dst, 0);
        assert_eq!(exec(3, 2, &mut s), STATUS_UNSUPPORTED);
        // SQE type is checked before the request type, the request type before lengths.
        let mut s = sqe(2, HW_DEFLATE, &src, &mut dst, 0);
        s.set_u32(OFF_DW7, 3 << DW7_SQE_TYPE_SHIFT);
        assert_eq!(exec(2, 0, &mut s), STATUS_SQE_TYPE);
        let mut s = sqe(2, HW_DEFLATE, &[], &mut dst, 0);
        assert_eq!(exec(2, 0, &mut s), STATUS_ALG);
        let mut s = sqe(3, HW_DEFLATE, &[], &mut dst, 0);
        assert_eq!(exec(3, 0, &mut s), STATUS_LENGTH);
    }

    #[test]
    fn finished_stream_takes_no_more_input_and_streams_are_bounded() {
        let ctx = vec![0u8; 256];
        let src = vec![3u8; 5000];
        let mut dst = vec![0u8; 200];
        let mut s = sqe(
            3,
            HW_GZIP,
            &src,
            &mut dst,
            DW7_STATEFUL | DW7_NEW_STREAM | DW7_FLUSH,
        );
        s.set_u64(OFF_STREAM_CTX_ADDR, ctx.as_ptr() as u64);
        assert_eq!(exec(3, 0, &mut s), STATUS_OK);
        // Everything fits in 200 B: finished at once, stream closed.
        assert!(s.u32(OFF_DW3) & DW3_LAST_BLOCK != 0);
        assert_eq!(stream::open_streams(), 0);
        // Decompress stream of the same address is a different stream: unknown → error.
        let mut s2 = sqe(3, HW_GZIP, &dst[..10], &mut vec![0u8; 300], DW7_STATEFUL);
        s2.set_u64(OFF_STREAM_CTX_ADDR, ctx.as_ptr() as u64);
        assert_eq!(exec(3, 1, &mut s2), STATUS_STREAM_CTX);
        // Open many streams that never finish: bounded.
        for i in 0..(stream::MAX_STREAMS + 10) {
            let mut s = sqe(3, HW_ZLIB, &src, &mut dst, DW7_STATEFUL | DW7_NEW_STREAM);
            s.set_u64(OFF_STREAM_CTX_ADDR, ctx.as_ptr() as u64 + i as u64);
            assert_eq!(exec(3, 0, &mut s), STATUS_OK);
        }
        assert_eq!(stream::open_streams(), stream::MAX_STREAMS);
    }
    #[test]
    fn random_descriptors_never_panic_and_get_a_known_status() {
        let known = [
            STATUS_OK,
            STATUS_NEGACOMPRESS,
            STATUS_OUT_TOO_SMALL,
            STATUS_CRC_ERR,
            STATUS_DECOMP_END,
            STATUS_SQE_TYPE,
            STATUS_ALG,
            STATUS_BUF_TYPE,
            STATUS_WINDOW,
            STATUS_LENGTH,
            STATUS_ADDR_FAULT,
            STATUS_DATA,
            STATUS_STREAM_CTX,
            STATUS_SGL,
            STATUS_UNSUPPORTED,
        ];
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        // Input: a valid zlib body prefix followed by noise, so decoders get some way in.
        let mut src = miniz_oxide::deflate::compress_to_vec(&[5u8; 20_000], 6);
        src.extend((0..4000).map(|i| (i * 31 % 251) as u8));
        let mut dst = vec![0u8; 8192];
        let ctx = [0u8; 64];
        let mut mem = ClientMem::new(std::process::id());
        for i in 0..3000 {
            let mut s = Sqe::zeroed();
            for w in 0..32 {
                s.set_u32(w * 4, rnd() as u32);
            }
            // Keep every address on a real buffer and every length inside it, so the test
            // never lets the device write outside `dst`; everything else stays random.
            s.set_u32(OFF_INPUT_LENGTH, (rnd() % (src.len() as u64 + 1)) as u32);
            s.set_u32(OFF_DEST_AVAIL_OUT, (rnd() % (dst.len() as u64 + 1)) as u32);
            s.set_u64(OFF_SOURCE_ADDR, src.as_ptr() as u64);
            s.set_u64(OFF_DEST_ADDR, dst.as_mut_ptr() as u64);
            s.set_u64(OFF_STREAM_CTX_ADDR, ctx.as_ptr() as u64 + (rnd() % 4) * 8);
            if i % 2 == 0 {
                // Bias towards valid types so the codec paths run.
                let v = 2 + (i as u32 / 2) % 2;
                let t = if v >= 3 { SQE_TYPE_3 } else { SQE_TYPE_0 } as u32;
                let dw7 = s.u32(OFF_DW7) & 0x0fff_ffff;
                s.set_u32(OFF_DW7, dw7 | t << DW7_SQE_TYPE_SHIFT);
                let alg = [HW_DEFLATE, HW_ZLIB, HW_GZIP][(rnd() % 3) as usize] as u32;
                s.set_u32(OFF_DW9, alg | ((rnd() % 6) as u32) << 12);
            }
            // No SGLs here: a random "SGL" in `dst` could name live memory of this process.
            if s.u32(OFF_DW9) >> 8 & 0xf == BUF_SGL as u32 {
                s.set_u32(OFF_DW9, s.u32(OFF_DW9) & !0xf00);
            }
            let version = 2 + (i as u32 / 2) % 2;
            let mut faults = 0;
            let o = execute(version, (rnd() % 2) as u16, &mut s, &mut mem, (0, 0), &mut faults);
            assert!(known.contains(&o.status), "status {:#x}", o.status);
            assert_eq!(s.u32(OFF_DW3) & DW3_STATUS_MASK, o.status as u32);
            assert!(s.u32(OFF_PRODUCED) <= s.u32(OFF_DEST_AVAIL_OUT));
            assert!(s.u32(OFF_CONSUMED) <= s.u32(OFF_INPUT_LENGTH));
        }
    }
}
