//! `uadk calibrate`: measures every software candidate of the engine tables on this CPU and
//! reports where the tables' choice is not the fastest.
//!
//! The tables (`uadk-crypto/src/software/select.rs`, `uadk-zip/src/software/mod.rs`) were
//! written from measurements on the CPUs we had; a user's CPU may rank the libraries
//! differently. This command runs `uadk bench crypto` (software backend, one thread) over
//! every algorithm with more than one candidate library and `uadk bench zip` (software, levels
//! 1 and 6), then compares, per algorithm or zip operation:
//!
//! - crypto: the chosen provider called directly (the bench's `direct` row) with every other
//!   selectable candidate called the same way (`ring`, `aws-lc-rs`, `rustcrypto`, `openssl`;
//!   for HMAC `openssl-digest`, our HMAC over OpenSSL's digest, is what `openssl` selects);
//! - zip: our row with every library row of the same operation, mode and level; for
//!   compression only libraries whose ratio is at least ours (within 1%) count, since a faster
//!   library that compresses worse is a different trade, not a better choice.
//!
//! A row is `ok` when the choice is within `--tolerance` (default 0.97) of the fastest
//! candidate, and `wrong` otherwise, with the override that selects the faster one for crypto
//! (`UADK_ENGINE_<ALG>=name`). `--strict` makes a wrong row exit with status 1, for scripts.

use anyhow::{bail, Result};
use serde_json::{json, Value};
use uadk_core::discovery::Roots;
use uadk_crypto::software::select;
use uadk_crypto::software::Provider;
use uadk_crypto::{Algorithm, Backend};
use uadk_zip::software::Mode;
use uadk_zip::Direction;

use super::bench::report::print_table;
use super::bench::{crypto as bench_crypto, zip as bench_zip};

/// Arguments of `uadk calibrate`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Print JSON (`{"tolerance":..,"rows":[..]}`) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Crypto algorithms to check (default: every one with more than one candidate).
    #[arg(long)]
    pub alg: Vec<String>,
    /// Crypto message size in bytes.
    #[arg(long, default_value_t = 16384)]
    pub size: usize,
    /// Seconds per crypto implementation and algorithm (10 interleaved rounds).
    #[arg(long, default_value_t = 0.2)]
    pub secs: f64,
    /// Size of the generated zip input (text and random data) when no --input.
    #[arg(long, default_value_t = 16 << 20)]
    pub zip_size: usize,
    /// Measure zip on this file instead of generated data.
    #[arg(long)]
    pub input: Option<std::path::PathBuf>,
    /// Minimum seconds per zip row (at least two passes; the fastest counts).
    #[arg(long, default_value_t = 0.3)]
    pub min_secs: f64,
    /// A choice at or above this fraction of the fastest candidate is `ok` (timing noise on
    /// a shared machine is a few percent).
    #[arg(long, default_value_t = 0.97)]
    pub tolerance: f64,
    /// Skip the crypto part.
    #[arg(long)]
    pub no_crypto: bool,
    /// Skip the zip part.
    #[arg(long)]
    pub no_zip: bool,
    /// Exit with status 1 when a row is `wrong`.
    #[arg(long)]
    pub strict: bool,
}

/// One verdict: the table's choice against the fastest candidate measured here.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Verdict {
    /// `crypto` or `zip`.
    pub area: &'static str,
    /// Algorithm name, or `compress oneshot L1`-style zip operation.
    pub what: String,
    /// The library the table chose.
    pub chosen: String,
    /// Why the table chose it.
    pub why: String,
    /// MB/s of the choice (crypto: called directly; zip: our row).
    pub chosen_mb_per_s: f64,
    /// The fastest eligible candidate and its MB/s (the choice itself when it is fastest).
    pub fastest: String,
    /// MB/s of `fastest`.
    pub fastest_mb_per_s: f64,
    /// `chosen_mb_per_s / fastest_mb_per_s`.
    pub ratio: f64,
    /// `ok` or `wrong`.
    pub verdict: &'static str,
    /// What to do about a `wrong` row (empty when ok).
    pub advice: String,
}

