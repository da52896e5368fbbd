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
