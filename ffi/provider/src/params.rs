//! Safe views of the `OSSL_PARAM` arrays OpenSSL passes to `get_params`/`set_params`.
//!
//! Integer values go through libcrypto's own `OSSL_PARAM_get/set_*` (which convert
//! between the caller's integer width and ours exactly as the default provider sees it);
//! octet strings are read and written in place with their sizes checked.

use std::ffi::{c_int, c_uint, CStr};

use crate::boundary::{err, Res};
use crate::ossl::{self, OSSL_PARAM};

/// A caller's array to answer (`get_params`): we locate keys and write values.
pub struct Out(*mut OSSL_PARAM);

/// One writable parameter.
pub struct OutParam(*mut OSSL_PARAM);

impl Out {
    /// Wraps the array.
    ///
    /// # Safety
    /// `p` is NULL or an `OSSL_PARAM` array terminated by a NULL key, valid and writable
    /// (the `data` buffers per their sizes) for the lifetime of the returned value.
    pub unsafe fn new(p: *mut OSSL_PARAM) -> Out {
        Out(p)
    }

    /// The raw array (to forward).
    pub fn raw(&self) -> *mut OSSL_PARAM {
        self.0
    }

    /// Every parameter the caller asked for, in order (one pass, no lookups: the hot
    /// path of `EVP_CIPHER_CTX_get_iv_length` and friends).
    pub fn iter(&self) -> impl Iterator<Item = OutParam> + '_ {
        let mut p = self.0;
        std::iter::from_fn(move || {
            // SAFETY: `p` walks the valid terminated array (constructor contract) and stops
            // at the NULL key.
            unsafe {
                if p.is_null() || (*p).key.is_null() {
                    return None;
                }
                let cur = p;
                p = p.add(1);
                Some(OutParam(cur))
            }
        })
    }

    /// The only parameter, when the caller asked for exactly one (OpenSSL's own getters,
    /// such as `EVP_CIPHER_CTX_get_key_length`, ask one at a time).
    #[inline]
    pub fn single(&self) -> Option<OutParam> {
        // SAFETY: a non-NULL array is valid and terminated (constructor contract): its
        // first entry exists, and the second exists when the first is not the end.
        unsafe {
            let p = self.0;
            (!p.is_null() && !(*p).key.is_null() && (*p.add(1)).key.is_null()).then_some(OutParam(p))
        }
    }

    /// The parameter named `key`, if the caller asked for it.
    pub fn get(&self, key: &CStr) -> Option<OutParam> {
        if self.0.is_null() {
            return None;
        }
        // SAFETY: `self.0` is a valid terminated array (constructor contract); the key is
        // a NUL-terminated string.
        let p = unsafe { ossl::OSSL_PARAM_locate(self.0, key.as_ptr()) };
        (!p.is_null()).then_some(OutParam(p))
    }
}

/// Names up to this length are measured inline (all of OpenSSL's cipher and digest
/// parameter names are shorter); longer ones with `strlen`.
const SHORT_KEY: usize = 48;

/// The key of `p`, measured by a bounded inline scan rather than a `strlen` call: parameter
/// names are a few bytes, and the libc call per name (three per `openssl speed -aead`
/// message) was 1.4% of a 16 KiB AES-GCM message. (An unbounded loop would be turned back
/// into a `strlen` call by the compiler.)
///
/// # Safety
/// `p` is a valid parameter whose key is a non-NULL NUL-terminated string that lives for
/// `'a`.
#[inline]
unsafe fn key_of<'a>(p: *const OSSL_PARAM) -> &'a CStr {
    // SAFETY: per the function contract the bytes up to and including the NUL are
    // readable; the loop reads no further than the NUL, and the slice ends right after it.
    unsafe {
        let k = (*p).key;
        let b = k.cast::<u8>();
        for n in 0..SHORT_KEY {
            if *b.add(n) == 0 {
                return CStr::from_bytes_with_nul_unchecked(std::slice::from_raw_parts(b, n + 1));
            }
        }
        CStr::from_ptr(k)
    }
}

/// Whether the key of `p` is `name`, compared byte by byte up to the first difference
/// (no length is computed: the fast paths ask "is this `ivlen`?").
///
/// # Safety
/// As [`key_of`].
#[inline]
unsafe fn key_is(p: *const OSSL_PARAM, name: &CStr) -> bool {
    // SAFETY: per the function contract the key is readable up to its NUL; the loop stops
    // at the first byte that differs from `name` (whose last byte is a NUL), so it never
    // reads past the key's NUL.
    unsafe {
        let k = (*p).key.cast::<u8>();
        for (i, &c) in name.to_bytes_with_nul().iter().enumerate() {
            if *k.add(i) != c {
                return false;
            }
        }
        true
    }
}

