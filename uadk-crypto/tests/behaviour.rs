//! Bad input is an error (never a panic), routes and counters tell what ran and why, the
//! device seam falls back as configured, and streams equal one-shots.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use uadk_crypto::*;

fn cipher(name: &str, key: &[u8]) -> CipherSession {
    CipherSession::software(CipherAlg::from_name(name).unwrap(), key).unwrap()
}

/// Deterministic pseudo-random bytes (xorshift), for data that is not all one value.
fn bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn wrong_lengths_are_errors() {
    for alg in CipherAlg::all() {
        let key = bytes(1, alg.key_len());
        let e = CipherSession::software(alg, &key[1..]).unwrap_err();
        assert!(matches!(e, Error::KeyLength { .. }), "{alg}");
        let s = CipherSession::software(alg, &key).unwrap();
        let bad_iv = vec![0u8; alg.iv_len() + 1];
        let mut buf = [0u8; 32];
        assert!(
            matches!(s.encrypt_in_place(&bad_iv, &mut buf), Err(Error::IvLength { .. })),
            "{alg}"
        );
        let mut out = [0u8; 31];
        let iv = vec![0u8; alg.iv_len()];
        assert!(
            matches!(s.encrypt(&iv, &buf, &mut out), Err(Error::OutputLength { .. })),
            "{alg}"
        );
    }
    for alg in AeadAlg::all() {
        let key = bytes(2, alg.key_len());
        assert!(matches!(
            AeadSession::software(alg, &key[..5], 16),
            Err(Error::KeyLength { .. })
        ));
        assert!(matches!(
            AeadSession::software(alg, &key, 3),
            Err(Error::TagLength { .. })
        ));
        let s = AeadSession::software(alg, &key, 16).unwrap();
        let mut tag = [0u8; 16];
        let mut buf = [0u8; 8];
        assert!(
            matches!(
                s.seal_in_place(&[0; 16], b"", &mut buf, &mut tag),
                Err(Error::NonceLength { .. })
            ),
            "{alg}"
        );
        assert!(
            matches!(
                s.seal_in_place(&[0; 12], b"", &mut buf, &mut tag[..8]),
                Err(Error::TagLength { .. })
            ),
            "{alg}"
        );
        assert!(
            matches!(
                s.open_to_vec(&[0; 12], b"", &[0; 5]),
                Err(Error::DataLength { .. })
            ),
            "{alg}"
        );
        // Found by fuzz/aead_open: every failed open leaves zeros, bad lengths included.
        let mut out = [0xaau8; 4];
        assert!(s.open(&[], b"", &[1; 4], &[0; 16], &mut out).is_err());
        assert_eq!(out, [0; 4], "{alg}");
    }
    let d = DigestSession::new(&Crypto::auto(), DigestAlg::Sha256).unwrap();
    assert!(matches!(
        d.digest(b"x", &mut [0u8; 31]),
        Err(Error::OutputLength { .. })
    ));
}

