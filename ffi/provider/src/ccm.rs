//! AES-CCM and SM4-CCM contexts with the default provider's EVP semantics.
//!
//! CCM is one-shot by construction (the total length is in the first block), and OpenSSL's
//! API says so: optionally the total length (`update(NULL, NULL, len)`), the AAD in one
//! update, the whole message in one update; the tag is set before the data when
//! decrypting. That maps onto one uadk-crypto `AeadSession` call per message. A tag
//! mismatch zeroes the output and fails the update, as the default provider does.
//!
//! TLS 1.2 record mode (`tlsaad`/`tlsivfixed`, the AES-CCM cipher suites) is handed to
//! OpenSSL's default implementation ([`crate::delegate`]).

use std::sync::Arc;

use uadk_crypto::{AeadAlg, AeadSession};
use zeroize::Zeroizing;

use crate::algs::CipherSpec;
use crate::boundary::{err, Res};
use crate::delegate::Delegate;
use crate::io::Io;
use crate::ossl::{self, names};
use crate::params::{In, Out};
use crate::runtime::{self, COUNTERS};

/// A CCM context.
pub struct CcmCtx {
    spec: &'static CipherSpec,
    alg: AeadAlg,
    enc: bool,
    key: Option<Zeroizing<Vec<u8>>>,
    sessions: Vec<(usize, Arc<AeadSession>)>,
    /// L: bytes of the length field; the nonce is 15 - L bytes.
    l: usize,
    /// M: tag length.
    m: usize,
    iv: [u8; 15],
    iv_set: bool,
    len: Option<usize>,
    aad: Option<Zeroizing<Vec<u8>>>,
    tag: [u8; 16],
    tag_set: bool,
    delegate: Option<Delegate>,
}

fn op_failed<T>(msg: &str) -> Res<T> {
    err(
        ossl::PROV_R_CIPHER_OPERATION_FAILED,
        format!("uadk_provider: {msg}"),
    )
}

impl CcmCtx {
    /// A fresh context (L = 8, so a 7-byte nonce; M = 12), as OpenSSL's.
    ///
    /// # Errors
    /// uadk-crypto does not know the algorithm (a table error).
    pub fn new(spec: &'static CipherSpec) -> Res<CcmCtx> {
        Ok(CcmCtx {
            spec,
            alg: AeadAlg::from_name(spec.uadk)?,
            enc: true,
            key: None,
            sessions: Vec::new(),
            l: 8,
            m: 12,
            iv: [0; 15],
            iv_set: false,
            len: None,
            aad: None,
            tag: [0; 16],
            tag_set: false,
            delegate: None,
        })
    }

    /// A copy (DUPCTX).
    pub fn try_clone(&self) -> Res<CcmCtx> {
        Ok(CcmCtx {
            spec: self.spec,
            alg: self.alg,
            enc: self.enc,
            key: self.key.clone(),
            sessions: self.sessions.clone(),
            l: self.l,
            m: self.m,
            iv: self.iv,
            iv_set: self.iv_set,
            len: self.len,
            aad: self.aad.clone(),
            tag: self.tag,
            tag_set: self.tag_set,
            delegate: self.delegate.as_ref().map(Delegate::try_clone).transpose()?,
        })
    }

    fn ivlen(&self) -> usize {
        15 - self.l
    }

    /// `EVP_CipherInit`.
    pub fn init(&mut self, enc: bool, key: Option<&[u8]>, iv: Option<&[u8]>, params: In) -> Res<()> {
        self.enc = enc;
        if let Some(d) = self.delegate.as_mut() {
            return d.init(enc, key, iv, params);
        }
        if let Some(iv) = iv {
            if iv.len() != self.ivlen() {
                return err(
                    ossl::PROV_R_INVALID_IV_LENGTH,
                    format!(
                        "uadk_provider: this CCM context takes a {}-byte nonce (set ivlen first)",
                        self.ivlen()
                    ),
                );
            }
            self.iv[..iv.len()].copy_from_slice(iv);
            self.iv_set = true;
        }
        if let Some(key) = key {
            if key.len() != self.spec.keylen {
                return err(
                    ossl::PROV_R_INVALID_KEY_LENGTH,
                    format!(
                        "uadk_provider: {} takes a {}-byte key",
                        self.spec.uadk, self.spec.keylen
                    ),
                );
            }
            if self.key.as_deref().is_none_or(|k| k.as_slice() != key) {
                self.key = Some(Zeroizing::new(key.to_vec()));
                self.sessions.clear();
            }
        }
        self.set_params(params)
    }

