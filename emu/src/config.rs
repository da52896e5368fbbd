//! What to emulate: devices and their faults.

use serde::{Deserialize, Serialize};

use crate::error::{EmuError, Result};

/// Kind of accelerator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeviceKind {
    /// `hisi_zip`: zlib, gzip (v2) and deflate (v3).
    Zip,
    /// `hisi_sec2`: cipher, digest, aead.
    Sec,
}

impl DeviceKind {
    /// The PCI driver name that prefixes the device name.
    pub fn driver_name(self) -> &'static str {
        match self {
            DeviceKind::Zip => "hisi_zip",
            DeviceKind::Sec => "hisi_sec2",
        }
    }
}

/// Faults injected into a device; all zero/false = healthy.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Faults {
    /// Fraction (0..=1) of requests completed with an error status.
    pub error_rate: f64,
    /// Extra latency before each completion, in microseconds.
    pub delay_us: u64,
    /// Engines stop taking requests (in-flight ones stay pending).
    pub stalled: bool,
    /// IO page fault model: latency charged the first time the device touches a page that
    /// is neither hugetlb nor locked, in nanoseconds (0 = model off).
    pub iopf_ns: u64,
    /// Simulated migration churn: every this many requests, every unpinned page counts as
    /// untouched again (0 = no churn).
    pub churn_every: u64,
    /// Fraction (0..=1) of ZIP requests completed with status OK but impossible byte
    /// counts: one byte more consumed than the input holds and one byte more produced than
    /// the output buffer holds. Nothing is written to memory: a device that misreports, for
    /// testing the driver's checks of what comes back (SEC BDs carry no counts; unused there).
    #[serde(default)]
    pub bad_count_rate: f64,
}

impl Faults {
    /// Checks ranges.
    pub fn validate(&self) -> Result<()> {
        for (name, rate) in [
            ("error_rate", self.error_rate),
            ("bad_count_rate", self.bad_count_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(EmuError::Config(format!("{name} {rate} must be between 0 and 1")));
            }
        }
        Ok(())
    }
}

/// One emulated device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceSpec {
    /// ZIP or SEC.
    pub kind: DeviceKind,
    /// QM version for `api` (`hisi_qm_v<N>`): 2 or 3.
    pub qm_version: u32,
    /// Queue pairs (`available_instances` when idle).
    pub queues: u32,
    /// NUMA node (`device/numa_node`); `None` writes -1.
    pub node: Option<u32>,
    /// Whether `UACCE_CMD_QM_SET_QP_INFO` is implemented (older kernels lack it).
    pub qp_info: bool,
    /// Faults active from the start.
    pub faults: Faults,
}

impl DeviceSpec {
    /// A healthy device of `kind` at QM version `qm_version` with 64 queues on node 0.
    pub fn new(kind: DeviceKind, qm_version: u32) -> DeviceSpec {
        DeviceSpec {
            kind,
            qm_version,
            queues: 64,
            node: Some(0),
            qp_info: true,
            faults: Faults::default(),
        }
    }

    /// The `algorithms` lines this device advertises.
    pub fn algorithms(&self) -> Vec<&'static str> {
        match self.kind {
            DeviceKind::Zip if self.qm_version >= 3 => vec!["zlib", "gzip", "deflate"],
            DeviceKind::Zip => vec!["zlib", "gzip"],
            DeviceKind::Sec => vec!["cipher", "digest", "aead"],
        }
    }

    /// Parses `kind[,api=v2|v3][,queues=N][,node=N|-1][,qp_info=0|1]`, e.g. `zip,api=v2,queues=16`.
    ///
    /// ```
    /// let d = uadk_emu::DeviceSpec::parse("sec,api=v2,queues=8,node=1").unwrap();
    /// assert_eq!((d.qm_version, d.queues, d.node), (2, 8, Some(1)));
    /// ```
    pub fn parse(s: &str) -> Result<DeviceSpec> {
        let mut parts = s.split(',').map(str::trim);
        let kind = match parts.next() {
            Some("zip") => DeviceKind::Zip,
            Some("sec") => DeviceKind::Sec,
            other => {
                return Err(EmuError::Config(format!(
                    "device `{s}`: kind {other:?} is not `zip` or `sec`"
                )))
            }
        };
        let mut d = DeviceSpec::new(kind, 3);
        for p in parts {
            let (k, v) = p
                .split_once('=')
                .ok_or_else(|| EmuError::Config(format!("device `{s}`: `{p}` is not key=value")))?;
            let num = |v: &str| {
                v.parse::<i64>()
                    .map_err(|_| EmuError::Config(format!("device `{s}`: `{v}` is not a number")))
            };
            match k {
                "api" => {
                    d.qm_version = match v {
                        "v2" | "hisi_qm_v2" => 2,
                        "v3" | "hisi_qm_v3" => 3,
                        _ => return Err(EmuError::Config(format!("device `{s}`: api must be v2 or v3"))),
                    }
                }
                "queues" => {
                    let n = num(v)?;
                    if !(1..=1024).contains(&n) {
                        return Err(EmuError::Config(format!("device `{s}`: queues must be 1..=1024")));
                    }
                    d.queues = n as u32;
                }
                "node" => d.node = u32::try_from(num(v)?).ok(),
                "qp_info" => d.qp_info = num(v)? != 0,
                _ => return Err(EmuError::Config(format!("device `{s}`: unknown key `{k}`"))),
            }
        }
        Ok(d)
    }
}

/// The whole emulator configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmuConfig {
    /// Devices, named `<driver>-<id>` with ids from one global counter in this order.
    pub devices: Vec<DeviceSpec>,
    /// First id of the global counter.
    pub first_id: u32,
}

impl Default for EmuConfig {
    /// One ZIP (v3) and one SEC (v3) device on node 0.
    fn default() -> Self {
        EmuConfig {
            devices: vec![
                DeviceSpec::new(DeviceKind::Zip, 3),
                DeviceSpec::new(DeviceKind::Sec, 3),
            ],
            first_id: 0,
        }
    }
}
