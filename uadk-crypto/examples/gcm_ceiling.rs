//! How fast can AES-128-GCM run on this CPU at all? An upper bound from the instruction
//! throughput of the two operations every GCM kernel must execute, next to ring (our
//! provider) and OpenSSL measured in the same run.
//!
//! Per 128 bytes (eight blocks), AES-128-GCM needs at least 40 `VAESENC` on 256-bit vectors
//! (ten rounds over four vectors of two blocks) and, with Karatsuba multiplication, 12
//! `VPCLMULQDQ` on 256-bit vectors (three 64x64 products per block, two blocks per vector),
//! before any reduction, load, store or XOR. This example times that instruction mix alone, in
//! independent chains so that only throughput counts, and reports the bytes per second it
//! allows: no GCM implementation on this CPU can be faster. The gap between that bound and
//! ring is the room a better kernel would have (the rest of a real kernel: counters, byte
//! swaps, XORs, loads, stores and the GHASH reduction chain, competes for the same ports).
//!
//! `cargo run --release -p uadk-crypto --example gcm_ceiling`
//!
//! Needs an x86-64 CPU with VAES and VPCLMULQDQ; elsewhere it says so and exits.

#[cfg(target_arch = "x86_64")]
mod mix {
    //! The timed instruction mixes, in assembly so that nothing else is timed and every chain
    //! stays in its register (8 AES chains and 6 multiply chains: enough independent work
    //! to cover the 4-cycle latencies, so only throughput counts). The register contents are
    //! whatever they happen to be: neither instruction's speed depends on its data.

    /// Whether the CPU (and OS, for the 256-bit registers) has AVX2, VAES and VPCLMULQDQ.
    pub fn supported() -> bool {
        if !std::is_x86_feature_detected!("avx2") {
            return false;
        }
        // CPUID leaf 7, sub-leaf 0: ECX bit 9 is VAES, bit 10 is VPCLMULQDQ.
        #[allow(unused_unsafe)]
        // SAFETY: CPUID exists on every x86-64 CPU and only reads identification registers.
        let ecx = unsafe { std::arch::x86_64::__cpuid_count(7, 0) }.ecx;
        ecx & (1 << 9) != 0 && ecx & (1 << 10) != 0
    }

