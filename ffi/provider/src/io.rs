//! The buffers of one `update`/`cipher` call, after the boundary checked them.

/// Input and output of one call. OpenSSL allows `out == in` exactly (in place); any other
/// overlap is resolved at the boundary by copying the input, so the variants never alias.
pub enum Io<'a> {
    /// Separate input and output (the output's length is the caller's `outsize`).
    Split(&'a [u8], &'a mut [u8]),
    /// One buffer: the first `inl` bytes are the input; its length is
    /// `max(inl, outsize)`.
    InPlace(&'a mut [u8], usize),
    /// No output buffer: AAD (`Some`) or CCM's total-length call (`None`, `inl` bytes).
    NoOut(Option<&'a [u8]>, usize),
}

impl Io<'_> {
    /// Input length.
    pub fn inl(&self) -> usize {
        match self {
            Io::Split(i, _) => i.len(),
            Io::InPlace(_, n) => *n,
            Io::NoOut(i, n) => i.map_or(*n, |i| i.len()),
        }
    }

    /// The input bytes (empty for a length-only call).
    pub fn input(&self) -> &[u8] {
        match self {
            Io::Split(i, _) => i,
            Io::InPlace(b, n) => &b[..*n],
            Io::NoOut(i, _) => i.unwrap_or(&[]),
        }
    }
}
