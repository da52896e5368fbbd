//! The deflate block walker (`software::walk`) against the system zlib: whatever zlib
//! inflates, the walker walks to the same end; made non-final and followed by an empty final
//! block, the stream still inflates to the same bytes. Any input: no panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use uadk_zip::software::walk::{final_block, make_nonfinal};
use uadk_zip::software::Library;
use uadk_zip::{Error, Format};

/// Output limit: large enough for real data, small enough to keep fuzzing fast.
const LIMIT: u64 = 8 << 20;

fuzz_target!(|data: &[u8]| {
    let ours = final_block(data);
    let (used, out) = match Library::Zlib.decompress(Format::Deflate, data, LIMIT) {
        Ok(out) => (data.len(), out),
        Err(Error::TrailingData { offset, .. }) => {
            let u = offset as usize;
            match Library::Zlib.decompress(Format::Deflate, &data[..u], LIMIT) {
                Ok(out) => (u, out),
                Err(e) => panic!("zlib read {u} bytes, then rejected them alone: {e}"),
            }
        }
        Err(_) => return,
    };
    let f = ours.expect("zlib inflated a stream the walker rejects");
    assert_eq!(
        f.end_bit.div_ceil(8),
        used as u64,
        "the walk ends elsewhere than zlib"
    );
    let mut joined = data[..used].to_vec();
    make_nonfinal(&mut joined, 0).expect("a stream zlib read is joinable");
    joined.extend_from_slice(&[0x03, 0x00]);
    let again = Library::Zlib
        .decompress(Format::Deflate, &joined, LIMIT)
        .expect("the joined stream inflates");
    assert!(again == out, "the joined stream inflates to other bytes");
});