impl Verdict {
    /// Judges `chosen` against `others` ([`judge`]); `advice` says what to do about a
    /// `wrong` row, given the faster candidate.
    fn new(
        area: &'static str,
        what: String,
        why: String,
        chosen: &Measured,
        others: &[Measured],
        tolerance: f64,
        advice: impl FnOnce(&Measured) -> String,
    ) -> Verdict {
        let (best, ratio, ok) = judge(chosen, others, tolerance);
        Verdict {
            area,
            what,
            chosen: chosen.name.clone(),
            why,
            chosen_mb_per_s: chosen.mb_per_s,
            fastest: best.name.clone(),
            fastest_mb_per_s: best.mb_per_s,
            ratio,
            verdict: if ok { "ok" } else { "wrong" },
            advice: if ok { String::new() } else { advice(&best) },
        }
    }
}

/// A candidate's measurement: name and MB/s (and, for compression, its ratio).
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// Library or provider name as the bench rows spell it.
    pub name: String,
    /// Throughput.
    pub mb_per_s: f64,
    /// Compression ratio (zip compression rows only).
    pub ratio: Option<f64>,
}

/// The fastest of `candidates` (ties keep the first), or `None` when empty.
fn fastest(candidates: &[Measured]) -> Option<&Measured> {
    candidates
        .iter()
        .filter(|c| c.mb_per_s.is_finite())
        .fold(None, |best: Option<&Measured>, c| match best {
            Some(b) if b.mb_per_s >= c.mb_per_s => Some(b),
            _ => Some(c),
        })
}

/// Judges `chosen` against `others`. Compression candidates (with a ratio) count only when
/// their ratio is at least 99% of the choice's. Returns the fastest eligible measurement
/// (the choice itself when nothing beats it), the choice's speed over it, and whether that
/// is at least `tolerance`.
pub fn judge(chosen: &Measured, others: &[Measured], tolerance: f64) -> (Measured, f64, bool) {
    let eligible: Vec<Measured> = others
        .iter()
        .filter(|c| c.name != chosen.name)
        .filter(|c| match (c.ratio, chosen.ratio) {
            (Some(r), Some(mine)) => r >= mine * 0.99,
            _ => true,
        })
        .cloned()
        .collect();
    let best = match fastest(&eligible) {
        Some(b) if b.mb_per_s > chosen.mb_per_s => b.clone(),
        _ => chosen.clone(),
    };
    let ratio = if best.mb_per_s > 0.0 {
        chosen.mb_per_s / best.mb_per_s
    } else {
        1.0
    };
    (best, ratio, ratio >= tolerance)
}

/// The provider a crypto bench row's `impl` stands for, when a user can select it with
/// `UADK_ENGINE_<ALG>` (the `openssl` row of HMAC is OpenSSL's own HMAC, which is not an
/// engine of ours; `openssl-digest` is).
fn selectable(alg: Algorithm, imp: &str) -> Option<Provider> {
    let hmac = matches!(alg, Algorithm::Hmac(_));
    match imp {
        "openssl" if hmac => None,
        "openssl-digest" if hmac => Some(Provider::OpenSsl),
        "uadk" | "direct" | "uadk-batch" => None,
        other => other.parse().ok(),
    }
    .filter(|p| select::candidates(alg).contains(p))
}

