//! Contexts and scheduling: a set of queues per (NUMA node, operation type, sync/async).
//!
//! This is the interface the front-ends (`uadk-zip`, `uadk-crypto`) build on:
//!
//! 1. Build a [`Scheduler`] for an algorithm (`"zlib"`, `"cipher"`, ...) with
//!    [`SchedulerBuilder`]: how many queues per (node, op type, mode), taken from the builder
//!    or — overriding it — from UADK's environment variable `WD_<FAMILY>_CTX_NUM`
//!    (e.g. `WD_COMP_CTX_NUM=sync-comp:2@0,async-comp:1@0`). Each queue is opened on the
//!    device nearest to its node that offers the algorithm, with `qc_type` = op type
//!    (ZIP: 0 compress, 1 decompress; SEC: 0).
//! 2. Per request, [`Scheduler::pick`] returns a queue for (op type, mode) on the node
//!    nearest to the calling CPU, spreading requests round-robin with one atomic counter
//!    (no global lock; each queue has its own send and receive locks).
//! 3. Submit opaque 128-byte descriptors ([`Sqe`](crate::qm::Sqe)) built by the front-end:
//!    [`QueuePair::submit_sync`](crate::qm::QueuePair::submit_sync) returns the written-back
//!    descriptor; [`QueuePair::submit`](crate::qm::QueuePair::submit) with tokens plus
//!    [`Scheduler::poll`] for async. The tag is placed by the queue at the
//!    [`TagField`](crate::qm::TagField) given in the queue options and checked on completion.
//!
//! [`shared`] keeps one scheduler per algorithm for the whole process (rebuilt in a forked
//! child, which must not use the parent's queues).
//!
//! ```no_run
//! use uadk_core::sched::{Mode, SchedulerBuilder};
//! let s = SchedulerBuilder::new("cipher").env("CIPHER").ctx(Mode::Sync, 0, 0, 2).build()?;
//! let q = s.pick(0, Mode::Sync)?;
//! # let _ = q; Ok::<(), uadk_core::Error>(())
//! ```

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;

use crate::discovery::{self, NumaDistances, Roots};
use crate::error::{Error, Result};
use crate::qm::{QueueOptions, QueuePair};
use crate::request::Completion;
use crate::sys;

/// Synchronous or asynchronous contexts (UADK keeps them in separate queues).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Requests wait for their completion.
    Sync,
    /// Requests complete through polling.
    Async,
}

/// "`count` queues for (mode, op type) on `node`".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CtxSpec {
    /// Sync or async.
    pub mode: Mode,
    /// Operation type (ZIP: 0 compress, 1 decompress; others 0).
    pub op_type: u8,
    /// NUMA node the queues serve.
    pub node: u32,
    /// Number of queues.
    pub count: usize,
}

/// The environment variable for a family: `COMP` → `WD_COMP_CTX_NUM`.
pub fn ctx_env_name(family: &str) -> String {
    format!("WD_{}_CTX_NUM", family.to_ascii_uppercase())
}

/// Parses UADK's `WD_<FAMILY>_CTX_NUM` format: a comma list of `<name>:<num>@<node>` where
/// name is `sync`, `async`, `sync-comp`, `sync-decomp`, `async-comp` or `async-decomp`.
///
/// UADK's init2 policy applies: every node named anywhere is enabled and all enabled nodes
/// get the same numbers; duplicate entries take the maximum; a count of 0 is ignored.
///
/// ```
/// use uadk_core::sched::{parse_ctx_num, Mode};
/// let s = parse_ctx_num("sync-comp:2@0,async-comp:1@0").unwrap();
/// assert_eq!(s.len(), 2);
/// assert_eq!((s[0].mode, s[0].op_type, s[0].node, s[0].count), (Mode::Sync, 0, 0, 2));
/// ```
pub fn parse_ctx_num(value: &str) -> Result<Vec<CtxSpec>> {
    let mut counts: Vec<((Mode, u8), usize)> = Vec::new();
    let mut nodes: Vec<u32> = Vec::new();
    for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let bad = |why: &str| {
            Error::Config(format!(
                "context entry `{entry}`: {why} (expected e.g. `sync-comp:2@0` or `async:1@0`)"
            ))
        };
        let (name, rest) = entry.split_once(':').ok_or_else(|| bad("missing `:`"))?;
        let (num, node) = rest.split_once('@').ok_or_else(|| bad("missing `@node`"))?;
        let key = match name.trim() {
            "sync" | "sync-comp" => (Mode::Sync, 0),
            "sync-decomp" => (Mode::Sync, 1),
            "async" | "async-comp" => (Mode::Async, 0),
            "async-decomp" => (Mode::Async, 1),
            _ => return Err(bad("unknown context type")),
        };
        let num: usize = num.trim().parse().map_err(|_| bad("count is not a number"))?;
        let node: u32 = node.trim().parse().map_err(|_| bad("node is not a number"))?;
        if num > 1024 {
            return Err(bad("more than 1024 queues"));
        }
        if !nodes.contains(&node) {
            nodes.push(node);
        }
        if num == 0 {
            continue;
        }
        match counts.iter_mut().find(|(k, _)| *k == key) {
            Some((_, c)) => *c = (*c).max(num),
            None => counts.push((key, num)),
        }
    }
    let mut out = Vec::new();
    for node in &nodes {
        for ((mode, op_type), count) in &counts {
            out.push(CtxSpec {
                mode: *mode,
                op_type: *op_type,
                node: *node,
                count: *count,
            });
        }
    }
    Ok(out)
}

