//! Queue geometry: QM version from `api`, and where SQ, CQ and status words sit in DUS.

use crate::error::{Error, Result};

/// Bytes per completion queue entry.
pub const CQE_SIZE: usize = 16;
/// Queue depth used when the kernel lacks `UACCE_CMD_QM_SET_QP_INFO`.
pub const DEFAULT_DEPTH: u16 = 1024;
/// SQE size of ZIP and SEC queues.
pub const SQE_SIZE_128: usize = 128;

/// Parses the QM version from an `api` string: `hisi_qm_v3` → 3, `hisi_qm_v2_noiommu` → 2.
/// Returns `None` for strings that are not HiSilicon QM APIs.
///
/// ```
/// assert_eq!(uadk_core::qm::layout::parse_qm_version("hisi_qm_v3"), Some(3));
/// assert_eq!(uadk_core::qm::layout::parse_qm_version("hisi_qm_v2_noiommu"), Some(2));
/// assert_eq!(uadk_core::qm::layout::parse_qm_version("foo"), None);
/// ```
pub fn parse_qm_version(api: &str) -> Option<u32> {
    let rest = api.trim().strip_prefix("hisi_qm_v")?;
    let digits: &str = &rest[..rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len())];
    digits.parse().ok().filter(|v| *v >= 1)
}

/// DUS size the kernel allocates: SQ + CQ + one status page, rounded up to pages (§3.3).
pub fn kernel_dus_size(sqe_size: usize, sq_depth: u16, cq_depth: u16, page: usize) -> usize {
    let raw = sqe_size * sq_depth as usize + CQE_SIZE * cq_depth as usize + page;
    raw.div_ceil(page) * page
}

/// The validated geometry of one queue pair's DUS region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// Bytes per SQE.
    pub sqe_size: usize,
    /// SQ entries.
    pub sq_depth: u16,
    /// CQ entries.
    pub cq_depth: u16,
    /// Total DUS bytes (as advertised by `region_dus_size`).
    pub dus_size: usize,
}

impl Geometry {
    /// Checks that SQ, CQ and the two status words fit in `dus_size` and do not overlap.
    pub fn new(sqe_size: usize, sq_depth: u16, cq_depth: u16, dus_size: usize) -> Result<Geometry> {
        if sqe_size == 0 || sqe_size > super::sqe::MAX_SQE_SIZE || !sqe_size.is_multiple_of(4) {
            return Err(Error::Protocol(format!("unsupported SQE size {sqe_size}")));
        }
        if sq_depth < 2 || cq_depth < sq_depth {
            return Err(Error::Protocol(format!(
                "queue depths sq {sq_depth} / cq {cq_depth} unusable (need sq >= 2 and cq >= sq)"
            )));
        }
        let need = sqe_size * sq_depth as usize + CQE_SIZE * cq_depth as usize + 8;
        if need > dus_size || !dus_size.is_multiple_of(8) {
            return Err(Error::Protocol(format!(
                "DUS region of {dus_size} bytes cannot hold {sq_depth}x{sqe_size}-byte SQ, {cq_depth} CQEs and status words ({need} bytes)"
            )));
        }
        Ok(Geometry {
            sqe_size,
            sq_depth,
            cq_depth,
            dus_size,
        })
    }

    /// Offset of SQ slot `i`.
    #[inline]
    pub fn sqe_offset(&self, i: u16) -> usize {
        i as usize * self.sqe_size
    }

    /// Offset of the CQ.
    #[inline]
    pub fn cq_offset(&self) -> usize {
        self.sqe_size * self.sq_depth as usize
    }

    /// Offset of CQ entry `i`.
    #[inline]
    pub fn cqe_offset(&self, i: u16) -> usize {
        self.cq_offset() + i as usize * CQE_SIZE
    }

    /// Offset of the stop-TX status word (last u32 of DUS).
    #[inline]
    pub fn stop_tx_offset(&self) -> usize {
        self.dus_size - 4
    }

    /// Offset of the stop-RX status word (the u32 before stop-TX).
    #[inline]
    pub fn stop_rx_offset(&self) -> usize {
        self.dus_size - 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_sizes_match_reference_table() {
        assert_eq!(kernel_dus_size(128, 1024, 1024, 4096), 151_552);
        assert_eq!(kernel_dus_size(64, 1024, 1024, 4096), 86_016);
        assert_eq!(kernel_dus_size(128, 1024, 1024, 65536), 262_144);
        assert_eq!(kernel_dus_size(64, 1024, 1024, 65536), 196_608);
    }

    #[test]
    fn geometry_offsets_and_rejections() {
        let g = Geometry::new(128, 1024, 1024, 151_552).unwrap();
        assert_eq!(g.cq_offset(), 131_072);
        assert_eq!(g.cqe_offset(2), 131_104);
        assert_eq!(g.stop_tx_offset(), 151_548);
        assert_eq!(g.stop_rx_offset(), 151_544);
        assert!(Geometry::new(128, 1024, 1024, 4096).is_err());
        assert!(Geometry::new(0, 1024, 1024, 151_552).is_err());
        assert!(Geometry::new(128, 1, 1, 151_552).is_err());
    }

    #[test]
    fn version_parsing() {
        assert_eq!(parse_qm_version("hisi_qm_v1\n"), Some(1));
        assert_eq!(parse_qm_version("hisi_qm_v5"), Some(5));
        assert_eq!(parse_qm_version("hisi_qm_v"), None);
        assert_eq!(parse_qm_version("hisi_qm_vx"), None);
    }
}