fn failed_set(key: &str) -> crate::boundary::ProvError {
    crate::boundary::ProvError::new(
        ossl::PROV_R_FAILED_TO_SET_PARAMETER,
        format!("uadk_provider: cannot return parameter \"{key}\" in the caller's buffer (type or size)"),
    )
}

impl OutParam {
    /// The parameter's name.
    pub fn name(&self) -> &CStr {
        // SAFETY: a parameter from the array has a non-NULL NUL-terminated key.
        unsafe { key_of(self.0) }
    }

    /// Whether this parameter is named `name`.
    #[inline]
    pub fn is(&self, name: &CStr) -> bool {
        // SAFETY: a parameter from the array has a non-NULL NUL-terminated key.
        unsafe { key_is(self.0, name) }
    }

    fn key(&self) -> String {
        self.name().to_string_lossy().into_owned()
    }

    fn check(&self, ok: c_int) -> Res<()> {
        if ok == 1 {
            Ok(())
        } else {
            Err(failed_set(&self.key()))
        }
    }

    /// Writes a `size_t`.
    pub fn set_size(&self, v: usize) -> Res<()> {
        // SAFETY: `self.0` is a valid writable parameter (see `Out::new`): for an
        // UNSIGNED_INTEGER of `size_of::<usize>()` bytes, a non-NULL `data` is writable
        // for that many bytes.
        unsafe {
            let p = &mut *self.0;
            if p.data_type == ossl::OSSL_PARAM_UNSIGNED_INTEGER
                && p.data_size == std::mem::size_of::<usize>()
                && !p.data.is_null()
            {
                // What OSSL_PARAM_set_size_t does for this exact shape (the one
                // `EVP_CIPHER_CTX_get_key_length` and friends pass), without the call.
                p.data.cast::<usize>().write_unaligned(v);
                p.return_size = std::mem::size_of::<usize>();
                return Ok(());
            }
        }
        // SAFETY: `self.0` is a valid writable parameter (see `Out::new`).
        self.check(unsafe { ossl::OSSL_PARAM_set_size_t(self.0, v) })
    }

    /// Writes an `unsigned int`.
    pub fn set_uint(&self, v: c_uint) -> Res<()> {
        // SAFETY: as `set_size`.
        self.check(unsafe { ossl::OSSL_PARAM_set_uint(self.0, v) })
    }

    /// Writes an `int`.
    pub fn set_int(&self, v: c_int) -> Res<()> {
        // SAFETY: as `set_size`.
        self.check(unsafe { ossl::OSSL_PARAM_set_int(self.0, v) })
    }

    /// Copies `v` into an octet-string parameter (which must be large enough).
    pub fn set_octets(&self, v: &[u8]) -> Res<()> {
        // SAFETY: as `set_size`; `v` is readable for its length.
        self.check(unsafe { ossl::OSSL_PARAM_set_octet_string(self.0, v.as_ptr().cast(), v.len()) })
    }

    /// Sets an octet-pointer parameter to NULL with length 0 (nothing to point at).
    pub fn set_null_octet_ptr(&self) -> Res<()> {
        // SAFETY: as `set_size`; OpenSSL stores the NULL pointer only.
        self.check(unsafe { ossl::OSSL_PARAM_set_octet_ptr(self.0, std::ptr::null_mut(), 0) })
    }

    /// Writes a UTF-8 string.
    pub fn set_utf8(&self, v: &CStr) -> Res<()> {
        // SAFETY: as `set_size`; `v` is NUL-terminated. A UTF8_PTR parameter receives
        // the pointer (our strings are 'static or live as long as the provider).
        let ok = unsafe {
            if (*self.0).data_type == ossl::OSSL_PARAM_UTF8_PTR {
                ossl::OSSL_PARAM_set_utf8_ptr(self.0, v.as_ptr())
            } else {
                ossl::OSSL_PARAM_set_utf8_string(self.0, v.as_ptr())
            }
        };
        self.check(ok)
    }

    /// The caller's octet-string buffer, to fill exactly (`tag`, `tlsivgen`): its size is
    /// what the caller asks for. `return_size` is set to its full length.
    pub fn octet_buffer(&mut self) -> Res<&mut [u8]> {
        // SAFETY: a valid parameter; for OCTET_STRING `data` is writable for `data_size`
        // bytes (or NULL, which we refuse) for the duration of the call.
        unsafe {
            let p = &mut *self.0;
            if p.data_type != ossl::OSSL_PARAM_OCTET_STRING || p.data.is_null() {
                return Err(failed_set(&self.key()));
            }
            p.return_size = p.data_size;
            Ok(std::slice::from_raw_parts_mut(p.data.cast::<u8>(), p.data_size))
        }
    }
}

/// A caller's array of values to apply (`set_params`, `init` params).
#[derive(Clone, Copy)]
pub struct In(*const OSSL_PARAM);

