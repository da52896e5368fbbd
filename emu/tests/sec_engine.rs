//! The SEC engine end to end: real BD2/BD3 descriptors submitted through `uadk-core` queues
//! to an in-process emulator with a QM v2 and a QM v3 SEC device.
//!
//! Known-answer vectors were produced with OpenSSL 3.0: `openssl enc -<alg> -K .. -iv ..
//! -nopad` for ECB/CBC/CTR, `openssl dgst -<alg> [-mac HMAC -macopt hexkey:..]` for digests,
//! and Python `cryptography` 48 (OpenSSL's EVP underneath) for AES-XTS and AES-GCM, which
//! `openssl enc` does not offer. Inputs: key bytes `0, 1, 2, …`, IV `f0 f1 … ff`, plaintext
//! byte i = `i * 7 + 3` ([`pt`]).

use std::path::PathBuf;

use uadk_core::discovery::{scan, Device};
use uadk_core::qm::{QueueOptions, QueuePair, Sqe};
use uadk_core::request::WaitPolicy;
use uadk_core::sec_copy::SecBd;
use uadk_emu::sec::{
    ERR_ADDR_FAULT, ERR_ADDR_TYPE, ERR_ALG, ERR_BD_TYPE, ERR_IV, ERR_KEY_LEN, ERR_LENGTH, ERR_MAC_LEN,
    ERR_UNSUPPORTED, ICV_FAIL, ICV_PASS,
};
use uadk_emu::{DeviceKind, DeviceSpec, EmuConfig, Emulator};

// Codes from reference §7.3.
const DES: u8 = 0;
const TDES: u8 = 1;
const AES: u8 = 2;
const SM4: u8 = 3;
const ECB: u8 = 0;
const CBC: u8 = 1;
const CFB: u8 = 2;
const OFB: u8 = 3;
const CTR: u8 = 4;
const CCM: u8 = 5;
const GCM: u8 = 6;
const XTS: u8 = 7;
const CBC_CS: u8 = 9;
const K128: u8 = 0;
const K192: u8 = 1;
const K256: u8 = 2;
const TDES_2KEY: u8 = 3;
const ENC: u8 = 1;
const DEC: u8 = 2;
const CALC: u8 = 1;
const VERIFY: u8 = 2;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn pt(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + 3) as u8).collect()
}

fn key(n: usize) -> Vec<u8> {
    (0..n as u8).collect()
}

fn iv() -> Vec<u8> {
    (0xf0..=0xffu8).collect()
}

/// One SEC request, format-independent; [`build`] lays it out as BD2 or BD3. This mirrors
/// what a driver's BD builder must produce.
#[derive(Debug, Clone, Copy, Default)]
struct Req {
    dir: u8,
    auth: u8,
    c_alg: u8,
    c_mode: u8,
    key_code: u8,
    a_alg: u8,
    mac_words: u8,
    akey_words: u8,
    c_len: u32,
    a_len: u32,
    c_off: u16,
    a_off: u16,
    src: u64,
    dst: u64,
    mac: u64,
    c_key: u64,
    c_iv: u64,
    a_key: u64,
    de: u8,
    width: u8,
    a_iv: u64,
}

fn build(bd: SecBd, r: &Req) -> Sqe {
    let mut s = Sqe::zeroed();
    match bd {
        SecBd::Bd2 => {
            s.set_u8(0, 2 | (r.dir << 4) | (r.auth << 6));
            s.set_u8(1, (r.de << 1) | (1 << 3)); // de, scene IPsec
            s.set_u32(
                8,
                r.mac_words as u32 | ((r.akey_words as u32) << 5) | ((r.a_alg as u32) << 11),
            );
            s.set_u16(
                12,
                ((r.width as u16) << 6) | ((r.key_code as u16) << 9) | ((r.c_mode as u16) << 12),
            );
            s.set_u8(14, r.c_alg);
            s.set_u32(16, r.a_len);
            s.set_u32(20, r.c_len);
            s.set_u16(24, r.a_off);
            s.set_u16(26, r.c_off);
            s.set_u64(56, r.a_iv);
            s.set_u64(64, r.a_key);
            s.set_u64(72, r.mac);
            s.set_u64(80, r.c_iv);
            s.set_u64(88, r.c_key);
            s.set_u64(96, r.src);
            s.set_u64(104, r.dst);
        }
        SecBd::Bd3 => {
            s.set_u32(0, 3 | (7 << 5) | ((r.de as u32) << 9)); // stream scene
            s.set_u16(
                4,
                r.dir as u16 | ((r.width as u16) << 10) | ((r.key_code as u16) << 13),
            );
            s.set_u8(6, r.c_mode | (r.c_alg << 4));
            s.set_u64(16, r.src);
            s.set_u64(24, r.a_key);
            s.set_u64(32, r.a_iv);
            s.set_u64(48, r.c_key);
            s.set_u32(
                56,
                r.auth as u32
                    | ((r.mac_words as u32) << 4)
                    | ((r.akey_words as u32) << 9)
                    | ((r.a_alg as u32) << 15),
            );
            s.set_u16(64, r.a_off);
            s.set_u16(66, r.c_off);
            s.set_u32(68, r.a_len);
            s.set_u32(72, r.c_len);
            s.set_u64(76, r.dst);
            s.set_u64(84, r.mac);
            s.set_u64(92, r.c_iv);
        }
    }
    s
}

