//! The emulator socket protocol: the one definition both sides use.
//!
//! An emulated device node (`$UADK_DEV_ROOT/<name>`) is a Unix stream socket. One connection
//! is one queue pair, exactly like one `open()` of the kernel character device. The client
//! then sends fixed-size requests and reads fixed-size responses, strictly alternating:
//!
//! | request `op` | `arg` | `payload` | response |
//! |---|---|---|---|
//! | [`Op::Hello`] | [`VERSION`] | — | `value` = MMIO offset of the [doorbell shadow](#doorbell-shadow); `payload[0..8]` = server pid; fd: an eventfd signalled on completions while the client waits |
//! | [`Op::Mmap`] | page offset = region type (0 MMIO, 1 DUS) | `[0..8]` = length | fd: a memfd to map at offset 0 with exactly that length; `-EINVAL` if the length is wrong, `-EEXIST` if mapped before |
//! | [`Op::Ioctl`] | the real uacce ioctl number | the kernel argument struct bytes | `value` = ioctl return value, `payload` = the struct as written back |
//!
//! `status` is 0 or a negative errno, with the same meaning the kernel's return value has.
//! Closing the connection releases the queue (like `close()`).
//!
//! # Doorbell shadow
//!
//! A store into emulated MMIO cannot trap, and SQ and CQ doorbells share one address, so
//! the emulator could miss an SQ doorbell overwritten by a CQ doorbell before it looked. The
//! driver therefore also stores each doorbell word into a *shadow* slot of the MMIO memfd
//! (one for SQ, one for CQ), bumps a sequence word and, only if the engine announced that it
//! parked, wakes it with a futex on that word. Words are relative to the shadow offset:

/// Magic at the start of every message ("UACE").
pub const MAGIC: u32 = 0x5541_4345;
/// Protocol version sent in [`Op::Hello`].
pub const VERSION: u64 = 1;
/// Bytes in a request.
pub const REQ_LEN: usize = 32;
/// Bytes in a response.
pub const RESP_LEN: usize = 32;

/// Shadow word: last SQ doorbell word (u64).
pub const SHADOW_SQ_DB: usize = 0;
/// Shadow word: last CQ doorbell word (u64).
pub const SHADOW_CQ_DB: usize = 8;
/// Shadow word: SQ doorbell sequence number, the futex the engine parks on (u32).
pub const SHADOW_DB_SEQ: usize = 16;
/// Shadow word: non-zero while the engine is parked (u32).
pub const SHADOW_ENGINE_PARKED: usize = 20;
/// Shadow word: non-zero while the client sleeps in `poll()` and wants the eventfd (u32).
pub const SHADOW_CLIENT_WAITING: usize = 24;
/// Bytes of the shadow block.
pub const SHADOW_LEN: usize = 32;

/// Request kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Op {
    /// Handshake; must be first.
    Hello = 1,
    /// Ask for a region's memory file.
    Mmap = 2,
    /// An uacce/hisi_qm ioctl.
    Ioctl = 3,
}

impl Op {
    /// Parses the wire value.
    pub fn from_u32(v: u32) -> Option<Op> {
        match v {
            1 => Some(Op::Hello),
            2 => Some(Op::Mmap),
            3 => Some(Op::Ioctl),
            _ => None,
        }
    }
}

/// A client request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// What to do.
    pub op: Op,
    /// Operation argument (version, page offset or ioctl number).
    pub arg: u64,
    /// Operation payload (length or ioctl struct bytes).
    pub payload: [u8; 16],
}

impl Request {
    /// Wire encoding.
    pub fn encode(&self) -> [u8; REQ_LEN] {
        let mut b = [0u8; REQ_LEN];
        b[0..4].copy_from_slice(&MAGIC.to_le_bytes());
        b[4..8].copy_from_slice(&(self.op as u32).to_le_bytes());
        b[8..16].copy_from_slice(&self.arg.to_le_bytes());
        b[16..32].copy_from_slice(&self.payload);
        b
    }

    /// Parses the wire encoding; `None` for a bad magic or unknown op.
    pub fn decode(b: &[u8; REQ_LEN]) -> Option<Request> {
        if u32::from_le_bytes([b[0], b[1], b[2], b[3]]) != MAGIC {
            return None;
        }
        let op = Op::from_u32(u32::from_le_bytes([b[4], b[5], b[6], b[7]]))?;
        let mut arg = [0u8; 8];
        arg.copy_from_slice(&b[8..16]);
        let mut payload = [0u8; 16];
        payload.copy_from_slice(&b[16..32]);
        Some(Request {
            op,
            arg: u64::from_le_bytes(arg),
            payload,
        })
    }
}

/// A server response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response {
    /// 0 or a negative errno.
    pub status: i32,
    /// Operation result value.
    pub value: u64,
    /// Operation result payload.
    pub payload: [u8; 16],
}

impl Response {
    /// A success response.
    pub fn ok(value: u64, payload: [u8; 16]) -> Response {
        Response {
            status: 0,
            value,
            payload,
        }
    }

    /// A failure response carrying `-errno`.
    pub fn err(errno: i32) -> Response {
        Response {
            status: -errno.abs(),
            value: 0,
            payload: [0; 16],
        }
    }

    /// Wire encoding.
    pub fn encode(&self) -> [u8; RESP_LEN] {
        let mut b = [0u8; RESP_LEN];
        b[0..4].copy_from_slice(&MAGIC.to_le_bytes());
        b[4..8].copy_from_slice(&self.status.to_le_bytes());
        b[8..16].copy_from_slice(&self.value.to_le_bytes());
        b[16..32].copy_from_slice(&self.payload);
        b
    }

    /// Parses the wire encoding; `None` for a bad magic.
    pub fn decode(b: &[u8; RESP_LEN]) -> Option<Response> {
        if u32::from_le_bytes([b[0], b[1], b[2], b[3]]) != MAGIC {
            return None;
        }
        let mut v = [0u8; 8];
        v.copy_from_slice(&b[8..16]);
        let mut payload = [0u8; 16];
        payload.copy_from_slice(&b[16..32]);
        Some(Response {
            status: i32::from_le_bytes([b[4], b[5], b[6], b[7]]),
            value: u64::from_le_bytes(v),
            payload,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_and_reject_garbage() {
        let r = Request {
            op: Op::Ioctl,
            arg: 0xC010_480B,
            payload: [7; 16],
        };
        assert_eq!(Request::decode(&r.encode()), Some(r));
        let mut bad = r.encode();
        bad[0] ^= 1;
        assert_eq!(Request::decode(&bad), None);
        let mut bad_op = r.encode();
        bad_op[4] = 99;
        assert_eq!(Request::decode(&bad_op), None);
        let s = Response::err(22);
        assert_eq!(s.status, -22);
        assert_eq!(Response::decode(&s.encode()), Some(s));
    }
}
