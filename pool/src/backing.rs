//! Backing memory: choosing the page kind, binding to a node, faulting every page in, and
//! checking where the pages landed.

use crate::config::{PageKind, PoolBuilder};
use crate::error::{PoolError, Result};
use crate::probe::MachineProbe;
use crate::sys::{mmap::Mapping, numa};
use serde::Serialize;
use std::fmt;

const HUGE_2M: usize = 2 << 20;
const HUGE_1G: usize = 1 << 30;
/// `MAP_HUGE_SHIFT` from include/uapi/asm-generic/hugetlb_encode.h.
const MAP_HUGE_SHIFT: libc::c_int = 26;

/// The memory a pool actually got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backing {
    /// 1 GiB hugetlb pages.
    #[serde(rename = "hugetlb-1g")]
    Hugetlb1G,
    /// 2 MiB hugetlb pages.
    #[serde(rename = "hugetlb-2m")]
    Hugetlb2M,
    /// Anonymous memory advised for transparent huge pages.
    Thp,
    /// Normal base pages.
    Normal,
}

impl Backing {
    /// Whether these are hugetlb pages (never swapped).
    pub fn is_hugetlb(self) -> bool {
        matches!(self, Backing::Hugetlb1G | Backing::Hugetlb2M)
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Backing::Hugetlb1G => "hugetlb-1g",
            Backing::Hugetlb2M => "hugetlb-2m",
            Backing::Thp => "thp",
            Backing::Normal => "normal",
        }
    }
}

impl fmt::Display for Backing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the pool's pages are, as the kernel reports after faulting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Placement {
    /// `(node, pages)` for every node holding sampled pages.
    pub nodes: Vec<(u32, usize)>,
    /// Sampled pages whose node could not be read.
    pub unknown: usize,
    /// Pages sampled (one per backing page, at most 4096 spread evenly).
    pub sampled: usize,
    /// When a node was requested: whether every sampled page is on it.
    pub on_requested_node: Option<bool>,
}

impl Placement {
    /// The node holding most sampled pages.
    pub fn main_node(&self) -> Option<u32> {
        self.nodes.iter().max_by_key(|(_, n)| *n).map(|(node, _)| *node)
    }
}

/// A mapped, bound and faulted-in region.
pub(crate) struct Region {
    pub(crate) mapping: Mapping,
    pub(crate) backing: Backing,
    pub(crate) page_size: usize,
    pub(crate) placement: Placement,
    /// Why better kinds were passed over.
    pub(crate) passed_over: Vec<String>,
}

fn round_up(n: usize, to: usize) -> usize {
    n.div_ceil(to) * to
}

/// Builds the region for `cfg`, trying page kinds best first as the configuration allows.
pub(crate) fn create(cfg: &PoolBuilder, probe: &MachineProbe) -> Result<Region> {
    if let Some(node) = cfg.node {
        if !probe.numa_nodes.contains(&node) {
            return Err(PoolError::NodeUnavailable {
                node,
                available: probe.numa_nodes.clone(),
            });
        }
    }
    let bytes = cfg.stride() * cfg.chunks as usize;
    let fallback = cfg.fallback.unwrap_or(cfg.pages == PageKind::Auto);
    let chain = cfg.pages.chain(fallback);
    let mut passed_over = Vec::new();
    for (i, kind) in chain.iter().enumerate() {
        let last = i + 1 == chain.len();
        match try_kind(*kind, cfg, probe, bytes) {
            Ok(mut r) => {
                r.passed_over = passed_over;
                return Ok(r);
            }
            Err(e) if !last => {
                log::debug!("pool: {kind} pages not used: {e}");
                passed_over.push(format!("{kind}: {e}"));
            }
            Err(e) => return Err(e),
        }
    }
    unreachable!("the page-kind chain is never empty")
}

