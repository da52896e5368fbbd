//! The speculative inflater (`uadk_zip::speculative_inflate`, used for foreign gzip decoded
//! in parallel): any bytes from any start bit — no panic, bounded output; where the system
//! zlib inflates the bytes as raw deflate, decoding from bit 0 gives the same bytes with no
//! marker left unresolved; a block found by `find_block` decodes from there.
#![no_main]
use libfuzzer_sys::fuzz_target;
use uadk_zip::software::Library;
use uadk_zip::speculative_inflate::{decode_with_markers, find_block, resolve, Stop};
use uadk_zip::{Error, Format};

const LIMIT: usize = 4 << 20;

fuzz_target!(|data: &[u8]| {
    let Some((&start, data)) = data.split_first() else {
        return;
    };
    let bits = data.len() as u64 * 8;
    let from = u64::from(start) % bits.max(1);
    let _ = decode_with_markers(data, from, &[Stop::Clean], LIMIT);
    let _ = decode_with_markers(data, from, &[Stop::Blocks(2)], LIMIT);
    if let Some(b) = find_block(data, from, bits) {
        assert!(b >= from && b < bits);
        assert!(
            decode_with_markers(data, b, &[Stop::Blocks(1)], LIMIT).is_ok(),
            "a found block must decode"
        );
    }
    let zlib = match Library::Zlib.decompress(Format::Deflate, data, LIMIT as u64) {
        Ok(v) => Some(v),
        Err(Error::TrailingData { .. }) => None,
        Err(_) => None,
    };
    if let Some(want) = zlib {
        let s = decode_with_markers(data, 0, &[], LIMIT).expect("zlib inflated it");
        assert!(s.final_block);
        let mut out = Vec::new();
        resolve(&s.symbols[uadk_zip::speculative_inflate::WINDOW..], &[], &mut out)
            .expect("no marker from bit 0");
        assert!(out == want, "differs from zlib");
    }
});