/// One parameter to read.
#[derive(Clone, Copy)]
pub struct InParam(*const OSSL_PARAM);

impl In {
    /// Wraps the array.
    ///
    /// # Safety
    /// `p` is NULL or a valid `OSSL_PARAM` array terminated by a NULL key, readable (the
    /// `data` buffers per their sizes) for the lifetime of the returned value.
    pub unsafe fn new(p: *const OSSL_PARAM) -> In {
        In(p)
    }

    /// No parameters.
    pub fn empty() -> In {
        In(std::ptr::null())
    }

    /// The raw array (to forward).
    pub fn raw(&self) -> *const OSSL_PARAM {
        self.0
    }

    /// Whether the array is NULL or empty.
    pub fn is_empty(&self) -> bool {
        // SAFETY: a non-NULL array has at least its terminator.
        self.0.is_null() || unsafe { (*self.0).key.is_null() }
    }

    /// Every parameter, in order.
    pub fn iter(&self) -> impl Iterator<Item = InParam> + '_ {
        let mut p = self.0;
        std::iter::from_fn(move || {
            // SAFETY: `p` walks the valid terminated array and stops at the NULL key.
            unsafe {
                if p.is_null() || (*p).key.is_null() {
                    return None;
                }
                let cur = p;
                p = p.add(1);
                Some(InParam(cur))
            }
        })
    }

    /// The only parameter, when the array holds exactly one.
    #[inline]
    pub fn single(&self) -> Option<InParam> {
        // SAFETY: as `Out::single`.
        unsafe {
            let p = self.0;
            (!p.is_null() && !(*p).key.is_null() && (*p.add(1)).key.is_null()).then_some(InParam(p))
        }
    }

    /// The parameter named `key`, if present.
    pub fn get(&self, key: &CStr) -> Option<InParam> {
        if self.0.is_null() {
            return None;
        }
        // SAFETY: valid terminated array (constructor contract).
        let p = unsafe { ossl::OSSL_PARAM_locate_const(self.0, key.as_ptr()) };
        (!p.is_null()).then_some(InParam(p))
    }
}

fn failed_get(key: &str) -> crate::boundary::ProvError {
    crate::boundary::ProvError::new(
        ossl::PROV_R_FAILED_TO_GET_PARAMETER,
        format!("uadk_provider: parameter \"{key}\" has the wrong type or size"),
    )
}

impl InParam {
    /// The parameter's name.
    pub fn name(&self) -> &CStr {
        // SAFETY: a parameter from the array has a non-NULL NUL-terminated key.
        unsafe { key_of(self.0) }
    }

    /// Whether this parameter is named `name`.
    #[inline]
    pub fn is(&self, name: &CStr) -> bool {
        // SAFETY: a parameter from the array has a non-NULL NUL-terminated key.
        unsafe { key_is(self.0, name) }
    }

    fn key(&self) -> String {
        self.name().to_string_lossy().into_owned()
    }

    /// The value as `size_t`.
    pub fn size(&self) -> Res<usize> {
        // SAFETY: valid parameter (see `In::new`): for an UNSIGNED_INTEGER of
        // `size_of::<usize>()` bytes, a non-NULL `data` holds that many readable bytes.
        unsafe {
            let p = &*self.0;
            if p.data_type == ossl::OSSL_PARAM_UNSIGNED_INTEGER
                && p.data_size == std::mem::size_of::<usize>()
                && !p.data.is_null()
            {
                // What OSSL_PARAM_get_size_t does for this exact shape, without the call.
                return Ok(p.data.cast::<usize>().read_unaligned());
            }
        }
        let mut v = 0usize;
        // SAFETY: valid parameter (see `In::new`); `v` is a valid out pointer.
        if unsafe { ossl::OSSL_PARAM_get_size_t(self.0, &mut v) } == 1 {
            Ok(v)
        } else {
            Err(failed_get(&self.key()))
        }
    }

    /// The value as `unsigned int`.
    pub fn uint(&self) -> Res<c_uint> {
        let mut v: c_uint = 0;
        // SAFETY: as `size`.
        if unsafe { ossl::OSSL_PARAM_get_uint(self.0, &mut v) } == 1 {
            Ok(v)
        } else {
            Err(failed_get(&self.key()))
        }
    }

    /// An octet string: `Some(bytes)`, or `None` for a NULL `data` (then only the size is
    /// meaningful, see [`InParam::data_size`]).
    pub fn octets(&self) -> Res<Option<&[u8]>> {
        // SAFETY: valid parameter; for OCTET_STRING `data` is readable for `data_size`.
        unsafe {
            let p = &*self.0;
            if p.data_type != ossl::OSSL_PARAM_OCTET_STRING {
                return Err(failed_get(&self.key()));
            }
            if p.data.is_null() {
                return Ok(None);
            }
            Ok(Some(std::slice::from_raw_parts(p.data.cast::<u8>(), p.data_size)))
        }
    }