#[test]
fn mode_rules() {
    let cbc = cipher("aes-128-cbc", &[1; 16]);
    let mut buf = [0u8; 17];
    assert!(matches!(
        cbc.encrypt_in_place(&[0; 16], &mut buf),
        Err(Error::DataLength { .. })
    ));
    let ecb = cipher("sm4-ecb", &[1; 16]);
    assert!(matches!(
        ecb.encrypt_in_place(&[], &mut buf[..15]),
        Err(Error::DataLength { .. })
    ));

    // XTS: equal halves, short units, long units.
    for name in ["aes-128-xts", "aes-192-xts", "aes-256-xts", "sm4-xts"] {
        let alg = CipherAlg::from_name(name).unwrap();
        let half = vec![9u8; alg.key_len() / 2];
        let e = CipherSession::software(alg, &[half.clone(), half].concat()).unwrap_err();
        assert!(matches!(e, Error::XtsEqualKeyHalves { .. }), "{name}");
        let s = CipherSession::software(alg, &bytes(3, alg.key_len())).unwrap();
        let mut short = [0u8; 15];
        assert!(matches!(
            s.encrypt_in_place(&[0; 16], &mut short),
            Err(Error::DataLength { .. })
        ));
        assert!(matches!(
            s.encrypt_in_place(&[0; 16], &mut []),
            Err(Error::DataLength { .. })
        ));
        let mut long = vec![0u8; (1 << 24) + 16];
        assert!(matches!(
            s.encrypt_in_place(&[0; 16], &mut long),
            Err(Error::DataLength { .. })
        ));
        // Ciphertext stealing: 17 bytes round-trip.
        let mut odd = bytes(4, 17);
        let orig = odd.clone();
        s.encrypt_in_place(&[1; 16], &mut odd).unwrap();
        assert_ne!(odd, orig);
        s.decrypt_in_place(&[1; 16], &mut odd).unwrap();
        assert_eq!(odd, orig);
    }

    // CTR: the last counter value may be used, wrapping past it may not.
    let ctr = cipher("aes-128-ctr", &[1; 16]);
    let mut iv = [0xffu8; 16];
    let mut one_block = [0u8; 16];
    ctr.encrypt_in_place(&iv, &mut one_block).unwrap();
    let mut two_blocks = [0u8; 17];
    assert!(matches!(
        ctr.encrypt_in_place(&iv, &mut two_blocks),
        Err(Error::CounterOverflow { .. })
    ));
    iv[15] = 0xfe;
    ctr.encrypt_in_place(&iv, &mut [0u8; 32]).unwrap();
    let mut st = ctr.encryptor(&iv).unwrap();
    st.update_in_place(&mut [0u8; 20]).unwrap();
    assert!(matches!(
        st.update_in_place(&mut [0u8; 13]),
        Err(Error::CounterOverflow { .. })
    ));
    // Empty CTR/CBC requests are fine; an empty AEAD message is GMAC.
    ctr.encrypt_in_place(&[0; 16], &mut []).unwrap();
    cbc.encrypt_in_place(&[0; 16], &mut []).unwrap();
}

#[test]
fn streams_equal_one_shots_for_any_split() {
    for alg in CipherAlg::all() {
        let s = CipherSession::software(alg, &bytes(5, alg.key_len())).unwrap();
        let iv = bytes(6, alg.iv_len());
        if alg.mode == CipherMode::Xts {
            // Each update is the next data unit: tweak + 1, little-endian.
            let units = [bytes(7, 512), bytes(8, 512)];
            let mut st = s.encryptor(&iv).unwrap();
            let first = u128::from_le_bytes(iv.clone().try_into().unwrap());
            for (k, u) in units.iter().enumerate() {
                let mut a = u.clone();
                st.update_in_place(&mut a).unwrap();
                let mut b = u.clone();
                let tweak = first.wrapping_add(k as u128);
                s.encrypt_in_place(&tweak.to_le_bytes(), &mut b).unwrap();
                assert_eq!(a, b, "{alg}");
            }
            continue;
        }
        let msg = bytes(9, 16 * 40);
        let mut whole = vec![0u8; msg.len()];
        s.encrypt(&iv, &msg, &mut whole).unwrap();
        let step = if alg.mode == CipherMode::Ctr { 7 } else { 16 };
        for first in [step, 3 * step, 10 * step] {
            let mut parts = vec![0u8; msg.len()];
            let mut st = s.encryptor(&iv).unwrap();
            let mut at = 0;
            let mut n = first;
            while at < msg.len() {
                let end = (at + n).min(msg.len());
                st.update(&msg[at..end], &mut parts[at..end]).unwrap();
                at = end;
                n += step;
            }
            assert_eq!(parts, whole, "{alg} split {first}");
            let mut st = s.decryptor(&iv).unwrap();
            for c in parts.chunks_mut(step * 2) {
                st.update_in_place(c).unwrap();
            }
            assert_eq!(parts, msg, "{alg} decrypt");
        }
    }
}

#[test]
fn every_aead_round_trips_with_every_tag_and_nonce_length() {
    for alg in AeadAlg::all() {
        for tag_len in (4..=16).filter(|t| alg.tag_len_ok(*t)) {
            let s = AeadSession::software(alg, &bytes(10, alg.key_len()), tag_len).unwrap();
            for nonce_len in (7..=13).filter(|n| alg.nonce_len_ok(*n)) {
                for len in [0usize, 1, 16, 100] {
                    let nonce = bytes(11, nonce_len);
                    let msg = bytes(12 + len as u64, len);
                    let sealed = s.seal_to_vec(&nonce, b"aad", &msg).unwrap();
                    assert_eq!(sealed.len(), len + tag_len);
                    assert_eq!(
                        s.open_to_vec(&nonce, b"aad", &sealed).unwrap(),
                        msg,
                        "{alg} t{tag_len} n{nonce_len}"
                    );
                    let mut bad = sealed.clone();
                    bad[len] ^= 4;
                    assert!(matches!(
                        s.open_to_vec(&nonce, b"aad", &bad),
                        Err(Error::AuthenticationFailed { .. })
                    ));
                }
            }
        }
    }
}

