//! AES-GCM and SM4-GCM contexts with the default provider's EVP semantics.
//!
//! Paths, chosen per message:
//! - **One call** (TLS 1.3 records, `openssl speed`, most applications): the first data
//!   update with a 12-byte IV is sealed, or opened with the tag set before it (12..16
//!   bytes), by a uadk-crypto `AeadSession` (its chosen engine, or the SEC device above its
//!   threshold). An open whose tag does not match leaves zeros in place, and final fails.
//! - **TLS 1.2 record mode** (`tlsaad`, `tlsivfixed`, `tlsivinv`, `tlsivgen`): the record
//!   `explicit IV | payload | tag` is sealed/opened in place in one uadk-crypto call; the
//!   update returns the whole record when encrypting and the payload when decrypting.
//! - **Streaming** ([`crate::gcm_stream`]): a second data update, a tag set after the data,
//!   IVs other than 12 bytes, tags shorter than 12 bytes, AAD-only messages. A message that
//!   was sealed in one call continues from the recovered GHASH state. An out-of-place open
//!   whose tag does not match the first update is recomputed as a stream, so a message fed
//!   in pieces with its tag set first still decrypts (its plaintext, like the default
//!   provider's, is authentic only once final succeeds); in place, the first update's
//!   bytes are gone, so a continued message fails with an error instead.

use std::sync::Arc;

use uadk_crypto::{AeadAlg, AeadSession};
use zeroize::Zeroizing;

use crate::algs::CipherSpec;
use crate::boundary::{err, ProvError, Res};
use crate::gcm_stream::{BlockKey, StreamGcm};
use crate::io::Io;
use crate::ossl::{self, names};
use crate::params::{In, Out};
use crate::runtime::{self, COUNTERS};

const TLS_AAD_LEN: usize = 13;
const TLS_EXPLICIT_IV: usize = 8;
const TLS_TAG: usize = 16;
const MAX_IV: usize = 128;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum IvState {
    Uninit,
    Buffered,
    Copied,
    Finished,
}

/// Where the current message stands.
#[derive(Clone)]
enum Msg {
    /// No data yet (AAD gathered in `aad`).
    Idle,
    /// Sealed in one call: `ct_len` bytes, the last `tail` of them kept for resuming.
    Sealed {
        aad_len: u64,
        ct_len: u64,
        tail: [u8; 16],
        tail_len: usize,
    },
    /// Opened in one call, tag verified.
    Opened {
        aad_len: u64,
        ct_len: u64,
        tail: [u8; 16],
        tail_len: usize,
    },
    /// Opened in place with a mismatching tag: the bytes are zeros, final fails.
    Failed,
    /// Streaming.
    Stream(Box<StreamGcm>),
}

/// A TLS 1.2 record header set with `tlsaad`, waiting for its record (the next update).
#[derive(Clone, Copy)]
enum TlsAad {
    /// The header, its length corrected for the explicit IV (and the tag when opening).
    Header([u8; TLS_AAD_LEN]),
    /// A 13-byte header whose length cannot hold the explicit IV (and tag): the control
    /// failed, and the context still takes the next update as a record and fails it, as
    /// OpenSSL's own GCM does (it never becomes ordinary GCM data under the record's IV).
    TooShort,
}

/// A GCM context.
#[derive(Clone)]
pub struct GcmCtx {
    spec: &'static CipherSpec,
    alg: AeadAlg,
    enc: bool,
    key: Option<Zeroizing<Vec<u8>>>,
    sessions: Vec<(usize, Arc<AeadSession>)>,
    block_key: Option<Arc<BlockKey>>,
    ivlen: usize,
    iv: Zeroizing<[u8; MAX_IV]>,
    /// The IV of the message in progress (`iv` may already be the next one).
    msg_iv: Zeroizing<[u8; MAX_IV]>,
    iv_state: IvState,
    iv_gen: bool,
    tls_aad: Option<TlsAad>,
    tls_aad_pad: usize,
    tls_enc_records: u64,
    taglen: Option<usize>,
    tag: [u8; 16],
    aad: Zeroizing<Vec<u8>>,
    msg: Msg,
}

fn tag_error<T>(msg: &str) -> Res<T> {
    err(ossl::PROV_R_INVALID_TAG, format!("uadk_provider: {msg}"))
}