fn try_kind(kind: PageKind, cfg: &PoolBuilder, probe: &MachineProbe, bytes: usize) -> Result<Region> {
    let base = probe.base_page_size;
    let (backing, page_size) = match kind {
        PageKind::Huge1G => (Backing::Hugetlb1G, HUGE_1G),
        PageKind::Huge2M => (Backing::Hugetlb2M, HUGE_2M),
        PageKind::Thp => (Backing::Thp, HUGE_2M),
        PageKind::Normal | PageKind::Auto => (Backing::Normal, base),
    };
    let len = round_up(bytes, page_size);
    let mapping = match backing {
        Backing::Hugetlb1G | Backing::Hugetlb2M => {
            if cfg.pages == PageKind::Auto && backing == Backing::Hugetlb1G && (len - bytes) * 8 > len {
                return Err(PoolError::InvalidConfig(format!(
                    "a {bytes}-byte pool would waste more than 1/8 of a 1 GiB page"
                )));
            }
            let size_kib = (page_size >> 10) as u64;
            let needed = (len / page_size) as u64;
            let free = probe.free_hugepages(size_kib, cfg.node);
            let size = if page_size == HUGE_1G { "1 GiB" } else { "2 MiB" };
            let unavailable = |free| PoolError::HugepagesUnavailable {
                size,
                on_node: cfg.node.map(|n| format!(" on node {n}")).unwrap_or_default(),
                free,
                needed,
                sysfs_hint: format!(
                    "/sys/devices/system/node/node{}/hugepages/hugepages-{size_kib}kB/nr_hugepages",
                    cfg.node.unwrap_or(0)
                ),
            };
            if free < needed {
                return Err(unavailable(free));
            }
            let shift = page_size.trailing_zeros() as libc::c_int;
            Mapping::anonymous(len, libc::MAP_HUGETLB | (shift << MAP_HUGE_SHIFT)).map_err(|e| {
                if e.raw_os_error() == Some(libc::ENOMEM) {
                    unavailable(free)
                } else {
                    PoolError::sys(format!("mmap of {len} bytes of {size} hugetlb pages"), e)
                }
            })?
        }
        Backing::Thp => {
            if matches!(probe.thp.as_str(), "never" | "unsupported") {
                return Err(PoolError::ThpUnavailable {
                    mode: probe.thp.clone(),
                });
            }
            let m = Mapping::anonymous_aligned(len, HUGE_2M)
                .map_err(|e| PoolError::sys(format!("mmap of {len} bytes for THP"), e))?;
            m.advise(libc::MADV_HUGEPAGE)
                .map_err(|e| PoolError::sys("madvise(MADV_HUGEPAGE)", e))?;
            m
        }
        Backing::Normal => {
            Mapping::anonymous(len, 0).map_err(|e| PoolError::sys(format!("mmap of {len} bytes"), e))?
        }
    };
    if let Some(node) = cfg.node {
        numa::bind(mapping.as_ptr(), mapping.len(), node)
            .map_err(|e| PoolError::sys(format!("mbind(MPOL_BIND) to node {node}"), e))?;
    }
    mapping
        .prefault(page_size)
        .map_err(|source| PoolError::Prefault {
            bytes: len,
            backing: backing.as_str(),
            source,
        })?;
    let placement = placement(&mapping, page_size.max(base), base, cfg.node);
    if placement.on_requested_node == Some(false) {
        log::warn!("pool: some pages are not on the requested node: {placement:?}");
    }
    Ok(Region {
        mapping,
        backing,
        page_size,
        placement,
        passed_over: Vec::new(),
    })
}

/// Samples the node of up to 4096 pages spread over the mapping.
fn placement(m: &Mapping, page_size: usize, base: usize, want: Option<u32>) -> Placement {
    let pages = m.len() / page_size;
    let stride = if pages > 4096 {
        round_up(m.len() / 4096, base)
    } else {
        page_size
    };
    let mut nodes: Vec<(u32, usize)> = Vec::new();
    let mut unknown = 0;
    let mut sampled = 0;
    match numa::page_nodes(m.as_ptr(), m.len(), stride) {
        Ok(status) => {
            for s in status {
                sampled += 1;
                match u32::try_from(s) {
                    Ok(n) => match nodes.iter_mut().find(|(k, _)| *k == n) {
                        Some((_, c)) => *c += 1,
                        None => nodes.push((n, 1)),
                    },
                    Err(_) => unknown += 1,
                }
            }
        }
        Err(e) => {
            log::debug!("pool: move_pages query failed: {e}");
            unknown = 1;
        }
    }
    nodes.sort_unstable();
    let on_requested_node = want.map(|w| unknown == 0 && nodes.iter().all(|(n, _)| *n == w));
    Placement {
        nodes,
        unknown,
        sampled,
        on_requested_node,
    }
}
