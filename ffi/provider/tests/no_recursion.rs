//! The recursion hazard, in its own process: our provider is loaded into the *default*
//! library context, which is told to prefer it (`?provider=uadk_provider`, what the sample
//! openssl.cnf does). Algorithms for which uadk-crypto itself picks OpenSSL (AES-CBC,
//! SHA-512, MD5, AES-CCM) then reach our provider through implicit fetches, and
//! uadk-crypto's OpenSSL engines must fetch `provider=default` explicitly, or every call
//! would come back to us without end. Also several threads at once.

mod common;

use std::ffi::{c_char, c_int, c_void, CStr};

use foreign_types::ForeignTypeRef;
use openssl::cipher::Cipher;
use openssl::cipher_ctx::CipherCtx;
use openssl::hash::{hash, MessageDigest};
use openssl::provider::Provider;

extern "C" {
    fn EVP_set_default_properties(libctx: *mut c_void, propq: *const c_char) -> c_int;
    fn EVP_CIPHER_CTX_get0_cipher(ctx: *const c_void) -> *const c_void;
    fn EVP_CIPHER_get0_provider(cipher: *const c_void) -> *const c_void;
    fn OSSL_PROVIDER_get0_name(prov: *const c_void) -> *const c_char;
}

fn provider_of(ctx: &CipherCtx) -> String {
    // SAFETY: a live, initialised context; the returned objects are owned by it and the
    // name is a NUL-terminated string owned by the provider.
    unsafe {
        let c = EVP_CIPHER_CTX_get0_cipher(ctx.as_ptr().cast());
        let p = EVP_CIPHER_get0_provider(c);
        CStr::from_ptr(OSSL_PROVIDER_get0_name(p))
            .to_string_lossy()
            .into_owned()
    }
}

#[test]
fn implicit_fetches_prefer_us_and_never_recurse() {
    let dir = common::module_dir();
    Provider::set_default_search_path(None, dir.to_str().unwrap()).unwrap();
    let _d = Provider::load(None, "default").unwrap();
    let _o = Provider::load(None, "libuadk_provider").unwrap();
    // SAFETY: the default library context (NULL) and a NUL-terminated query.
    assert_eq!(
        unsafe { EVP_set_default_properties(std::ptr::null_mut(), c"?provider=uadk_provider".as_ptr()) },
        1
    );

    // AES-128-CBC: implicit fetch -> our provider -> uadk-crypto -> OpenSSL (explicitly
    // the default provider).
    let mut ctx = CipherCtx::new().unwrap();
    ctx.encrypt_init(Some(Cipher::aes_128_cbc()), Some(&[1; 16]), Some(&[2; 16]))
        .unwrap();
    assert_eq!(
        provider_of(&ctx),
        "libuadk_provider",
        "the implicit fetch must prefer us"
    );
    let mut out = vec![0u8; 64 + 16];
    let n = ctx.cipher_update(&[3; 64], Some(&mut out)).unwrap();
    let m = ctx.cipher_final(&mut out[n..]).unwrap();
    let ours = out[..n + m].to_vec();
    let def = Cipher::fetch(None, "AES-128-CBC", Some("provider=default")).unwrap();
    let mut ctx2 = CipherCtx::new().unwrap();
    ctx2.encrypt_init(Some(&def), Some(&[1; 16]), Some(&[2; 16]))
        .unwrap();
    let mut out2 = vec![0u8; 64 + 16];
    let n2 = ctx2.cipher_update(&[3; 64], Some(&mut out2)).unwrap();
    let m2 = ctx2.cipher_final(&mut out2[n2..]).unwrap();
    assert_eq!(ours, out2[..n2 + m2]);

    // Digests uadk-crypto runs on OpenSSL, one-shot and long (streaming).
    for (md, len) in [
        (MessageDigest::sha512(), 1000usize),
        (MessageDigest::md5(), 300),
        (MessageDigest::sha1(), 200_000),
        (MessageDigest::sha384(), 100_000),
    ] {
        let data = vec![0x61u8; len];
        let a = hash(md, &data).unwrap();
        let name = match md.size() {
            64 => "SHA2-512",
            16 => "MD5",
            20 => "SHA1",
            _ => "SHA2-384",
        };
        let def = openssl::md::Md::fetch(None, name, Some("provider=default")).unwrap();
        let mut c = openssl::md_ctx::MdCtx::new().unwrap();
        c.digest_init(&def).unwrap();
        c.digest_update(&data).unwrap();
        let mut b = vec![0u8; def.size()];
        c.digest_final(&mut b).unwrap();
        assert_eq!(a.to_vec(), b, "{name}");
    }

    // Threads: each its own contexts, all through our provider at once.
    let handles: Vec<_> = (0..4u8)
        .map(|t| {
            std::thread::spawn(move || {
                for i in 0..200u32 {
                    let key = [t; 16];
                    let data = vec![i as u8; 100 + i as usize * 7];
                    let sealed = openssl::symm::encrypt_aead(
                        openssl::symm::Cipher::aes_128_gcm(),
                        &key,
                        Some(&[t; 12]),
                        b"aad",
                        &data,
                        &mut [0u8; 16],
                    )
                    .unwrap();
                    assert_eq!(sealed.len(), data.len());
                    let d = hash(MessageDigest::sha256(), &data).unwrap();
                    assert_eq!(d.len(), 32);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}