fn op_failed<T>(msg: &str) -> Res<T> {
    err(
        ossl::PROV_R_CIPHER_OPERATION_FAILED,
        format!("uadk_provider: {msg}"),
    )
}

/// Constant-time equality (eight bytes at a time: keys are compared on every re-init).
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail = a8
        .remainder()
        .iter()
        .zip(b8.remainder())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y));
    let words = a8.zip(b8).fold(0u64, |acc, (x, y)| {
        let x = u64::from_ne_bytes(x.try_into().expect("8-byte chunk"));
        let y = u64::from_ne_bytes(y.try_into().expect("8-byte chunk"));
        acc | (x ^ y)
    });
    (words | u64::from(tail)) == 0
}

fn tail_of(ct: &[u8]) -> ([u8; 16], usize) {
    let n = ct.len() % 16;
    let mut t = [0u8; 16];
    t[..n].copy_from_slice(&ct[ct.len() - n..]);
    (t, n)
}

impl GcmCtx {
    /// A fresh context for `spec`.
    ///
    /// # Errors
    /// uadk-crypto does not know the algorithm (a table error).
    pub fn new(spec: &'static CipherSpec) -> Res<GcmCtx> {
        Ok(GcmCtx {
            spec,
            alg: AeadAlg::from_name(spec.uadk)?,
            enc: true,
            key: None,
            sessions: Vec::new(),
            block_key: None,
            ivlen: spec.ivlen,
            iv: Zeroizing::new([0; MAX_IV]),
            msg_iv: Zeroizing::new([0; MAX_IV]),
            iv_state: IvState::Uninit,
            iv_gen: false,
            tls_aad: None,
            tls_aad_pad: 0,
            tls_enc_records: 0,
            taglen: None,
            tag: [0; 16],
            aad: Zeroizing::new(Vec::new()),
            msg: Msg::Idle,
        })
    }

    /// `EVP_CipherInit`.
    pub fn init(&mut self, enc: bool, key: Option<&[u8]>, iv: Option<&[u8]>, params: In) -> Res<()> {
        self.enc = enc;
        if let Some(iv) = iv {
            if iv.is_empty() || iv.len() > MAX_IV {
                return err(
                    ossl::PROV_R_INVALID_IV_LENGTH,
                    "uadk_provider: GCM IVs are 1 to 128 bytes",
                );
            }
            self.ivlen = iv.len();
            if let Ok(iv12) = <&[u8; 12]>::try_from(iv) {
                // The usual IV, copied without a `memcpy` call.
                self.iv[..12].copy_from_slice(iv12);
            } else {
                self.iv[..iv.len()].copy_from_slice(iv);
            }
            self.iv_state = IvState::Buffered;
        }
        if let Some(key) = key {
            self.set_key(key)?;
            self.tls_enc_records = 0;
        }
        self.set_params(params)
    }

    fn set_key(&mut self, key: &[u8]) -> Res<()> {
        if key.len() != self.spec.keylen {
            return err(
                ossl::PROV_R_INVALID_KEY_LENGTH,
                format!(
                    "uadk_provider: {} takes a {}-byte key, got {}",
                    self.spec.uadk,
                    self.spec.keylen,
                    key.len()
                ),
            );
        }
        // `openssl speed` sets the same key before every message: keep the sessions.
        if self.key.as_deref().is_some_and(|k| ct_eq(k, key)) {
            return Ok(());
        }
        self.key = Some(Zeroizing::new(key.to_vec()));
        self.sessions.clear();
        self.block_key = None;
        // The session for sealing (16-byte tags) is made now, so key errors show at init.
        self.session(16)?;
        Ok(())
    }

    /// The index in `sessions` of the session for `tag_len`, made on first use.
    fn session_index(&mut self, tag_len: usize) -> Res<usize> {
        // `set_key` makes the 16-byte one first.
        if self.sessions.first().is_some_and(|(t, _)| *t == tag_len) {
            return Ok(0);
        }
        if let Some(i) = self.sessions.iter().position(|(t, _)| *t == tag_len) {
            return Ok(i);
        }
        let Some(key) = &self.key else {
            return err(ossl::PROV_R_NO_KEY_SET, "uadk_provider: no key set");
        };
        let s = Arc::new(AeadSession::new(&runtime::get().crypto, self.alg, key, tag_len)?);
        self.sessions.push((tag_len, s));
        Ok(self.sessions.len() - 1)
    }

