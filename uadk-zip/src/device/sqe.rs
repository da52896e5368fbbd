//! Encoder and decoder of `struct hisi_zip_sqe` (reference §6.1): 32 little-endian u32,
//! 128 bytes. Flat buffers only; stateless requests ([`build`]) and stateful stream requests
//! ([`build_stateful`], reference §6.4).

use uadk_core::qm::Sqe;

/// dw0 (out): input bytes consumed.
pub const OFF_CONSUMED: usize = 0;
/// dw1 (out): output bytes produced.
pub const OFF_PRODUCED: usize = 4;
/// dw3 (out): bits 7:0 status, bit 8 last-block flag.
pub const OFF_DW3: usize = 12;
/// dw4: input size.
pub const OFF_INPUT_LENGTH: usize = 16;
/// dw7: flush / stateful / new-stream flags, SQE type in bits 31:28.
pub const OFF_DW7: usize = 28;
/// dw9: request type (7:0), buffer type (11:8), window size (15:12).
pub const OFF_DW9: usize = 36;
/// dw14: output capacity.
pub const OFF_DEST_AVAIL_OUT: usize = 56;
/// dw15: stream state word 0 (bits 3:0 ctx status, bit 7 BFINAL seen).
pub const OFF_CTX_DW0: usize = 60;
/// dw22–23: stateful context address (the session's ctx buffer + 64).
pub const OFF_STREAM_CTX_ADDR: usize = 88;
/// dw28: stream state word 1.
pub const OFF_CTX_DW1: usize = 112;
/// dw29: stream state word 2 (bits 15:0 window length).
pub const OFF_CTX_DW2: usize = 116;
/// dw18–19: input address.
pub const OFF_SOURCE_ADDR: usize = 72;
/// dw20–21: output address.
pub const OFF_DEST_ADDR: usize = 80;
/// dw30 (out): gzip input size.
pub const OFF_ISIZE: usize = 120;
/// dw31 (out): checksum (adler32 for zlib, crc32 for gzip).
pub const OFF_CHECKSUM: usize = 124;

/// dw3 bits 7:0.
pub const DW3_STATUS_MASK: u32 = 0xff;
/// dw3 bit 8: the final block has been processed.
pub const DW3_LAST_BLOCK: u32 = 0x100;
/// dw7 bit 25: flush (finish the stream; always set for stateless requests).
pub const DW7_FLUSH: u32 = 1 << 25;
/// dw7 bit 26: stream mode (stateful).
pub const DW7_STATEFUL: u32 = 1 << 26;
/// dw7 bit 27: new stream (the device resets the stream state).
pub const DW7_NEW_STREAM: u32 = 1 << 27;
/// ctx_dw0 bits 3:0: ctx status.
pub const CTX_STATUS_MASK: u32 = 0xf;
/// ctx status 0x1: no output space while finishing a compress stream (call again, no input).
pub const CTX_NO_SPACE_FINISH: u32 = 0x1;
/// ctx status 0x2: no output space during decompression (call again, no input).
pub const CTX_NO_SPACE_DECOMP: u32 = 0x2;
/// ctx_dw0 bit 7: the final deflate block was seen.
pub const CTX_BFINAL: u32 = 0x80;
/// Size of the per-session context buffer (`HW_CTX_SIZE`).
pub const CTX_SIZE: usize = 64 * 1024;
/// Offset of the hardware stream context inside the ctx buffer.
pub const CTX_HW_OFFSET: usize = 64;
/// dw7 bits 31:28: SQE type.
pub const DW7_SQE_TYPE_SHIFT: u32 = 28;
/// SQE type 0: QM v2, tag in dw13.
pub const SQE_TYPE_0: u32 = 0;
/// SQE type 3: QM v3 and later, tag in dw26.
pub const SQE_TYPE_3: u32 = 3;

/// Request type raw deflate (QM v3 only).
pub const HW_DEFLATE: u8 = 0x1;
/// Request type zlib (the device writes/checks the adler32 trailer, not the header).
pub const HW_ZLIB: u8 = 0x2;
/// Request type gzip (the device writes/checks crc32 + isize, not the header).
pub const HW_GZIP: u8 = 0x3;
/// dw9 bits 11:8: flat buffers.
pub const BUF_FLAT: u32 = 0;
/// dw9 bits 15:12: 32 KiB window.
pub const WS_32K: u32 = 4;

