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
    if ctx.init(false, Some(&[7; 16]), None, unsafe { In::new(p.as_ptr()) }).is_err() {
        return;
    }
    let mut aad = head.to_vec();
    let p = [octets(names::AEAD_TLS1_AAD, &mut aad), PARAM_END];
    // SAFETY: as above.
    if ctx.set_params(unsafe { In::new(p.as_ptr()) }).is_err() {
        return;
    }
    let mut buf = record.to_vec();
    let n = buf.len();
    match ctx.update(Io::InPlace(&mut buf, n), n) {
        Ok(len) => assert_eq!(len, n - 24),
        Err(_) if n >= 24 => assert!(buf[8..n - 16].iter().all(|&b| b == 0)),
        Err(_) => {}
    }
});
