//! The SEC device path against an in-process emulator with a QM v2 (BD2) and a QM v3 (BD3)
//! SEC device: device results equal software results on random inputs of many sizes for
//! every offered algorithm, the route says the device ran, tag mismatches release no
//! plaintext, and injected device errors are redone in software (counted) or reported.

use std::path::PathBuf;
use std::sync::Arc;

use uadk_core::discovery::{scan, Device};
use uadk_core::sec_copy::SecBd;
use uadk_crypto::device::sec::{self, SecDriver};
use uadk_crypto::{
    AeadAlg, AeadMode, AeadSession, Algorithm, Backend, BlockCipher, CipherAlg, CipherMode, CipherSession,
    Crypto, DigestAlg, DigestSession, Error, Policy, Ran, Reason, SecDevice,
};
use uadk_emu::{DeviceKind, DeviceSpec, EmuConfig, Emulator, Faults};

struct Rig {
    emu: Option<Emulator>,
    dir: PathBuf,
    devices: Vec<Device>,
}

impl Drop for Rig {
    fn drop(&mut self) {
        if let Some(e) = self.emu.take() {
            e.stop();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Rig {
    fn new(tag: &str) -> Rig {
        let dir = std::env::temp_dir().join(format!("uadk-crypto-dev-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let cfg = EmuConfig {
            devices: vec![
                DeviceSpec::new(DeviceKind::Sec, 2),
                DeviceSpec::new(DeviceKind::Sec, 3),
            ],
            first_id: 0,
        };
        let emu = Emulator::start(&dir, &cfg).unwrap();
        let devices = scan(&emu.roots()).devices;
        assert_eq!(devices.len(), 2, "{devices:?}");
        Rig {
            emu: Some(emu),
            dir,
            devices,
        }
    }

    fn emu(&self) -> &Emulator {
        self.emu.as_ref().unwrap()
    }

    fn device(&self, v: u32) -> &Device {
        self.devices.iter().find(|d| d.qm_version == Some(v)).unwrap()
    }

    /// A `Backend::Device` context on the v2 or v3 device, and the driver.
    fn context(&self, v: u32, policy: Policy, backend: Backend) -> (Crypto, Arc<SecDriver>) {
        let drv = Arc::new(SecDriver::open(self.device(v)).unwrap());
        assert_eq!(drv.bd(), if v == 2 { SecBd::Bd2 } else { SecBd::Bd3 });
        let c = Crypto::with_policy(backend, policy);
        c.add_device(drv.clone());
        (c, drv)
    }
}

/// xorshift64*: deterministic test data without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn cipher_lens(mode: CipherMode) -> Vec<usize> {
    match mode {
        CipherMode::Ecb | CipherMode::Cbc => vec![16, 32, 48, 256, 1024, 4096, 65536 + 48],
        CipherMode::Ctr => vec![1, 15, 16, 17, 100, 1000, 4097, 70001],
        CipherMode::Xts => vec![16, 17, 31, 32, 100, 512, 4096, 65536 + 5],
    }
}

fn key_for(rng: &mut Rng, alg: CipherAlg) -> Vec<u8> {
    let mut k = rng.bytes(alg.key_len());
    if alg.mode == CipherMode::Xts {
        let h = k.len() / 2;
        k[h] = !k[0];
    }
    k
}

#[test]
fn ciphers_match_software_on_bd2_and_bd3() {
    let rig = Rig::new("cipher");
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for v in [2, 3] {
        let (crypto, drv) = rig.context(v, Policy::default(), Backend::Device);
        let mut offered = 0;
        for alg in CipherAlg::all() {
            if !drv.offers(Algorithm::Cipher(alg)) {
                assert_eq!((alg.block, alg.mode), (BlockCipher::Aes192, CipherMode::Xts));
                continue;
            }
            offered += 1;
            let key = key_for(&mut rng, alg);
            let dev = CipherSession::new(&crypto, alg, &key).unwrap();
            let sw = CipherSession::software(alg, &key).unwrap();
            for len in cipher_lens(alg.mode) {
                let iv = rng.bytes(alg.iv_len());
                let pt = rng.bytes(len);
                let mut want = vec![0u8; len];
                sw.encrypt(&iv, &pt, &mut want).unwrap();
                let mut got = vec![0u8; len];
                let route = dev.encrypt(&iv, &pt, &mut got).unwrap();
                assert_eq!(route.ran, Ran::Device, "{alg} {len} on v{v}: {route}");
                assert_eq!(got, want, "{alg} encrypt {len} B on v{v}");
                // In place, decrypting back.
                let route = dev.decrypt_in_place(&iv, &mut got).unwrap();
                assert_eq!(route.ran, Ran::Device);
                assert_eq!(got, pt, "{alg} decrypt {len} B on v{v}");
            }
        }
        assert_eq!(offered, 15);
        let st = crypto.stats();
        assert_eq!(st.software_requests, 0, "{st:?}");
        assert!(st.device_requests > 200, "{st:?}");
    }
}

#[test]
fn cipher_streams_chain_ivs_across_device_requests() {
    let rig = Rig::new("stream");
    let mut rng = Rng(77);
    let (crypto, _) = rig.context(3, Policy::default(), Backend::Device);
    for name in ["aes-128-cbc", "sm4-ctr", "aes-256-ctr"] {
        let alg = CipherAlg::from_name(name).unwrap();
        let key = key_for(&mut rng, alg);
        let dev = CipherSession::new(&crypto, alg, &key).unwrap();
        let sw = CipherSession::software(alg, &key).unwrap();
        let iv = rng.bytes(16);
        let msg = rng.bytes(4096);
        let mut want = vec![0u8; msg.len()];
        sw.encrypt(&iv, &msg, &mut want).unwrap();
        let mut got = vec![0u8; msg.len()];
        let mut st = dev.encryptor(&iv).unwrap();
        let mut at = 0;
        for part in [512usize, 1024, 16, 2544] {
            st.update(&msg[at..at + part], &mut got[at..at + part]).unwrap();
            at += part;
        }
        assert_eq!(got, want, "{name}");
    }
    assert_eq!(crypto.stats().software_requests, 0);
}

#[test]
fn digests_and_hmacs_match_software_on_bd2_and_bd3() {
    let rig = Rig::new("digest");
    let mut rng = Rng(0xfeed_beef);
    let lens = [1usize, 3, 55, 56, 64, 100, 1000, 4097, 70_000];
    for v in [2, 3] {
        let (crypto, drv) = rig.context(v, Policy::default(), Backend::Device);
        let sw_ctx = Crypto::new(Backend::Software);
        for alg in DigestAlg::all() {
            assert!(drv.offers(Algorithm::Digest(alg)) && drv.offers(Algorithm::Hmac(alg)));
            let dev = DigestSession::new(&crypto, alg).unwrap();
            let sw = DigestSession::new(&sw_ctx, alg).unwrap();
            for len in lens {
                let data = rng.bytes(len);
                let mut got = vec![0u8; dev.output_len()];
                let route = dev.digest(&data, &mut got).unwrap();
                assert_eq!(route.ran, Ran::Device, "{alg} {len}: {route}");
                assert_eq!(got, sw.digest_to_vec(&data).unwrap(), "{alg} {len} B on v{v}");
            }
            // Keys: empty, not whole words, a block, longer than the block (hashed first).
            for klen in [0usize, 5, 20, 64, 100, 128, 129, 200] {
                let key = rng.bytes(klen);
                let dev = DigestSession::hmac(&crypto, alg, &key).unwrap();
                let sw = DigestSession::hmac(&sw_ctx, alg, &key).unwrap();
                for len in [1usize, 64, 1000, 5000] {
                    let data = rng.bytes(len);
                    let mut got = vec![0u8; dev.output_len()];
                    let route = dev.digest(&data, &mut got).unwrap();
                    assert_eq!(route.ran, Ran::Device);
                    assert_eq!(
                        got,
                        sw.digest_to_vec(&data).unwrap(),
                        "hmac-{alg} key {klen} data {len} on v{v}"
                    );
                }
            }
        }
        let st = crypto.stats();
        assert_eq!((st.software_requests, st.device_errors), (0, 0), "{st:?}");
    }
}

fn aead_tags(mode: AeadMode) -> &'static [usize] {
    match mode {
        AeadMode::Gcm => &[12, 16],
        AeadMode::Ccm => &[4, 8, 12, 16],
    }
}

fn nonce_lens(mode: AeadMode) -> &'static [usize] {
    match mode {
        AeadMode::Gcm => &[12],
        AeadMode::Ccm => &[7, 11, 12, 13],
    }
}

#[test]
fn aeads_match_software_on_bd2_and_bd3_and_mismatches_release_nothing() {
    let rig = Rig::new("aead");
    let mut rng = Rng(0xa5a5_1234);
    for v in [2, 3] {
        let (crypto, drv) = rig.context(v, Policy::default(), Backend::Device);
        for alg in AeadAlg::all() {
            assert!(drv.offers(Algorithm::Aead(alg)));
            let key = rng.bytes(alg.key_len());
            for &tag_len in aead_tags(alg.mode) {
                let dev = AeadSession::new(&crypto, alg, &key, tag_len).unwrap();
                let sw = AeadSession::software(alg, &key, tag_len).unwrap();
                for &nlen in nonce_lens(alg.mode) {
                    // With a 13-byte nonce CCM carries at most 65535 bytes.
                    let big = if nlen == 13 { 65_000 } else { 65_600 };
                    for (len, aad_len) in [
                        (1usize, 0usize),
                        (16, 13),
                        (33, 300),
                        (1000, 20),
                        (5000, 0),
                        (big, 64),
                    ] {
                        let nonce = rng.bytes(nlen);
                        let aad = rng.bytes(aad_len);
                        let pt = rng.bytes(len);
                        let want = sw.seal_to_vec(&nonce, &aad, &pt).unwrap();
                        let mut buf = pt.clone();
                        let mut tag = vec![0u8; tag_len];
                        let route = dev.seal_in_place(&nonce, &aad, &mut buf, &mut tag).unwrap();
                        assert_eq!(route.ran, Ran::Device, "{alg} {route}");
                        assert_eq!(
                            buf,
                            want[..len],
                            "{alg} tag {tag_len} len {len} aad {aad_len} v{v}"
                        );
                        assert_eq!(
                            tag,
                            want[len..],
                            "{alg} tag {tag_len} len {len} aad {aad_len} v{v}"
                        );
                        let route = dev.open_in_place(&nonce, &aad, &mut buf, &tag).unwrap();
                        assert_eq!(route.ran, Ran::Device);
                        assert_eq!(buf, pt);
                        // Out of place, tampered tag: error, output zeroed, never plaintext.
                        tag[tag_len - 1] ^= 0x40;
                        let mut out = vec![0xEEu8; len];
                        let err = dev.open(&nonce, &aad, &want[..len], &tag, &mut out).unwrap_err();
                        assert!(matches!(err, Error::AuthenticationFailed { .. }), "{err}");
                        assert!(out.iter().all(|&b| b == 0));
                        // In place, tampered ciphertext.
                        tag[tag_len - 1] ^= 0x40;
                        let mut ct = want[..len].to_vec();
                        ct[len / 2] ^= 1;
                        let err = dev.open_in_place(&nonce, &aad, &mut ct, &tag).unwrap_err();
                        assert!(matches!(err, Error::AuthenticationFailed { .. }));
                        assert!(ct.iter().all(|&b| b == 0));
                    }
                }
            }
        }
        let st = crypto.stats();
        assert_eq!(
            (st.software_requests, st.fallbacks, st.device_errors),
            (0, 0, 0),
            "{st:?}"
        );
        assert!(st.device_requests > 500, "{st:?}");
    }
}

#[test]
fn shapes_the_device_cannot_take_run_in_software() {
    let rig = Rig::new("shapes");
    let (crypto, _) = rig.context(3, Policy::default(), Backend::Auto);
    // GCM with a 13-byte tag: the SEC takes whole words only; the session runs in software.
    let alg = AeadAlg::from_name("aes-128-gcm").unwrap();
    let s = AeadSession::new(&crypto, alg, &[3; 16], 13).unwrap();
    let sealed = s.seal_to_vec(&[1; 12], b"", &[9; 5000]).unwrap();
    let sw = AeadSession::software(alg, &[3; 16], 13).unwrap();
    assert_eq!(sealed, sw.seal_to_vec(&[1; 12], b"", &[9; 5000]).unwrap());
    // An empty message digest: software.
    let d = DigestSession::new(&Crypto::new(Backend::Software), DigestAlg::Sha256).unwrap();
    let dev = DigestSession::new(&crypto, DigestAlg::Sha256).unwrap();
    assert_eq!(dev.digest_to_vec(b"").unwrap(), d.digest_to_vec(b"").unwrap());
    // AES-192-XTS is not offered.
    let x = CipherAlg::from_name("aes-192-xts").unwrap();
    let mut key = vec![1u8; 48];
    key[24] = 2;
    let s = CipherSession::new(&crypto, x, &key).unwrap();
    let r = s.encrypt(&[0; 16], &[5; 4096], &mut [0; 4096]).unwrap();
    assert_eq!(r.ran, Ran::Software);
    assert!(matches!(r.reason, Reason::NoDevice(_)), "{r}");
}

#[test]
fn auto_uses_the_device_above_the_small_packet_thresholds() {
    let rig = Rig::new("auto");
    let crypto = Crypto::auto();
    let name = sec::attach(&crypto, &rig.emu().roots()).unwrap();
    assert!(name.starts_with("hisi_sec2-"), "{name}");
    let cbc = CipherSession::new(&crypto, CipherAlg::from_name("aes-128-cbc").unwrap(), &[7; 16]).unwrap();
    let mut out = vec![0u8; 4096];
    let small = cbc.encrypt(&[0; 16], &[1; 64], &mut out[..64]).unwrap();
    assert!(matches!(small.reason, Reason::SmallPacket { .. }), "{small}");
    let big = cbc.encrypt(&[0; 16], &[1; 4096], &mut out).unwrap();
    assert_eq!(big.ran, Ran::Device, "{big}");
    assert_eq!(big.to_string(), format!("device ({name} offers it)"));
    let sm3 = DigestSession::new(&crypto, DigestAlg::Sm3).unwrap();
    let mut d = [0u8; 32];
    assert_eq!(sm3.digest(&[1; 100], &mut d).unwrap().ran, Ran::Device);
    let st = crypto.stats();
    assert_eq!((st.device_requests, st.small_packets), (2, 1), "{st:?}");
}

#[test]
fn injected_device_errors_fall_back_to_software_and_are_counted() {
    let rig = Rig::new("faults");
    let mut rng = Rng(99);
    for v in [2, 3] {
        let (crypto, _) = rig.context(v, Policy::default(), Backend::Auto);
        let (strict, _) = rig.context(
            v,
            Policy {
                fallback: false,
                ..Policy::default()
            },
            Backend::Auto,
        );
        let name = rig.device(v).name.clone();
        rig.emu()
            .set_faults(
                &name,
                Faults {
                    error_rate: 1.0,
                    ..Faults::default()
                },
            )
            .unwrap();
        let cbc = CipherAlg::from_name("sm4-cbc").unwrap();
        let key = rng.bytes(16);
        let s = CipherSession::new(&crypto, cbc, &key).unwrap();
        let sw = CipherSession::software(cbc, &key).unwrap();
        let pt = rng.bytes(4096);
        let mut want = vec![0u8; 4096];
        sw.encrypt(&[2; 16], &pt, &mut want).unwrap();
        let mut got = pt.clone();
        let r = s.encrypt_in_place(&[2; 16], &mut got).unwrap();
        assert_eq!(r.ran, Ran::Software);
        assert!(matches!(r.reason, Reason::Fallback(_)), "{r}");
        assert_eq!(got, want);

        let d = DigestSession::hmac(&crypto, DigestAlg::Sha256, b"key").unwrap();
        let dsw = DigestSession::hmac(&Crypto::new(Backend::Software), DigestAlg::Sha256, b"key").unwrap();
        assert_eq!(d.digest_to_vec(&pt).unwrap(), dsw.digest_to_vec(&pt).unwrap());

        let gcm = AeadAlg::from_name("sm4-gcm").unwrap();
        let a = AeadSession::new(&crypto, gcm, &key, 16).unwrap();
        let asw = AeadSession::software(gcm, &key, 16).unwrap();
        let sealed = a.seal_to_vec(&[5; 12], b"hdr", &pt).unwrap();
        assert_eq!(sealed, asw.seal_to_vec(&[5; 12], b"hdr", &pt).unwrap());
        assert_eq!(a.open_to_vec(&[5; 12], b"hdr", &sealed).unwrap(), pt);
        let mut bad = sealed.clone();
        bad[10] ^= 1;
        assert!(matches!(
            a.open_to_vec(&[5; 12], b"hdr", &bad),
            Err(Error::AuthenticationFailed { .. })
        ));

        let st = crypto.stats();
        assert_eq!(st.device_requests, 0, "{st:?}");
        // cipher, HMAC, seal, open; the tampered open fell back too but failed (uncounted).
        assert_eq!(st.fallbacks, 4, "{st:?}");
        assert_eq!(st.device_errors, 0, "{st:?}");

        // Fallback off: a clear error, counted, and no plaintext from a failed open.
        let s = CipherSession::new(&strict, cbc, &key).unwrap();
        let err = s.encrypt(&[2; 16], &pt, &mut got).unwrap_err();
        assert!(matches!(err, Error::Device { .. }), "{err}");
        assert!(err.to_string().contains("error_type"), "{err}");
        let a = AeadSession::new(&strict, gcm, &key, 16).unwrap();
        let mut out = vec![0xEEu8; pt.len()];
        let (ct, tag) = sealed.split_at(pt.len());
        assert!(matches!(
            a.open(&[5; 12], b"hdr", ct, tag, &mut out),
            Err(Error::Device { .. })
        ));
        assert!(out.iter().all(|&b| b == 0));
        assert_eq!(strict.stats().device_errors, 2);

        // Healthy again: back on the device.
        rig.emu().set_faults(&name, Faults::default()).unwrap();
        let mut got = pt.clone();
        let s = CipherSession::new(&crypto, cbc, &key).unwrap();
        assert_eq!(s.encrypt_in_place(&[2; 16], &mut got).unwrap().ran, Ran::Device);
        assert_eq!(got, want);
    }
}

#[test]
fn a_reset_device_gets_a_new_queue() {
    let rig = Rig::new("reset");
    let (crypto, _) = rig.context(3, Policy::default(), Backend::Auto);
    let alg = CipherAlg::from_name("aes-256-ctr").unwrap();
    let s = CipherSession::new(&crypto, alg, &[4; 32]).unwrap();
    let mut buf = vec![1u8; 8192];
    assert_eq!(s.encrypt_in_place(&[0; 16], &mut buf).unwrap().ran, Ran::Device);
    rig.emu().reset(&rig.device(3).name).unwrap();
    // The stopped queue fails at most once (redone in software), then a new one is opened.
    let mut ran = Vec::new();
    for _ in 0..3 {
        let mut b = vec![1u8; 8192];
        ran.push(s.encrypt_in_place(&[0; 16], &mut b).unwrap().ran);
        assert_eq!(b, buf);
    }
    assert_eq!(ran.last(), Some(&Ran::Device), "{ran:?}");
}

#[test]
fn threads_share_sessions_and_the_queue_pool() {
    let rig = Rig::new("threads");
    let (crypto, _) = rig.context(2, Policy::default(), Backend::Device);
    let alg = CipherAlg::from_name("sm4-ctr").unwrap();
    let cipher = Arc::new(CipherSession::new(&crypto, alg, &[6; 16]).unwrap());
    let sw = Arc::new(CipherSession::software(alg, &[6; 16]).unwrap());
    let gcm = Arc::new(
        AeadSession::new(&crypto, AeadAlg::from_name("aes-256-gcm").unwrap(), &[8; 32], 16).unwrap(),
    );
    let handles: Vec<_> = (0..6u64)
        .map(|t| {
            let (cipher, sw, gcm) = (cipher.clone(), sw.clone(), gcm.clone());
            std::thread::spawn(move || {
                let mut rng = Rng(t + 1);
                for i in 0..40 {
                    let len = 1 + (rng.next() % 9000) as usize;
                    let pt = rng.bytes(len);
                    let iv = rng.bytes(16);
                    let (mut a, mut b) = (vec![0u8; len], vec![0u8; len]);
                    assert_eq!(cipher.encrypt(&iv, &pt, &mut a).unwrap().ran, Ran::Device);
                    sw.encrypt(&iv, &pt, &mut b).unwrap();
                    assert_eq!(a, b, "thread {t} request {i}");
                    let nonce = rng.bytes(12);
                    let sealed = gcm.seal_to_vec(&nonce, &iv, &pt).unwrap();
                    assert_eq!(gcm.open_to_vec(&nonce, &iv, &sealed).unwrap(), pt);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let st = crypto.stats();
    assert_eq!(
        (st.device_requests, st.software_requests),
        (6 * 40 * 3, 0),
        "{st:?}"
    );
}

/// Feeds `data` to a fresh hasher of `s` in pieces of `step` bytes.
fn stream(s: &DigestSession, data: &[u8], step: usize) -> uadk_crypto::Result<(Vec<u8>, uadk_crypto::Route)> {
    let mut h = s.hasher()?;
    for piece in data.chunks(step.max(1)) {
        h.update(piece)?;
    }
    let mut out = vec![0u8; s.output_len()];
    let route = h.finish(&mut out)?;
    Ok((out, route))
}

#[test]
fn long_hash_streams_on_the_device_match_software_on_bd2_and_bd3() {
    let rig = Rig::new("longhash");
    let mut rng = Rng(0x10_4a54);
    // Around the 64 KiB request size and the block sizes, and a few requests long.
    let lens = [1usize, 65_535, 65_536, 65_537, 200_017];
    let data = rng.bytes(200_017);
    for v in [2, 3] {
        let (crypto, _) = rig.context(v, Policy::default(), Backend::Device);
        let sw_ctx = Crypto::new(Backend::Software);
        for alg in DigestAlg::all() {
            let key = rng.bytes(if alg == DigestAlg::Sha512 { 150 } else { 20 });
            let pairs = [
                (
                    DigestSession::new(&crypto, alg).unwrap(),
                    DigestSession::new(&sw_ctx, alg).unwrap(),
                ),
                (
                    DigestSession::hmac(&crypto, alg, &key).unwrap(),
                    DigestSession::hmac(&sw_ctx, alg, &key).unwrap(),
                ),
            ];
            for (dev, sw) in &pairs {
                for len in lens {
                    let want = sw.digest_to_vec(&data[..len]).unwrap();
                    // Small pieces (gathered into requests), pieces larger than a request
                    // (sent straight from the caller's buffer), and odd splits.
                    for step in [1000usize, 70_001, 131_072 + 3] {
                        let (got, route) = stream(dev, &data[..len], step).unwrap();
                        assert_eq!(
                            got,
                            want,
                            "{} {len} B in {step} B pieces on v{v}",
                            dev.algorithm()
                        );
                        assert_eq!(route.ran, Ran::Device, "{route}");
                    }
                }
            }
        }
        let st = crypto.stats();
        assert_eq!((st.software_requests, st.device_errors), (0, 0), "{st:?}");
    }
}

#[test]
fn a_device_failing_mid_stream_resumes_in_software_or_fails_loudly() {
    let rig = Rig::new("longhash-faults");
    let mut rng = Rng(0xdead_0001);
    let data = rng.bytes(300_001);
    for v in [2, 3] {
        let name = rig.device(v).name.clone();
        let (crypto, _) = rig.context(v, Policy::default(), Backend::Auto);
        let (strict, _) = rig.context(v, Policy::default(), Backend::Device);
        let sw_ctx = Crypto::new(Backend::Software);
        for (alg, resumable) in [
            (DigestAlg::Sha256, true),
            (DigestAlg::Sha384, true),
            (DigestAlg::Sha1, true),
            (DigestAlg::Sm3, false),
            (DigestAlg::Md5, false),
        ] {
            for hmac in [false, true] {
                let open = |c: &Crypto| {
                    if hmac {
                        DigestSession::hmac(c, alg, b"stream key").unwrap()
                    } else {
                        DigestSession::new(c, alg).unwrap()
                    }
                };
                let (dev, strict_dev, sw) = (open(&crypto), open(&strict), open(&sw_ctx));
                let want = sw.digest_to_vec(&data).unwrap();
                for s in [&dev, &strict_dev] {
                    let mut h = s.hasher().unwrap();
                    // Two requests reach the device healthy ...
                    h.update(&data[..150_000]).unwrap();
                    rig.emu()
                        .set_faults(
                            &name,
                            Faults {
                                error_rate: 1.0,
                                ..Faults::default()
                            },
                        )
                        .unwrap();
                    // ... then every request fails.
                    let r = h.update(&data[150_000..]).and_then(|_| h.finish_to_vec());
                    rig.emu().set_faults(&name, Faults::default()).unwrap();
                    let fallback = std::ptr::eq(s, &dev);
                    match r {
                        Ok(got) => {
                            assert!(resumable && fallback, "{alg} hmac {hmac} v{v}");
                            assert_eq!(got, want, "{alg} hmac {hmac} resumed on v{v}");
                        }
                        Err(Error::StreamLost { absorbed, .. }) => {
                            assert!(!resumable || !fallback, "{alg} hmac {hmac} v{v}");
                            assert!(absorbed >= 65_536, "{absorbed}");
                            // The stream is over; it does not silently restart.
                            assert!(matches!(h.update(b"x"), Err(Error::Finished { .. })));
                        }
                        Err(e) => panic!("{alg} hmac {hmac} v{v}: {e}"),
                    }
                }
            }
        }
        assert!(crypto.stats().fallbacks >= 6, "{:?}", crypto.stats());
    }
}

mod batch {
    use super::*;
    use std::collections::HashMap;
    use std::time::Duration;
    use uadk_crypto::batch::{DeviceBatch, Job, Output};

    /// Sessions on the device context and their software twins.
    struct Kit {
        cbc: (Arc<CipherSession>, CipherSession),
        ctr: (Arc<CipherSession>, CipherSession),
        sha: (Arc<DigestSession>, DigestSession),
        hsm3: (Arc<DigestSession>, DigestSession),
        gcm: (Arc<AeadSession>, AeadSession),
        ccm: (Arc<AeadSession>, AeadSession),
    }

    fn kit(crypto: &Crypto, rng: &mut Rng) -> Kit {
        let sw = Crypto::new(Backend::Software);
        let c = |name: &str, rng: &mut Rng| {
            let alg = CipherAlg::from_name(name).unwrap();
            let key = rng.bytes(alg.key_len());
            (
                Arc::new(CipherSession::new(crypto, alg, &key).unwrap()),
                CipherSession::software(alg, &key).unwrap(),
            )
        };
        let a = |name: &str, tag: usize, rng: &mut Rng| {
            let alg = AeadAlg::from_name(name).unwrap();
            let key = rng.bytes(alg.key_len());
            (
                Arc::new(AeadSession::new(crypto, alg, &key, tag).unwrap()),
                AeadSession::software(alg, &key, tag).unwrap(),
            )
        };
        let hkey = rng.bytes(40);
        Kit {
            cbc: c("aes-256-cbc", rng),
            ctr: c("sm4-ctr", rng),
            sha: (
                Arc::new(DigestSession::new(crypto, DigestAlg::Sha256).unwrap()),
                DigestSession::new(&sw, DigestAlg::Sha256).unwrap(),
            ),
            hsm3: (
                Arc::new(DigestSession::hmac(crypto, DigestAlg::Sm3, &hkey).unwrap()),
                DigestSession::hmac(&sw, DigestAlg::Sm3, &hkey).unwrap(),
            ),
            gcm: a("aes-128-gcm", 16, rng),
            ccm: a("sm4-ccm", 8, rng),
        }
    }

    /// What a job must produce, computed in software.
    enum Want {
        Data(Vec<u8>),
        Digest(Vec<u8>),
        Sealed(Vec<u8>, Vec<u8>),
        AuthFail,
    }

    /// Submits `n` random jobs (sizes from 16 B to 96 KiB, below and above the thresholds;
    /// one open in seven with a bad tag) and checks every completion against software.
    /// Returns the most requests seen in flight at once.
    fn run_jobs(b: &mut DeviceBatch, k: &Kit, rng: &mut Rng, n: usize) -> usize {
        let mut want = HashMap::new();
        let mut peak = 0;
        let mut done = Vec::new();
        for i in 0..n {
            let len = match rng.next() % 4 {
                0 => 16 * (1 + rng.next() as usize % 8),
                1 => 16 * (1 + rng.next() as usize % 256),
                _ => 16 * (1 + rng.next() as usize % 6144),
            };
            let data = rng.bytes(len);
            let (job, w) = match i % 6 {
                0 => {
                    let iv = rng.bytes(16);
                    let mut out = vec![0u8; len];
                    k.cbc.1.encrypt(&iv, &data, &mut out).unwrap();
                    (
                        Job::Encrypt {
                            session: k.cbc.0.clone(),
                            iv,
                            data,
                        },
                        Want::Data(out),
                    )
                }
                1 => {
                    let iv = rng.bytes(16);
                    let data = data[..len - 3].to_vec();
                    let mut out = vec![0u8; data.len()];
                    k.ctr.1.decrypt(&iv, &data, &mut out).unwrap();
                    (
                        Job::Decrypt {
                            session: k.ctr.0.clone(),
                            iv,
                            data,
                        },
                        Want::Data(out),
                    )
                }
                2 => {
                    let d = k.sha.1.digest_to_vec(&data).unwrap();
                    (
                        Job::Digest {
                            session: k.sha.0.clone(),
                            data,
                        },
                        Want::Digest(d),
                    )
                }
                3 => {
                    let d = k.hsm3.1.digest_to_vec(&data).unwrap();
                    (
                        Job::Digest {
                            session: k.hsm3.0.clone(),
                            data,
                        },
                        Want::Digest(d),
                    )
                }
                4 => {
                    let nonce = rng.bytes(12);
                    let alen = rng.next() as usize % 40;
                    let aad = rng.bytes(alen);
                    let mut ct = data.clone();
                    let mut tag = vec![0u8; 16];
                    k.gcm.1.seal_in_place(&nonce, &aad, &mut ct, &mut tag).unwrap();
                    (
                        Job::Seal {
                            session: k.gcm.0.clone(),
                            nonce,
                            aad,
                            data,
                        },
                        Want::Sealed(ct, tag),
                    )
                }
                _ => {
                    let nlen = 7 + rng.next() as usize % 6;
                    let nonce = rng.bytes(nlen);
                    let alen = rng.next() as usize % 40;
                    let aad = rng.bytes(alen);
                    let mut ct = data.clone();
                    let mut tag = vec![0u8; 8];
                    k.ccm.1.seal_in_place(&nonce, &aad, &mut ct, &mut tag).unwrap();
                    let bad = rng.next().is_multiple_of(7);
                    if bad {
                        tag[0] ^= 0x80;
                    }
                    (
                        Job::Open {
                            session: k.ccm.0.clone(),
                            nonce,
                            aad,
                            data: ct,
                            tag,
                        },
                        if bad { Want::AuthFail } else { Want::Data(data) },
                    )
                }
            };
            let id = b.submit(job).unwrap();
            want.insert(id, w);
            peak = peak.max(b.in_flight());
            if i % 8 == 0 {
                while let Some(c) = b.poll() {
                    done.push(c);
                }
            }
        }
        done.extend(b.drain(Duration::from_secs(20)));
        assert_eq!(b.in_flight(), 0);
        assert_eq!(done.len(), n);
        for c in done {
            let w = want.remove(&c.id).expect("one completion per job");
            match (w, c.result) {
                (Want::Data(x), Ok((Output::Data(y), _))) => assert_eq!(x, y, "job {}", c.id),
                (Want::Digest(x), Ok((Output::Digest(y), _))) => assert_eq!(x, y, "job {}", c.id),
                (Want::Sealed(x, t), Ok((Output::Sealed { ciphertext, tag }, _))) => {
                    assert_eq!((x, t), (ciphertext, tag), "job {}", c.id)
                }
                (Want::AuthFail, Err(Error::AuthenticationFailed { .. })) => {}
                (_, r) => panic!("job {}: unexpected {r:?}", c.id),
            }
        }
        peak
    }

    #[test]
    fn one_thread_keeps_several_queues_busy_and_results_equal_software() {
        let rig = Rig::new("batch");
        let mut rng = Rng(0xba7c_0001);
        for v in [2, 3] {
            let (crypto, _) = rig.context(v, Policy::default(), Backend::Auto);
            let k = kit(&crypto, &mut rng);
            let mut b = DeviceBatch::new(&crypto, 4).unwrap();
            assert_eq!(b.device_queues(), 1);
            let peak = run_jobs(&mut b, &k, &mut rng, 600);
            let st = crypto.stats();
            eprintln!("v{v}: peak {peak} requests in flight; {st:?}");
            assert!(peak >= 8, "at most {peak} requests in flight");
            assert!(st.device_requests > 200, "{st:?}");
            assert!(st.small_packets > 10, "{st:?}");
            assert_eq!((st.fallbacks, st.device_errors), (0, 0), "{st:?}");
            // Emulator engines: more than one queue did work.
            let status = rig.emu().status();
            let dev = status
                .devices
                .iter()
                .find(|d| d.name == rig.device(v).name)
                .unwrap();
            let busy_queues = dev.engines.iter().filter(|e| e.counters.requests > 0).count();
            assert!(busy_queues >= 2, "{busy_queues} queues did work");
        }
    }

    #[test]
    fn injected_errors_are_redone_in_software_and_counted() {
        let rig = Rig::new("batch-faults");
        let mut rng = Rng(0xba7c_0002);
        for v in [2, 3] {
            let name = rig.device(v).name.clone();
            rig.emu()
                .set_faults(
                    &name,
                    Faults {
                        error_rate: 0.3,
                        ..Faults::default()
                    },
                )
                .unwrap();
            let (crypto, _) = rig.context(v, Policy::default(), Backend::Auto);
            let k = kit(&crypto, &mut rng);
            let mut b = DeviceBatch::new(&crypto, 3).unwrap();
            run_jobs(&mut b, &k, &mut rng, 300);
            let st = crypto.stats();
            assert!(st.fallbacks > 20, "{st:?}");
            assert!(st.device_requests > 20, "{st:?}");
            assert_eq!(st.device_errors, 0, "{st:?}");

            // Backend::Device: the same failures are errors, counted; an open never
            // releases plaintext.
            rig.emu()
                .set_faults(
                    &name,
                    Faults {
                        error_rate: 1.0,
                        ..Faults::default()
                    },
                )
                .unwrap();
            let (strict, _) = rig.context(v, Policy::default(), Backend::Device);
            let k = kit(&strict, &mut rng);
            let mut b = DeviceBatch::new(&strict, 2).unwrap();
            let pt = rng.bytes(4096);
            let mut ct = pt.clone();
            let mut tag = vec![0u8; 8];
            k.ccm.1.seal_in_place(&[1; 12], b"", &mut ct, &mut tag).unwrap();
            for _ in 0..10 {
                b.submit(Job::Open {
                    session: k.ccm.0.clone(),
                    nonce: vec![1; 12],
                    aad: vec![],
                    data: ct.clone(),
                    tag: tag.clone(),
                })
                .unwrap();
            }
            let done = b.drain(Duration::from_secs(10));
            assert_eq!(done.len(), 10);
            assert!(done.iter().all(|c| matches!(c.result, Err(Error::Device { .. }))));
            assert_eq!(strict.stats().device_errors, 10);
            rig.emu().set_faults(&name, Faults::default()).unwrap();
        }
    }
}