    fn session(&mut self) -> Res<Arc<AeadSession>> {
        let m = self.m;
        if let Some((_, s)) = self.sessions.iter().find(|(t, _)| *t == m) {
            return Ok(s.clone());
        }
        let Some(key) = &self.key else {
            return err(ossl::PROV_R_NO_KEY_SET, "uadk_provider: no key set");
        };
        let s = Arc::new(AeadSession::new(&runtime::get().crypto, self.alg, key, m)?);
        self.sessions.push((m, s.clone()));
        Ok(s)
    }

    /// `EVP_CipherUpdate`.
    pub fn update(&mut self, io: Io<'_>, outsize: usize) -> Res<usize> {
        if let Some(d) = self.delegate.as_mut() {
            return d.update(io, outsize);
        }
        if self.key.is_none() {
            return err(ossl::PROV_R_NO_KEY_SET, "uadk_provider: no key set");
        }
        if !self.iv_set {
            return op_failed("no nonce set");
        }
        let inl = io.inl();
        match io {
            Io::NoOut(None, n) => {
                self.len = Some(n);
                Ok(n)
            }
            Io::NoOut(Some(aad), n) => {
                if self.len.is_none() && n > 0 {
                    return op_failed("CCM needs the total length (update with NULL in and out) before AAD");
                }
                if self.aad.is_some() {
                    return op_failed("CCM takes its AAD in one update");
                }
                self.aad = Some(Zeroizing::new(aad.to_vec()));
                Ok(n)
            }
            io => {
                if outsize < inl {
                    return err(
                        ossl::PROV_R_OUTPUT_BUFFER_TOO_SMALL,
                        "uadk_provider: output buffer too small",
                    );
                }
                if self.len.is_some_and(|l| l != inl) {
                    return op_failed("the data length differs from the total length set before");
                }
                self.message(io)?;
                Ok(inl)
            }
        }
    }

    fn message(&mut self, io: Io<'_>) -> Res<()> {
        let s = self.session()?;
        let nonce = self.iv;
        let nonce = &nonce[..self.ivlen()];
        let aad = self.aad.take().unwrap_or_default();
        if self.enc {
            let mut tag = [0u8; 16];
            let t = &mut tag[..self.m];
            match io {
                Io::Split(i, o) => s.seal(nonce, &aad, i, &mut o[..i.len()], t)?,
                Io::InPlace(b, n) => s.seal_in_place(nonce, &aad, &mut b[..n], t)?,
                Io::NoOut(..) => return op_failed("no output buffer"),
            };
            self.tag = tag;
            self.tag_set = true;
        } else {
            if !self.tag_set {
                return err(
                    ossl::PROV_R_TAG_NOT_SET,
                    "uadk_provider: set the expected CCM tag before the data",
                );
            }
            let tag = self.tag;
            let t = &tag[..self.m];
            // Finished either way: OpenSSL's CCM takes one message per nonce and tag.
            self.iv_set = false;
            self.tag_set = false;
            self.len = None;
            // On a mismatch uadk-crypto zeroes the output before the error.
            match io {
                Io::Split(i, o) => s.open(nonce, &aad, i, t, &mut o[..i.len()])?,
                Io::InPlace(b, n) => s.open_in_place(nonce, &aad, &mut b[..n], t)?,
                Io::NoOut(..) => return op_failed("no output buffer"),
            };
        }
        runtime::count(&COUNTERS.ccm);
        Ok(())
    }

    /// `EVP_CipherFinal` (CCM returns no data at final).
    pub fn final_(&mut self, out: &mut [u8]) -> Res<usize> {
        if let Some(d) = self.delegate.as_mut() {
            return d.final_(out);
        }
        if self.key.is_none() {
            return err(ossl::PROV_R_NO_KEY_SET, "uadk_provider: no key set");
        }
        Ok(0)
    }

    /// `EVP_Cipher`.
    pub fn cipher(&mut self, io: Option<Io<'_>>, outsize: usize) -> Res<usize> {
        match io {
            Some(io) => self.update(io, outsize),
            None => self.final_(&mut []),
        }
    }

