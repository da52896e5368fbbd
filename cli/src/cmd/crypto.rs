//! `uadk digest` and `uadk cipher`: the crypto front-end (uadk-crypto) from the command line.
//!
//! `digest` prints `HEX  FILE` lines like sha256sum (HMAC with `--key`); `cipher` reads
//! stdin to the end, writes stdout, and for AEAD appends the tag on encryption and takes it
//! from `--tag` or the end of the input on decryption. A failed tag check writes nothing.

use std::fs::File;
use std::io::{Read, Write};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use uadk_crypto::{
    hex, AeadAlg, AeadSession, Algorithm, Backend, CipherAlg, CipherSession, Crypto, DigestAlg, DigestSession,
};

/// Arguments of `uadk digest`.
#[derive(Debug, clap::Args)]
pub struct DigestArgs {
    /// Digest name (sha1, sha224, sha256, sha384, sha512, sm3, md5); `hmac-NAME` needs --key.
    #[arg(long, required_unless_present = "list")]
    alg: Option<String>,
    /// HMAC key in hex: print HMAC-ALG instead of the plain digest.
    #[arg(long)]
    key: Option<String>,
    /// auto, device or software.
    #[arg(long, default_value = "auto")]
    backend: String,
    /// List the digest and HMAC names and exit.
    #[arg(long)]
    list: bool,
    /// Say on stderr which backend ran and why.
    #[arg(long, short)]
    verbose: bool,
    /// Files to hash; none or `-` reads stdin.
    files: Vec<PathBuf>,
}

/// Arguments of `uadk cipher`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("dir").args(["encrypt", "decrypt", "list"]).required(true)))]
pub struct CipherArgs {
    /// Cipher or AEAD name (aes-128-cbc, sm4-xts, aes-256-gcm, sm4-ccm, ...).
    #[arg(long, required_unless_present = "list")]
    alg: Option<String>,
    /// Key in hex (XTS: both halves).
    #[arg(long, required_unless_present = "list")]
    key: Option<String>,
    /// IV, XTS tweak or AEAD nonce in hex (ECB: none).
    #[arg(long, default_value = "")]
    iv: String,
    /// Encrypt (AEAD: append the tag).
    #[arg(long)]
    encrypt: bool,
    /// Decrypt (AEAD: verify the tag, write nothing if it fails).
    #[arg(long)]
    decrypt: bool,
    /// AEAD additional authenticated data in hex.
    #[arg(long, default_value = "")]
    aad: String,
    /// AEAD tag in hex for --decrypt (default: the last --tag-len bytes of the input).
    #[arg(long)]
    tag: Option<String>,
    /// AEAD tag length in bytes (GCM 12-16, CCM 4-16 even).
    #[arg(long, default_value_t = 16)]
    tag_len: usize,
    /// auto, device or software.
    #[arg(long, default_value = "auto")]
    backend: String,
    /// List the cipher and AEAD names and exit.
    #[arg(long)]
    list: bool,
    /// Say on stderr which backend ran and why.
    #[arg(long, short)]
    verbose: bool,
}

fn crypto_for(backend: &str) -> Result<Crypto> {
    let b: Backend = backend.parse().map_err(anyhow::Error::msg)?;
    let crypto = Crypto::new(b);
    if b != Backend::Software {
        // A SEC device (or the emulator, found through UADK_SYSFS_ROOT/UADK_DEV_ROOT) serves
        // requests above the small-packet thresholds; without one, software runs and the
        // session's route says why (`--backend device` then fails with that reason).
        if let Err(e) = uadk_crypto::device::sec::attach_from_env(&crypto) {
            log::debug!("no SEC device attached: {e}");
        }
    }
    Ok(crypto)
}

