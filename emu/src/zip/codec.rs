//! The software codec under the engine: raw deflate from `miniz_oxide`, and the parts the
//! hardware does itself — running checksums and the zlib/gzip trailers. Headers are the
//! driver's job (reference §6.4) and never written or parsed here.

use miniz_oxide::deflate::core::{
    compress_to_output, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush, TDEFLStatus,
};

/// Compression effort of the model. The hardware ignores the level for deflate/zlib/gzip
/// (reference §6.2), so the device uses one fixed effort whatever the session asked for.
pub const DEVICE_LEVEL: i32 = 4;

/// Container the hardware produces/consumes around the deflate body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `HW_DEFLATE`: no trailer, no checksum.
    Deflate,
    /// `HW_ZLIB`: adler32 trailer, big-endian.
    Zlib,
    /// `HW_GZIP`: crc32 then isize, both little-endian.
    Gzip,
}

impl Format {
    /// Bytes of trailer the hardware writes after the final block (and checks on decompress).
    pub fn trailer_len(self) -> usize {
        match self {
            Format::Deflate => 0,
            Format::Zlib => 4,
            Format::Gzip => 8,
        }
    }

    /// Checksum of an empty stream.
    pub fn initial_check(self) -> u32 {
        match self {
            Format::Zlib => 1,
            Format::Deflate | Format::Gzip => 0,
        }
    }

    /// Running checksum after `data`.
    pub fn update(self, check: u32, data: &[u8]) -> u32 {
        match self {
            Format::Deflate => 0,
            Format::Zlib => adler32(check, data),
            Format::Gzip => {
                let mut h = crc32fast::Hasher::new_with_initial(check);
                h.update(data);
                h.finalize()
            }
        }
    }

    /// The trailer for a finished stream.
    pub fn trailer(self, check: u32, isize: u32) -> Vec<u8> {
        match self {
            Format::Deflate => Vec::new(),
            Format::Zlib => check.to_be_bytes().to_vec(),
            Format::Gzip => {
                let mut t = check.to_le_bytes().to_vec();
                t.extend_from_slice(&isize.to_le_bytes());
                t
            }
        }
    }
}

/// Adler-32 (RFC 1950) continued from `adler`.
pub fn adler32(adler: u32, data: &[u8]) -> u32 {
    const MOD: u32 = 65521;
    const NMAX: usize = 5552;
    let mut a = adler & 0xffff;
    let mut b = adler >> 16;
    for chunk in data.chunks(NMAX) {
        for &x in chunk {
            a += x as u32;
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

/// A raw deflate compressor keeping history across calls (one stream).
pub struct Deflater {
    c: Box<CompressorOxide>,
}

impl std::fmt::Debug for Deflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Deflater")
    }
}

impl Default for Deflater {
    fn default() -> Self {
        Deflater::new()
    }
}

impl Deflater {
    /// A new raw deflate stream at [`DEVICE_LEVEL`].
    pub fn new() -> Deflater {
        let flags = create_comp_flags_from_zip_params(DEVICE_LEVEL, -15, 0);
        Deflater {
            c: Box::new(CompressorOxide::new(flags)),
        }
    }

    /// Compresses all of `input`, appending to `out`. `finish` ends the stream with a final
    /// block; otherwise the output ends on a byte boundary (sync flush) so every request's
    /// output is complete. Returns false if the codec reported an error.
    pub fn run(&mut self, input: &[u8], finish: bool, out: &mut Vec<u8>) -> bool {
        let flush = if finish {
            TDEFLFlush::Finish
        } else {
            TDEFLFlush::Sync
        };
        let (status, used) = compress_to_output(&mut self.c, input, flush, |o| {
            out.extend_from_slice(o);
            true
        });
        let want = if finish {
            TDEFLStatus::Done
        } else {
            TDEFLStatus::Okay
        };
        status == want && used == input.len()
    }
}

/// Compresses a whole buffer into a final raw deflate stream.
pub fn deflate_all(input: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() / 2 + 64);
    Deflater::new().run(input, true, &mut out).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_match_the_rfc_vectors() {
        assert_eq!(adler32(1, b"Wikipedia"), 0x11E6_0398);
        let big = vec![0xffu8; 100_000];
        let split = adler32(adler32(1, &big[..7000]), &big[7000..]);
        assert_eq!(split, adler32(1, &big));
        assert_eq!(Format::Gzip.update(0, b"123456789"), 0xCBF4_3926);
        assert_eq!(Format::Zlib.trailer(0x0102_0304, 9), vec![1, 2, 3, 4]);
        assert_eq!(Format::Gzip.trailer(0x0102_0304, 9), vec![4, 3, 2, 1, 9, 0, 0, 0]);
    }

    #[test]
    fn raw_deflate_round_trips_through_miniz() {
        let data: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
        let c = deflate_all(&data).unwrap();
        let d = miniz_oxide::inflate::decompress_to_vec(&c).unwrap();
        assert_eq!(d, data);
    }
}