/// Largest input and output of one SQE (`HZ_MAX_SIZE`).
pub const MAX_SIZE: usize = 8 << 20;
/// Smallest output buffer the device accepts (`SW_STOREBUF_TH`).
pub const MIN_OUT: usize = 200;

/// The QM generation, which fixes the SQE type and the tag position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SqeType {
    /// SQE type 0 (QM v2).
    V2,
    /// SQE type 3 (QM v3+).
    V3,
}

impl SqeType {
    /// The SQE type for a QM version (`None` or < 3 → type 0).
    pub fn for_version(qm_version: Option<u32>) -> SqeType {
        match qm_version {
            Some(v) if v >= 3 => SqeType::V3,
            _ => SqeType::V2,
        }
    }

    /// Where the queue writes its tag.
    pub fn tag(self) -> uadk_core::qm::TagField {
        match self {
            SqeType::V2 => uadk_core::qm::TagField::ZIP_V2,
            SqeType::V3 => uadk_core::qm::TagField::ZIP_V3,
        }
    }

    fn code(self) -> u32 {
        match self {
            SqeType::V2 => SQE_TYPE_0,
            SqeType::V3 => SQE_TYPE_3,
        }
    }
}

/// Builds a stateless flat-buffer request: one whole stream (body + trailer) in one SQE.
pub fn build(t: SqeType, req_type: u8, src: u64, in_len: u32, dst: u64, avail_out: u32) -> Sqe {
    let mut s = Sqe::zeroed();
    s.set_u32(OFF_INPUT_LENGTH, in_len);
    s.set_u32(OFF_DW7, DW7_FLUSH | (t.code() << DW7_SQE_TYPE_SHIFT));
    s.set_u32(OFF_DW9, req_type as u32 | (BUF_FLAT << 8) | (WS_32K << 12));
    s.set_u32(OFF_DEST_AVAIL_OUT, avail_out);
    s.set_u64(OFF_SOURCE_ADDR, src);
    s.set_u64(OFF_DEST_ADDR, dst);
    s
}

/// The stream words a stateful request carries in and out (mirrored in the first 12 bytes
/// of the ctx buffer around every request, plus the running checksum and isize).
///
/// ```
/// let w = uadk_zip::device::sqe::StreamWords::default();
/// assert_eq!((w.ctx0, w.checksum), (0, 0));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamWords {
    /// ctx_dw0 (dw15).
    pub ctx0: u32,
    /// ctx_dw1 (dw28).
    pub ctx1: u32,
    /// ctx_dw2 (dw29).
    pub ctx2: u32,
    /// Running checksum (dw31).
    pub checksum: u32,
    /// Running gzip input size (dw30).
    pub isize: u32,
}

/// What a stateful request asks for.
///
/// ```
/// let f = uadk_zip::device::sqe::StreamFlags { new_stream: true, finish: false };
/// assert!(f.new_stream);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamFlags {
    /// dw7 bit 27: start a new stream (the device forgets any history).
    pub new_stream: bool,
    /// dw7 bit 25: finish the stream (final block and, for zlib/gzip, the trailer).
    pub finish: bool,
}