    /// The declared size of the value.
    pub fn data_size(&self) -> usize {
        // SAFETY: valid parameter.
        unsafe { (*self.0).data_size }
    }
}

/// Reads an optional `size_t` from `p` under `key`.
pub fn opt_size(p: In, key: &CStr) -> Res<Option<usize>> {
    p.get(key).map(|x| x.size()).transpose()
}

/// Rejects a missing key buffer with a message.
pub fn need<T>(v: Option<T>, what: &str) -> Res<T> {
    match v {
        Some(v) => Ok(v),
        None => err(
            ossl::PROV_R_FAILED_TO_GET_PARAMETER,
            format!("uadk_provider: {what} is required"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ossl::{names, OSSL_PARAM_OCTET_STRING, OSSL_PARAM_UNSIGNED_INTEGER, PARAM_END};

    #[test]
    fn reads_and_writes_through_libcrypto() {
        let mut size: usize = 0;
        let mut tag = [0u8; 4];
        let arr = [
            OSSL_PARAM {
                key: names::IVLEN.as_ptr(),
                data_type: OSSL_PARAM_UNSIGNED_INTEGER,
                data: (&mut size as *mut usize).cast(),
                data_size: std::mem::size_of::<usize>(),
                return_size: usize::MAX,
            },
            OSSL_PARAM {
                key: names::AEAD_TAG.as_ptr(),
                data_type: OSSL_PARAM_OCTET_STRING,
                data: tag.as_mut_ptr().cast(),
                data_size: tag.len(),
                return_size: usize::MAX,
            },
            PARAM_END,
        ];
        let mut arr = arr;
        // SAFETY: a terminated array whose buffers outlive the views.
        let out = unsafe { Out::new(arr.as_mut_ptr()) };
        let keys: Vec<_> = out.iter().map(|p| p.name().to_owned()).collect();
        assert_eq!(keys, [names::IVLEN.to_owned(), names::AEAD_TAG.to_owned()]);
        out.get(names::IVLEN).unwrap().set_size(12).unwrap();
        out.get(names::AEAD_TAG)
            .unwrap()
            .octet_buffer()
            .unwrap()
            .copy_from_slice(&[1, 2, 3, 4]);
        assert!(out.get(names::KEYLEN).is_none());
        assert!(
            out.get(names::AEAD_TAG).unwrap().set_size(1).is_err(),
            "type mismatch refused"
        );
        assert_eq!((size, tag), (12, [1, 2, 3, 4]));
        // SAFETY: as above, read-only now.
        let inp = unsafe { In::new(arr.as_ptr()) };
        assert_eq!(opt_size(inp, names::IVLEN).unwrap(), Some(12));
        assert_eq!(
            inp.get(names::AEAD_TAG).unwrap().octets().unwrap(),
            Some(&[1u8, 2, 3, 4][..])
        );
        assert!(In::empty().is_empty());
        assert!(out.single().is_none() && inp.single().is_none(), "two parameters");
        assert!(In::empty().single().is_none());
    }

    #[test]
    fn single_size_parameters_take_the_fast_paths() {
        // A 4-byte integer (not size_t-shaped) goes through libcrypto's conversion.
        let mut wide: usize = 0;
        let mut narrow: u32 = 0;
        let mut arr = [
            OSSL_PARAM {
                key: names::IVLEN.as_ptr(),
                data_type: OSSL_PARAM_UNSIGNED_INTEGER,
                data: (&mut wide as *mut usize).cast(),
                data_size: std::mem::size_of::<usize>(),
                return_size: usize::MAX,
            },
            PARAM_END,
        ];
        // SAFETY: a terminated array whose buffer outlives the view.
        let out = unsafe { Out::new(arr.as_mut_ptr()) };
        let p = out.single().expect("one parameter");
        assert!(p.is(names::IVLEN) && !p.is(names::KEYLEN) && !p.is(names::IV) && !p.is(c"ivlenx"));
        p.set_size(12).unwrap();
        assert_eq!((wide, arr[0].return_size), (12, std::mem::size_of::<usize>()));
        // SAFETY: as above.
        let inp = unsafe { In::new(arr.as_ptr()) };
        assert_eq!(inp.single().unwrap().size().unwrap(), 12);
        arr[0].data = (&mut narrow as *mut u32).cast();
        arr[0].data_size = 4;
        // SAFETY: as above, now over `narrow`.
        let out = unsafe { Out::new(arr.as_mut_ptr()) };
        out.single().unwrap().set_size(7).unwrap();
        assert_eq!((narrow, arr[0].return_size), (7, 4));
        // SAFETY: as above.
        let inp = unsafe { In::new(arr.as_ptr()) };
        assert_eq!(inp.single().unwrap().size().unwrap(), 7);
    }
}