    fn session(&mut self, tag_len: usize) -> Res<Arc<AeadSession>> {
        let i = self.session_index(tag_len)?;
        Ok(self.sessions[i].1.clone())
    }

    fn block_key(&mut self) -> Res<Arc<BlockKey>> {
        if let Some(k) = &self.block_key {
            return Ok(k.clone());
        }
        let Some(key) = &self.key else {
            return err(ossl::PROV_R_NO_KEY_SET, "uadk_provider: no key set");
        };
        let k = Arc::new(BlockKey::new(self.spec.sm4, key).ok_or_else(|| {
            ProvError::new(ossl::PROV_R_INVALID_KEY_LENGTH, "uadk_provider: bad key length")
        })?);
        self.block_key = Some(k.clone());
        Ok(k)
    }

    fn iv(&self) -> &[u8] {
        &self.msg_iv[..self.ivlen]
    }

    fn start_message(&mut self) {
        let n = self.ivlen;
        if n == 12 {
            // The usual IV, copied without a `memcpy` call.
            self.msg_iv[..12].copy_from_slice(&self.iv[..12]);
        } else {
            self.msg_iv[..n].copy_from_slice(&self.iv[..n]);
        }
        self.iv_state = IvState::Copied;
        self.aad.clear();
        self.msg = Msg::Idle;
    }

    /// Checks key and IV and starts a message if the IV was just set.
    fn begin(&mut self) -> Res<()> {
        if self.key.is_none() {
            return err(ossl::PROV_R_NO_KEY_SET, "uadk_provider: no key set");
        }
        match self.iv_state {
            IvState::Uninit => op_failed("no IV set"),
            IvState::Finished => op_failed("the message is finished; set a new IV (EVP_CipherInit_ex) first"),
            IvState::Buffered => {
                self.start_message();
                Ok(())
            }
            IvState::Copied => Ok(()),
        }
    }

    /// `EVP_CipherUpdate`; returns the bytes written.
    pub fn update(&mut self, io: Io<'_>, outsize: usize) -> Res<usize> {
        let inl = io.inl();
        if inl == 0 {
            return Ok(0);
        }
        if self.tls_aad.is_some() {
            return self.tls_record(io);
        }
        if outsize < inl && !matches!(io, Io::NoOut(..)) {
            return err(
                ossl::PROV_R_OUTPUT_BUFFER_TOO_SMALL,
                "uadk_provider: output buffer too small",
            );
        }
        self.begin()?;
        match io {
            Io::NoOut(Some(aad), _) => self.add_aad(aad),
            Io::NoOut(None, _) => op_failed("GCM needs input"),
            io => self.data(io),
        }
        .map(|()| inl)
    }

    fn add_aad(&mut self, aad: &[u8]) -> Res<()> {
        match &mut self.msg {
            Msg::Idle => {
                self.aad.extend_from_slice(aad);
                Ok(())
            }
            Msg::Stream(s) if !s.data_started() => {
                s.aad(aad);
                Ok(())
            }
            _ => op_failed("GCM takes AAD only before the data"),
        }
    }

    /// A stream at the start of the current message with the AAD gathered so far.
    fn fresh_stream(&mut self) -> Res<StreamGcm> {
        let k = self.block_key()?;
        let mut s = StreamGcm::new(&k, self.iv());
        s.aad(&self.aad);
        runtime::count(&COUNTERS.gcm_stream);
        Ok(s)
    }

    fn data(&mut self, io: Io<'_>) -> Res<()> {
        if matches!(self.msg, Msg::Idle) {
            // Until it succeeds the message is failed (an error leaves no half state).
            self.msg = Msg::Failed;
            return self.first_data(io);
        }
        self.more_data(io)
    }

