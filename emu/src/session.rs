//! One client connection = one queue pair: the device side of the socket protocol
//! (`uadk_core::uacce::emu_proto`) and the uacce queue state machine.

use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;

use uadk_core::qm::layout::{DEFAULT_DEPTH, SQE_SIZE_128};
use uadk_core::sys::region::Region;
use uadk_core::sys::{fdpass, memfd};
use uadk_core::uacce::emu_proto::{Op, Request, Response, REQ_LEN, VERSION};
use uadk_core::uacce::ioctl::{
    QpCtx, QpInfo, UACCE_CMD_PUT_Q, UACCE_CMD_QM_SET_QP_CTX, UACCE_CMD_QM_SET_QP_INFO, UACCE_CMD_START_Q,
};

use crate::counters::EngineCounters;
use crate::device::DeviceShared;
use crate::engine::{self, Engine};
use crate::memory::ClientMem;
use crate::tree::{dus_size, MMIO_SIZE, SHADOW_OFFSET};

struct Running {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
    counters: Arc<EngineCounters>,
}

struct Queue {
    sqn: u16,
    mmio_fd: OwnedFd,
    dus_fd: OwnedFd,
    mmio: Arc<Region>,
    dus: Arc<Region>,
    event: OwnedFd,
    mapped: [bool; 2],
    qc_type: u16,
    running: Option<Running>,
    zombie: bool,
}

/// Serves one connection until the client closes it or the emulator shuts it down.
pub fn serve(stream: UnixStream, device: Arc<DeviceShared>) {
    let pid = match fdpass::peer_cred(stream.as_fd()) {
        Ok(c) => c.pid,
        Err(e) => {
            log::warn!("{}: no peer credentials: {e}", device.name);
            return;
        }
    };
    let mut q: Option<Queue> = None;
    let mut buf = [0u8; REQ_LEN];
    loop {
        match fdpass::recv_exact(stream.as_fd(), &mut buf) {
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => {
                log::debug!("{}: connection error: {e}", device.name);
                break;
            }
        }
        let (resp, fd) = match Request::decode(&buf) {
            None => (Response::err(libc::EPROTO), None),
            Some(req) => handle(req, &mut q, &device, pid),
        };
        let fds: Vec<_> = fd.iter().map(|f| f.as_fd()).collect();
        if fdpass::send(stream.as_fd(), &resp.encode(), &fds).is_err() {
            break;
        }
    }
    if let Some(mut q) = q {
        stop_engine(&mut q, &device);
        device.release_queue(q.sqn);
    }
}

fn stop_engine(q: &mut Queue, device: &DeviceShared) {
    if let Some(r) = q.running.take() {
        r.stop.store(true, Ordering::Release);
        engine::kick(&q.mmio);
        let _ = r.thread.join();
        device.retire_engine(&r.counters);
    }
}

