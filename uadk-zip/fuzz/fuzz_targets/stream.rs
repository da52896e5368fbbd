//! Decompressor::decompress with input and output cut into small pieces.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((format, lib, rest)) = common::split(data) else {
        return;
    };
    let Some((&cut, input)) = rest.split_first() else {
        return;
    };
    let in_piece = usize::from(cut % 64) + 1;
    let out_piece = usize::from(cut / 4) + 1;
    let Ok(mut d) = common::session(format, lib).decompressor() else {
        return;
    };
    let mut out = Vec::new();
    let mut buf = vec![0u8; out_piece];
    let mut failed = false;
    'outer: for piece in input.chunks(in_piece) {
        let mut rest = piece;
        loop {
            match d.decompress(rest, &mut buf) {
                Ok(p) => {
                    out.extend_from_slice(&buf[..p.produced]);
                    rest = &rest[p.consumed..];
                    if rest.is_empty() && p.produced < buf.len() {
                        break;
                    }
                    if p.consumed == 0 && p.produced == 0 {
                        break;
                    }
                }
                Err(_) => {
                    failed = true;
                    break 'outer;
                }
            }
        }
    }
    if !failed {
        loop {
            match d.decompress(&[], &mut buf) {
                Ok(p) if p.produced > 0 => out.extend_from_slice(&buf[..p.produced]),
                Ok(_) => break,
                Err(_) => return,
            }
        }
        if d.finish().is_ok() {
            common::agree(format, input, &out);
        }
    }
});