    /// A data update after the first one.
    #[inline(never)]
    fn more_data(&mut self, io: Io<'_>) -> Res<()> {
        let msg = std::mem::replace(&mut self.msg, Msg::Failed);
        let next = match msg {
            Msg::Idle => return self.first_data(io),
            Msg::Sealed {
                aad_len,
                ct_len,
                tail,
                tail_len,
            }
            | Msg::Opened {
                aad_len,
                ct_len,
                tail,
                tail_len,
            } => {
                // The message goes on after a one-call seal/open: resume from the tag.
                if !self.enc && self.taglen != Some(16) {
                    return op_failed(
                        "a GCM decryption whose short tag verified on its first update cannot continue; \
                         set the tag after the data",
                    );
                }
                let k = self.block_key()?;
                let mut s = StreamGcm::resume(&k, self.iv(), aad_len, ct_len, &tail[..tail_len], &self.tag);
                runtime::count(&COUNTERS.gcm_stream);
                stream_io(&mut s, self.enc, io);
                Msg::Stream(Box::new(s))
            }
            Msg::Failed => return tag_error(
                "the tag set before the data did not match the first update, and in-place data cannot be \
                     recomputed; pass the message in one update or set the tag after the data",
            ),
            Msg::Stream(mut s) => {
                stream_io(&mut s, self.enc, io);
                Msg::Stream(s)
            }
        };
        self.msg = next;
        Ok(())
    }

    /// The first data update of a message; sets `msg` when it succeeds.
    fn first_data(&mut self, io: Io<'_>) -> Res<()> {
        let one_call = self.ivlen == 12 && (self.enc || self.taglen.is_some_and(|t| (12..=16).contains(&t)));
        if !one_call {
            self.msg = self.first_data_stream(io)?;
            return Ok(());
        }
        if self.enc {
            self.seal_one_call(io)
        } else {
            self.msg = self.open_one_call(io)?;
            Ok(())
        }
    }

    #[inline(never)]
    fn first_data_stream(&mut self, io: Io<'_>) -> Res<Msg> {
        let mut s = self.fresh_stream()?;
        stream_io(&mut s, self.enc, io);
        Ok(Msg::Stream(Box::new(s)))
    }

    /// The first data update of an encryption with a 12-byte IV: the whole message, sealed
    /// in one uadk-crypto call (a later update resumes from the tag).
    fn seal_one_call(&mut self, io: Io<'_>) -> Res<()> {
        let aad_len = self.aad.len() as u64;
        let i = self.session_index(16)?;
        let s = &self.sessions[i].1;
        let iv = &self.msg_iv[..self.ivlen];
        let mut tag = [0u8; 16];
        let ct_len = io.inl() as u64;
        // Counted before the seal, taken back if it fails (see `runtime::uncount`).
        runtime::count(&COUNTERS.gcm_oneshot);
        let sealed = match io {
            Io::Split(inp, o) => {
                let o = &mut o[..inp.len()];
                s.seal(iv, &self.aad, inp, o, &mut tag).map(|_| tail_of(o))
            }
            Io::InPlace(b, n) => s
                .seal_in_place(iv, &self.aad, &mut b[..n], &mut tag)
                .map(|_| tail_of(&b[..n])),
            Io::NoOut(..) => {
                runtime::uncount(&COUNTERS.gcm_oneshot);
                return op_failed("no output buffer");
            }
        };
        let (tail, tail_len) = sealed.inspect_err(|_| runtime::uncount(&COUNTERS.gcm_oneshot))?;
        self.tag = tag;
        // Written in place (a returned `Msg` was copied through the stack, and its reload
        // stalled on store forwarding).
        self.msg = Msg::Sealed {
            aad_len,
            ct_len,
            tail,
            tail_len,
        };
        Ok(())
    }