/// Crypto verdicts from a `uadk bench crypto` report (software rows).
pub fn crypto_verdicts(rows: &[Value], tolerance: f64) -> Result<Vec<Verdict>> {
    let mut out = Vec::new();
    let mut algs: Vec<&str> = Vec::new();
    for r in rows {
        if let Some(a) = r["alg"].as_str() {
            if !algs.contains(&a) {
                algs.push(a);
            }
        }
    }
    for name in algs {
        let alg = Algorithm::from_name(name)?;
        let choice = select::choose(alg)?;
        let of_alg = rows
            .iter()
            .filter(|r| r["alg"] == name && r["backend"] == "software");
        let mut direct = None;
        let mut others = Vec::new();
        for r in of_alg {
            let imp = r["impl"].as_str().unwrap_or("");
            let mb = r["mb_per_s"].as_f64().unwrap_or(f64::NAN);
            if imp == "direct" {
                direct = Some(mb);
            } else if let Some(p) = selectable(alg, imp) {
                others.push(Measured {
                    name: p.name().to_string(),
                    mb_per_s: mb,
                    ratio: None,
                });
            }
        }
        let Some(direct) = direct else {
            bail!("the crypto bench gave no `direct` row for {name}");
        };
        let chosen = Measured {
            name: choice.provider.name().to_string(),
            mb_per_s: direct,
            ratio: None,
        };
        out.push(Verdict::new(
            "crypto",
            name.to_string(),
            choice.why(),
            &chosen,
            &others,
            tolerance,
            |best| {
                format!(
                    "{}={} (then check with `uadk bench crypto --alg {name}`)",
                    select::env_var(alg),
                    best.name
                )
            },
        ));
    }
    Ok(out)
}

