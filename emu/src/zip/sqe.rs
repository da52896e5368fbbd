//! Field decoding of `struct hisi_zip_sqe`: 32 little-endian u32, 128 bytes (reference §6.1).

use uadk_core::qm::Sqe;

/// dw0 (out): input bytes consumed.
pub const OFF_CONSUMED: usize = 0;
/// dw1 (out): output bytes produced.
pub const OFF_PRODUCED: usize = 4;
/// dw2 (out): literal count for lz77 (not modelled, written 0).
pub const OFF_COMP_DATA_LENGTH: usize = 8;
/// dw3 (out): bits 7:0 status, bit 8 last-block flag.
pub const OFF_DW3: usize = 12;
/// dw4: input size.
pub const OFF_INPUT_LENGTH: usize = 16;
/// dw7: input SGL offset, flush / stateful / new-stream flags, SQE type.
pub const OFF_DW7: usize = 28;
/// dw8: bits 23:0 output SGL offset.
pub const OFF_DW8: usize = 32;
/// dw9: request type, buffer type, window size.
pub const OFF_DW9: usize = 36;
/// dw13: tag for SQE type 0 (left untouched by the device).
pub const OFF_TAG_TYPE0: usize = 52;
/// dw14: output capacity.
pub const OFF_DEST_AVAIL_OUT: usize = 56;
/// dw15: stream state word 0 (bits 3:0 ctx status, bit 7 BFINAL seen, bits 15:10 header bits).
pub const OFF_CTX_DW0: usize = 60;
/// dw18–19: input address.
pub const OFF_SOURCE_ADDR: usize = 72;
/// dw20–21: output address.
pub const OFF_DEST_ADDR: usize = 80;
/// dw22–23: stateful context buffer address (session ctx_buf + 64).
pub const OFF_STREAM_CTX_ADDR: usize = 88;
/// dw26: tag for SQE type 3 (left untouched by the device).
pub const OFF_TAG_TYPE3: usize = 104;
/// dw28: stream state word 1.
pub const OFF_CTX_DW1: usize = 112;
/// dw29: stream state word 2 (bits 15:0 window length).
pub const OFF_CTX_DW2: usize = 116;
/// dw30: gzip running input size.
pub const OFF_ISIZE: usize = 120;
/// dw31: running checksum (adler32 for zlib, crc32 for gzip).
pub const OFF_CHECKSUM: usize = 124;

/// dw3 bits 7:0.
pub const DW3_STATUS_MASK: u32 = 0xff;
/// dw3 bit 8 (`HZ_LSTBLK_MASK`): the final block has been processed.
pub const DW3_LAST_BLOCK: u32 = 0x100;
/// dw7/dw8 bits 23:0: SGL offsets.
pub const SGL_OFFSET_MASK: u32 = 0xff_ffff;
/// dw7 bit 25: flush (1 = finish the stream).
pub const DW7_FLUSH: u32 = 1 << 25;
/// dw7 bit 26: stream mode (1 = stateful).
pub const DW7_STATEFUL: u32 = 1 << 26;
/// dw7 bit 27: new-stream flag.
pub const DW7_NEW_STREAM: u32 = 1 << 27;
/// dw7 bits 31:28: SQE type.
pub const DW7_SQE_TYPE_SHIFT: u32 = 28;
/// SQE type 0 ("v1 format"): QM v2 zlib/gzip, tag in dw13.
pub const SQE_TYPE_0: u8 = 0;
/// SQE type 3 (`HZ_SQE_TYPE_V3` 0x30000000 in dw7): QM v3+, tag in dw26.
pub const SQE_TYPE_3: u8 = 3;

/// Request type `HW_DEFLATE` (raw deflate).
pub const HW_DEFLATE: u8 = 0x1;
/// Request type `HW_ZLIB`.
pub const HW_ZLIB: u8 = 0x2;
/// Request type `HW_GZIP`.
pub const HW_GZIP: u8 = 0x3;
/// Request type `HW_LZ4`.
pub const HW_LZ4: u8 = 0x4;
/// Request type `HW_LZ77_ONLY`.
pub const HW_LZ77_ONLY: u8 = 0x40;
/// Request type `HW_LZ77_ONLY_PRICE`.
pub const HW_LZ77_ONLY_PRICE: u8 = 0x41;
/// Request type `HW_LZ77_ZSTD_PRICE`.
pub const HW_LZ77_ZSTD_PRICE: u8 = 0x42;
/// Request type `HW_LZ77_ZSTD`.
pub const HW_LZ77_ZSTD: u8 = 0x43;

