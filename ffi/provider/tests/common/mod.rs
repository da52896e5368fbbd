//! Loads the provider module built by this crate next to OpenSSL's default provider in a
//! private library context, and fetches an algorithm from either by property query.

#![allow(dead_code)]

use std::path::PathBuf;

use openssl::cipher::Cipher;
use openssl::lib_ctx::LibCtx;
use openssl::md::Md;
use openssl::provider::Provider;

/// The directory holding `libuadk_provider.so`: cargo builds the cdylib with the tests
/// into `deps/` (the copy one level up is from the last `cargo build` and may be stale).
pub fn module_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let deps = exe.parent().expect("deps dir").to_path_buf();
    for dir in [Some(deps.clone()), deps.parent().map(|p| p.to_path_buf())]
        .into_iter()
        .flatten()
    {
        if dir.join("libuadk_provider.so").exists() {
            return dir;
        }
    }
    panic!("libuadk_provider.so not found next to {}", exe.display());
}

/// A library context with both providers.
pub struct Env {
    // Fields drop in order: the providers before their library context.
    _ours: Provider,
    _default: Provider,
    pub ctx: LibCtx,
}

impl Env {
    pub fn new() -> Env {
        let ctx = LibCtx::new().expect("libctx");
        Provider::set_default_search_path(Some(&ctx), module_dir().to_str().unwrap()).unwrap();
        let d = Provider::load(Some(&ctx), "default").expect("default provider");
        let o = Provider::load(Some(&ctx), "libuadk_provider").expect("our provider");
        Env {
            ctx,
            _default: d,
            _ours: o,
        }
    }

    /// `name` from our provider (`ours`) or the default one.
    pub fn cipher(&self, name: &str, ours: bool) -> Cipher {
        let q = if ours {
            "provider=uadk_provider"
        } else {
            "provider=default"
        };
        Cipher::fetch(Some(&self.ctx), name, Some(q)).unwrap_or_else(|e| panic!("fetch {name} ({q}): {e}"))
    }

    pub fn md(&self, name: &str, ours: bool) -> Md {
        let q = if ours {
            "provider=uadk_provider"
        } else {
            "provider=default"
        };
        Md::fetch(Some(&self.ctx), name, Some(q)).unwrap_or_else(|e| panic!("fetch {name} ({q}): {e}"))
    }
}

/// xorshift64*: reproducible random test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }

    /// Splits `len` into random pieces (some empty).
    pub fn chunks(&mut self, len: usize, max_pieces: usize) -> Vec<usize> {
        let pieces = 1 + self.below(max_pieces);
        let mut cuts: Vec<usize> = (0..pieces - 1).map(|_| self.below(len + 1)).collect();
        cuts.push(0);
        cuts.push(len);
        cuts.sort_unstable();
        cuts.windows(2).map(|w| w[1] - w[0]).collect()
    }
}

/// Sizes every test covers: edges and up to 64 KiB + 3.
pub const SIZES: &[usize] = &[
    0,
    1,
    15,
    16,
    17,
    31,
    32,
    33,
    255,
    256,
    1000,
    4096,
    16384,
    65536 + 3,
];
