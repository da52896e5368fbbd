//! Requests no SEC request can express run in software under every backend, `Device`
//! included, with a route that says why: every digest, HMAC, cipher and AEAD with a 0-byte
//! message (AEAD with and without AAD) on an emulated QM v2 (BD2) and v3 (BD3) SEC, with
//! fallback off, gives the software result. `Backend::Device` without a device still fails.

use std::path::PathBuf;
use std::sync::Arc;

use uadk_core::discovery::scan;
use uadk_crypto::device::sec::SecDriver;
use uadk_crypto::{
    AeadAlg, AeadSession, Algorithm, Backend, CipherAlg, CipherMode, CipherSession, Crypto, DigestAlg,
    DigestSession, Error, Policy, Ran, Reason, Route,
};
use uadk_emu::{DeviceKind, DeviceSpec, EmuConfig, Emulator};

struct Rig {
    emu: Option<Emulator>,
    dir: PathBuf,
}

impl Drop for Rig {
    fn drop(&mut self) {
        if let Some(e) = self.emu.take() {
            e.stop();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn rig() -> (Rig, Vec<Crypto>) {
    let dir = std::env::temp_dir().join(format!("uadk-crypto-zero-{}", std::process::id()));
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
    let contexts = devices
        .iter()
        .map(|d| {
            // Device only and no fallback: software may run only for what no SEC can express.
            let c = Crypto::with_policy(
                Backend::Device,
                Policy {
                    fallback: false,
                    ..Policy::default()
                },
            );
            c.add_device(Arc::new(SecDriver::open(d).unwrap()));
            c
        })
        .collect();
    (Rig { emu: Some(emu), dir }, contexts)
}

fn assert_not_expressible(route: &Route, what: &str, count: &mut u64) {
    *count += 1;
    assert_eq!(route.ran, Ran::Software, "{what}: {route}");
    assert!(
        matches!(route.reason, Reason::NotExpressible(_)),
        "{what}: {route}"
    );
    assert_eq!(
        route.to_string(),
        "software (0-byte message: not expressible as a SEC request)",
        "{what}"
    );
}

#[test]
fn zero_length_requests_complete_in_software_on_a_device_only_context() {
    let (_rig, contexts) = rig();
    let sw = Crypto::new(Backend::Software);
    for crypto in &contexts {
        let mut n = 0;
        for alg in DigestAlg::all() {
            let dev = DigestSession::new(crypto, alg).unwrap();
            let want = DigestSession::new(&sw, alg).unwrap().digest_to_vec(b"").unwrap();
            let mut got = vec![0u8; dev.output_len()];
            assert_not_expressible(&dev.digest(b"", &mut got).unwrap(), alg.name(), &mut n);
            assert_eq!(got, want, "{alg}");
            // A stream that never got data (an empty file through `uadk digest`).
            let mut h = dev.hasher().unwrap();
            h.update(b"").unwrap();
            let mut got = vec![0u8; dev.output_len()];
            assert_not_expressible(&h.finish(&mut got).unwrap(), alg.name(), &mut n);
            assert_eq!(got, want, "{alg} stream");

            let key = b"zero-length key";
            let dev = DigestSession::hmac(crypto, alg, key).unwrap();
            let want = DigestSession::hmac(&sw, alg, key)
                .unwrap()
                .digest_to_vec(b"")
                .unwrap();
            let mut got = vec![0u8; dev.output_len()];
            assert_not_expressible(&dev.digest(b"", &mut got).unwrap(), alg.hmac_name(), &mut n);
            assert_eq!(got, want, "hmac-{alg}");
        }
        for alg in CipherAlg::all() {
            let mut key: Vec<u8> = (0..alg.key_len()).map(|i| i as u8 + 1).collect();
            if alg.mode == CipherMode::Xts {
                // XTS needs a whole block: an empty message is bad input on every backend.
                key[alg.key_len() / 2] ^= 0x80;
            }
            let iv = vec![7u8; alg.iv_len()];
            let Ok(dev) = CipherSession::new(crypto, alg, &key) else {
                continue; // not offered by the SEC (AES-192-XTS): Backend::Device refuses it
            };
            let soft = CipherSession::software(alg, &key).unwrap();
            let r = dev.encrypt(&iv, &[], &mut []);
            if alg.mode == CipherMode::Xts {
                let (a, b) = (r.unwrap_err(), soft.encrypt(&iv, &[], &mut []).unwrap_err());
                assert_eq!(a.to_string(), b.to_string(), "{alg}");
                continue;
            }
            assert_not_expressible(&r.unwrap(), alg.name(), &mut n);
            assert_not_expressible(&dev.decrypt_in_place(&iv, &mut []).unwrap(), alg.name(), &mut n);
            let mut st = dev.encryptor(&iv).unwrap();
            assert_not_expressible(&st.update(&[], &mut []).unwrap(), alg.name(), &mut n);
        }
        for alg in AeadAlg::all() {
            let key = vec![9u8; alg.key_len()];
            let nonce = [3u8; 12];
            let dev = AeadSession::new(crypto, alg, &key, 16).unwrap();
            let soft = AeadSession::software(alg, &key, 16).unwrap();
            for aad in [&b""[..], b"header only"] {
                let mut tag = [0u8; 16];
                let r = dev.seal_in_place(&nonce, aad, &mut [], &mut tag).unwrap();
                assert_not_expressible(&r, alg.name(), &mut n);
                assert_eq!(tag.to_vec(), soft.seal_to_vec(&nonce, aad, b"").unwrap(), "{alg}");
                assert_not_expressible(
                    &dev.open_in_place(&nonce, aad, &mut [], &tag).unwrap(),
                    alg.name(),
                    &mut n,
                );
                // A wrong tag is still an authentication failure, not a device error.
                tag[0] ^= 1;
                let e = dev.open_in_place(&nonce, aad, &mut [], &tag).unwrap_err();
                assert!(matches!(e, Error::AuthenticationFailed { .. }), "{alg}: {e}");
            }
        }
        let st = crypto.stats();
        assert_eq!(
            (st.device_requests, st.device_errors, st.fallbacks),
            (0, 0, 0),
            "{st:?}"
        );
        assert_eq!(st.software_requests, n, "{st:?}");
    }
}

#[test]
fn device_backend_without_a_device_still_fails() {
    let c = Crypto::new(Backend::Device);
    let e = DigestSession::new(&c, DigestAlg::Sha1).unwrap_err();
    assert!(matches!(e, Error::NoDevice { .. }), "{e}");
    let gcm = AeadAlg::from_name("aes-128-gcm").unwrap();
    assert!(matches!(
        AeadSession::new(&c, gcm, &[0; 16], 16),
        Err(Error::NoDevice { .. })
    ));
    let _ = Algorithm::Aead(gcm);
}
