//! Random call sequences over libuadk's C entry points: the input is a program of small
//! operations on a few handle slots (create, use, destroy, use after destroy, forged and
//! wrong-type ids), with random lengths, splits, flush modes, algorithm names, key, IV,
//! nonce and tag lengths, and pool pointers that may be foreign, interior or freed.
//!
//! Properties: no call panics (`UADK_E_PANIC` never comes back), none crashes, compression
//! round-trips, and the library is left with no handle alive.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::ffi::c_void;
use std::ptr::{null, null_mut};
use uadk::crypto::*;
use uadk::pool::*;
use uadk::report::uadk_report;
use uadk::status::*;
use uadk::zip::*;
use uadk::{uadk_get_counters, uadk_lib_counters};

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    /// A length byte (mod `m`), then that many bytes.
    fn take(&mut self, m: u8) -> Option<Vec<u8>> {
        let n = usize::from(self.byte()? % m);
        Some(self.bytes(n).to_vec())
    }
    fn bytes(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }
}

const CIPHERS: &[&str] = &[
    "aes-128-cbc",
    "aes-256-ctr",
    "sm4-xts",
    "aes-192-ecb",
    "sm4-cbc",
    "nope\0",
];
const DIGESTS: &[&str] = &["sha256", "sm3", "md5", "hmac-sha1", "sha512", "aes-128-gcm"];
const AEADS: &[&str] = &["aes-128-gcm", "aes-256-ccm", "sm4-gcm", "sm4-ccm", "sha1"];

fn ok(rc: uadk_status) {
    assert_ne!(rc, UADK_E_PANIC, "a call panicked");
}

#[derive(Default)]
struct Slots {
    zip: [uadk_zip_session; 2],
    comp: [uadk_zip_compressor; 2],
    decomp: [uadk_zip_decompressor; 2],
    pool: [uadk_pool; 2],
    chunks: Vec<*mut c_void>,
    crypto: uadk_crypto,
    cipher: uadk_cipher_session,
    cstream: uadk_cipher_stream,
    digest: uadk_digest_session,
    dstream: uadk_digest_stream,
    aead: uadk_aead_session,
}