    /// The first data update of a decryption with a 12-byte IV and the tag set: opened as
    /// the whole message in one uadk-crypto call.
    #[inline(never)]
    fn open_one_call(&mut self, io: Io<'_>) -> Res<Msg> {
        let aad_len = self.aad.len() as u64;
        let t = self.taglen.unwrap_or(16);
        let s = self.session(t)?;
        let ct_len = io.inl() as u64;
        let tag = self.tag;
        match io {
            Io::Split(i, o) => {
                let o = &mut o[..i.len()];
                let (tail, tail_len) = tail_of(i);
                match s.open(self.iv(), &self.aad, i, &tag[..t], o) {
                    Ok(_) => {
                        runtime::count(&COUNTERS.gcm_oneshot);
                        Ok(Msg::Opened {
                            aad_len,
                            ct_len,
                            tail,
                            tail_len,
                        })
                    }
                    Err(uadk_crypto::Error::AuthenticationFailed { .. }) => {
                        // Maybe the first of several updates: decrypt as a stream; final
                        // decides (like the default provider).
                        let mut st = self.fresh_stream()?;
                        st.crypt_b2b(false, i, o);
                        Ok(Msg::Stream(Box::new(st)))
                    }
                    Err(e) => Err(e.into()),
                }
            }
            Io::InPlace(b, n) => {
                let b = &mut b[..n];
                let (tail, tail_len) = tail_of(b);
                match s.open_in_place(self.iv(), &self.aad, b, &tag[..t]) {
                    Ok(_) => {
                        runtime::count(&COUNTERS.gcm_oneshot);
                        Ok(Msg::Opened {
                            aad_len,
                            ct_len,
                            tail,
                            tail_len,
                        })
                    }
                    Err(uadk_crypto::Error::AuthenticationFailed { .. }) => Ok(Msg::Failed),
                    Err(e) => Err(e.into()),
                }
            }
            Io::NoOut(..) => op_failed("no output buffer"),
        }
    }

    /// `EVP_CipherFinal`.
    pub fn final_(&mut self) -> Res<usize> {
        if self.tls_aad.is_some() {
            return op_failed("a TLS record is processed by update, not final");
        }
        self.begin()?;
        if !self.enc && self.taglen.is_none() {
            return err(
                ossl::PROV_R_TAG_NOT_SET,
                "uadk_provider: set the expected tag before final",
            );
        }
        let msg = std::mem::replace(&mut self.msg, Msg::Idle);
        self.iv_state = IvState::Finished;
        let computed = match msg {
            Msg::Sealed { .. } | Msg::Opened { .. } => None,
            Msg::Failed => return tag_error("tag mismatch: the data is not authentic (output was zeroed)"),
            Msg::Idle => Some(self.fresh_stream()?.finish()),
            Msg::Stream(mut s) => Some(s.finish()),
        };
        if let Some(t) = computed {
            if self.enc {
                self.tag = t;
            } else {
                let n = self.taglen.unwrap_or(16);
                if !ct_eq(&t[..n], &self.tag[..n]) {
                    return tag_error("tag mismatch: the data is not authentic");
                }
            }
        }
        if self.enc {
            self.taglen = Some(16);
        }
        Ok(0)
    }

    /// `EVP_Cipher`: update, or final when `in` is NULL.
    pub fn cipher(&mut self, io: Option<Io<'_>>, outsize: usize) -> Res<usize> {
        match io {
            Some(io) => self.update(io, outsize),
            None => self.final_(),
        }
    }

    #[inline(never)]
    fn tls_record(&mut self, io: Io<'_>) -> Res<usize> {
        let header = self.tls_aad.take().expect("checked by the caller");
        self.iv_state = IvState::Finished;
        let TlsAad::Header(aad) = header else {
            return err(
                ossl::PROV_R_INVALID_DATA,
                "uadk_provider: the TLS record header set before this record was too short",
            );
        };
        let Io::InPlace(buf, len) = io else {
            return op_failed("TLS records are processed in place");
        };
        if len < TLS_EXPLICIT_IV + TLS_TAG {
            return err(
                ossl::PROV_R_INVALID_INPUT_LENGTH,
                "uadk_provider: TLS record shorter than IV and tag",
            );
        }
        if self.key.is_none() {
            return err(ossl::PROV_R_NO_KEY_SET, "uadk_provider: no key set");
        }
        if !self.iv_gen || self.ivlen != 12 {
            return op_failed("TLS record mode needs tlsivfixed first");
        }
        let rec = &mut buf[..len];
        if self.enc {
            self.tls_enc_records = self.tls_enc_records.wrapping_add(1);
            if self.tls_enc_records == 0 {
                return err(
                    ossl::PROV_R_TOO_MANY_RECORDS,
                    "uadk_provider: too many TLS records under one key",
                );
            }
            let explicit: [u8; 8] = self.iv[4..12].try_into().expect("12-byte IV");
            rec[..8].copy_from_slice(&explicit);
            let nonce: [u8; 12] = self.iv[..12].try_into().expect("12-byte IV");
            inc64(&mut self.iv[4..12]);
            let (_, rest) = rec.split_at_mut(TLS_EXPLICIT_IV);
            let (payload, tag) = rest.split_at_mut(len - TLS_EXPLICIT_IV - TLS_TAG);
            let s = self.session(16)?;
            // Counted before the seal, taken back if it fails (see `runtime::uncount`).
            runtime::count(&COUNTERS.tls12_records);
            s.seal_in_place(&nonce, &aad, payload, tag)
                .inspect_err(|_| runtime::uncount(&COUNTERS.tls12_records))?;
            Ok(len)
        } else {
            self.iv[4..12].copy_from_slice(&rec[..8]);
            let nonce: [u8; 12] = self.iv[..12].try_into().expect("12-byte IV");
            let (_, rest) = rec.split_at_mut(TLS_EXPLICIT_IV);
            let (payload, tag) = rest.split_at_mut(len - TLS_EXPLICIT_IV - TLS_TAG);
            let s = self.session(16)?;
            // On a mismatch uadk-crypto zeroes the payload before returning the error.
            runtime::count(&COUNTERS.tls12_records);
            s.open_in_place(&nonce, &aad, payload, tag)
                .inspect_err(|_| runtime::uncount(&COUNTERS.tls12_records))?;
            Ok(len - TLS_EXPLICIT_IV - TLS_TAG)
        }
    }

