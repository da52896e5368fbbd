//! RustCrypto: SM4-XTS and AES-192-XTS (`xts-mode`, absent from OpenSSL 3.0), SM4-GCM
//! (`aes-gcm` generic over SM4), SM4-CCM (our [`super::ccm`] over `sm4`) and SM3.

use aes_gcm::aead::consts::{U12, U13, U14, U15, U16};
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::AesGcm;
use sm4::cipher::{BlockCipher as RcBlockCipher, BlockDecrypt, BlockEncrypt, BlockSizeUser};
use sm4::Sm4;
use xts_mode::Xts128;

use super::ccm::Ccm;
use super::{AeadEngine, CipherEngine, DigestEngine};
use crate::alg::{AeadAlg, AeadMode, BlockCipher, CipherAlg};
use crate::device::Direction;
use crate::error::{Error, Result};

/// XTS over a RustCrypto block cipher; one data unit per `update`.
pub(crate) struct RcXts<C: RcBlockCipher + BlockEncrypt + BlockDecrypt + BlockSizeUser<BlockSize = U16>> {
    xts: Xts128<C>,
    tweak: [u8; 16],
    dir: Direction,
}

/// Builds the XTS engine for `alg` (AES-192 or SM4).
pub(crate) fn xts(alg: CipherAlg, key: &[u8], dir: Direction) -> Result<Box<dyn CipherEngine>> {
    let half = key.len() / 2;
    let bad = |e| Error::provider(alg.name(), e);
    Ok(match alg.block {
        BlockCipher::Sm4 => Box::new(RcXts {
            xts: Xts128::new(
                Sm4::new_from_slice(&key[..half]).map_err(bad)?,
                Sm4::new_from_slice(&key[half..]).map_err(bad)?,
            ),
            tweak: [0; 16],
            dir,
        }),
        BlockCipher::Aes192 => Box::new(RcXts {
            xts: Xts128::new(
                aes::Aes192::new_from_slice(&key[..half]).map_err(bad)?,
                aes::Aes192::new_from_slice(&key[half..]).map_err(bad)?,
            ),
            tweak: [0; 16],
            dir,
        }),
        BlockCipher::Aes128 => Box::new(RcXts {
            xts: Xts128::new(
                aes::Aes128::new_from_slice(&key[..half]).map_err(bad)?,
                aes::Aes128::new_from_slice(&key[half..]).map_err(bad)?,
            ),
            tweak: [0; 16],
            dir,
        }),
        BlockCipher::Aes256 => Box::new(RcXts {
            xts: Xts128::new(
                aes::Aes256::new_from_slice(&key[..half]).map_err(bad)?,
                aes::Aes256::new_from_slice(&key[half..]).map_err(bad)?,
            ),
            tweak: [0; 16],
            dir,
        }),
    })
}

impl<C> CipherEngine for RcXts<C>
where
    C: RcBlockCipher + BlockEncrypt + BlockDecrypt + BlockSizeUser<BlockSize = U16> + Send,
{
    fn start(&mut self, iv: &[u8]) -> Result<()> {
        self.tweak.copy_from_slice(iv);
        Ok(())
    }

    fn update(&mut self, input: &[u8], output: &mut [u8]) -> Result<()> {
        output.copy_from_slice(input);
        self.update_in_place(output)
    }

    fn update_in_place(&mut self, buf: &mut [u8]) -> Result<()> {
        match self.dir {
            Direction::Encrypt => self.xts.encrypt_sector(buf, self.tweak),
            Direction::Decrypt => self.xts.decrypt_sector(buf, self.tweak),
        }
        Ok(())
    }
}

/// A RustCrypto hash (`sm3::Sm3`, `sha1::Sha1`, `sha2::Sha*`).
#[derive(Clone, Default)]
pub(crate) struct RcDigest<D>(D);

/// SM3 from the `sm3` crate.
pub(crate) type RcSm3 = RcDigest<sm3::Sm3>;
/// SHA-256 from the `sha2` crate (SHA-NI when the CPU has it).
pub(crate) type RcSha256 = RcDigest<sha2::Sha256>;
/// SHA-224 from the `sha2` crate (the SHA-256 compression function).
pub(crate) type RcSha224 = RcDigest<sha2::Sha224>;
/// SHA-384 from the `sha2` crate.
pub(crate) type RcSha384 = RcDigest<sha2::Sha384>;
/// SHA-512 from the `sha2` crate.
pub(crate) type RcSha512 = RcDigest<sha2::Sha512>;
/// SHA-1 from the `sha1` crate (SHA-NI when the CPU has it).
pub(crate) type RcSha1 = RcDigest<sha1::Sha1>;

impl<D> DigestEngine for RcDigest<D>
where
    D: sha2::Digest + sha2::digest::FixedOutputReset + Clone + Send + Sync + 'static,
{
    fn update(&mut self, data: &[u8]) -> Result<()> {
        sha2::Digest::update(&mut self.0, data);
        Ok(())
    }

    fn finish(&mut self, out: &mut [u8]) -> Result<()> {
        out.copy_from_slice(&sha2::Digest::finalize_reset(&mut self.0));
        Ok(())
    }

    fn box_clone(&self) -> Result<Box<dyn DigestEngine>> {
        Ok(Box::new(self.clone()))
    }
}

/// SM4-GCM through `aes-gcm`'s generic GCM, one type per tag length.
struct RcGcm<T: aes_gcm::TagSize>(AesGcm<Sm4, U12, T>);

impl<T: aes_gcm::TagSize + Send> AeadEngine for RcGcm<T>
where
    AesGcm<Sm4, U12, T>: Send,
{
    fn seal_in_place(&mut self, nonce: &[u8], aad: &[u8], buf: &mut [u8], tag: &mut [u8]) -> Result<()> {
        let t = self
            .0
            .encrypt_in_place_detached(nonce.into(), aad, buf)
            .map_err(|e| Error::provider("sm4-gcm", e))?;
        tag.copy_from_slice(&t);
        Ok(())
    }

    fn open_in_place(&mut self, nonce: &[u8], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> Result<bool> {
        Ok(self
            .0
            .decrypt_in_place_detached(nonce.into(), aad, buf, tag.into())
            .is_ok())
    }
}

/// SM4-GCM or SM4-CCM (lengths already validated).
pub(crate) fn sm4_aead(alg: AeadAlg, key: &[u8], tag_len: usize) -> Result<Box<dyn AeadEngine>> {
    let sm4 = Sm4::new_from_slice(key).map_err(|e| Error::provider(alg.name(), e))?;
    Ok(match (alg.mode, tag_len) {
        (AeadMode::Ccm, _) => Box::new(Ccm::new(sm4, tag_len)),
        (AeadMode::Gcm, 12) => Box::new(RcGcm::<U12>(AesGcm::from(sm4))),
        (AeadMode::Gcm, 13) => Box::new(RcGcm::<U13>(AesGcm::from(sm4))),
        (AeadMode::Gcm, 14) => Box::new(RcGcm::<U14>(AesGcm::from(sm4))),
        (AeadMode::Gcm, 15) => Box::new(RcGcm::<U15>(AesGcm::from(sm4))),
        (AeadMode::Gcm, _) => Box::new(RcGcm::<U16>(AesGcm::from(sm4))),
    })
}
