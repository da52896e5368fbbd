//! Untrusted bytes into the TLS 1.2 record path of the GCM context: a 13-byte record
//! header (`tlsaad`, whose length field we parse and correct) and a record of explicit IV,
//! payload and tag, opened in place. Whatever the bytes, the context must return an error
//! or the payload length, never panic, and never leave plaintext behind on failure.
#![no_main]

use libfuzzer_sys::fuzz_target;
use uadk_provider::algs::CIPHERS;
use uadk_provider::gcm::GcmCtx;
use uadk_provider::io::Io;
use uadk_provider::ossl::{names, OSSL_PARAM, OSSL_PARAM_OCTET_STRING, PARAM_END};
use uadk_provider::params::In;

fn octets(key: &'static std::ffi::CStr, v: &mut [u8]) -> OSSL_PARAM {
    OSSL_PARAM {
        key: key.as_ptr(),
        data_type: OSSL_PARAM_OCTET_STRING,
        data: v.as_mut_ptr().cast(),
        data_size: v.len(),
        return_size: usize::MAX,
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 13 + 4 {
        return;
    }
    let (head, rest) = data.split_at(13);
    let (fixed, record) = rest.split_at(4);
    let spec = &CIPHERS[0];
    let Ok(mut ctx) = GcmCtx::new(spec) else { return };
    let mut fixed = fixed.to_vec();
    let p = [octets(names::AEAD_TLS1_IV_FIXED, &mut fixed), PARAM_END];
    // SAFETY: a terminated array whose data outlives the call.
    if ctx
        .init(false, Some(&[7; 16]), None, unsafe { In::new(p.as_ptr()) })
        .is_err()
    {
        return;
    }
    let mut aad = head.to_vec();
    let p = [octets(names::AEAD_TLS1_AAD, &mut aad), PARAM_END];
    // SAFETY: as above.
    let header_ok = ctx.set_params(unsafe { In::new(p.as_ptr()) }).is_ok();
    let mut buf = record.to_vec();
    let n = buf.len();
    let r = ctx.update(Io::InPlace(&mut buf, n), n);
    if !header_ok {
        // A rejected header still makes the next non-empty update a record, which fails
        // (as in OpenSSL's GCM) and writes nothing.
        if n > 0 {
            assert!(r.is_err(), "a record after a rejected tlsaad was processed");
            assert_eq!(buf, record, "a failed record changed the buffer");
        }
        return;
    }
    match r {
        // An empty update is a no-op that succeeds, as in OpenSSL's own GCM
        // (`ossl_gcm_stream_update`), record mode or not.
        Ok(len) if n == 0 => assert_eq!(len, 0),
        Ok(len) => assert_eq!(
            len,
            n.checked_sub(24)
                .expect("a record shorter than IV + tag was accepted")
        ),
        Err(_) if n >= 24 => assert!(buf[8..n - 16].iter().all(|&b| b == 0)),
        Err(_) => {}
    }
});
