//! The ZIP device model's descriptor handling (reference §6).
//!
//! The compression engine itself arrives with the zip issue. Until then this module decodes
//! the request type (dw9 bits 7:0) and completes every ZIP SQE with [`STATUS_UNSUPPORTED`]
//! in dw3 bits 7:0, which the driver maps to a parameter error — the request fails visibly
//! instead of hanging or producing made-up output.

use uadk_core::qm::Sqe;

/// Emulator model status: request type not executed by this emulator yet.
pub const STATUS_UNSUPPORTED: u8 = 0x3e;
/// Emulator model status: injected by fault injection.
pub const STATUS_INJECTED: u8 = 0x3f;

/// Writes a status into dw3 bits 7:0 keeping the other bits.
pub fn write_status(s: &mut Sqe, status: u8) {
    let dw3 = s.u32(12);
    s.set_u32(12, (dw3 & !0xff) | status as u32);
}

/// Completes one ZIP SQE; returns payload bytes processed (always 0 for now).
pub fn execute(s: &mut Sqe) -> u64 {
    let req_type = s.u32(36) & 0xff;
    log::debug!("ZIP request type {req_type:#x}: not executed by this emulator yet");
    write_status(s, STATUS_UNSUPPORTED);
    0
}