    /// `get_ctx_params` (one pass over the caller's array).
    pub fn get_params(&mut self, out: &Out) -> Res<()> {
        // OpenSSL's own getters (`EVP_CIPHER_CTX_get_key_length`, `_get_iv_length`, called
        // by every `EVP_CipherInit_ex` with a key or IV) ask for one size at a time.
        if let Some(p) = out.single() {
            if p.is(names::KEYLEN) {
                return p.set_size(self.spec.keylen);
            }
            if p.is(names::IVLEN) {
                return p.set_size(self.ivlen);
            }
        }
        self.get_params_all(out)
    }

    #[inline(never)]
    fn get_params_all(&mut self, out: &Out) -> Res<()> {
        for mut p in out.iter() {
            match p.name().to_bytes() {
                b"keylen" => p.set_size(self.spec.keylen)?,
                b"ivlen" => p.set_size(self.ivlen)?,
                b"taglen" => p.set_size(self.taglen.unwrap_or(16))?,
                b"iv" | b"updated-iv" => {
                    if self.iv_state == IvState::Uninit {
                        return op_failed("no IV set");
                    }
                    p.set_octets(&self.iv[..self.ivlen])?
                }
                b"tlsaadpad" => p.set_size(self.tls_aad_pad)?,
                b"tag" => {
                    let buf = p.octet_buffer()?;
                    if buf.is_empty() || buf.len() > 16 || !self.enc || self.taglen.is_none() {
                        return tag_error("the tag is available after encryption's final, 1 to 16 bytes");
                    }
                    let n = buf.len();
                    buf.copy_from_slice(&self.tag[..n]);
                }
                b"tlsivgen" => {
                    if !self.iv_gen || self.key.is_none() {
                        return op_failed("tlsivgen needs tlsivfixed and a key");
                    }
                    let buf = p.octet_buffer()?;
                    let n = if buf.is_empty() || buf.len() > self.ivlen {
                        self.ivlen
                    } else {
                        buf.len()
                    };
                    let start = self.ivlen - n;
                    buf[..n].copy_from_slice(&self.iv[start..self.ivlen]);
                    // The message uses this IV; the next one is the incremented counter.
                    self.start_message();
                    let l = self.ivlen;
                    inc64(&mut self.iv[l - 8..l]);
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// `set_ctx_params` (one pass over the caller's array).
    pub fn set_params(&mut self, p: In) -> Res<()> {
        if p.is_empty() {
            return Ok(());
        }
        // `EVP_CTRL_AEAD_SET_IVLEN` (`openssl speed` sets it before every message).
        if let Some(v) = p.single().filter(|v| v.is(names::AEAD_IVLEN)) {
            return self.set_ivlen(v.size()?);
        }
        self.set_params_all(p)
    }

    fn set_ivlen(&mut self, n: usize) -> Res<()> {
        if n == 0 || n > MAX_IV {
            return err(
                ossl::PROV_R_INVALID_IV_LENGTH,
                "uadk_provider: GCM IVs are 1 to 128 bytes",
            );
        }
        self.ivlen = n;
        Ok(())
    }

    #[inline(never)]
    fn set_params_all(&mut self, p: In) -> Res<()> {
        for v in p.iter() {
            match v.name().to_bytes() {
                b"tag" => {
                    let Some(t) = v.octets()? else {
                        return tag_error("a GCM tag needs its bytes");
                    };
                    if t.is_empty() || t.len() > 16 || self.enc {
                        return tag_error("the expected tag is set when decrypting, 1 to 16 bytes");
                    }
                    self.tag[..t.len()].copy_from_slice(t);
                    self.taglen = Some(t.len());
                }
                b"ivlen" => self.set_ivlen(v.size()?)?,
                b"tlsaad" => {
                    let Some(a) = v.octets()? else {
                        return err(
                            ossl::PROV_R_INVALID_DATA,
                            "uadk_provider: tlsaad needs the 13-byte header",
                        );
                    };
                    self.set_tls_aad(a)?;
                }
                b"tlsivfixed" => {
                    let Some(f) = v.octets()? else {
                        return op_failed("tlsivfixed needs its bytes");
                    };
                    self.set_iv_fixed(f)?;
                }
                b"tlsivinv" => {
                    let Some(inv) = v.octets()? else {
                        return op_failed("tlsivinv needs its bytes");
                    };
                    if !self.iv_gen || self.key.is_none() || self.enc || inv.len() > self.ivlen {
                        return op_failed("tlsivinv is for decryption after tlsivfixed and a key");
                    }
                    let start = self.ivlen - inv.len();
                    self.iv[start..self.ivlen].copy_from_slice(inv);
                    self.iv_state = IvState::Buffered;
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn set_tls_aad(&mut self, a: &[u8]) -> Res<()> {
        if a.len() != TLS_AAD_LEN {
            return err(
                ossl::PROV_R_INVALID_DATA,
                "uadk_provider: tlsaad is the 13-byte TLS header",
            );
        }
        let mut h: [u8; TLS_AAD_LEN] = a.try_into().expect("length checked");
        let mut len = u16::from_be_bytes([h[11], h[12]]) as usize;
        let fix = TLS_EXPLICIT_IV + if self.enc { 0 } else { TLS_TAG };
        if len < fix {
            self.tls_aad = Some(TlsAad::TooShort);
            return err(
                ossl::PROV_R_INVALID_DATA,
                "uadk_provider: TLS record length too short",
            );
        }
        len -= fix;
        h[11..13].copy_from_slice(&(len as u16).to_be_bytes());
        self.tls_aad = Some(TlsAad::Header(h));
        self.tls_aad_pad = TLS_TAG;
        Ok(())
    }

    fn set_iv_fixed(&mut self, f: &[u8]) -> Res<()> {
        // Special case (the default provider's): the whole IV length restores the IV.
        if f.len() == self.ivlen {
            self.iv[..self.ivlen].copy_from_slice(f);
            self.iv_gen = true;
            self.iv_state = IvState::Buffered;
            return Ok(());
        }
        if f.len() < 4 || self.ivlen < f.len() + TLS_EXPLICIT_IV {
            return op_failed("tlsivfixed: the fixed part is at least 4 bytes and leaves 8 for the counter");
        }
        self.iv[..f.len()].copy_from_slice(f);
        if self.enc {
            let l = self.ivlen;
            openssl::rand::rand_bytes(&mut self.iv[f.len()..l]).map_err(|_| {
                ProvError::new(
                    ossl::PROV_R_FAILED_TO_SET_PARAMETER,
                    "uadk_provider: RAND_bytes failed",
                )
            })?;
        }
        self.iv_gen = true;
        self.iv_state = IvState::Buffered;
        Ok(())
    }
}

fn inc64(b: &mut [u8]) {
    let v = u64::from_be_bytes(b.try_into().expect("8 bytes")).wrapping_add(1);
    b.copy_from_slice(&v.to_be_bytes());
}

fn stream_io(s: &mut StreamGcm, enc: bool, io: Io<'_>) {
    match io {
        Io::Split(i, o) => s.crypt_b2b(enc, i, &mut o[..i.len()]),
        Io::InPlace(b, n) if enc => s.encrypt(&mut b[..n]),
        Io::InPlace(b, n) => s.decrypt(&mut b[..n]),
        Io::NoOut(..) => {}
    }
}