#[test]
fn ccm_length_limit_follows_the_nonce() {
    let s = AeadSession::software(AeadAlg::from_name("aes-128-ccm").unwrap(), &[1; 16], 16).unwrap();
    let big = vec![0u8; 65536];
    assert!(matches!(
        s.seal_to_vec(&[0; 13], b"", &big),
        Err(Error::DataLength { .. })
    ));
    assert!(s.seal_to_vec(&[0; 12], b"", &big).is_ok());
}

#[test]
fn auto_says_no_device_and_device_is_an_error() {
    let c = Crypto::auto();
    let s = DigestSession::new(&c, DigestAlg::Sm3).unwrap();
    let mut out = [0u8; 32];
    let r = s.digest(&[0u8; 4096], &mut out).unwrap();
    assert_eq!(r.ran, Ran::Software);
    assert_eq!(r.reason, Reason::NoDevice(Algorithm::Digest(DigestAlg::Sm3)));
    assert_eq!(r.to_string(), "software (no device offers sm3)");
    let st = c.stats();
    assert_eq!(
        (st.software_requests, st.no_device, st.software_bytes),
        (1, 1, 4096)
    );

    let dev = Crypto::new(Backend::Device);
    let e = AeadSession::new(&dev, AeadAlg::from_name("sm4-gcm").unwrap(), &[0; 16], 16).unwrap_err();
    assert!(e.to_string().contains("no device offers this algorithm"));
    assert!(matches!(
        DigestSession::hmac(&dev, DigestAlg::Sha1, b"k"),
        Err(Error::NoDevice { .. })
    ));

    let sw = Crypto::new(Backend::Software);
    let s = CipherSession::new(&sw, CipherAlg::from_name("aes-128-ecb").unwrap(), &[0; 16]).unwrap();
    assert_eq!(
        s.encrypt_in_place(&[], &mut [0u8; 16]).unwrap().reason,
        Reason::Requested
    );
}

/// A device that really computes (through a software session) but fails on demand, to
/// exercise the seam: routing, small-packet policy, fallback and counters.
struct FlakyDevice {
    fail: Arc<AtomicUsize>,
}

struct FlakyCipher {
    inner: CipherSession,
    fail: Arc<AtomicUsize>,
}

struct FlakyAead {
    inner: AeadSession,
    fail: Arc<AtomicUsize>,
    lie: bool,
}

