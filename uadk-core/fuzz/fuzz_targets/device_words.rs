//! Bytes that come from outside the process: CQEs written by a device, emulator protocol
//! messages, and `WD_*_CTX_NUM` environment values. None may panic; what parses must
//! re-encode to itself.
//!
//! `RUSTC_BOOTSTRAP=1 cargo fuzz run device_words` (from uadk-core/).
#![no_main]

use libfuzzer_sys::fuzz_target;
use uadk_core::qm::cqe::Cqe;
use uadk_core::uacce::emu_proto::{Request, Response, REQ_LEN, RESP_LEN};

fuzz_target!(|data: &[u8]| {
    for w in data.chunks_exact(16) {
        let cqe = Cqe::from_bytes(w.try_into().unwrap());
        let again = Cqe::from_bytes(&cqe.to_bytes());
        assert_eq!((again.sq_head, again.sq_num, again.w7, again.phase()), (cqe.sq_head, cqe.sq_num, cqe.w7, cqe.phase()));
    }
    if let Ok(b) = <&[u8; REQ_LEN]>::try_from(data.get(..REQ_LEN).unwrap_or(&[])) {
        if let Some(r) = Request::decode(b) {
            assert_eq!(Request::decode(&r.encode()).map(|x| x.encode()), Some(r.encode()));
        }
    }
    if let Ok(b) = <&[u8; RESP_LEN]>::try_from(data.get(..RESP_LEN).unwrap_or(&[])) {
        if let Some(r) = Response::decode(b) {
            assert_eq!(Response::decode(&r.encode()).map(|x| x.encode()), Some(r.encode()));
        }
    }
    let text = String::from_utf8_lossy(data);
    if let Ok(specs) = uadk_core::sched::parse_ctx_num(&text) {
        assert!(specs.iter().all(|s| s.count <= 1024));
    }
});
