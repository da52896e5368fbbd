//! The calling CPU: its NUMA node, and the instruction-set features that decide which
//! software engine is fastest on it ([`CpuFeatures`]).

/// The NUMA node of the CPU the calling thread is running on, if the kernel reports it.
pub fn current_node() -> Option<u32> {
    let mut cpu: libc::c_uint = 0;
    let mut node: libc::c_uint = 0;
    // SAFETY: getcpu writes two unsigned ints into the provided locals; the cache argument
    // is unused by modern kernels and may be null.
    let r = unsafe {
        libc::syscall(
            libc::SYS_getcpu,
            &mut cpu as *mut libc::c_uint,
            &mut node as *mut libc::c_uint,
            std::ptr::null_mut::<libc::c_void>(),
        )
    };
    if r == 0 {
        Some(node)
    } else {
        None
    }
}

/// An instruction-set feature that decides which software engine is fastest.
///
/// ```
/// use uadk_core::sys::cpu::CpuFeature;
/// assert_eq!(CpuFeature::Vaes.name(), "vaes");
/// assert_eq!("sha_ni".parse::<CpuFeature>().unwrap(), CpuFeature::ShaNi);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CpuFeature {
    /// AES-NI (128-bit AES rounds).
    Aes,
    /// PCLMULQDQ (128-bit carry-less multiply, GHASH).
    Pclmulqdq,
    /// AVX2 (256-bit integer vectors).
    Avx2,
    /// BMI2 (flag-less shifts and `mulx`).
    Bmi2,
    /// AVX-512 Foundation.
    Avx512f,
    /// AVX-512 vector-length extensions (AVX-512 on 128/256-bit registers).
    Avx512vl,
    /// AVX-512 byte and word instructions.
    Avx512bw,
    /// Vector AES (on 256-bit registers; on 512-bit ones with AVX-512F).
    Vaes,
    /// Vector carry-less multiply (256/512-bit).
    Vpclmulqdq,
    /// SHA-1/SHA-256 extensions.
    ShaNi,
}

impl CpuFeature {
    /// Every feature, in display order.
    pub const ALL: [CpuFeature; 10] = [
        CpuFeature::Aes,
        CpuFeature::Pclmulqdq,
        CpuFeature::Avx2,
        CpuFeature::Bmi2,
        CpuFeature::Avx512f,
        CpuFeature::Avx512vl,
        CpuFeature::Avx512bw,
        CpuFeature::Vaes,
        CpuFeature::Vpclmulqdq,
        CpuFeature::ShaNi,
    ];

    /// The name `/proc/cpuinfo` uses (`sha_ni`, `avx512vl`, ...).
    pub fn name(self) -> &'static str {
        match self {
            CpuFeature::Aes => "aes",
            CpuFeature::Pclmulqdq => "pclmulqdq",
            CpuFeature::Avx2 => "avx2",
            CpuFeature::Bmi2 => "bmi2",
            CpuFeature::Avx512f => "avx512f",
            CpuFeature::Avx512vl => "avx512vl",
            CpuFeature::Avx512bw => "avx512bw",
            CpuFeature::Vaes => "vaes",
            CpuFeature::Vpclmulqdq => "vpclmulqdq",
            CpuFeature::ShaNi => "sha_ni",
        }
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

impl std::fmt::Display for CpuFeature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for CpuFeature {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim().to_ascii_lowercase().replace('-', "_");
        CpuFeature::ALL
            .into_iter()
            .find(|f| f.name() == s || (s == "sha" && *f == CpuFeature::ShaNi))
            .ok_or_else(|| {
                let names: Vec<_> = CpuFeature::ALL.iter().map(|f| f.name()).collect();
                format!("unknown CPU feature {s:?}: use one of {}", names.join(", "))
            })
    }
}

/// A set of [`CpuFeature`]s: what the running CPU offers ([`CpuFeatures::detect`]), or a
/// made-up set for tests of engine-choice rules.
///
/// ```
/// use uadk_core::sys::cpu::{CpuFeature, CpuFeatures};
/// let zen3: CpuFeatures = "aes pclmulqdq avx2 bmi2 vaes vpclmulqdq sha_ni".parse().unwrap();
/// assert!(zen3.has(CpuFeature::Vaes) && !zen3.has(CpuFeature::Avx512f));
/// assert!(zen3.has_all(&[CpuFeature::Avx2, CpuFeature::ShaNi]));
/// println!("this CPU: {}", CpuFeatures::detect());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct CpuFeatures(u32);