fn should_fail(f: &AtomicUsize) -> bool {
    f.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

impl SecDevice for FlakyDevice {
    fn name(&self) -> String {
        "flaky-sec".into()
    }
    fn offers(&self, alg: Algorithm) -> bool {
        !matches!(alg, Algorithm::Digest(_) | Algorithm::Hmac(_))
    }
    fn cipher(&self, alg: CipherAlg, key: &[u8]) -> Result<Box<dyn DeviceCipher>, DeviceError> {
        Ok(Box::new(FlakyCipher {
            inner: CipherSession::software(alg, key).map_err(|e| DeviceError::Failed(e.to_string()))?,
            fail: self.fail.clone(),
        }))
    }
    fn digest(&self, _: DigestAlg, _: Option<&[u8]>) -> Result<Box<dyn DeviceDigest>, DeviceError> {
        Err(DeviceError::Unsupported("digests".into()))
    }
    fn aead(&self, alg: AeadAlg, key: &[u8], tag_len: usize) -> Result<Box<dyn DeviceAead>, DeviceError> {
        Ok(Box::new(FlakyAead {
            inner: AeadSession::software(alg, key, tag_len)
                .map_err(|e| DeviceError::Failed(e.to_string()))?,
            fail: self.fail.clone(),
            lie: false,
        }))
    }
}

impl DeviceCipher for FlakyCipher {
    fn crypt(&mut self, dir: Direction, iv: &[u8], i: &[u8], o: &mut [u8]) -> Result<(), DeviceError> {
        if should_fail(&self.fail) {
            o.fill(0xee); // garbage the framework must not return
            return Err(DeviceError::QueueStopped);
        }
        self.inner
            .crypt(dir, iv, i, o)
            .map(drop)
            .map_err(|e| DeviceError::Failed(e.to_string()))
    }
    fn crypt_in_place(&mut self, dir: Direction, iv: &[u8], b: &mut [u8]) -> Result<(), DeviceError> {
        if should_fail(&self.fail) {
            return Err(DeviceError::Vanished);
        }
        let r = match dir {
            Direction::Encrypt => self.inner.encrypt_in_place(iv, b),
            Direction::Decrypt => self.inner.decrypt_in_place(iv, b),
        };
        r.map(drop).map_err(|e| DeviceError::Failed(e.to_string()))
    }
}

impl DeviceAead for FlakyAead {
    fn seal_in_place(&mut self, n: &[u8], a: &[u8], b: &mut [u8], t: &mut [u8]) -> Result<(), DeviceError> {
        if should_fail(&self.fail) {
            return Err(DeviceError::Failed("error_type 0x2".into()));
        }
        self.inner
            .seal_in_place(n, a, b, t)
            .map(drop)
            .map_err(|e| DeviceError::Failed(e.to_string()))
    }
    fn open_in_place(&mut self, n: &[u8], a: &[u8], b: &mut [u8], t: &[u8]) -> Result<Verified, DeviceError> {
        if should_fail(&self.fail) {
            return Err(DeviceError::QueueStopped);
        }
        if self.lie {
            return Ok(Verified::No);
        }
        match self.inner.open_in_place(n, a, b, t) {
            Ok(_) => Ok(Verified::Yes),
            Err(Error::AuthenticationFailed { .. }) => Ok(Verified::No),
            Err(e) => Err(DeviceError::Failed(e.to_string())),
        }
    }
}

#[test]
fn device_seam_routes_falls_back_and_counts() {
    let fail = Arc::new(AtomicUsize::new(0));
    let c = Crypto::auto();
    c.add_device(Arc::new(FlakyDevice { fail: fail.clone() }));
    let alg = CipherAlg::from_name("aes-128-cbc").unwrap();
    let s = CipherSession::new(&c, alg, &[3; 16]).unwrap();
    let reference = cipher("aes-128-cbc", &[3; 16]);
    let msg = bytes(20, 4096);
    let mut want = vec![0u8; msg.len()];
    reference.encrypt(&[0; 16], &msg, &mut want).unwrap();

    // Large request: device.
    let mut out = vec![0u8; msg.len()];
    let r = s.encrypt(&[0; 16], &msg, &mut out).unwrap();
    assert_eq!((r.ran, out == want), (Ran::Device, true));
    assert_eq!(r.to_string(), "device (flaky-sec offers it)");
    // Small request: software by policy.
    let r = s.encrypt_in_place(&[0; 16], &mut [0u8; 64]).unwrap();
    assert_eq!(
        r.reason,
        Reason::SmallPacket {
            len: 64,
            threshold: 1024
        }
    );
    // SM4 moves to the device from 64 B on.
    assert_eq!(
        Policy::default().threshold(Algorithm::from_name("sm4-ctr").unwrap()),
        64
    );
    // Device failure: redone in software, same result.
    fail.store(1, Ordering::SeqCst);
    let r = s.encrypt(&[0; 16], &msg, &mut out).unwrap();
    assert_eq!(r.reason, Reason::Fallback(DeviceError::QueueStopped));
    assert_eq!(out, want);
    // Streams continue across device and software requests.
    fail.store(1, Ordering::SeqCst);
    let mut st = s.encryptor(&[0; 16]).unwrap();
    let mut parts = msg.clone();
    let (a, b) = parts.split_at_mut(2048);
    assert_eq!(st.update_in_place(a).unwrap().ran, Ran::Software); // failed on device
    assert_eq!(st.update_in_place(b).unwrap().ran, Ran::Device);
    assert_eq!(parts, want);
    let st = c.stats();
    assert_eq!((st.device_requests, st.fallbacks, st.small_packets), (2, 2, 1));

    // Fallback off: the failure is an error and counted.
    let strict = Crypto::with_policy(
        Backend::Auto,
        Policy {
            fallback: false,
            ..Policy::default()
        },
    );
    strict.add_device(Arc::new(FlakyDevice { fail: fail.clone() }));
    let s = CipherSession::new(&strict, alg, &[3; 16]).unwrap();
    fail.store(1, Ordering::SeqCst);
    assert!(matches!(
        s.encrypt(&[0; 16], &msg, &mut out),
        Err(Error::Device { .. })
    ));
    assert_eq!(strict.stats().device_errors, 1);
}

#[test]
fn device_aead_never_releases_unverified_plaintext() {
    let fail = Arc::new(AtomicUsize::new(0));
    let c = Crypto::auto();
    c.add_device(Arc::new(FlakyDevice { fail: fail.clone() }));
    let alg = AeadAlg::from_name("aes-256-gcm").unwrap();
    let s = AeadSession::new(&c, alg, &[5; 32], 16).unwrap();
    let n = 20_000; // above the 16 KiB AES-GCM small-packet threshold
    let msg = bytes(30, n);
    let sealed = s.seal_to_vec(&[1; 12], b"h", &msg).unwrap();
    let (ct, tag) = sealed.split_at(n);
    // Device failure on open: redone in software, verified.
    fail.store(1, Ordering::SeqCst);
    let mut pt = vec![0u8; n];
    let r = s.open(&[1; 12], b"h", ct, tag, &mut pt).unwrap();
    assert!(matches!(r.reason, Reason::Fallback(_)));
    assert_eq!(pt, msg);
    // A tag mismatch reported by the device: error, zeros, no software retry.
    let mut bad = tag.to_vec();
    bad[3] ^= 1;
    let mut pt = vec![7u8; n];
    assert!(matches!(
        s.open(&[1; 12], b"h", ct, &bad, &mut pt),
        Err(Error::AuthenticationFailed { .. })
    ));
    assert!(pt.iter().all(|&b| b == 0));
    assert_eq!(c.stats().fallbacks, 1);
}

#[test]
fn batch_queue_completes_every_job_via_queue_and_callback() {
    use std::time::Duration;
    use uadk_crypto::batch::{BatchQueue, Job, Output};
    let q = BatchQueue::new(2);
    let c = Crypto::auto();
    let cs = Arc::new(CipherSession::new(&c, CipherAlg::from_name("sm4-ctr").unwrap(), &[1; 16]).unwrap());
    let aead =
        Arc::new(AeadSession::new(&c, AeadAlg::from_name("aes-128-gcm").unwrap(), &[1; 16], 16).unwrap());
    let mut ids = std::collections::HashMap::new();
    for i in 0..20u64 {
        let data = bytes(40 + i, 100 + i as usize);
        let id = q
            .submit(Job::Encrypt {
                session: cs.clone(),
                iv: vec![0; 16],
                data: data.clone(),
            })
            .unwrap();
        ids.insert(id, data);
    }
    let mut seen = 0;
    while seen < 20 {
        let done = q.wait(Duration::from_secs(10)).expect("a completion");
        let data = ids.remove(&done.id).expect("known id");
        let Ok((Output::Data(ct), route)) = done.result else {
            panic!("job failed")
        };
        assert_eq!(route.ran, Ran::Software);
        let mut pt = ct.clone();
        cs.decrypt_in_place(&[0; 16], &mut pt).unwrap();
        assert_eq!(pt, data);
        seen += 1;
    }
    assert!(q.poll().is_none());
    // Bad tag through the queue, completion by callback.
    let (tx, rx) = std::sync::mpsc::channel();
    q.submit_with(
        Job::Open {
            session: aead,
            nonce: vec![0; 12],
            aad: vec![],
            data: vec![1; 32],
            tag: vec![0; 16],
        },
        move |c| tx.send(c).unwrap(),
    )
    .unwrap();
    let c = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(matches!(c.result, Err(Error::AuthenticationFailed { .. })));
    assert_eq!(q.in_flight(), 0);
}

#[test]
fn sessions_are_shared_across_threads() {
    let s = Arc::new(cipher("aes-256-ctr", &[2; 32]));
    let msg = bytes(50, 5000);
    let mut want = vec![0u8; msg.len()];
    s.encrypt(&[0; 16], &msg, &mut want).unwrap();
    std::thread::scope(|sc| {
        for _ in 0..4 {
            let (s, msg, want) = (s.clone(), &msg, &want);
            sc.spawn(move || {
                for _ in 0..50 {
                    let mut out = vec![0u8; msg.len()];
                    s.encrypt(&[0; 16], msg, &mut out).unwrap();
                    assert_eq!(&out, want);
                }
            });
        }
    });
}

#[test]
fn hex_and_names_reject_garbage() {
    assert!(matches!(hex::decode("--key", "0g"), Err(Error::Hex { .. })));
    assert!(matches!(hex::decode("--key", "abc"), Err(Error::Hex { .. })));
    assert_eq!(hex::decode("--iv", "").unwrap(), Vec::<u8>::new());
    assert!(Algorithm::from_name("aes-128-gcm-siv").is_err());
    assert!("gpu".parse::<Backend>().is_err());
}
