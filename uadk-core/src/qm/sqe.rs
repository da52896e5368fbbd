//! Submission queue entries: opaque descriptors built by the front-ends.
//!
//! The queue never interprets a descriptor beyond its *tag*, whose position depends on the
//! descriptor family (reference §6, §7): ZIP SQE type 0 (QM v2) in dw13, ZIP SQE type 3 in
//! dw26, SEC BD2 a u16 at byte 40, SEC BD3 a u64 at byte 8.

/// Largest SQE the queue handles (ZIP and SEC use 128, HPRE 64).
pub const MAX_SQE_SIZE: usize = 128;

/// One descriptor, 64-byte aligned. Only the first `sqe_size` bytes of a queue are used.
///
/// ```
/// use uadk_core::qm::Sqe;
/// let mut s = Sqe::zeroed();
/// s.set_u32(16, 4096);
/// assert_eq!(s.u32(16), 4096);
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(C, align(64))]
pub struct Sqe(pub [u8; MAX_SQE_SIZE]);

impl std::fmt::Debug for Sqe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sqe(")?;
        for w in self.0.chunks(4) {
            write!(f, "{:08x} ", u32::from_le_bytes([w[0], w[1], w[2], w[3]]))?;
        }
        write!(f, ")")
    }
}

impl Default for Sqe {
    fn default() -> Self {
        Sqe::zeroed()
    }
}

macro_rules! accessors {
    ($get:ident, $set:ident, $t:ty, $n:expr) => {
        #[doc = concat!("Reads a little-endian `", stringify!($t), "` at byte `off` (offsets are descriptor constants; out of range panics).")]
        #[inline]
        pub fn $get(&self, off: usize) -> $t {
            let mut b = [0u8; $n];
            b.copy_from_slice(&self.0[off..off + $n]);
            <$t>::from_le_bytes(b)
        }
        #[doc = concat!("Writes a little-endian `", stringify!($t), "` at byte `off`.")]
        #[inline]
        pub fn $set(&mut self, off: usize, v: $t) {
            self.0[off..off + $n].copy_from_slice(&v.to_le_bytes());
        }
    };
}

impl Sqe {
    /// An all-zero descriptor.
    pub const fn zeroed() -> Sqe {
        Sqe([0; MAX_SQE_SIZE])
    }

    accessors!(u8, set_u8, u8, 1);
    accessors!(u16, set_u16, u16, 2);
    accessors!(u32, set_u32, u32, 4);
    accessors!(u64, set_u64, u64, 8);
}

/// Where a descriptor family keeps its request tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagField {
    /// No tag: completions are matched by SQ slot only.
    None,
    /// A u16 at this byte offset (SEC BD2: 40).
    U16At(usize),
    /// A u32 at this byte offset (ZIP type 0: 52, ZIP type 3: 104).
    U32At(usize),
    /// A u64 at this byte offset (SEC BD3: 8).
    U64At(usize),
}

impl TagField {
    /// SEC BD type 2 (QM v2).
    pub const SEC_BD2: TagField = TagField::U16At(40);
    /// SEC BD type 3 (QM v3+).
    pub const SEC_BD3: TagField = TagField::U64At(8);
    /// ZIP SQE type 0 (QM v2).
    pub const ZIP_V2: TagField = TagField::U32At(52);
    /// ZIP SQE type 3 (QM v3+).
    pub const ZIP_V3: TagField = TagField::U32At(104);

    /// `(offset, width in bytes)`, or `None`.
    pub fn location(self) -> Option<(usize, usize)> {
        match self {
            TagField::None => None,
            TagField::U16At(o) => Some((o, 2)),
            TagField::U32At(o) => Some((o, 4)),
            TagField::U64At(o) => Some((o, 8)),
        }
    }

    /// Keeps the bits of `tag` that fit the field.
    pub fn mask(self, tag: u64) -> u64 {
        match self {
            TagField::None => 0,
            TagField::U16At(_) => tag & 0xffff,
            TagField::U32At(_) => tag & 0xffff_ffff,
            TagField::U64At(_) => tag,
        }
    }

    /// Reads the tag from a descriptor.
    pub fn read(self, s: &Sqe) -> u64 {
        match self {
            TagField::None => 0,
            TagField::U16At(o) => s.u16(o) as u64,
            TagField::U32At(o) => s.u32(o) as u64,
            TagField::U64At(o) => s.u64(o),
        }
    }

    /// True if the field lies inside an SQE of `sqe_size` bytes.
    pub fn fits(self, sqe_size: usize) -> bool {
        match self.location() {
            Some((o, w)) => o + w <= sqe_size,
            None => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_fields_read_what_they_mask() {
        let mut s = Sqe::zeroed();
        s.set_u16(40, 0xbeef);
        assert_eq!(TagField::SEC_BD2.read(&s), 0xbeef);
        assert_eq!(TagField::SEC_BD2.mask(0x1_beef), 0xbeef);
        s.set_u64(8, u64::MAX - 1);
        assert_eq!(TagField::SEC_BD3.read(&s), u64::MAX - 1);
        assert!(TagField::ZIP_V3.fits(128));
        assert!(!TagField::ZIP_V3.fits(64));
        assert!(TagField::None.fits(64));
        assert_eq!(std::mem::align_of::<Sqe>(), 64);
    }
}