/// Builds a stateful flat-buffer request (reference §6.4): stream mode, the new-stream and
/// finish flags, the context address, and the mirrored stream words.
///
/// ```
/// use uadk_zip::device::sqe::*;
/// let f = StreamFlags { new_stream: true, finish: true };
/// let s = build_stateful(SqeType::V3, HW_GZIP, 0x1000, 10, 0x2000, 300, 0x3040, f, &StreamWords::default());
/// assert_eq!(s.u32(OFF_DW7) & (DW7_STATEFUL | DW7_NEW_STREAM | DW7_FLUSH), DW7_STATEFUL | DW7_NEW_STREAM | DW7_FLUSH);
/// assert_eq!(s.u64(OFF_STREAM_CTX_ADDR), 0x3040);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn build_stateful(
    t: SqeType,
    req_type: u8,
    src: u64,
    in_len: u32,
    dst: u64,
    avail_out: u32,
    ctx_addr: u64,
    flags: StreamFlags,
    words: &StreamWords,
) -> Sqe {
    let mut s = build(t, req_type, src, in_len, dst, avail_out);
    let mut dw7 = DW7_STATEFUL | (t.code() << DW7_SQE_TYPE_SHIFT);
    if flags.finish {
        dw7 |= DW7_FLUSH;
    }
    if flags.new_stream {
        dw7 |= DW7_NEW_STREAM;
    }
    s.set_u32(OFF_DW7, dw7);
    s.set_u64(OFF_STREAM_CTX_ADDR, ctx_addr);
    s.set_u32(OFF_CTX_DW0, words.ctx0);
    s.set_u32(OFF_CTX_DW1, words.ctx1);
    s.set_u32(OFF_CTX_DW2, words.ctx2);
    s.set_u32(OFF_CHECKSUM, words.checksum);
    s.set_u32(OFF_ISIZE, words.isize);
    s
}

/// The stream words a completed stateful request wrote back.
///
/// ```
/// use uadk_zip::device::sqe::*;
/// let mut s = uadk_core::qm::Sqe::zeroed();
/// s.set_u32(OFF_CHECKSUM, 7);
/// assert_eq!(stream_words(&s).checksum, 7);
/// ```
pub fn stream_words(s: &Sqe) -> StreamWords {
    StreamWords {
        ctx0: s.u32(OFF_CTX_DW0),
        ctx1: s.u32(OFF_CTX_DW1),
        ctx2: s.u32(OFF_CTX_DW2),
        checksum: s.u32(OFF_CHECKSUM),
        isize: s.u32(OFF_ISIZE),
    }
}

/// A completion status (dw3 bits 7:0), decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// 0x00: success.
    Ok,
    /// 0x0d `HZ_NEGACOMPRESS`: output larger than the input, still a success.
    NegativeCompression,
    /// 0x0e: the output buffer is too small.
    OutputTooSmall,
    /// 0x10 `HZ_CRC_ERR`: the trailer does not match the data.
    ChecksumMismatch,
    /// 0x13 `HZ_DECOMP_END`: decompression reached the end of the stream (success).
    DecompressEnd,
    /// Any other code: a parameter or data error (`WD_IN_EPARA`), with the raw code.
    Failed(u8),
}

impl Status {
    /// Decodes dw3 bits 7:0.
    pub fn from_code(code: u8) -> Status {
        match code {
            0x00 => Status::Ok,
            0x0d => Status::NegativeCompression,
            0x0e => Status::OutputTooSmall,
            0x10 => Status::ChecksumMismatch,
            0x13 => Status::DecompressEnd,
            c => Status::Failed(c),
        }
    }

    /// What the code means, for error messages.
    pub fn describe(self) -> String {
        match self {
            Status::Ok => "ok".into(),
            Status::NegativeCompression => "negative compression (success)".into(),
            Status::OutputTooSmall => "output buffer too small (status 0x0e)".into(),
            Status::ChecksumMismatch => "trailer checksum mismatch (status 0x10)".into(),
            Status::DecompressEnd => "end of stream".into(),
            Status::Failed(c) => {
                let what = match c {
                    0x30 => "SQE type not accepted by this QM version",
                    0x31 => "request type not offered",
                    0x32 => "buffer type undefined",
                    0x33 => "window size undefined",
                    0x34 => "length outside the device limits",
                    0x35 => "address fault on a client buffer",
                    0x36 => "corrupt or truncated compressed data",
                    0x37 => "unknown stream context",
                    0x38 => "malformed SGL",
                    0x3e => "request not supported by this device",
                    0x3f => "injected fault",
                    _ => "parameter or data error",
                };
                format!("{what} (status {c:#04x})")
            }
        }
    }
}