/// Runs `uadk digest`.
pub fn digest(a: DigestArgs) -> Result<()> {
    if a.list {
        for d in DigestAlg::all() {
            println!("{}", d.name());
        }
        for d in DigestAlg::all() {
            println!("{}", d.hmac_name());
        }
        return Ok(());
    }
    let name = a.alg.as_deref().unwrap_or_default();
    let crypto = crypto_for(&a.backend)?;
    let session = match (Algorithm::from_name(name)?, &a.key) {
        (Algorithm::Digest(d), None) => DigestSession::new(&crypto, d)?,
        (Algorithm::Digest(d) | Algorithm::Hmac(d), Some(k)) => {
            DigestSession::hmac(&crypto, d, &hex::decode("--key", k)?)?
        }
        (Algorithm::Hmac(_), None) => bail!("{name} needs --key HEX"),
        _ => bail!("'{name}' is not a digest: run `uadk digest --list` for the names"),
    };
    let files = if a.files.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        a.files
    };
    let mut failed = false;
    let mut buf = vec![0u8; 1 << 20];
    for f in &files {
        let r = (|| -> Result<(Vec<u8>, uadk_crypto::Route)> {
            let mut input: Box<dyn Read> = if f.as_os_str() == "-" {
                Box::new(std::io::stdin().lock())
            } else {
                Box::new(File::open(f).with_context(|| format!("cannot open {}", f.display()))?)
            };
            let mut out = vec![0u8; session.output_len()];
            // With a SEC device the stream runs on it as a long hash (first/middle/last
            // requests carrying the intermediate state); otherwise in software.
            let mut h = session.hasher()?;
            loop {
                let n = input.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                h.update(&buf[..n])?;
            }
            let route = h.finish(&mut out)?;
            Ok((out, route))
        })();
        match r {
            Ok((d, route)) => {
                println!("{}  {}", hex::encode(&d), f.display());
                if a.verbose {
                    eprintln!("uadk: {}: {route}", session.algorithm());
                }
            }
            Err(e) => {
                eprintln!("uadk: {}: {e:#}", f.display());
                failed = true;
            }
        }
    }
    if failed {
        bail!("some files could not be hashed");
    }
    Ok(())
}

/// Runs `uadk cipher`.
pub fn cipher(a: CipherArgs) -> Result<()> {
    if a.list {
        for c in CipherAlg::all() {
            println!("{}", c.name());
        }
        for c in AeadAlg::all() {
            println!("{}", c.name());
        }
        return Ok(());
    }
    let name = a.alg.as_deref().unwrap_or_default();
    let key = hex::decode("--key", a.key.as_deref().unwrap_or_default())?;
    let iv = hex::decode("--iv", &a.iv)?;
    let crypto = crypto_for(&a.backend)?;
    let mut input = Vec::new();
    std::io::stdin()
        .lock()
        .read_to_end(&mut input)
        .context("cannot read stdin")?;
    let (output, route) = match Algorithm::from_name(name)? {
        Algorithm::Cipher(alg) => {
            if a.tag.is_some() || !a.aad.is_empty() {
                bail!("{name} is not an AEAD: --tag and --aad do not apply");
            }
            let s = CipherSession::new(&crypto, alg, &key)?;
            let route = if a.encrypt {
                s.encrypt_in_place(&iv, &mut input)?
            } else {
                s.decrypt_in_place(&iv, &mut input)?
            };
            (input, route)
        }
        Algorithm::Aead(alg) => {
            let aad = hex::decode("--aad", &a.aad)?;
            let tag = a.tag.as_deref().map(|t| hex::decode("--tag", t)).transpose()?;
            let tag_len = tag.as_ref().map_or(a.tag_len, Vec::len);
            let s = AeadSession::new(&crypto, alg, &key, tag_len)?;
            if a.encrypt {
                if tag.is_some() {
                    bail!("--tag is for --decrypt; use --tag-len to choose the tag length");
                }
                let mut t = vec![0u8; tag_len];
                let route = s.seal_in_place(&iv, &aad, &mut input, &mut t)?;
                input.extend_from_slice(&t);
                (input, route)
            } else {
                let t = match tag {
                    Some(t) => t,
                    None => {
                        let n = input.len().checked_sub(tag_len).with_context(|| {
                            format!(
                                "the input ({} bytes) is shorter than the {tag_len}-byte tag",
                                input.len()
                            )
                        })?;
                        input.split_off(n)
                    }
                };
                let route = s.open_in_place(&iv, &aad, &mut input, &t)?;
                (input, route)
            }
        }
        _ => bail!("'{name}' is not a cipher: run `uadk cipher --list` for the names"),
    };
    if a.verbose {
        eprintln!("uadk: {name}: {route}");
    }
    let mut out = std::io::stdout().lock();
    out.write_all(&output)?;
    out.flush()?;
    Ok(())
}