/// Zip verdicts from a `uadk bench zip` report (software, single-thread rows).
pub fn zip_verdicts(rows: &[Value], tolerance: f64) -> Vec<Verdict> {
    let single = |r: &&Value| r["backend"] == "software" && r["threads"] == 1;
    let mut out = Vec::new();
    let mut keys: Vec<(String, String, u64)> = Vec::new();
    for r in rows.iter().filter(single) {
        let k = (
            r["op"].as_str().unwrap_or("").to_string(),
            r["mode"].as_str().unwrap_or("").to_string(),
            r["level"].as_u64().unwrap_or(0),
        );
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    for (op, mode, level) in keys {
        let group: Vec<&Value> = rows
            .iter()
            .filter(single)
            .filter(|r| r["op"] == op.as_str() && r["mode"] == mode.as_str() && r["level"] == level)
            .collect();
        let Some(ours) = group.iter().find(|r| r["impl"] == "uadk") else {
            continue;
        };
        let compress = op == "compress";
        let measured = |r: &Value| Measured {
            name: r["impl"].as_str().unwrap_or("?").to_string(),
            mb_per_s: r["mb_per_s"].as_f64().unwrap_or(f64::NAN),
            ratio: if compress { r["ratio"].as_f64() } else { None },
        };
        let dir = if compress {
            Direction::Compress
        } else {
            Direction::Decompress
        };
        let m = if mode == "stream" {
            Mode::Stream
        } else {
            Mode::OneShot
        };
        let (lib, why) = uadk_zip::software::choose(dir, level as u32, m);
        let mut chosen = measured(ours);
        chosen.name = lib.name().to_string();
        // The system zlib is the reference peer, not an engine of the table.
        let others: Vec<Measured> = group
            .iter()
            .filter(|r| r["impl"] != "uadk" && r["impl"] != "zlib")
            .map(|r| measured(r))
            .collect();
        out.push(Verdict::new(
            "zip",
            format!("{op} {mode} L{level}"),
            why.to_string(),
            &chosen,
            &others,
            tolerance,
            |best| {
                format!(
                    "{} is faster here at a ratio at least ours; please report this CPU \
                     (`uadk info --json`) with `uadk bench zip --backend software`",
                    best.name
                )
            },
        ));
    }
    out
}

/// The crypto algorithms worth calibrating: those with more than one candidate library.
fn default_algs() -> Vec<String> {
    Algorithm::all()
        .filter(|&a| select::candidates(a).len() > 1)
        .map(|a| a.name().to_string())
        .collect()
}

/// Runs `uadk calibrate`; `Ok(false)` when `--strict` and a row is wrong.
pub fn run(a: Args) -> Result<bool> {
    if !(a.tolerance > 0.0 && a.tolerance <= 1.0) {
        bail!("--tolerance {} must be in (0, 1], e.g. 0.97", a.tolerance);
    }
    if a.no_crypto && a.no_zip {
        bail!("--no-crypto and --no-zip together leave nothing to calibrate");
    }
    let mut verdicts = Vec::new();
    if !a.no_crypto {
        let mut b = bench_crypto::Args::quick();
        b.alg = if a.alg.is_empty() {
            default_algs()
        } else {
            a.alg.clone()
        };
        b.size = a.size;
        b.secs = a.secs;
        b.backend = "software".into();
        if !a.json {
            eprintln!("calibrate: measuring {} crypto algorithms...", b.alg.len());
        }
        let r = bench_crypto::measure_on(&b, Backend::Software, &Roots::from_env(), None)?;
        verdicts.extend(crypto_verdicts(r.results(), a.tolerance)?);
    }
    if !a.no_zip {
        let mut b = bench_zip::Args::quick();
        b.backend = "software".into();
        b.size = a.zip_size;
        b.input = a.input.clone();
        b.min_secs = a.min_secs;
        if !a.json {
            eprintln!("calibrate: measuring zip levels 1 and 6...");
        }
        let r = bench_zip::measure_on(&b, None)?;
        verdicts.extend(zip_verdicts(r.results(), a.tolerance));
    }
    let wrong = verdicts.iter().filter(|v| v.verdict == "wrong").count();
    let cpu = uadk_core::sys::cpu::model_name();
    if a.json {
        let v = json!({
            "cpu": cpu,
            "tolerance": a.tolerance,
            "wrong": wrong,
            "rows": verdicts,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!("calibrate: the engine tables' choice vs the fastest candidate on {cpu}");
        let table: Vec<Vec<String>> = verdicts
            .iter()
            .map(|v| {
                vec![
                    v.area.to_string(),
                    v.what.clone(),
                    v.chosen.clone(),
                    format!("{:.0}", v.chosen_mb_per_s),
                    v.fastest.clone(),
                    format!("{:.0}", v.fastest_mb_per_s),
                    format!("{:.2}", v.ratio),
                    v.verdict.to_string(),
                    v.advice.clone(),
                ]
            })
            .collect();
        print_table(
            &[
                "area", "what", "chosen", "MB/s", "fastest", "MB/s", "ratio", "verdict", "advice",
            ],
            &table,
        );
        if wrong == 0 {
            println!(
                "every choice is within {:.0}% of the fastest candidate",
                100.0 * (1.0 - a.tolerance)
            );
        } else {
            println!(
                "{wrong} choice(s) below {:.2} of the fastest candidate on this CPU (timing noise \
                 is a few percent: re-run before acting)",
                a.tolerance
            );
        }
    }
    Ok(!(a.strict && wrong > 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(name: &str, mb: f64, ratio: Option<f64>) -> Measured {
        Measured {
            name: name.into(),
            mb_per_s: mb,
            ratio,
        }
    }

    #[test]
    fn the_choice_within_tolerance_is_ok() {
        let (best, r, ok) = judge(&m("ring", 98.0, None), &[m("aws-lc-rs", 100.0, None)], 0.97);
        assert_eq!(best.name, "aws-lc-rs");
        assert!((r - 0.98).abs() < 1e-9);
        assert!(ok);
    }

    #[test]
    fn a_clearly_faster_candidate_makes_it_wrong() {
        let (best, r, ok) = judge(
            &m("ring", 100.0, None),
            &[m("openssl", 50.0, None), m("aws-lc-rs", 160.0, None)],
            0.97,
        );
        assert_eq!(best.name, "aws-lc-rs");
        assert!((r - 0.625).abs() < 1e-9);
        assert!(!ok);
    }

    #[test]
    fn the_fastest_choice_is_its_own_best() {
        let (best, r, ok) = judge(
            &m("isa-l", 500.0, Some(2.5)),
            &[m("zlib-rs", 200.0, Some(2.1))],
            0.97,
        );
        assert_eq!(best.name, "isa-l");
        assert_eq!(r, 1.0);
        assert!(ok);
    }

    #[test]
    fn a_faster_compressor_with_a_worse_ratio_does_not_count() {
        // libdeflate at a lower level: faster, but 5% bigger output.
        let (best, _, ok) = judge(
            &m("zlib-rs", 45.0, Some(2.82)),
            &[m("libdeflate", 120.0, Some(2.68)), m("isa-l", 40.0, Some(2.90))],
            0.97,
        );
        assert_eq!(best.name, "zlib-rs");
        assert!(ok);
        // The same library at an equal ratio does count.
        let (best, _, ok) = judge(
            &m("zlib-rs", 45.0, Some(2.82)),
            &[m("libdeflate", 120.0, Some(2.81))],
            0.97,
        );
        assert_eq!(best.name, "libdeflate");
        assert!(!ok);
    }

    #[test]
    fn nan_rows_are_ignored() {
        let (best, _, ok) = judge(&m("openssl", 10.0, None), &[m("ring", f64::NAN, None)], 0.97);
        assert_eq!(best.name, "openssl");
        assert!(ok);
    }

    #[test]
    fn hmac_rows_map_to_selectable_providers() {
        let hmac = Algorithm::from_name("hmac-sha256").unwrap();
        assert_eq!(selectable(hmac, "openssl"), None, "OpenSSL's own HMAC is a peer");
        assert_eq!(selectable(hmac, "openssl-digest"), Some(Provider::OpenSsl));
        assert_eq!(selectable(hmac, "direct"), None);
        let gcm = Algorithm::from_name("aes-128-gcm").unwrap();
        assert_eq!(selectable(gcm, "openssl"), Some(Provider::OpenSsl));
        assert_eq!(selectable(gcm, "aws-lc-rs"), Some(Provider::AwsLc));
        assert_eq!(selectable(gcm, "rustcrypto"), None, "not a GCM candidate");
    }

    #[test]
    fn crypto_verdicts_read_bench_rows() {
        let rows = vec![
            json!({"alg":"aes-128-gcm","impl":"uadk","backend":"software","mb_per_s":90.0}),
            json!({"alg":"aes-128-gcm","impl":"direct","backend":"software","mb_per_s":100.0}),
            json!({"alg":"aes-128-gcm","impl":"openssl","backend":"software","mb_per_s":40.0}),
            json!({"alg":"aes-128-gcm","impl":"ring","backend":"software","mb_per_s":300.0}),
            json!({"alg":"aes-128-gcm","impl":"aws-lc-rs","backend":"software","mb_per_s":301.0}),
        ];
        let v = crypto_verdicts(&rows, 0.97).unwrap();
        assert_eq!(v.len(), 1);
        let chosen = select::choose(Algorithm::from_name("aes-128-gcm").unwrap()).unwrap();
        assert_eq!(v[0].chosen, chosen.provider.name());
        // The direct row (100) is far below the fastest other candidate.
        assert_eq!(v[0].verdict, "wrong");
        assert!(
            v[0].advice.starts_with("UADK_ENGINE_AES_128_GCM="),
            "{}",
            v[0].advice
        );
    }

    #[test]
    fn zip_verdicts_group_by_operation() {
        let rows = vec![
            json!({"op":"decompress","mode":"oneshot","level":1,"impl":"uadk","backend":"software","threads":1,"mb_per_s":1000.0,"ratio":2.4}),
            json!({"op":"decompress","mode":"oneshot","level":1,"impl":"libdeflate","backend":"software","threads":1,"mb_per_s":1010.0,"ratio":2.4}),
            json!({"op":"decompress","mode":"oneshot","level":1,"impl":"zlib","backend":"software","threads":1,"mb_per_s":5000.0,"ratio":2.4}),
            json!({"op":"compress","mode":"oneshot","level":1,"impl":"uadk","backend":"software","threads":1,"mb_per_s":100.0,"ratio":2.4}),
            json!({"op":"compress","mode":"oneshot","level":1,"impl":"zlib-rs","backend":"software","threads":1,"mb_per_s":200.0,"ratio":2.45}),
            json!({"op":"compress","mode":"oneshot","level":1,"impl":"uadk","backend":"software","threads":2,"mb_per_s":190.0,"ratio":2.4}),
        ];
        let v = zip_verdicts(&rows, 0.97);
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].what, "decompress oneshot L1");
        assert_eq!(v[0].verdict, "ok", "system zlib is a peer, not a candidate");
        assert_eq!(v[1].what, "compress oneshot L1");
        assert_eq!(v[1].fastest, "zlib-rs");
        assert_eq!(v[1].verdict, "wrong");
    }
}
