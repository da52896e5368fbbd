//! `uadk digest` and `uadk cipher`: the crypto front-end (uadk-crypto) from the command line.
//!
//! `digest` prints `HEX  FILE` lines exactly like sha256sum (names are bytes; a name with a
//! backslash, newline or carriage return is escaped and the line starts with `\`, as in
//! coreutils 9). `cipher` reads stdin and writes stdout:
//!
//! * ECB, CBC and CTR stream in 1 MiB pieces: memory stays bounded for any input (ECB and
//!   CBC take whole 16-byte blocks, there is no padding: a stdin that is a regular file is
//!   checked before anything is written; a pipe whose length turns out wrong ends with an
//!   error after the whole blocks were written).
//! * XTS encrypts the input as ONE data unit (the tweak is the IV), which IEEE 1619 limits
//!   to 16 MiB: larger inputs are refused before anything is written.
//! * AEAD (GCM, CCM): the library seals and opens whole messages, and plaintext must not be
//!   released before the tag verifies, so the message is held in memory, at most
//!   `--max-size` bytes (default 256M): a larger input is refused before anything is
//!   written, and a failed tag check writes nothing. Memory that cannot be had is an error
//!   message, never an abort.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use crate::exit::Status;
use crate::{names, note};
use anyhow::{anyhow, bail, Context, Result};
use uadk_crypto::{
    hex, AeadAlg, AeadSession, Algorithm, Backend, CipherAlg, CipherMode, CipherSession, Crypto, DigestAlg,
    DigestSession,
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
    /// Files to hash (any bytes but NUL); none or `-` reads stdin.
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
    /// AEAD only: the largest message held in memory until the tag is made or verified
    /// (K, M, G suffixes; the tag of --decrypt input is not counted).
    #[arg(long, value_name = "SIZE", default_value = "256M", value_parser = crate::size::parse_size)]
    max_size: u64,
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
pub fn digest(a: DigestArgs) -> Result<Status> {
    if a.list {
        let mut out = BufWriter::new(crate::exit::stdout());
        for d in DigestAlg::all() {
            writeln!(out, "{}", d.name())?;
        }
        for d in DigestAlg::all() {
            writeln!(out, "{}", d.hmac_name())?;
        }
        out.flush()?;
        return Ok(Status::Ok);
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
    let mut status = Status::Ok;
    let mut buf = vec![0u8; 1 << 20];
    for f in &files {
        let r = (|| -> Result<(Vec<u8>, uadk_crypto::Route)> {
            let mut input: Box<dyn Read> = if f.as_os_str() == "-" {
                Box::new(io::stdin().lock())
            } else {
                Box::new(File::open(f).context("cannot open")?)
            };
            let mut out = vec![0u8; session.output_len()];
            // With a SEC device the stream runs on it as a long hash (first/middle/last
            // requests carrying the intermediate state); otherwise in software.
            let mut h = session.hasher()?;
            loop {
                let n = match input.read(&mut buf) {
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(anyhow::Error::new(e).context("cannot read")),
                };
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
                let (shown, escaped) = names::checksum_name(f.as_os_str());
                let mut line = Vec::with_capacity(shown.len() + 2 * d.len() + 4);
                if escaped {
                    line.push(b'\\');
                }
                line.extend_from_slice(hex::encode(&d).as_bytes());
                line.extend_from_slice(b"  ");
                line.extend_from_slice(&shown);
                line.push(b'\n');
                crate::exit::stdout().write_all(&line)?;
                if a.verbose {
                    note!("{}: {route}", session.algorithm());
                }
            }
            Err(e) => {
                note!(
                    "{}: {e:#}",
                    OsStr::from_bytes(f.as_os_str().as_bytes()).to_string_lossy()
                );
                status = Status::Error;
            }
        }
    }
    Ok(status)
}

/// Reads all of `r`, refusing more than `max` bytes (the error names `flag`), growing the
/// buffer with `try_reserve` so that a failed allocation is an error, not an abort.
fn read_bounded(r: &mut dyn Read, max: u64, flag: &str) -> Result<Vec<u8>> {
    let mut v: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 1 << 20];
    loop {
        let n = match r.read(&mut chunk) {
            Ok(0) => return Ok(v),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(anyhow::Error::new(e).context("cannot read stdin")),
        };
        if v.len() as u64 + n as u64 > max {
            bail!(
                "the input is larger than {flag} ({max} bytes); nothing was written{}",
                if flag == "--max-size" {
                    ": raise --max-size if the memory is there"
                } else {
                    ""
                }
            );
        }
        v.try_reserve(n.max(v.len().min(64 << 20))).map_err(|e| {
            anyhow!(
                "out of memory holding {} bytes of input ({e}); lower the input size",
                v.len()
            )
        })?;
        v.extend_from_slice(&chunk[..n]);
    }
}

/// Streams ECB, CBC or CTR from `input` to `out` in 1 MiB pieces (a whole number of
/// blocks each; only the last may be shorter, and for ECB/CBC it must be whole blocks).
fn stream_cipher(
    s: &CipherSession,
    encrypt: bool,
    iv: &[u8],
    input: &mut dyn Read,
    out: &mut dyn Write,
) -> Result<Option<uadk_crypto::Route>> {
    let name = s.alg().name();
    let whole_blocks = s.alg().mode != CipherMode::Ctr;
    let mut st = if encrypt {
        s.encryptor(iv)?
    } else {
        s.decryptor(iv)?
    };
    const PIECE: usize = 1 << 20;
    let mut buf = vec![0u8; PIECE];
    let mut have = 0usize;
    let mut route = None;
    let mut total = 0u64;
    loop {
        let n = match input.read(&mut buf[have..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(anyhow::Error::new(e).context("cannot read stdin")),
        };
        have += n;
        total += n as u64;
        if n == 0 && whole_blocks && !have.is_multiple_of(16) {
            bail!(
                "the input ({total} bytes) is not a whole number of 16-byte blocks, which {name} needs (no padding); the output is incomplete"
            );
        }
        if have == PIECE || (n == 0 && have > 0) {
            route = Some(st.update_in_place(&mut buf[..have])?);
            out.write_all(&buf[..have])?;
            have = 0;
        }
        if n == 0 {
            return Ok(route);
        }
    }
}

/// Runs `uadk cipher`.
pub fn cipher(a: CipherArgs) -> Result<Status> {
    if a.list {
        let mut out = BufWriter::new(crate::exit::stdout());
        for c in CipherAlg::all() {
            writeln!(out, "{}", c.name())?;
        }
        for c in AeadAlg::all() {
            writeln!(out, "{}", c.name())?;
        }
        out.flush()?;
        return Ok(Status::Ok);
    }
    let name = a.alg.as_deref().unwrap_or_default();
    let key = hex::decode("--key", a.key.as_deref().unwrap_or_default())?;
    let iv = hex::decode("--iv", &a.iv)?;
    let crypto = crypto_for(&a.backend)?;
    let stdin = io::stdin();
    let mut input = stdin.lock();
    let mut out = BufWriter::with_capacity(1 << 20, crate::exit::stdout());
    let route = match Algorithm::from_name(name)? {
        Algorithm::Cipher(alg) => {
            if a.tag.is_some() || !a.aad.is_empty() {
                bail!("{name} is not an AEAD: --tag and --aad do not apply");
            }
            let s = CipherSession::new(&crypto, alg, &key)?;
            if alg.mode == CipherMode::Xts {
                // One data unit: the whole input, at most 16 MiB (IEEE 1619).
                let mut data = read_bounded(
                    &mut input,
                    uadk_crypto::cipher::XTS_MAX_UNIT as u64,
                    "an XTS data unit (16 MiB)",
                )?;
                let route = if a.encrypt {
                    s.encrypt_in_place(&iv, &mut data)?
                } else {
                    s.decrypt_in_place(&iv, &mut data)?
                };
                out.write_all(&data)?;
                Some(route)
            } else {
                if alg.mode != CipherMode::Ctr {
                    // A regular file on stdin: check the length before writing anything.
                    let meta = stdin
                        .as_fd()
                        .try_clone_to_owned()
                        .map(File::from)
                        .and_then(|f| f.metadata());
                    if let Ok(m) = meta {
                        if m.is_file() && m.len() % 16 != 0 {
                            bail!(
                                "the input ({} bytes) is not a whole number of 16-byte blocks, which {name} needs (no padding); nothing was written",
                                m.len()
                            );
                        }
                    }
                }
                stream_cipher(&s, a.encrypt, &iv, &mut input, &mut out)?
            }
        }
        Algorithm::Aead(alg) => {
            let aad = hex::decode("--aad", &a.aad)?;
            let tag = a.tag.as_deref().map(|t| hex::decode("--tag", t)).transpose()?;
            let tag_len = tag.as_ref().map_or(a.tag_len, Vec::len);
            let s = AeadSession::new(&crypto, alg, &key, tag_len)?;
            let carried_tag = if a.decrypt && tag.is_none() {
                tag_len as u64
            } else {
                0
            };
            let mut input = read_bounded(&mut input, a.max_size.saturating_add(carried_tag), "--max-size")?;
            if a.encrypt {
                if tag.is_some() {
                    bail!("--tag is for --decrypt; use --tag-len to choose the tag length");
                }
                let mut t = vec![0u8; tag_len];
                let route = s.seal_in_place(&iv, &aad, &mut input, &mut t)?;
                out.write_all(&input)?;
                out.write_all(&t)?;
                Some(route)
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
                // Verified before a byte is written; on failure the buffer is zeroed.
                let route = s.open_in_place(&iv, &aad, &mut input, &t)?;
                out.write_all(&input)?;
                Some(route)
            }
        }
        _ => bail!("'{name}' is not a cipher: run `uadk cipher --list` for the names"),
    };
    out.flush()?;
    if a.verbose {
        match route {
            Some(r) => note!("{name}: {r}"),
            None => note!("{name}: empty input, nothing to run"),
        }
    }
    Ok(Status::Ok)
}