/// dw9 bits 11:8 buffer type: flat buffers.
pub const BUF_FLAT: u8 = 0;
/// dw9 bits 11:8 buffer type: hardware SGL (reference §3.7).
pub const BUF_SGL: u8 = 1;

/// dw9 bits 15:12 window size code `WS_4K`.
pub const WS_4K: u8 = 0;
/// Window size code `WS_32K`, the largest defined one (`WS_8K` 1, `WS_16K` 2, `WS_24K` 3).
pub const WS_32K: u8 = 4;

/// ctx_dw0 bits 3:0 mask.
pub const CTX_STATUS_MASK: u32 = 0xf;
/// ctx status 0x1: no output space while finishing a compress stream (driver: `WD_EAGAIN`).
pub const CTX_NO_SPACE_FINISH: u32 = 0x1;
/// ctx status 0x2: no output space during decompress (driver: `WD_EAGAIN`).
pub const CTX_NO_SPACE_DECOMP: u32 = 0x2;
/// ctx_dw2 bits 15:0: window length.
pub const CTX_WINDOW_MASK: u32 = 0xffff;
/// ctx_dw0 bit 7: BFINAL seen.
pub const CTX_BFINAL: u32 = 0x80;

/// The request fields the engine reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZipSqe {
    /// dw7 bits 31:28.
    pub sqe_type: u8,
    /// dw7 bit 25.
    pub flush: bool,
    /// dw7 bit 26.
    pub stateful: bool,
    /// dw7 bit 27.
    pub new_stream: bool,
    /// dw9 bits 7:0.
    pub req_type: u8,
    /// dw9 bits 11:8.
    pub buf_type: u8,
    /// dw9 bits 15:12.
    pub window: u8,
    /// dw7 bits 23:0 (SGL buffers only).
    pub in_sgl_offset: u32,
    /// dw8 bits 23:0 (SGL buffers only).
    pub out_sgl_offset: u32,
    /// dw4.
    pub in_len: u32,
    /// dw14.
    pub avail_out: u32,
    /// dw18–19.
    pub src: u64,
    /// dw20–21.
    pub dst: u64,
    /// dw22–23.
    pub ctx_addr: u64,
    /// dw30 (in: running isize of a continued stream).
    pub isize: u32,
    /// dw31 (in: running checksum of a continued stream).
    pub checksum: u32,
}

/// Decodes the request fields (never fails: validation is the engine's job).
pub fn decode(s: &Sqe) -> ZipSqe {
    let dw7 = s.u32(OFF_DW7);
    let dw9 = s.u32(OFF_DW9);
    ZipSqe {
        sqe_type: (dw7 >> DW7_SQE_TYPE_SHIFT) as u8,
        flush: dw7 & DW7_FLUSH != 0,
        stateful: dw7 & DW7_STATEFUL != 0,
        new_stream: dw7 & DW7_NEW_STREAM != 0,
        req_type: (dw9 & 0xff) as u8,
        buf_type: ((dw9 >> 8) & 0xf) as u8,
        window: ((dw9 >> 12) & 0xf) as u8,
        in_sgl_offset: dw7 & SGL_OFFSET_MASK,
        out_sgl_offset: s.u32(OFF_DW8) & SGL_OFFSET_MASK,
        in_len: s.u32(OFF_INPUT_LENGTH),
        avail_out: s.u32(OFF_DEST_AVAIL_OUT),
        src: s.u64(OFF_SOURCE_ADDR),
        dst: s.u64(OFF_DEST_ADDR),
        ctx_addr: s.u64(OFF_STREAM_CTX_ADDR),
        isize: s.u32(OFF_ISIZE),
        checksum: s.u32(OFF_CHECKSUM),
    }
}
