//! Encoder and decoder of `struct hisi_zip_sqe` (reference §6.1): 32 little-endian u32,
//! 128 bytes. Only the stateless, flat-buffer subset this driver submits is encoded.

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
