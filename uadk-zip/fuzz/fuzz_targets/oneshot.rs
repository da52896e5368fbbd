//! Session::decompress (libdeflate one-shot, or a forced streaming library).
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((format, lib, input)) = common::split(data) else {
        return;
    };
    if let Ok(out) = common::session(format, lib).decompress(input) {
        common::agree(format, input, &out);
    }
});