fn cname(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

fn run(inp: &mut Input<'_>, s: &mut Slots) -> Option<()> {
    let mut out = vec![0u8; 1 << 16];
    let mut n = 0usize;
    let mut rep = std::mem::MaybeUninit::<uadk_report>::uninit();
    let rp = rep.as_mut_ptr();
    for _ in 0..64 {
        let op = inp.byte()?;
        let k = usize::from(op >> 7);
        // SAFETY (every call below): pointers are NULL with length 0 or valid for their
        // lengths; out-parameters are valid; handles may be anything, which is the point.
        unsafe {
            match op % 24 {
                0 => {
                    let mut cfg = std::mem::zeroed::<uadk_zip_config>();
                    ok(uadk_zip_config_default(&mut cfg));
                    cfg.format = i32::from(inp.byte()? % 4);
                    cfg.level = u32::from(inp.byte()? % 11);
                    cfg.backend = UADK_BACKEND_SOFTWARE;
                    cfg.max_output = 1 << 20;
                    cfg.threads = 1;
                    ok(uadk_zip_session_destroy(s.zip[k]));
                    ok(uadk_zip_session_create(&cfg, &mut s.zip[k]));
                }
                1 => ok(uadk_zip_session_destroy(s.zip[k])), // may leave a stale id behind
                2 => {
                    let len = usize::from(inp.byte()?) * 8;
                    let src = inp.bytes(len).to_vec();
                    let cap = usize::from(inp.byte()?) * 64;
                    let rc = uadk_zip_compress(
                        s.zip[k],
                        src.as_ptr(),
                        src.len(),
                        out.as_mut_ptr(),
                        cap,
                        &mut n,
                        rp,
                    );
                    ok(rc);
                    if rc == UADK_OK {
                        let mut back = vec![0u8; src.len()];
                        let rc2 = uadk_zip_decompress(
                            s.zip[k],
                            out.as_ptr(),
                            n,
                            back.as_mut_ptr(),
                            back.len(),
                            &mut n,
                            null_mut(),
                        );
                        // The session may have been another format's... no: same session.
                        assert_eq!(rc2, UADK_OK, "round trip");
                        assert_eq!(back, src);
                    }
                }
                3 => {
                    let len = usize::from(inp.byte()?) * 4;
                    let src = inp.bytes(len).to_vec();
                    let cap = usize::from(inp.byte()?) * 256;
                    ok(uadk_zip_decompress(
                        s.zip[k],
                        src.as_ptr(),
                        src.len(),
                        out.as_mut_ptr(),
                        cap,
                        &mut n,
                        rp,
                    ));
                }
                4 => {
                    ok(uadk_zip_compressor_destroy(s.comp[k]));
                    ok(uadk_zip_compressor_create(s.zip[k], &mut s.comp[k]));
                }
                5 => {
                    let len = usize::from(inp.byte()?);
                    let src = inp.bytes(len).to_vec();
                    let cap = usize::from(inp.byte()?) + 1;
                    let flush = i32::from(inp.byte()? % 7);
                    let mut p = std::mem::zeroed::<uadk_zip_progress>();
                    ok(uadk_zip_compressor_compress(
                        s.comp[k],
                        src.as_ptr(),
                        src.len(),
                        out.as_mut_ptr(),
                        cap,
                        flush,
                        &mut p,
                    ));
                }
                6 => {
                    ok(uadk_zip_decompressor_destroy(s.decomp[k]));
                    ok(uadk_zip_decompressor_create(s.zip[k], &mut s.decomp[k]));
                }
                7 => {
                    let len = usize::from(inp.byte()?);
                    let src = inp.bytes(len).to_vec();
                    let cap = usize::from(inp.byte()?);
                    let mut p = std::mem::zeroed::<uadk_zip_progress>();
                    ok(uadk_zip_decompressor_decompress(
                        s.decomp[k],
                        src.as_ptr(),
                        src.len(),
                        out.as_mut_ptr(),
                        cap,
                        &mut p,
                    ));
                    if op & 0x40 != 0 {
                        ok(uadk_zip_decompressor_finish(s.decomp[k]));
                    }
                }
                8 => {
                    // Wrong-type and forged handles.
                    let forged = u64::from_le_bytes(inp.bytes(8).try_into().unwrap_or([7; 8]));
                    ok(uadk_zip_compressor_destroy(uadk_zip_compressor {
                        id: s.decomp[k].id,
                    }));
                    ok(uadk_zip_session_destroy(uadk_zip_session { id: forged }));
                    ok(uadk_pool_free(uadk_pool { id: forged }, out.as_mut_ptr().cast()));
                }
                9 => {
                    let mut cfg = std::mem::zeroed::<uadk_pool_config>();
                    ok(uadk_pool_config_default(&mut cfg));
                    cfg.chunk_size = 4096 << (inp.byte()? % 3);
                    cfg.chunks = u32::from(inp.byte()? % 8);
                    cfg.pages = UADK_PAGES_NORMAL;
                    cfg.mlock = 0;
                    let rc = uadk_pool_destroy(s.pool[k]);
                    ok(rc);
                    if rc == UADK_OK || s.pool[k].id == 0 {
                        ok(uadk_pool_create(&cfg, &mut s.pool[k]));
                    }
                }
                10 => {
                    let mut c = null_mut();
                    if uadk_pool_alloc(s.pool[k], 0, &mut c) == UADK_OK {
                        s.chunks.push(c);
                    }
                }
                11 => {
                    // Free a chunk we hold, one freed already, an interior or a foreign pointer.
                    let which = usize::from(inp.byte()?);
                    let held = (!s.chunks.is_empty()).then(|| which % s.chunks.len());
                    let ptr = match (which % 4, held) {
                        (0, Some(i)) => s.chunks[i],
                        (1, Some(i)) => s.chunks[i].cast::<u8>().wrapping_add(which).cast(),
                        (2, _) => out.as_mut_ptr().cast(),
                        _ => (0x1000usize * (which + 1)) as *mut c_void,
                    };
                    let rc = uadk_pool_free(s.pool[k], ptr);
                    ok(rc);
                    if rc == UADK_OK {
                        // Only a chunk we hold, freed through its own pool, can succeed.
                        let i = held.filter(|_| which % 4 == 0).expect("only held chunks free");
                        s.chunks.swap_remove(i);
                    }
                }
                12 => {
                    let mut cfg = std::mem::zeroed::<uadk_crypto_config>();
                    ok(uadk_crypto_config_default(&mut cfg));
                    cfg.backend = UADK_BACKEND_SOFTWARE;
                    ok(uadk_crypto_destroy(s.crypto));
                    ok(uadk_crypto_create(&cfg, &mut s.crypto));
                }
                13 => {
                    let name = cname(CIPHERS[usize::from(inp.byte()?) % CIPHERS.len()]);
                    let key = inp.take(40)?;
                    ok(uadk_cipher_session_destroy(s.cipher));
                    ok(uadk_cipher_session_create(
                        s.crypto,
                        name.as_ptr().cast(),
                        key.as_ptr(),
                        key.len(),
                        &mut s.cipher,
                    ));
                }
                14 | 15 => {
                    let iv = inp.take(20)?;
                    let len = usize::from(inp.byte()?);
                    let mut buf = inp.bytes(len).to_vec();
                    let cap = usize::from(inp.byte()?);
                    if op & 0x20 != 0 {
                        // In place.
                        let p = buf.as_mut_ptr();
                        ok(uadk_cipher_encrypt(
                            s.cipher,
                            iv.as_ptr(),
                            iv.len(),
                            p,
                            buf.len(),
                            p,
                            buf.len(),
                            rp,
                        ));
                    } else if op % 24 == 14 {
                        ok(uadk_cipher_encrypt(
                            s.cipher,
                            iv.as_ptr(),
                            iv.len(),
                            buf.as_ptr(),
                            buf.len(),
                            out.as_mut_ptr(),
                            cap,
                            rp,
                        ));
                    } else {
                        ok(uadk_cipher_decrypt(
                            s.cipher,
                            iv.as_ptr(),
                            iv.len(),
                            buf.as_ptr(),
                            buf.len(),
                            out.as_mut_ptr(),
                            cap,
                            null_mut(),
                        ));
                    }
                }
                16 => {
                    let iv = inp.take(20)?;
                    ok(uadk_cipher_stream_destroy(s.cstream));
                    ok(uadk_cipher_stream_create(
                        s.cipher,
                        i32::from(op & 3),
                        iv.as_ptr(),
                        iv.len(),
                        &mut s.cstream,
                    ));
                    let len = usize::from(inp.byte()?);
                    let buf = inp.bytes(len).to_vec();
                    ok(uadk_cipher_stream_update(
                        s.cstream,
                        buf.as_ptr(),
                        buf.len(),
                        out.as_mut_ptr(),
                        buf.len(),
                        rp,
                    ));
                }
                17 => {
                    let name = cname(DIGESTS[usize::from(inp.byte()?) % DIGESTS.len()]);
                    ok(uadk_digest_session_destroy(s.digest));
                    if op & 0x10 != 0 {
                        let key = inp.take(100)?;
                        ok(uadk_hmac_session_create(
                            s.crypto,
                            name.as_ptr().cast(),
                            key.as_ptr(),
                            key.len(),
                            &mut s.digest,
                        ));
                    } else {
                        ok(uadk_digest_session_create(
                            s.crypto,
                            name.as_ptr().cast(),
                            &mut s.digest,
                        ));
                    }
                }
                18 => {
                    let len = usize::from(inp.byte()?);
                    let data = inp.bytes(len).to_vec();
                    let cap = usize::from(inp.byte()? % 80);
                    ok(uadk_digest(
                        s.digest,
                        data.as_ptr(),
                        data.len(),
                        out.as_mut_ptr(),
                        cap,
                        &mut n,
                        rp,
                    ));
                }
                19 => match op & 3 {
                    0 => {
                        ok(uadk_digest_stream_destroy(s.dstream));
                        ok(uadk_digest_stream_create(s.digest, &mut s.dstream));
                    }
                    1 | 2 => {
                        let len = usize::from(inp.byte()?) * 3;
                        let data = inp.bytes(len).to_vec();
                        ok(uadk_digest_stream_update(s.dstream, data.as_ptr(), data.len()));
                    }
                    _ => {
                        let cap = usize::from(inp.byte()? % 80);
                        ok(uadk_digest_stream_final(
                            s.dstream,
                            out.as_mut_ptr(),
                            cap,
                            &mut n,
                            rp,
                        ));
                    }
                },
                20 => {
                    let name = cname(AEADS[usize::from(inp.byte()?) % AEADS.len()]);
                    let key = inp.take(40)?;
                    let tag = usize::from(inp.byte()? % 20);
                    ok(uadk_aead_session_destroy(s.aead));
                    ok(uadk_aead_session_create(
                        s.crypto,
                        name.as_ptr().cast(),
                        key.as_ptr(),
                        key.len(),
                        tag,
                        &mut s.aead,
                    ));
                }
                21 | 22 => {
                    let nonce = inp.take(16)?;
                    let aad = inp.take(32)?;
                    let len = usize::from(inp.byte()?);
                    let msg = inp.bytes(len).to_vec();
                    let mut tag = vec![0u8; usize::from(inp.byte()? % 20)];
                    let mut dst = vec![0u8; msg.len()];
                    let rc = uadk_aead_seal(
                        s.aead,
                        nonce.as_ptr(),
                        nonce.len(),
                        aad.as_ptr(),
                        aad.len(),
                        msg.as_ptr(),
                        msg.len(),
                        dst.as_mut_ptr(),
                        dst.len(),
                        tag.as_mut_ptr(),
                        tag.len(),
                        rp,
                    );
                    ok(rc);
                    if rc == UADK_OK {
                        if op % 24 == 22 && !dst.is_empty() {
                            dst[0] ^= 1;
                        }
                        let mut back = vec![0u8; msg.len()];
                        let rc2 = uadk_aead_open(
                            s.aead,
                            nonce.as_ptr(),
                            nonce.len(),
                            aad.as_ptr(),
                            aad.len(),
                            dst.as_ptr(),
                            dst.len(),
                            tag.as_ptr(),
                            tag.len(),
                            back.as_mut_ptr(),
                            back.len(),
                            null_mut(),
                        );
                        if op % 24 == 22 && !dst.is_empty() {
                            assert_eq!(rc2, UADK_E_AUTH_FAILED);
                            assert!(back.iter().all(|&b| b == 0), "plaintext released");
                        } else {
                            assert_eq!(rc2, UADK_OK);
                            assert_eq!(back, msg);
                        }
                    }
                }
                _ => {
                    // NULL pointers with nonzero lengths everywhere.
                    ok(uadk_zip_compress(
                        s.zip[k],
                        null(),
                        5,
                        out.as_mut_ptr(),
                        10,
                        &mut n,
                        null_mut(),
                    ));
                    ok(uadk_cipher_encrypt(
                        s.cipher,
                        null(),
                        16,
                        null(),
                        16,
                        null_mut(),
                        16,
                        null_mut(),
                    ));
                    ok(uadk_digest_stream_update(s.dstream, null(), 1));
                    ok(uadk_pool_alloc(s.pool[k], 0, null_mut()));
                }
            }
        }
    }
    Some(())
}

fn teardown(s: &mut Slots) {
    for (i, c) in s.chunks.drain(..).enumerate() {
        // Each chunk belongs to one of the two pools.
        let _ = i;
        if uadk_pool_free(s.pool[0], c) != UADK_OK {
            ok(uadk_pool_free(s.pool[1], c));
        }
    }
    for k in 0..2 {
        ok(uadk_zip_compressor_destroy(s.comp[k]));
        ok(uadk_zip_decompressor_destroy(s.decomp[k]));
        ok(uadk_zip_session_destroy(s.zip[k]));
        ok(uadk_pool_destroy(s.pool[k]));
    }
    ok(uadk_cipher_stream_destroy(s.cstream));
    ok(uadk_cipher_session_destroy(s.cipher));
    ok(uadk_digest_stream_destroy(s.dstream));
    ok(uadk_digest_session_destroy(s.digest));
    ok(uadk_aead_session_destroy(s.aead));
    ok(uadk_crypto_destroy(s.crypto));
}

fuzz_target!(|data: &[u8]| {
    let mut before = uadk_lib_counters::default();
    // SAFETY: a writable struct.
    unsafe { uadk_get_counters(&mut before) };
    let mut s = Slots::default();
    let _ = run(&mut Input(data), &mut s);
    teardown(&mut s);
    let mut after = uadk_lib_counters::default();
    // SAFETY: as above.
    unsafe { uadk_get_counters(&mut after) };
    assert_eq!(after.panics, 0, "a panic was caught");
    assert_eq!(after.handles_live, before.handles_live, "a handle was left alive");
});