fn handle<'a>(
    req: Request,
    q: &'a mut Option<Queue>,
    device: &Arc<DeviceShared>,
    pid: u32,
) -> (Response, Option<std::os::fd::BorrowedFd<'a>>) {
    if req.op == Op::Hello {
        if q.is_some() {
            return (Response::err(libc::EEXIST), None);
        }
        if req.arg != VERSION {
            return (Response::err(libc::EPROTONOSUPPORT), None);
        }
        match new_queue(device) {
            Ok(nq) => {
                *q = Some(nq);
                let mut payload = [0u8; 16];
                payload[0..8].copy_from_slice(&(std::process::id() as u64).to_le_bytes());
                let fd = q.as_ref().map(|q| q.event.as_fd());
                return (Response::ok(SHADOW_OFFSET as u64, payload), fd);
            }
            Err(errno) => return (Response::err(errno), None),
        }
    }
    let Some(queue) = q.as_mut() else {
        return (Response::err(libc::EPROTO), None);
    };
    if queue.zombie {
        return (Response::err(libc::ENXIO), None);
    }
    match req.op {
        Op::Hello => (Response::err(libc::EEXIST), None),
        Op::Mmap => {
            let len = u64::from_le_bytes(req.payload[0..8].try_into().unwrap_or([0; 8])) as usize;
            let (idx, ok) = match req.arg {
                0 => (0, len > 0 && len <= MMIO_SIZE),
                1 => (1, len == dus_size()),
                _ => return (Response::err(libc::EINVAL), None),
            };
            if !ok {
                return (Response::err(libc::EINVAL), None);
            }
            if queue.mapped[idx] {
                return (Response::err(libc::EEXIST), None);
            }
            queue.mapped[idx] = true;
            let q = q.as_ref().map(|q| {
                if idx == 0 {
                    q.mmio_fd.as_fd()
                } else {
                    q.dus_fd.as_fd()
                }
            });
            (Response::ok(0, [0; 16]), q)
        }
        Op::Ioctl => {
            let cmd = req.arg as u32;
            match cmd {
                UACCE_CMD_QM_SET_QP_CTX => {
                    let ctx = QpCtx::from_bytes(&req.payload);
                    if queue.running.is_some() {
                        return (Response::err(libc::EBUSY), None);
                    }
                    if ctx.qc_type > 1 {
                        return (Response::err(libc::EINVAL), None);
                    }
                    queue.qc_type = ctx.qc_type;
                    let mut p = [0u8; 16];
                    p[..4].copy_from_slice(
                        &QpCtx {
                            id: queue.sqn,
                            qc_type: ctx.qc_type,
                        }
                        .to_bytes(),
                    );
                    (Response::ok(0, p), None)
                }
                UACCE_CMD_QM_SET_QP_INFO => {
                    if !device.spec.qp_info {
                        return (Response::err(libc::ENOTTY), None);
                    }
                    let info = QpInfo {
                        sqe_size: SQE_SIZE_128 as u32,
                        sq_depth: DEFAULT_DEPTH,
                        cq_depth: DEFAULT_DEPTH,
                    };
                    (Response::ok(0, info.to_bytes()), None)
                }
                UACCE_CMD_START_Q => {
                    if queue.running.is_some() {
                        return (Response::err(libc::EINVAL), None);
                    }
                    match start_engine(queue, device, pid) {
                        Ok(()) => (Response::ok(0, [0; 16]), None),
                        Err(errno) => (Response::err(errno), None),
                    }
                }
                UACCE_CMD_PUT_Q => {
                    stop_engine(queue, device);
                    queue.zombie = true;
                    (Response::ok(0, [0; 16]), None)
                }
                _ => (Response::err(libc::EINVAL), None),
            }
        }
    }
}

fn new_queue(device: &DeviceShared) -> Result<Queue, i32> {
    let sqn = device.acquire_queue().ok_or(libc::EBUSY)?;
    let make = || -> std::io::Result<Queue> {
        let mmio_fd = memfd::create(&format!("{}-q{sqn}-mmio", device.name), MMIO_SIZE)?;
        let dus_fd = memfd::create(&format!("{}-q{sqn}-dus", device.name), dus_size())?;
        let mmio = Arc::new(Region::map_shared(mmio_fd.as_fd(), MMIO_SIZE, 0)?);
        let dus = Arc::new(Region::map_shared(dus_fd.as_fd(), dus_size(), 0)?);
        Ok(Queue {
            sqn,
            mmio_fd,
            dus_fd,
            mmio,
            dus,
            event: memfd::eventfd()?,
            mapped: [false; 2],
            qc_type: 0,
            running: None,
            zombie: false,
        })
    };
    make().map_err(|e| {
        device.release_queue(sqn);
        log::warn!("{}: cannot create queue memory: {e}", device.name);
        e.raw_os_error().unwrap_or(libc::ENOMEM)
    })
}

fn start_engine(q: &mut Queue, device: &Arc<DeviceShared>, pid: u32) -> Result<(), i32> {
    let geo = uadk_core::qm::layout::Geometry::new(SQE_SIZE_128, DEFAULT_DEPTH, DEFAULT_DEPTH, dus_size())
        .map_err(|_| libc::EINVAL)?;
    let stop = Arc::new(AtomicBool::new(false));
    let counters = Arc::new(EngineCounters::default());
    let event = q
        .event
        .try_clone()
        .map_err(|e| e.raw_os_error().unwrap_or(libc::EMFILE))?;
    let engine = Engine {
        mmio: q.mmio.clone(),
        dus: q.dus.clone(),
        geo,
        sqn: q.sqn,
        event,
        mem: ClientMem::new(pid),
        device: device.clone(),
        counters: counters.clone(),
        stop: stop.clone(),
        epoch: device.faults.reset_epoch(),
        qc_type: q.qc_type,
    };
    let thread = std::thread::Builder::new()
        .name(format!("{}-q{}", device.name, q.sqn))
        .spawn(move || engine.run())
        .map_err(|e| e.raw_os_error().unwrap_or(libc::EAGAIN))?;
    device.add_engine(q.sqn, counters.clone());
    q.running = Some(Running {
        stop,
        thread,
        counters,
    });
    Ok(())
}