impl CpuFeatures {
    /// The empty set (a CPU with none of the features).
    pub const NONE: CpuFeatures = CpuFeatures(0);

    /// The features of the running CPU (CPUID with the OS's register-state support, through
    /// `std::arch::is_x86_feature_detected!`; detected once per process). Empty on
    /// architectures other than x86_64.
    pub fn detect() -> CpuFeatures {
        static DETECTED: std::sync::OnceLock<CpuFeatures> = std::sync::OnceLock::new();
        *DETECTED.get_or_init(detect_now)
    }

    /// `self` with `f` added.
    pub fn with(self, f: CpuFeature) -> CpuFeatures {
        CpuFeatures(self.0 | f.bit())
    }

    /// Whether the set holds `f`.
    pub fn has(self, f: CpuFeature) -> bool {
        self.0 & f.bit() != 0
    }

    /// Whether the set holds every feature of `all`.
    pub fn has_all(self, all: &[CpuFeature]) -> bool {
        all.iter().all(|&f| self.has(f))
    }

    /// The features in the set, in [`CpuFeature::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = CpuFeature> {
        CpuFeature::ALL.into_iter().filter(move |&f| self.has(f))
    }
}

impl std::fmt::Display for CpuFeatures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.iter().map(CpuFeature::name).collect();
        if names.is_empty() {
            f.write_str("(none)")
        } else {
            f.write_str(&names.join(" "))
        }
    }
}

impl std::str::FromStr for CpuFeatures {
    type Err = String;
    /// Names separated by spaces or commas (`/proc/cpuinfo` names; unknown ones are errors).
    fn from_str(s: &str) -> Result<Self, String> {
        s.split([' ', ','])
            .filter(|w| !w.is_empty())
            .try_fold(CpuFeatures::NONE, |acc, w| Ok(acc.with(w.parse()?)))
    }
}

#[cfg(target_arch = "x86_64")]
fn detect_now() -> CpuFeatures {
    use std::arch::is_x86_feature_detected as has;
    let mut s = CpuFeatures::NONE;
    for (f, on) in [
        (CpuFeature::Aes, has!("aes")),
        (CpuFeature::Pclmulqdq, has!("pclmulqdq")),
        (CpuFeature::Avx2, has!("avx2")),
        (CpuFeature::Bmi2, has!("bmi2")),
        (CpuFeature::Avx512f, has!("avx512f")),
        (CpuFeature::Avx512vl, has!("avx512vl")),
        (CpuFeature::Avx512bw, has!("avx512bw")),
        (CpuFeature::Vaes, has!("vaes")),
        (CpuFeature::Vpclmulqdq, has!("vpclmulqdq")),
        (CpuFeature::ShaNi, has!("sha")),
    ] {
        if on {
            s = s.with(f);
        }
    }
    s
}

#[cfg(not(target_arch = "x86_64"))]
fn detect_now() -> CpuFeatures {
    CpuFeatures::NONE
}

/// The CPU's model name from `/proc/cpuinfo` (`"unknown CPU"` if it cannot be read).
///
/// ```
/// assert!(!uadk_core::sys::cpu::model_name().is_empty());
/// ```
pub fn model_name() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_errors() {
        for f in CpuFeature::ALL {
            assert_eq!(f.name().parse::<CpuFeature>(), Ok(f));
        }
        let set: CpuFeatures = "avx2, vaes".parse().unwrap();
        assert_eq!(set.to_string(), "avx2 vaes");
        assert!("avx9".parse::<CpuFeatures>().unwrap_err().contains("avx512f"));
        assert_eq!("".parse::<CpuFeatures>(), Ok(CpuFeatures::NONE));
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn detection_agrees_with_proc_cpuinfo() {
        let Ok(info) = std::fs::read_to_string("/proc/cpuinfo") else {
            return;
        };
        let Some(flags) = info.lines().find(|l| l.starts_with("flags")) else {
            return;
        };
        let flags: Vec<&str> = flags.split_whitespace().collect();
        let got = CpuFeatures::detect();
        for f in CpuFeature::ALL {
            assert_eq!(got.has(f), flags.contains(&f.name()), "{f}");
        }
    }
}