/// Builds a [`Scheduler`].
#[derive(Debug, Clone)]
pub struct SchedulerBuilder {
    alg: String,
    specs: Vec<CtxSpec>,
    env_family: Option<String>,
    opts: QueueOptions,
    roots: Option<Roots>,
}

impl SchedulerBuilder {
    /// A builder for queues serving algorithm `alg` (a line of sysfs `algorithms`).
    pub fn new(alg: &str) -> SchedulerBuilder {
        SchedulerBuilder {
            alg: alg.to_string(),
            specs: Vec::new(),
            env_family: None,
            opts: QueueOptions::default(),
            roots: None,
        }
    }

    /// Requests `count` queues for (mode, op type) on `node`.
    pub fn ctx(mut self, mode: Mode, op_type: u8, node: u32, count: usize) -> Self {
        self.specs.push(CtxSpec {
            mode,
            op_type,
            node,
            count,
        });
        self
    }

    /// Lets `WD_<family>_CTX_NUM` (if set) replace the requested contexts.
    pub fn env(mut self, family: &str) -> Self {
        self.env_family = Some(family.to_string());
        self
    }

    /// Options for every queue (`qc_type` is replaced by each context's op type).
    pub fn queue_options(mut self, opts: QueueOptions) -> Self {
        self.opts = opts;
        self
    }

    /// Uses these roots instead of `UADK_SYSFS_ROOT`/`UADK_DEV_ROOT`.
    pub fn roots(mut self, roots: Roots) -> Self {
        self.roots = Some(roots);
        self
    }

    /// Opens all queues.
    pub fn build(self) -> Result<Scheduler> {
        let mut specs = self.specs.clone();
        if let Some(f) = &self.env_family {
            let name = ctx_env_name(f);
            if let Ok(v) = std::env::var(&name) {
                specs = parse_ctx_num(&v).map_err(|e| Error::Config(format!("{name}: {e}")))?;
            }
        }
        if specs.iter().all(|s| s.count == 0) {
            return Err(Error::Config(format!(
                "no queues requested for `{}`: add contexts with .ctx() or set the WD_*_CTX_NUM variable",
                self.alg
            )));
        }
        let roots = self.roots.clone().unwrap_or_else(Roots::from_env);
        let mut found = discovery::scan(&roots);
        let distances = NumaDistances::load(&roots.sysfs);
        let mut groups = Vec::new();
        for spec in specs.iter().filter(|s| s.count > 0) {
            let mut queues = Vec::with_capacity(spec.count);
            for _ in 0..spec.count {
                let dev = discovery::select_for_node(&found.devices, &self.alg, Some(spec.node), &distances)
                    .ok_or_else(|| Error::NoDevice {
                        alg: self.alg.clone(),
                    })?;
                let opts = QueueOptions {
                    qc_type: spec.op_type as u16,
                    ..self.opts
                };
                queues.push(Arc::new(QueuePair::open(dev, opts)?));
                // Keep the snapshot honest so the next queue goes where queues are free.
                let name = dev.name.clone();
                if let Some(d) = found.devices.iter_mut().find(|d| d.name == name) {
                    d.available_instances = d.available_instances.saturating_sub(1);
                }
            }
            groups.push(Group {
                node: spec.node,
                op_type: spec.op_type,
                mode: spec.mode,
                queues,
                cursor: AtomicUsize::new(0),
            });
        }
        Ok(Scheduler {
            alg: self.alg,
            groups,
            distances,
        })
    }
}

#[derive(Debug)]
struct Group {
    node: u32,
    op_type: u8,
    mode: Mode,
    queues: Vec<Arc<QueuePair>>,
    cursor: AtomicUsize,
}

/// A process's queues for one algorithm, grouped by (node, op type, mode).
#[derive(Debug)]
pub struct Scheduler {
    alg: String,
    groups: Vec<Group>,
    distances: NumaDistances,
}

