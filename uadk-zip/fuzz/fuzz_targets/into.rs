//! Session::decompress_into a caller buffer whose size comes from the input.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((format, lib, rest)) = common::split(data) else {
        return;
    };
    let Some((&size, input)) = rest.split_first() else {
        return;
    };
    let mut buf = vec![0u8; usize::from(size) * 257];
    match common::session(format, lib).decompress_into(input, &mut buf) {
        Ok(n) => common::agree(format, input, &buf[..n]),
        Err(uadk_zip::Error::OutputTooSmall {
            needed: Some(n),
            available,
        }) => {
            assert!(n > available);
            let full = uadk_zip::software::Library::Zlib
                .decompress(format, input, common::LIMIT)
                .expect("zlib reads what we sized");
            assert_eq!(full.len(), n);
        }
        Err(_) => {}
    }
});