struct Rig {
    _emu: Emulator,
    dir: PathBuf,
    /// (queue, BD format) for: BD2 on v2, BD3 on v3, BD2 on v3.
    queues: Vec<(QueuePair, SecBd)>,
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.queues.clear();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn rig(tag: &str) -> Rig {
    let dir = std::env::temp_dir().join(format!("uadk-emu-sec-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = EmuConfig {
        devices: vec![
            DeviceSpec::new(DeviceKind::Sec, 2),
            DeviceSpec::new(DeviceKind::Sec, 3),
        ],
        first_id: 0,
    };
    let emu = Emulator::start(&dir, &cfg).unwrap();
    let devs: Vec<Device> = scan(&emu.roots()).devices;
    let by_ver = |v: u32| devs.iter().find(|d| d.qm_version == Some(v)).unwrap();
    let open = |d: &Device, bd: SecBd| {
        QueuePair::open(
            d,
            QueueOptions {
                tag: bd.tag_field(),
                ..Default::default()
            },
        )
        .unwrap()
    };
    let queues = vec![
        (open(by_ver(2), SecBd::Bd2), SecBd::Bd2),
        (open(by_ver(3), SecBd::Bd3), SecBd::Bd3),
        (open(by_ver(3), SecBd::Bd2), SecBd::Bd2),
    ];
    Rig {
        _emu: emu,
        dir,
        queues,
    }
}

/// Submits one BD and returns (error_type, icv result, done bit).
fn submit(q: &QueuePair, bd: SecBd, r: &Req) -> (u8, u8, bool) {
    let sqe = build(bd, r);
    // SAFETY: every buffer a test names outlives this synchronous request.
    let done = unsafe { q.submit_sync(&sqe, &WaitPolicy::default()) }.unwrap();
    let flag = done.u16(112);
    (done.u8(114), ((flag >> 1) & 7) as u8, flag & 1 == 1)
}

fn ok(q: &QueuePair, bd: SecBd, r: &Req) {
    let (e, _, done) = submit(q, bd, r);
    assert!(done, "not done");
    assert_eq!(e, 0, "error_type for {r:?} on {bd:?}");
}

fn err(q: &QueuePair, bd: SecBd, r: &Req) -> u8 {
    let (e, _, done) = submit(q, bd, r);
    assert!(done);
    e
}

struct CipherKat {
    alg: u8,
    mode: u8,
    code: u8,
    key_len: usize,
    len: usize,
    ct: &'static str,
}

/// BD3 only: CFB-128 and OFB (`openssl enc -aes-128-cfb|-aes-256-cfb|-aes-128-ofb|-sm4-cfb|-sm4-ofb`).
const BD3_CIPHER_KATS: &[CipherKat] = &[
    CipherKat {
        alg: AES,
        mode: CFB,
        code: K128,
        key_len: 16,
        len: 37,
        ct: "65add6f02b741c7cac1397576448c8c119414d533dd8e8b8774e632d1a8e7b205e5bf325a6",
    },
    CipherKat {
        alg: AES,
        mode: CFB,
        code: K256,
        key_len: 32,
        len: 37,
        ct: "910adc953cb0adff612baf04176c067841e38461a58b8213e0f6ac834727289cfc28923cab",
    },
    CipherKat {
        alg: AES,
        mode: OFB,
        code: K128,
        key_len: 16,
        len: 37,
        ct: "65add6f02b741c7cac1397576448c8c11d1b1832d94311f6a0dcdcd6360454763c22834673",
    },
    CipherKat {
        alg: SM4,
        mode: CFB,
        code: K128,
        key_len: 16,
        len: 37,
        ct: "4d74385afe55fea78dcdd984340b3657cd91ba4996756a7b653a61bef80931c327b9d40190",
    },
    CipherKat {
        alg: SM4,
        mode: OFB,
        code: K128,
        key_len: 16,
        len: 37,
        ct: "4d74385afe55fea78dcdd984340b36575886369a2c2f0aecd8613e557b3d038ba5ff8d662e",
    },
];

const CIPHER_KATS: &[CipherKat] = &[
    // DES / 3DES: 8-byte IV = the first 8 IV bytes (f0..f7); key code DES 1, 3DES-3key 1,
    // 3DES-2key 3 (`openssl enc -des-ecb|-des-cbc` with `-provider legacy`).
    CipherKat {
        alg: DES,
        mode: ECB,
        code: K192,
        key_len: 8,
        len: 32,
        ct: "48951198278dd823912d626ce336f26fa3a3b5ad02bcf4d81ba58d4b65fe1bcb",
    },
    CipherKat {
        alg: DES,
        mode: CBC,
        code: K192,
        key_len: 8,
        len: 32,
        ct: "290a31392b3596e4707d391c6809aabb9e1dae36fda9e4b6146d30e21858dd12",
    },
    CipherKat {
        alg: TDES,
        mode: ECB,
        code: K192,
        key_len: 24,
        len: 32,
        ct: "d8699d05e7f0fea0326e6e0dbf6152b0e75daed8630df0d4d229c86565b7934b",
    },
    CipherKat {
        alg: TDES,
        mode: CBC,
        code: K192,
        key_len: 24,
        len: 32,
        ct: "8bf6f1885da340c8c12563e226f858eeb79ddf83e50d90f83c95646c9a76ed39",
    },
    CipherKat {
        alg: TDES,
        mode: ECB,
        code: TDES_2KEY,
        key_len: 16,
        len: 32,
        ct: "5a4552e5eb554dbaf9b8826e47a97cfa99fb83f81c46423c24fceba9a282fad3",
    },
    CipherKat {
        alg: TDES,
        mode: CBC,
        code: TDES_2KEY,
        key_len: 16,
        len: 32,
        ct: "5f08bb3ea7a7c55949df8053e2bf63f16952bd3a7c2f5c195a02a96643360a89",
    },
    CipherKat {
        alg: AES,
        mode: ECB,
        code: K128,
        key_len: 16,
        len: 32,
        ct: "268590873ef180ab539cf461a5c5f8929995d4a8b9338747669ac484fc5403ef",
    },
    CipherKat {
        alg: AES,
        mode: CBC,
        code: K128,
        key_len: 16,
        len: 32,
        ct: "29c99ea986fa95edf1f01a6a9ba4b1f9990e43bb4c151b5afb7146d2756cde07",
    },
    CipherKat {
        alg: AES,
        mode: CBC,
        code: K192,
        key_len: 24,
        len: 48,
        ct:
            "c1c889facace58188e8fd2a7bf2d555cb68c2fb373066f895f6f8a80dc782bcd6387a3fdd43643779eac9541b23b3043",
    },
    CipherKat {
        alg: AES,
        mode: CBC,
        code: K256,
        key_len: 32,
        len: 32,
        ct: "9bc5af02a51b5fc458a4423e83c18f184d25a5d1ab658c4bec672003e50ddf04",
    },
    CipherKat {
        alg: AES,
        mode: CTR,
        code: K128,
        key_len: 16,
        len: 37,
        ct: "65add6f02b741c7cac1397576448c8c1c1fb56883808a1090f1fca7ba952ca36319b63ae83",
    },
    CipherKat {
        alg: AES,
        mode: CTR,
        code: K256,
        key_len: 32,
        len: 20,
        ct: "910adc953cb0adff612baf04176c0678b925fac8",
    },
    CipherKat {
        alg: AES,
        mode: XTS,
        code: K128,
        key_len: 32,
        len: 40,
        ct: "d0ddb8744280651d2491a09b0b1dcdeb44eca751a3b625e008efc117d28c4fab1c95dec0693a71c4",
    },
    CipherKat {
        alg: AES,
        mode: XTS,
        code: K128,
        key_len: 32,
        len: 16,
        ct: "d0ddb8744280651d2491a09b0b1dcdeb",
    },
    CipherKat {
        alg: AES,
        mode: XTS,
        code: K256,
        key_len: 64,
        len: 32,
        ct: "b3278660933e4fcbcc9c34d8ff82a4adcff6f3fc3b60b5cdc2836cffbb2b72eb",
    },
    CipherKat {
        alg: SM4,
        mode: ECB,
        code: K128,
        key_len: 16,
        len: 32,
        ct: "0e168fa3436314fe2d115c4c0d35866eca8c9edd1bcec7f9de228d40f3b2fa63",
    },
    CipherKat {
        alg: SM4,
        mode: CBC,
        code: K128,
        key_len: 16,
        len: 48,
        ct:
            "6f6d295d618165a970ea637fbf76a9ab3c6b46807de441b4a4606c0c2b1a0446dc7214e6b57c929170b1a5dd01bbb1e5",
    },
    CipherKat {
        alg: SM4,
        mode: CTR,
        code: K128,
        key_len: 16,
        len: 29,
        ct: "4d74385afe55fea78dcdd984340b365705b5f53dd7d45b2582d758a2d0",
    },
];

// A test helper mirroring the BD fields one to one; a builder would only hide them.
#[allow(clippy::too_many_arguments)]
fn cipher_req(alg: u8, mode: u8, code: u8, dir: u8, k: &[u8], iv: &[u8], src: &[u8], dst: &mut [u8]) -> Req {
    Req {
        dir,
        c_alg: alg,
        c_mode: mode,
        key_code: code,
        c_len: src.len() as u32,
        src: src.as_ptr() as u64,
        dst: dst.as_mut_ptr() as u64,
        c_key: k.as_ptr() as u64,
        c_iv: iv.as_ptr() as u64,
        de: 1,
        ..Default::default()
    }
}

#[test]
fn cipher_known_answers_bd2_and_bd3() {
    let rig = rig("cipher");
    let iv = iv();
    for (q, bd) in &rig.queues {
        let extra = if *bd == SecBd::Bd3 { BD3_CIPHER_KATS } else { &[] };
        for kat in CIPHER_KATS.iter().chain(extra) {
            let k = key(kat.key_len);
            let p = pt(kat.len);
            let want = hex(kat.ct);
            let mut out = vec![0u8; kat.len];
            ok(
                q,
                *bd,
                &cipher_req(kat.alg, kat.mode, kat.code, ENC, &k, &iv, &p, &mut out),
            );
            assert_eq!(
                out, want,
                "encrypt alg {} mode {} len {} on {bd:?}",
                kat.alg, kat.mode, kat.len
            );
            let mut back = vec![0u8; kat.len];
            ok(
                q,
                *bd,
                &cipher_req(kat.alg, kat.mode, kat.code, DEC, &k, &iv, &out, &mut back),
            );
            assert_eq!(back, p, "decrypt alg {} mode {} on {bd:?}", kat.alg, kat.mode);
        }
        // The IV is not written back by the device.
        assert_eq!(iv, self::iv());
    }
}

#[test]
fn sm4_xts_round_trips_and_cipher_offset_is_honoured() {
    let rig = rig("sm4xts");
    let iv = iv();
    let k = key(32);
    for (q, bd) in &rig.queues {
        for len in [16usize, 33, 64] {
            let p = pt(len);
            let mut ct = vec![0u8; len];
            ok(q, *bd, &cipher_req(SM4, XTS, K128, ENC, &k, &iv, &p, &mut ct));
            assert_ne!(ct, p);
            let mut back = vec![0u8; len];
            ok(q, *bd, &cipher_req(SM4, XTS, K128, DEC, &k, &iv, &ct, &mut back));
            assert_eq!(back, p);
        }
        // cipher_src_offset: 5 bytes of header skipped in source and destination.
        let mut src = vec![0xAAu8; 5];
        src.extend(pt(32));
        let mut dst = vec![0u8; 37];
        let k16 = key(16);
        let mut r = cipher_req(AES, ECB, K128, ENC, &k16, &iv, &src, &mut dst);
        r.c_len = 32;
        r.c_off = 5;
        ok(q, *bd, &r);
        assert_eq!(&dst[..5], &[0u8; 5]);
        assert_eq!(
            dst[5..].to_vec(),
            hex(CIPHER_KATS
                .iter()
                .find(|k| k.alg == AES && k.mode == ECB)
                .unwrap()
                .ct)
        );
    }
}

/// AES-128-CBC-CS1 from `openssl enc -aes-128-cbc-cts` (OpenSSL's default `cts_mode` is
/// CS1), by plaintext length.
const CBC_CS1_KATS: &[(usize, &str)] = &[
    (16, "29c99ea986fa95edf1f01a6a9ba4b1f9"),
    (17, "29ae870324234719f9bd5ab62aa4837671"),
    (
        31,
        "29c99ea986fa95edf1f01a6a9ba4b1d0a334d165ed0618e0df6b51ca8eea76",
    ),
    (
        37,
        "29c99ea986fa95edf1f01a6a9ba4b1f9990e43bb4c7bdf12506a8d2ca283f40780237ff3eb",
    ),
    (
        48,
        "29c99ea986fa95edf1f01a6a9ba4b1f9990e43bb4c151b5afb7146d2756cde07f0a1d6943fe3ae7c0c1e6b5e9aed7cd0",
    ),
];

/// CS2/CS3 from a CS1 ciphertext by their definition (SP 800-38A addendum): CS3 always puts
/// the last full block before the stolen partial one; CS2 does so only when the last block
/// is partial.
fn cs_from_cs1(cs1: &[u8], width: u8) -> Vec<u8> {
    let n = cs1.len();
    if n == 16 || width == 1 {
        return cs1.to_vec();
    }
    let d = if n.is_multiple_of(16) { 16 } else { n % 16 };
    if width == 2 && d == 16 {
        return cs1.to_vec();
    }
    let head = n - 16 - d;
    let mut v = cs1[..head].to_vec();
    v.extend_from_slice(&cs1[n - 16..]);
    v.extend_from_slice(&cs1[head..head + d]);
    v
}

#[test]
fn cbc_cs_known_answers_bd3_only() {
    let rig = rig("cbccs");
    let iv = iv();
    let k = key(16);
    for (q, bd) in &rig.queues {
        for (len, cs1) in CBC_CS1_KATS {
            let p = pt(*len);
            for width in 1u8..=3 {
                let want = cs_from_cs1(&hex(cs1), width);
                let mut out = vec![0u8; *len];
                let mut r = cipher_req(AES, CBC_CS, K128, ENC, &k, &iv, &p, &mut out);
                r.width = width;
                if *bd == SecBd::Bd2 {
                    assert_eq!(err(q, *bd, &r), ERR_ALG, "BD2 has no CBC-CS");
                    continue;
                }
                ok(q, *bd, &r);
                assert_eq!(out, want, "CS{width} len {len}");
                let mut back = vec![0u8; *len];
                let mut r = cipher_req(AES, CBC_CS, K128, DEC, &k, &iv, &out, &mut back);
                r.width = width;
                ok(q, *bd, &r);
                assert_eq!(back, p, "CS{width} decrypt len {len}");
            }
        }
        if *bd == SecBd::Bd3 {
            let p = pt(15);
            let mut out = vec![0u8; 15];
            let mut r = cipher_req(AES, CBC_CS, K128, ENC, &k, &iv, &p, &mut out);
            r.width = 1;
            assert_eq!(err(q, *bd, &r), ERR_LENGTH);
            r.c_len = 16;
            r.width = 0;
            assert_eq!(err(q, *bd, &r), ERR_ALG);
        }
    }
}

struct DigestKat {
    code: u8,
    out: &'static str,
}

const HASH_KATS: &[DigestKat] = &[
    DigestKat { code: 0x00, out: "be7fd41586f415665d261af19613a4ba6f4346bb" },
    DigestKat { code: 0x01, out: "5a2cda2351d1cdd9dd7957e57c0b3c8522451f25b6494569b7e94388c46f0980" },
    DigestKat { code: 0x02, out: "f85d474760cb48f459327ba2209c185d" },
    DigestKat { code: 0x03, out: "59e3ed2ab790b39125035f7fcb4a723f5958a9b7c27609f88a53b1bb" },
    DigestKat { code: 0x04, out: "1aa8af329d9f02c30c9453404c8e73a9924d6146003185447af576827564074c7dfd2ebfb9534578c9cf54a4879260ad" },
    DigestKat { code: 0x05, out: "364662a2cfeefa210252f45394a87e9ab0d268fe0c448b7e60d69888c8506824fa142beff9a337045417b0bcc5d2e1cecd65223d4d1078cd12d52a2f57b92ed9" },
    DigestKat { code: 0x06, out: "4cbd3b22fcb7ec78c9d6cffc52d8359853e11a595451436c0535357f" },
    DigestKat { code: 0x07, out: "e467a7d2b3316064fa64cb4a33a9977b9d8a693a3291b748ac00e0d3167e64f6" },
    DigestKat { code: 0x25, out: "e1ceacab5c63e4d5e003ce50df5c414cbab19acc3e66f098b2e31554a37fb6a9" },
];

/// HMAC with the 20-byte key `40 41 … 53`.
const HMAC_KATS: &[DigestKat] = &[
    DigestKat { code: 0x10, out: "a1251acd10b4568751104ceb681f1504ec6ceb6b" },
    DigestKat { code: 0x11, out: "bc6f5573b75ccdf2b6c449c209a9cf05bf09504eba5198da26137e880d7d072e" },
    DigestKat { code: 0x12, out: "354555f93c4cc6174ce276b84a1d1e95" },
    DigestKat { code: 0x14, out: "d06da045b4384af4e6d10b833e9fd1e0d0abef5b03e8e470e0d050aa6d1ca19807af804b36bc4ed3c43e97d90ec4a258" },
    DigestKat { code: 0x15, out: "65b5256055046b6a9eb925d3998677a378057ef143e0e3adb1eb4137348cef6505b0b4a4935515a1c8ecb5be429f5202cefc3fc05348abe72cf43ca325880f80" },
    DigestKat { code: 0x26, out: "e857fcfcb9817c87709ea67a4f45ba0011b542389c2f4c8ad79cdb146c9bb63e" },
];

fn digest_req(code: u8, auth: u8, mac_words: u8, data: &[u8], mac: &mut [u8], k: &[u8]) -> Req {
    Req {
        auth,
        a_alg: code,
        mac_words,
        akey_words: (k.len() / 4) as u8,
        a_len: data.len() as u32,
        src: data.as_ptr() as u64,
        mac: mac.as_mut_ptr() as u64,
        a_key: if k.is_empty() { 0 } else { k.as_ptr() as u64 },
        ..Default::default()
    }
}

#[test]
fn digest_and_hmac_known_answers_bd2_and_bd3() {
    let rig = rig("digest");
    let data = pt(100);
    let k20: Vec<u8> = (0x40..0x54).collect();
    let k128 = key(128);
    for (q, bd) in &rig.queues {
        for (kats, k) in [(HASH_KATS, &[][..]), (HMAC_KATS, &k20[..])] {
            for kat in kats {
                let want = hex(kat.out);
                let mut mac = vec![0u8; want.len()];
                let w = (want.len() / 4) as u8;
                ok(q, *bd, &digest_req(kat.code, CALC, w, &data, &mut mac, k));
                assert_eq!(mac, want, "auth alg {:#x} on {bd:?}", kat.code);
                // Verify: pass, then fail on a flipped bit.
                let r = digest_req(kat.code, VERIFY, w, &data, &mut mac, k);
                assert_eq!(submit(q, *bd, &r), (0, ICV_PASS, true));
                mac[3] ^= 1;
                let r = digest_req(kat.code, VERIFY, w, &data, &mut mac, k);
                assert_eq!(submit(q, *bd, &r), (0, ICV_FAIL, true));
            }
        }
        // Truncated MAC: HMAC-SHA256 with 4 words writes the first 16 bytes only.
        let mut mac = vec![0xEEu8; 32];
        ok(q, *bd, &digest_req(0x11, CALC, 4, &data, &mut mac, &k20));
        assert_eq!(&mac[..16], &hex(HMAC_KATS[1].out)[..16]);
        assert_eq!(&mac[16..], &[0xEEu8; 16]);
        // 128-byte key (longer than the SHA-256 block: hashed first, as HMAC specifies).
        let mut mac = vec![0u8; 32];
        ok(q, *bd, &digest_req(0x11, CALC, 8, &data, &mut mac, &k128));
        assert_eq!(
            mac,
            hex("6d70b40b9e48bb462693e53fdd716277677a14ca69b9e3837545216e7ba8e5a7")
        );
        // auth_src_offset: hash data[10..] == hash of 90 bytes at offset 10.
        let mut m1 = vec![0u8; 32];
        let mut r = digest_req(0x01, CALC, 8, &data, &mut m1, &[]);
        r.a_off = 10;
        r.a_len = 90;
        ok(q, *bd, &r);
        let mut m2 = vec![0u8; 32];
        ok(q, *bd, &digest_req(0x01, CALC, 8, &data[10..], &mut m2, &[]));
        assert_eq!(m1, m2);
    }
}

/// AES-CMAC and AES-GMAC over the 100-byte input, keys `60 61 …`, GMAC IV `f0 … fb`:
/// `openssl mac -cipher AES-<n>-CBC -macopt hexkey:.. CMAC` and
/// `openssl mac -cipher AES-<n>-GCM -macopt hexkey:.. -macopt hexiv:.. GMAC`.
const AES_MAC_KATS: &[(u8, usize, &str)] = &[
    (0x21, 16, "442178fdbf788f3807f69a2bccee38ba"),
    (0x21, 32, "6d196f309a6c2eeaa4a4da3d3a7904c9"),
    (0x22, 16, "ad3a0e7f85013794bdf1c703a9d8645d"),
    (0x22, 32, "ca435ba216e2e2e4ca5982fa7ff561b3"),
];

#[test]
fn aes_cmac_and_gmac_on_bd3_only() {
    let rig = rig("aesmac");
    let data = pt(100);
    let giv: Vec<u8> = (0xf0..0xfc).collect();
    for (q, bd) in &rig.queues {
        for (code, key_len, want) in AES_MAC_KATS {
            let k: Vec<u8> = (0x60..0x60 + *key_len as u8).collect();
            let mut mac = vec![0u8; 16];
            let mut r = digest_req(*code, CALC, 4, &data, &mut mac, &k);
            r.a_iv = giv.as_ptr() as u64;
            if *bd == SecBd::Bd2 {
                assert_eq!(err(q, *bd, &r), ERR_ALG);
                continue;
            }
            ok(q, *bd, &r);
            assert_eq!(mac, hex(want), "auth alg {code:#x} key {key_len}");
            let mut v = r;
            v.auth = VERIFY;
            assert_eq!(submit(q, *bd, &v), (0, ICV_PASS, true));
            // truncated to 2 words
            let mut short = vec![0u8; 8];
            let mut t = digest_req(*code, CALC, 2, &data, &mut short, &k);
            t.a_iv = r.a_iv;
            ok(q, *bd, &t);
            assert_eq!(short, hex(want)[..8].to_vec());
            // bad key length, MAC length, missing GMAC IV
            assert_eq!(err(q, *bd, &Req { akey_words: 5, ..r }), ERR_KEY_LEN);
            assert_eq!(err(q, *bd, &Req { mac_words: 5, ..r }), ERR_MAC_LEN);
            if *code == 0x22 {
                assert_eq!(err(q, *bd, &Req { a_iv: 0, ..r }), ERR_IV);
            }
        }
    }
}

struct GcmKat {
    key_len: usize,
    code: u8,
    len: usize,
    aad_len: usize,
    ct: &'static str,
    tag: &'static str,
}

/// AAD = `pt(aad_len)` reversed; nonce = first 12 bytes of the IV.
const GCM_KATS: &[GcmKat] = &[
    GcmKat {
        key_len: 16,
        code: K128,
        len: 40,
        aad_len: 20,
        ct: "1210f76b25fe484008be76e0805ec81b36f5a2bc645d6ae973036c8ba37fcd7ef18c1cf9939df471",
        tag: "a81051d478f9c7bfa1d790f395016c9c",
    },
    GcmKat {
        key_len: 32,
        code: K256,
        len: 16,
        aad_len: 0,
        ct: "6a0c5218631cff40a4b5becad91407da",
        tag: "cb1c9287d211a83dc186ff0e9095b9b6",
    },
    GcmKat {
        key_len: 24,
        code: K192,
        len: 33,
        aad_len: 13,
        ct: "eff31c259346572e7ea38f01587023b3d082c72df6c1bb03e1d795f84d29b0d050",
        tag: "b7b82688c907a5fcf0d8c6582b9a84eb",
    },
];

#[test]
fn aes_gcm_known_answers_bd2_and_bd3() {
    let rig = rig("gcm");
    let iv = iv();
    for (q, bd) in &rig.queues {
        for kat in GCM_KATS {
            let k = key(kat.key_len);
            let mut aad = pt(kat.aad_len);
            aad.reverse();
            let mut src = aad.clone();
            src.extend(pt(kat.len));
            let mut dst = vec![0u8; src.len()];
            let mut tag = vec![0u8; 16];
            let mut r = Req {
                dir: ENC,
                auth: CALC,
                c_alg: AES,
                c_mode: GCM,
                key_code: kat.code,
                mac_words: 4,
                c_len: kat.len as u32,
                a_len: kat.aad_len as u32,
                c_off: kat.aad_len as u16,
                src: src.as_ptr() as u64,
                dst: dst.as_mut_ptr() as u64,
                mac: tag.as_mut_ptr() as u64,
                c_key: k.as_ptr() as u64,
                c_iv: iv.as_ptr() as u64,
                de: 1,
                ..Default::default()
            };
            ok(q, *bd, &r);
            assert_eq!(dst[kat.aad_len..].to_vec(), hex(kat.ct), "GCM ct on {bd:?}");
            assert_eq!(tag, hex(kat.tag), "GCM tag on {bd:?}");
            // Decrypt + verify.
            let mut csrc = aad.clone();
            csrc.extend(hex(kat.ct));
            let mut back = vec![0u8; csrc.len()];
            r.dir = DEC;
            r.auth = VERIFY;
            r.src = csrc.as_ptr() as u64;
            r.dst = back.as_mut_ptr() as u64;
            assert_eq!(submit(q, *bd, &r), (0, ICV_PASS, true));
            assert_eq!(back[kat.aad_len..].to_vec(), pt(kat.len));
            // Tampered tag: ICV failure, destination untouched.
            tag[0] ^= 0x80;
            let mut back2 = vec![0u8; csrc.len()];
            r.dst = back2.as_mut_ptr() as u64;
            assert_eq!(submit(q, *bd, &r), (0, ICV_FAIL, true));
            assert_eq!(back2, vec![0u8; csrc.len()]);
        }
    }
}

struct CcmKat {
    key_len: usize,
    code: u8,
    len: usize,
    aad_len: usize,
    nonce_len: usize,
    tag_len: usize,
    ct: &'static str,
    tag: &'static str,
}

/// AAD = `pt(aad_len)` reversed; nonce = IV bytes 1..=nonce_len (`f1 f2 …`), IV byte 0 =
/// L − 1 = 14 − nonce_len (Linux crypto API CCM IV format).
const CCM_KATS: &[CcmKat] = &[
    CcmKat {
        key_len: 16,
        code: K128,
        len: 40,
        aad_len: 20,
        nonce_len: 13,
        tag_len: 16,
        ct: "a72c68122588c65a6a64ad3e49bc8a01d4f38d40cb14441799f67f875f1425a317f5b4658ea893d4",
        tag: "87c24a6fbc03153d85dde0a948a543ec",
    },
    CcmKat {
        key_len: 32,
        code: K256,
        len: 16,
        aad_len: 0,
        nonce_len: 7,
        tag_len: 4,
        ct: "e2efa670cacb5ee1b6e29b9b7e6a2e6f",
        tag: "74303ca5",
    },
    CcmKat {
        key_len: 24,
        code: K192,
        len: 33,
        aad_len: 300,
        nonce_len: 11,
        tag_len: 12,
        ct: "9cfd02ae3fef4a7f43cc72cdb048ab5f66acca70efa3a38187b6135769d9b417b3",
        tag: "84c4a1308581316db1d1351c",
    },
    CcmKat {
        key_len: 16,
        code: K128,
        len: 1,
        aad_len: 1,
        nonce_len: 12,
        tag_len: 8,
        ct: "99",
        tag: "784d008d7d2b1ebf",
    },
];

#[test]
fn aes_ccm_known_answers_bd2_and_bd3() {
    let rig = rig("ccm");
    for (q, bd) in &rig.queues {
        for kat in CCM_KATS {
            let k = key(kat.key_len);
            let mut civ = iv();
            civ[0] = (14 - kat.nonce_len) as u8;
            let mut aad = pt(kat.aad_len);
            aad.reverse();
            let mut src = aad.clone();
            src.extend(pt(kat.len));
            let mut dst = vec![0u8; src.len()];
            let mut tag = vec![0u8; kat.tag_len];
            let mut r = Req {
                dir: ENC,
                auth: CALC,
                c_alg: AES,
                c_mode: CCM,
                key_code: kat.code,
                mac_words: (kat.tag_len / 4) as u8,
                c_len: kat.len as u32,
                a_len: kat.aad_len as u32,
                c_off: kat.aad_len as u16,
                src: src.as_ptr() as u64,
                dst: dst.as_mut_ptr() as u64,
                mac: tag.as_mut_ptr() as u64,
                c_key: k.as_ptr() as u64,
                c_iv: civ.as_ptr() as u64,
                de: 1,
                ..Default::default()
            };
            ok(q, *bd, &r);
            assert_eq!(dst[kat.aad_len..].to_vec(), hex(kat.ct), "CCM ct on {bd:?}");
            assert_eq!(tag, hex(kat.tag), "CCM tag on {bd:?}");
            let mut csrc = aad.clone();
            csrc.extend(hex(kat.ct));
            let mut back = vec![0u8; csrc.len()];
            r.dir = DEC;
            r.auth = VERIFY;
            r.src = csrc.as_ptr() as u64;
            r.dst = back.as_mut_ptr() as u64;
            assert_eq!(submit(q, *bd, &r), (0, ICV_PASS, true));
            assert_eq!(back[kat.aad_len..].to_vec(), pt(kat.len));
            tag[kat.tag_len - 1] ^= 1;
            let mut back2 = vec![0u8; csrc.len()];
            r.dst = back2.as_mut_ptr() as u64;
            assert_eq!(submit(q, *bd, &r), (0, ICV_FAIL, true));
            assert_eq!(back2, vec![0u8; csrc.len()]);
            // IV byte 0 outside 1..=7: bad IV.
            tag[kat.tag_len - 1] ^= 1;
            let saved = civ[0];
            civ[0] = 0;
            assert_eq!(err(q, *bd, &r), ERR_IV);
            civ[0] = saved;
        }
        // L = 2 cannot express a 65536-byte payload (checked before any data is read).
        let k = key(16);
        let mut civ = iv();
        civ[0] = 1;
        let mut tag = [0u8; 16];
        let r = Req {
            dir: ENC,
            auth: CALC,
            c_alg: AES,
            c_mode: CCM,
            mac_words: 4,
            c_len: 65536,
            src: k.as_ptr() as u64,
            dst: tag.as_mut_ptr() as u64,
            mac: tag.as_mut_ptr() as u64,
            c_key: k.as_ptr() as u64,
            c_iv: civ.as_ptr() as u64,
            de: 1,
            ..Default::default()
        };
        assert_eq!(err(q, *bd, &r), ERR_LENGTH);
    }
}

/// RFC 8998 appendix A.1 (SM4-GCM) and A.2 (SM4-CCM) test vectors.
#[test]
fn sm4_gcm_and_ccm_rfc8998_vectors_bd2_and_bd3() {
    let rig = rig("sm4aead");
    let k = hex("0123456789abcdeffedcba9876543210");
    let nonce = hex("00001234567800000000abcd");
    let aad = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
    let p = hex(concat!(
        "aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbccccccccccccccccdddddddddddddddd",
        "eeeeeeeeeeeeeeeeffffffffffffffffeeeeeeeeeeeeeeeeaaaaaaaaaaaaaaaa"
    ));
    let cases = [
        (
            GCM,
            concat!(
                "17f399f08c67d5ee19d0dc9969c4bb7d5fd46fd3756489069157b282bb200735",
                "d82710ca5c22f0ccfa7cbf93d496ac15a56834cbcf98c397b4024a2691233b8d"
            ),
            "83de3541e4c2b58177e065a9bf7b62ec",
        ),
        (
            CCM,
            concat!(
                "48af93501fa62adbcd414cce6034d895dda1bf8f132f042098661572e7483094",
                "fd12e518ce062c98acee28d95df4416bed31a2f04476c18bb40c84a74b97dc5b"
            ),
            "16842d4fa186f56ab33256971fa110f4",
        ),
    ];
    for (q, bd) in &rig.queues {
        for (mode, ct, want_tag) in cases {
            // GCM: nonce in bytes 0..12; CCM: byte 0 = L - 1 = 2, nonce in bytes 1..13.
            let mut civ = [0u8; 16];
            if mode == GCM {
                civ[..12].copy_from_slice(&nonce);
            } else {
                civ[0] = 2;
                civ[1..13].copy_from_slice(&nonce);
            }
            let mut src = aad.clone();
            src.extend(&p);
            let mut dst = vec![0u8; src.len()];
            let mut tag = vec![0u8; 16];
            let mut r = Req {
                dir: ENC,
                auth: CALC,
                c_alg: SM4,
                c_mode: mode,
                key_code: K128,
                mac_words: 4,
                c_len: p.len() as u32,
                a_len: aad.len() as u32,
                c_off: aad.len() as u16,
                src: src.as_ptr() as u64,
                dst: dst.as_mut_ptr() as u64,
                mac: tag.as_mut_ptr() as u64,
                c_key: k.as_ptr() as u64,
                c_iv: civ.as_ptr() as u64,
                de: 1,
                ..Default::default()
            };
            ok(q, *bd, &r);
            assert_eq!(dst[aad.len()..].to_vec(), hex(ct), "mode {mode} on {bd:?}");
            assert_eq!(tag, hex(want_tag), "mode {mode} tag on {bd:?}");
            let mut csrc = aad.clone();
            csrc.extend(hex(ct));
            let mut back = vec![0u8; csrc.len()];
            r.dir = DEC;
            r.auth = VERIFY;
            r.src = csrc.as_ptr() as u64;
            r.dst = back.as_mut_ptr() as u64;
            assert_eq!(submit(q, *bd, &r), (0, ICV_PASS, true));
            assert_eq!(back[aad.len()..].to_vec(), p);
        }
    }
}

#[test]
fn rejects_what_the_hardware_rejects() {
    let rig = rig("reject");
    let iv = iv();
    let k = key(64);
    let p = pt(64);
    let data = pt(100);
    // An address the device cannot access: a PROT_NONE reservation (an unmapped page could be
    // reused by the allocator of the emulator's threads while the test runs).
    // SAFETY: anonymous private reservation, never dereferenced, unmapped at the end.
    let hole = unsafe {
        let a = libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        assert_ne!(a, libc::MAP_FAILED);
        a as u64
    };
    for (q, bd) in &rig.queues {
        let bd = *bd;
        let mut out = vec![0u8; 64];
        let base = cipher_req(AES, CBC, K128, ENC, &k, &iv, &p, &mut out);
        ok(q, bd, &base);
        let with = |f: &dyn Fn(&mut Req)| {
            let mut r = base;
            f(&mut r);
            err(q, bd, &r)
        };
        // key length codes
        assert_eq!(with(&|r| r.key_code = 3), ERR_KEY_LEN);
        assert_eq!(with(&|r| r.key_code = 5), ERR_KEY_LEN);
        assert_eq!(with(&|r| (r.c_alg, r.key_code) = (SM4, K256)), ERR_KEY_LEN);
        assert_eq!(with(&|r| (r.c_mode, r.key_code) = (XTS, K192)), ERR_KEY_LEN);
        // lengths
        assert_eq!(with(&|r| r.c_len = 0), ERR_LENGTH);
        assert_eq!(with(&|r| r.c_len = 20), ERR_LENGTH);
        assert_eq!(with(&|r| (r.c_mode, r.c_len) = (ECB, 8)), ERR_LENGTH);
        assert_eq!(with(&|r| (r.c_mode, r.c_len) = (XTS, 15)), ERR_LENGTH);
        assert_eq!(with(&|r| r.c_len = 0xFF_FE10), ERR_LENGTH);
        // IV missing
        assert_eq!(with(&|r| r.c_iv = 0), ERR_IV);
        assert_eq!(with(&|r| (r.c_mode, r.c_iv) = (CTR, 0)), ERR_IV);
        // algorithm / mode codes
        assert_eq!(with(&|r| r.c_alg = 7), ERR_ALG);
        assert_eq!(with(&|r| r.c_mode = 8), ERR_ALG);
        let cbc_cs = with(&|r| (r.c_mode, r.width) = (CBC_CS, 1));
        assert_eq!(cbc_cs, if bd == SecBd::Bd3 { 0 } else { ERR_ALG });
        assert_eq!(with(&|r| r.c_mode = GCM), ERR_ALG); // GCM without auth
        assert_eq!(with(&|r| r.c_alg = DES), ERR_KEY_LEN); // DES needs key code 1
        assert_eq!(
            with(&|r| (r.c_alg, r.key_code, r.c_len) = (TDES, K192, 20)),
            ERR_LENGTH
        );
        assert_eq!(
            with(&|r| (r.c_alg, r.key_code, r.c_mode) = (TDES, K192, CTR)),
            ERR_ALG
        );
        assert_eq!(
            with(&|r| (r.c_alg, r.key_code, r.c_mode) = (TDES, K256, CBC)),
            ERR_KEY_LEN
        );
        let cfb = with(&|r| r.c_mode = CFB);
        match bd {
            SecBd::Bd2 => assert_eq!(cfb, ERR_ALG), // BD2 has no CFB
            SecBd::Bd3 => assert_eq!(cfb, 0),
        }
        // addresses
        assert_eq!(with(&|r| r.de = 0), ERR_ADDR_TYPE);
        assert_eq!(with(&|r| r.c_key = 0), ERR_ADDR_FAULT);
        assert_eq!(with(&|r| r.c_key = hole), ERR_ADDR_FAULT);
        assert_eq!(with(&|r| r.src = hole), ERR_ADDR_FAULT);
        assert_eq!(with(&|r| r.dst = hole), ERR_ADDR_FAULT);
        assert_eq!(with(&|r| r.c_iv = hole), ERR_ADDR_FAULT);
        // read-only destination (the text segment)
        assert_eq!(
            with(&|r| r.dst = hex as *const () as usize as u64),
            ERR_ADDR_FAULT
        );
        // AES-GCM tag shorter than 12 bytes
        let mut tag = [0u8; 16];
        let tagp = tag.as_mut_ptr() as u64;
        assert_eq!(
            with(&|r| {
                (r.c_mode, r.auth, r.mac_words) = (GCM, CALC, 2);
                r.mac = tagp;
            }),
            ERR_MAC_LEN
        );

        // digests
        let mut mac = vec![0u8; 64];
        let k20: Vec<u8> = (0x40..0x54).collect();
        let dbase = digest_req(0x11, CALC, 8, &data, &mut mac, &k20);
        ok(q, bd, &dbase);
        let dwith = |f: &dyn Fn(&mut Req)| {
            let mut r = dbase;
            f(&mut r);
            err(q, bd, &r)
        };
        assert_eq!(dwith(&|r| r.a_alg = 0x30), ERR_ALG);
        assert_eq!(dwith(&|r| r.a_alg = 0x08), ERR_ALG);
        // AES-XCBC: BD3 only, and not modelled there.
        let xcbc = dwith(&|r| r.a_alg = 0x20);
        assert_eq!(
            xcbc,
            if bd == SecBd::Bd3 {
                ERR_UNSUPPORTED
            } else {
                ERR_ALG
            }
        );
        assert_eq!(dwith(&|r| r.mac_words = 0), ERR_MAC_LEN);
        assert_eq!(dwith(&|r| r.mac_words = 9), ERR_MAC_LEN); // > 32 bytes for SHA-256
        assert_eq!(dwith(&|r| (r.a_alg, r.mac_words) = (0x10, 6)), ERR_MAC_LEN); // SHA-1: 20 B
        assert_eq!(dwith(&|r| r.akey_words = 0), ERR_KEY_LEN);
        assert_eq!(dwith(&|r| r.akey_words = 33), ERR_KEY_LEN);
        assert_eq!(dwith(&|r| r.a_len = 0), ERR_LENGTH);
        assert_eq!(dwith(&|r| r.mac = hole), ERR_ADDR_FAULT);
        assert_eq!(dwith(&|r| r.a_key = hole), ERR_ADDR_FAULT);
        // plain hash: no key needed
        assert_eq!(dwith(&|r| (r.a_alg, r.akey_words, r.a_key) = (0x01, 0, 0)), 0);
        // no operation at all / reserved auth code
        assert_eq!(dwith(&|r| r.auth = 0), ERR_ALG);
        assert_eq!(dwith(&|r| r.auth = 3), ERR_ALG);
        // cipher + HMAC (authenc): valid, not modelled
        assert_eq!(
            err(
                q,
                bd,
                &Req {
                    auth: CALC,
                    a_alg: 0x11,
                    mac_words: 8,
                    ..base
                }
            ),
            ERR_UNSUPPORTED
        );
    }
    // BD3 on the v2 device.
    let (q2, _) = &rig.queues[0];
    let mut out = vec![0u8; 64];
    let r = cipher_req(AES, CBC, K128, ENC, &k, &iv, &p, &mut out);
    assert_eq!(err(q2, SecBd::Bd3, &r), ERR_BD_TYPE);
    // SAFETY: the reservation made above, no longer used.
    unsafe { libc::munmap(hole as *mut libc::c_void, 4096) };
}