    /// `get_ctx_params` (one pass over the caller's array).
    pub fn get_params(&mut self, out: &Out) -> Res<()> {
        if let Some(d) = &self.delegate {
            return d.get_params(out);
        }
        for mut p in out.iter() {
            match p.name().to_bytes() {
                b"keylen" => p.set_size(self.spec.keylen)?,
                b"ivlen" => p.set_size(self.ivlen())?,
                b"taglen" => p.set_size(self.m)?,
                b"iv" | b"updated-iv" => {
                    if !self.iv_set {
                        return op_failed("no nonce set");
                    }
                    p.set_octets(&self.iv[..self.ivlen()])?
                }
                b"tlsaadpad" => p.set_size(0)?,
                b"tag" => {
                    if !self.enc || !self.tag_set {
                        return err(
                            ossl::PROV_R_TAG_NOT_SET,
                            "uadk_provider: the CCM tag exists after encrypting the data",
                        );
                    }
                    let m = self.m;
                    let buf = p.octet_buffer()?;
                    if buf.len() != m {
                        return err(
                            ossl::PROV_R_INVALID_TAG_LENGTH,
                            format!("uadk_provider: ask for exactly the CCM tag length ({m} bytes)"),
                        );
                    }
                    buf.copy_from_slice(&self.tag[..m]);
                    self.tag_set = false;
                    self.iv_set = false;
                    self.len = None;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// `set_ctx_params` (one pass over the caller's array).
    pub fn set_params(&mut self, p: In) -> Res<()> {
        if let Some(d) = self.delegate.as_mut() {
            return d.set_params(p);
        }
        for v in p.iter() {
            match v.name().to_bytes() {
                b"tlsaad" | b"tlsivfixed" => return self.delegate_tls(p),
                b"tag" => {
                    let n = v.data_size();
                    if n % 2 == 1 || !(4..=16).contains(&n) {
                        return err(
                            ossl::PROV_R_INVALID_TAG_LENGTH,
                            "uadk_provider: CCM tags are 4 to 16 bytes, even",
                        );
                    }
                    if let Some(t) = v.octets()? {
                        if self.enc {
                            return err(
                                ossl::PROV_R_INVALID_TAG,
                                "uadk_provider: the expected tag is set when decrypting",
                            );
                        }
                        self.tag[..n].copy_from_slice(t);
                        self.tag_set = true;
                    }
                    self.m = n;
                }
                b"ivlen" => {
                    let n = v.size()?;
                    if !(7..=13).contains(&n) {
                        return err(
                            ossl::PROV_R_INVALID_IV_LENGTH,
                            "uadk_provider: CCM nonces are 7 to 13 bytes",
                        );
                    }
                    self.l = 15 - n;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// TLS 1.2 CCM records: OpenSSL's own record code, set up like this context.
    fn delegate_tls(&mut self, p: In) -> Res<()> {
        let mut d = Delegate::new(self.spec.default_name, self.enc, None, None, false)?;
        let mut ivlen = self.ivlen();
        let setup = [
            ossl::OSSL_PARAM {
                key: names::AEAD_IVLEN.as_ptr(),
                data_type: ossl::OSSL_PARAM_UNSIGNED_INTEGER,
                data: (&mut ivlen as *mut usize).cast(),
                data_size: std::mem::size_of::<usize>(),
                return_size: usize::MAX,
            },
            ossl::OSSL_PARAM {
                key: names::AEAD_TAG.as_ptr(),
                data_type: ossl::OSSL_PARAM_OCTET_STRING,
                data: std::ptr::null_mut(),
                data_size: self.m,
                return_size: usize::MAX,
            },
            ossl::PARAM_END,
        ];
        // SAFETY: `setup` is a terminated array whose data outlives the call.
        d.set_params(unsafe { In::new(setup.as_ptr()) })?;
        let key = self.key.as_deref().map(|k| k.as_slice());
        let iv = self.iv_set.then_some(self.iv);
        d.init(
            self.enc,
            key,
            iv.as_ref().map(|v| &v[..self.ivlen()]),
            In::empty(),
        )?;
        d.set_params(p)?;
        runtime::count(&COUNTERS.delegated);
        self.delegate = Some(d);
        Ok(())
    }
}
