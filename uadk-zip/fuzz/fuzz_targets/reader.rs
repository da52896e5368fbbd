//! Decoder (std::io::Read adapter) over the input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::io::Read;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((format, lib, input)) = common::split(data) else {
        return;
    };
    let Ok(d) = common::session(format, lib).decompressor() else {
        return;
    };
    let mut out = Vec::new();
    if uadk_zip::Decoder::new(d, input).read_to_end(&mut out).is_ok() {
        common::agree(format, input, &out);
    }
});