/// The fields of a completed SQE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Completion {
    /// Decoded status.
    pub status: Status,
    /// Input bytes consumed (dw0).
    pub consumed: u32,
    /// Output bytes produced (dw1).
    pub produced: u32,
    /// The final block was processed (dw3 bit 8).
    pub last_block: bool,
    /// Checksum (dw31).
    pub checksum: u32,
    /// gzip isize (dw30).
    pub isize: u32,
    /// ctx_dw0 bits 3:0 (stateful: 0x1 / 0x2 = output pending in the device).
    pub ctx_status: u32,
}

/// Decodes a completed SQE.
pub fn decode(s: &Sqe) -> Completion {
    let dw3 = s.u32(OFF_DW3);
    Completion {
        status: Status::from_code((dw3 & DW3_STATUS_MASK) as u8),
        consumed: s.u32(OFF_CONSUMED),
        produced: s.u32(OFF_PRODUCED),
        last_block: dw3 & DW3_LAST_BLOCK != 0,
        checksum: s.u32(OFF_CHECKSUM),
        isize: s.u32(OFF_ISIZE),
        ctx_status: s.u32(OFF_CTX_DW0) & CTX_STATUS_MASK,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_places_fields_per_reference() {
        let s = build(SqeType::V3, HW_GZIP, 0x1000, 77, 0x2000, 300);
        assert_eq!(s.u32(OFF_DW7) >> DW7_SQE_TYPE_SHIFT, 3);
        assert_ne!(s.u32(OFF_DW7) & DW7_FLUSH, 0);
        assert_eq!(s.u32(OFF_DW9), 0x3 | (4 << 12));
        assert_eq!(s.u32(OFF_INPUT_LENGTH), 77);
        assert_eq!(s.u32(OFF_DEST_AVAIL_OUT), 300);
        assert_eq!(s.u64(OFF_SOURCE_ADDR), 0x1000);
        assert_eq!(s.u64(OFF_DEST_ADDR), 0x2000);
        let v2 = build(SqeType::V2, HW_ZLIB, 1, 1, 2, 200);
        assert_eq!(v2.u32(OFF_DW7) >> DW7_SQE_TYPE_SHIFT, 0);
    }

    #[test]
    fn stateful_build_sets_flags_ctx_and_words() {
        let w = StreamWords {
            ctx0: 0x80,
            ctx1: 7,
            ctx2: 0x8000,
            checksum: 0xdead_beef,
            isize: 1234,
        };
        let f = StreamFlags {
            new_stream: true,
            finish: false,
        };
        let s = build_stateful(SqeType::V2, HW_ZLIB, 1, 10, 2, 300, 0x4040, f, &w);
        let dw7 = s.u32(OFF_DW7);
        assert_ne!(dw7 & DW7_STATEFUL, 0);
        assert_ne!(dw7 & DW7_NEW_STREAM, 0);
        assert_eq!(dw7 & DW7_FLUSH, 0);
        assert_eq!(dw7 >> DW7_SQE_TYPE_SHIFT, 0);
        assert_eq!(s.u64(OFF_STREAM_CTX_ADDR), 0x4040);
        assert_eq!(stream_words(&s), w);
        let f = StreamFlags {
            new_stream: false,
            finish: true,
        };
        let s = build_stateful(SqeType::V3, HW_DEFLATE, 1, 10, 2, 300, 0x4040, f, &w);
        assert_eq!(s.u32(OFF_DW7) & (DW7_FLUSH | DW7_NEW_STREAM), DW7_FLUSH);
        assert_eq!(s.u32(OFF_DW7) >> DW7_SQE_TYPE_SHIFT, 3);
    }

    #[test]
    fn statuses_decode() {
        let mut s = Sqe::zeroed();
        s.set_u32(OFF_DW3, 0x113);
        s.set_u32(OFF_CONSUMED, 5);
        s.set_u32(OFF_PRODUCED, 9);
        let c = decode(&s);
        assert_eq!(c.status, Status::DecompressEnd);
        assert!(c.last_block);
        assert_eq!((c.consumed, c.produced), (5, 9));
        assert_eq!(Status::from_code(0x3f), Status::Failed(0x3f));
        assert!(Status::Failed(0x3f).describe().contains("injected"));
    }
}