    /// Defines `pub fn $name(iters: u64)`, which runs the assembly lines `iters` times.
    macro_rules! timed_mix {
        ($(#[$doc:meta])* $name:ident: $($line:literal)*) => {
            $(#[$doc])*
            pub fn $name(iters: u64) {
                assert!(supported(), "the CPU lacks AVX2, VAES or VPCLMULQDQ");
                // SAFETY: the instructions exist on this CPU (asserted above); the loop only
                // reads and writes the vector registers declared as clobbered and the counter
                // register, and touches no memory or stack.
                unsafe {
                    std::arch::asm!(
                        concat!("2:\n", $($line,)* "dec {n}\n", "jnz 2b"),
                        n = inout(reg) iters.max(1) => _,
                        out("ymm0") _, out("ymm1") _, out("ymm2") _, out("ymm3") _,
                        out("ymm4") _, out("ymm5") _, out("ymm6") _, out("ymm7") _,
                        out("ymm8") _, out("ymm9") _, out("ymm10") _, out("ymm11") _,
                        out("ymm12") _, out("ymm13") _, out("ymm15") _,
                        options(nomem, nostack),
                    );
                }
            }
        };
    }

    timed_mix! {
        /// `iters` x 40 `VAESENC` ymm (5 rounds on each of 8 chains).
        aes_only:
            ".rept 5\n"
            "vaesenc ymm0, ymm0, ymm15\n"
            "vaesenc ymm1, ymm1, ymm15\n"
            "vaesenc ymm2, ymm2, ymm15\n"
            "vaesenc ymm3, ymm3, ymm15\n"
            "vaesenc ymm4, ymm4, ymm15\n"
            "vaesenc ymm5, ymm5, ymm15\n"
            "vaesenc ymm6, ymm6, ymm15\n"
            "vaesenc ymm7, ymm7, ymm15\n"
            ".endr\n"
    }

    timed_mix! {
        /// `iters` x 12 `VPCLMULQDQ` ymm (2 on each of 6 chains).
        clmul_only:
            ".rept 2\n"
            "vpclmulqdq ymm8, ymm8, ymm15, 1\n"
            "vpclmulqdq ymm9, ymm9, ymm15, 1\n"
            "vpclmulqdq ymm10, ymm10, ymm15, 1\n"
            "vpclmulqdq ymm11, ymm11, ymm15, 1\n"
            "vpclmulqdq ymm12, ymm12, ymm15, 1\n"
            "vpclmulqdq ymm13, ymm13, ymm15, 1\n"
            ".endr\n"
    }

    timed_mix! {
        /// `iters` x (40 `VAESENC` + 12 `VPCLMULQDQ`) ymm, a multiply after every three or
        /// five AES rounds.
        both:
            ".rept 2\n"
            "vpclmulqdq ymm8, ymm8, ymm15, 1\n"
            "vaesenc ymm0, ymm0, ymm15\n"
            "vaesenc ymm1, ymm1, ymm15\n"
            "vaesenc ymm2, ymm2, ymm15\n"
            "vpclmulqdq ymm9, ymm9, ymm15, 1\n"
            "vaesenc ymm3, ymm3, ymm15\n"
            "vaesenc ymm4, ymm4, ymm15\n"
            "vaesenc ymm5, ymm5, ymm15\n"
            "vpclmulqdq ymm10, ymm10, ymm15, 1\n"
            "vaesenc ymm6, ymm6, ymm15\n"
            "vaesenc ymm7, ymm7, ymm15\n"
            "vaesenc ymm0, ymm0, ymm15\n"
            "vpclmulqdq ymm11, ymm11, ymm15, 1\n"
            "vaesenc ymm1, ymm1, ymm15\n"
            "vaesenc ymm2, ymm2, ymm15\n"
            "vaesenc ymm3, ymm3, ymm15\n"
            "vpclmulqdq ymm12, ymm12, ymm15, 1\n"
            "vaesenc ymm4, ymm4, ymm15\n"
            "vaesenc ymm5, ymm5, ymm15\n"
            "vaesenc ymm6, ymm6, ymm15\n"
            "vpclmulqdq ymm13, ymm13, ymm15, 1\n"
            "vaesenc ymm7, ymm7, ymm15\n"
            "vaesenc ymm0, ymm0, ymm15\n"
            "vaesenc ymm1, ymm1, ymm15\n"
            "vaesenc ymm2, ymm2, ymm15\n"
            "vaesenc ymm3, ymm3, ymm15\n"
            ".endr\n"
    }
}

#[cfg(target_arch = "x86_64")]
fn main() {
    use std::time::Duration;
    use uadk_crypto::bench::{run, thread_cpu_secs, BenchSpec};
    use uadk_crypto::Algorithm;

    if !mix::supported() {
        println!("this CPU has no VAES/VPCLMULQDQ on 256-bit vectors: no bound to compute");
        return;
    }
    // Best of five: the least disturbed run on a shared machine.
    let bytes_per_sec = |work: fn(u64)| {
        let iters = 2_000_000u64;
        (0..5)
            .map(|_| {
                let t = thread_cpu_secs();
                work(iters);
                iters as f64 * 128.0 / (thread_cpu_secs() - t)
            })
            .fold(0.0, f64::max)
    };
    let aes_only = bytes_per_sec(mix::aes_only);
    let clmul_only = bytes_per_sec(mix::clmul_only);
    let both = bytes_per_sec(mix::both);

    let mut spec = BenchSpec::new(Algorithm::from_name("aes-128-gcm").expect("known name"));
    spec.duration = Duration::from_secs(2);
    let rows = run(&spec).expect("software AES-GCM always runs");
    let speed = |imp: &str| {
        rows.iter()
            .find(|r| r.imp == imp)
            .map_or(f64::NAN, |r| r.mb_per_s * 1e6)
    };
    let (ring, openssl) = (speed("direct"), speed("openssl"));
    let gb = |b: f64| b / 1e9;
    println!("instruction mix per 128 B, best of 5, GB/s of GCM data it would allow:");
    println!("  40 VAESENC ymm alone        {:6.2}", gb(aes_only));
    println!("  12 VPCLMULQDQ ymm alone     {:6.2}", gb(clmul_only));
    println!("  both (a bound for any GCM)  {:6.2}", gb(both));
    println!("AES-128-GCM seal, 16 KiB, same run:");
    println!(
        "  ring (our provider)         {:6.2}  = {:.0}% of the bound",
        gb(ring),
        100.0 * ring / both
    );
    println!("  OpenSSL                     {:6.2}", gb(openssl));
    println!(
        "  ring / OpenSSL x{:.2}; the bound / OpenSSL x{:.2} (no GCM kernel can exceed it here)",
        ring / openssl,
        both / openssl
    );
}

#[cfg(not(target_arch = "x86_64"))]
fn main() {
    println!("this example measures x86-64 VAES/VPCLMULQDQ throughput only");
}