thread_local! {
    static NODE_CACHE: Cell<(u32, Option<u32>)> = const { Cell::new((0, None)) };
}

fn caller_node() -> Option<u32> {
    NODE_CACHE.with(|c| {
        let (n, node) = c.get();
        if n % 256 == 0 {
            let fresh = sys::cpu::current_node();
            c.set((n.wrapping_add(1), fresh));
            fresh
        } else {
            c.set((n.wrapping_add(1), node));
            node
        }
    })
}

impl Scheduler {
    /// The algorithm this scheduler serves.
    pub fn alg(&self) -> &str {
        &self.alg
    }

    /// A queue for (op type, mode) near the calling CPU; requests rotate over the group.
    pub fn pick(&self, op_type: u8, mode: Mode) -> Result<&Arc<QueuePair>> {
        self.pick_near(op_type, mode, caller_node())
    }

    /// A queue for (op type, mode) near `node`.
    pub fn pick_near(&self, op_type: u8, mode: Mode, node: Option<u32>) -> Result<&Arc<QueuePair>> {
        let g = self
            .groups
            .iter()
            .filter(|g| g.op_type == op_type && g.mode == mode && !g.queues.is_empty())
            .min_by_key(|g| self.distances.distance(node, Some(g.node)))
            .ok_or_else(|| {
                Error::Config(format!(
                    "no {mode:?} queues for op type {op_type} of `{}` were configured",
                    self.alg
                ))
            })?;
        let i = g.cursor.fetch_add(1, Ordering::Relaxed) % g.queues.len();
        Ok(&g.queues[i])
    }

    /// Every queue for (op type, mode), all nodes.
    pub fn queues(&self, op_type: u8, mode: Mode) -> impl Iterator<Item = &Arc<QueuePair>> {
        self.groups
            .iter()
            .filter(move |g| g.op_type == op_type && g.mode == mode)
            .flat_map(|g| g.queues.iter())
    }

    /// Polls every async queue of `op_type` until `max` completions were delivered.
    pub fn poll(&self, op_type: u8, max: usize, mut sink: impl FnMut(Completion)) -> Result<usize> {
        let mut n = 0;
        for q in self.queues(op_type, Mode::Async) {
            if n >= max {
                break;
            }
            n += q.poll(max - n, &mut sink)?;
        }
        Ok(n)
    }
}

type Registry = Mutex<HashMap<String, (u64, Arc<Scheduler>)>>;

/// The process-wide scheduler for the builder's algorithm: built on first use, reused
/// afterwards, and rebuilt in a forked child.
pub fn shared(builder: SchedulerBuilder) -> Result<Arc<Scheduler>> {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    let reg = REGISTRY.get_or_init(|| Mutex::new(HashMap::new()));
    let gen = sys::fork::generation();
    let mut map = reg.lock();
    if let Some((g, s)) = map.get(&builder.alg) {
        if *g == gen {
            return Ok(s.clone());
        }
    }
    let alg = builder.alg.clone();
    let s = Arc::new(builder.build()?);
    if let Some((old_gen, old)) = map.insert(alg, (gen, s.clone())) {
        if old_gen != gen {
            // The parent's queues are unusable here; do not run their Drop (PUT_Q would act
            // on the parent's queue through the shared file description).
            std::mem::forget(old);
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_format_follows_uadk_policy() {
        let s = parse_ctx_num("sync-comp:2@0, sync-decomp:1@1,async-comp:0@0,sync-comp:3@1").unwrap();
        // nodes 0 and 1 enabled; sync-comp max(2,3) = 3; sync-decomp 1; async-comp 0 ignored
        assert_eq!(s.len(), 4);
        assert!(s.iter().all(|c| c.mode == Mode::Sync));
        assert!(s.iter().any(|c| c.node == 0 && c.op_type == 0 && c.count == 3));
        assert!(s.iter().any(|c| c.node == 0 && c.op_type == 1 && c.count == 1));
        assert!(s.iter().any(|c| c.node == 1 && c.op_type == 1 && c.count == 1));
        let s = parse_ctx_num("sync:1@0,async:2@0").unwrap();
        assert_eq!(
            s[1],
            CtxSpec {
                mode: Mode::Async,
                op_type: 0,
                node: 0,
                count: 2
            }
        );
        for bad in [
            "sync",
            "sync:1",
            "sync:x@0",
            "sync:1@y",
            "weird:1@0",
            "sync:5000@0",
        ] {
            assert!(matches!(parse_ctx_num(bad), Err(Error::Config(_))), "{bad}");
        }
        assert_eq!(ctx_env_name("comp"), "WD_COMP_CTX_NUM");
    }
}
