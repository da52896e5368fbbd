//! The device seam, exercised with a stand-in engine (built on the public software
//! compressor) registered like uadk-core's ZIP driver will be: backend resolution, reports,
//! fallback and its counters, and the never-corrupt rule for streams that fail mid-way.
//!
//! The stand-in behaves by level: 1 healthy, 2 always fails, 3 fails after its first call.

use std::sync::{Arc, Once};
use uadk_zip::software::Library;
use uadk_zip::{
    register_device, Backend, Compressor, Config, DeviceEngine, Direction, Engine, Error, Flush, Format,
    RawCompress, RawDecompress, Result, Session, Step,
};

struct StandIn;

struct StandInCompress {
    inner: Compressor,
    level: u32,
    calls: u32,
}

impl RawCompress for StandInCompress {
    fn step(&mut self, input: &[u8], output: &mut [u8], flush: Flush) -> Result<Step> {
        self.calls += 1;
        if self.level == 2 || (self.level == 3 && self.calls > 1) {
            return Err(Error::Device("injected queue error".into()));
        }
        let p = self.inner.compress(input, output, flush)?;
        Ok(Step {
            consumed: p.consumed,
            produced: p.produced,
            done: p.done,
        })
    }
    fn engine(&self) -> Engine {
        Engine::Device("stand-in".into())
    }
}

impl DeviceEngine for StandIn {
    fn name(&self) -> String {
        "stand-in".into()
    }
    fn offers(&self, format: Format, direction: Direction) -> bool {
        direction == Direction::Compress && format != Format::Deflate
    }
    fn queues(&self) -> usize {
        2
    }
    fn compressor(&self, level: u32) -> Result<Box<dyn RawCompress>> {
        Ok(Box::new(StandInCompress {
            inner: Compressor::software(Format::Deflate, 1)?,
            level,
            calls: 0,
        }))
    }
    fn decompressor(&self, _format: Format) -> Result<Box<dyn RawDecompress>> {
        Err(Error::Device("the stand-in does not decompress".into()))
    }
}

fn setup() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| register_device(Arc::new(StandIn)));
}

fn session(level: u32, backend: Backend, fallback: bool, format: Format) -> Result<Session> {
    setup();
    Session::new(Config {
        format,
        level,
        backend,
        fallback,
        ..Config::default()
    })
}

#[test]
fn auto_uses_a_device_that_offers_the_format() {
    let s = session(1, Backend::Auto, true, Format::Gzip).unwrap();
    let data = b"on the device".repeat(100);
    let (z, r) = s.compress_report(&data).unwrap();
    assert_eq!(r.engine, Engine::Device("stand-in".into()));
    assert!(r.reason.contains("offers gzip compress"), "{}", r.reason);
    assert_eq!(Library::Zlib.decompress(Format::Gzip, &z, 1 << 20).unwrap(), data);
    // Decompression is not offered: software, with the reason.
    let (back, r) = s.decompress_report(&z).unwrap();
    assert_eq!(back, data);
    assert_eq!(r.engine.kind(), "software");
    assert!(
        r.reason.contains("no device offers gzip decompress"),
        "{}",
        r.reason
    );
    let c = s.counters();
    assert_eq!((c.device_requests, c.software_requests), (1, 1));
}

#[test]
fn device_backend_errors_when_no_device_offers_the_format() {
    let e = session(1, Backend::Device, true, Format::Deflate).err().unwrap();
    assert!(
        matches!(
            e,
            Error::NoDevice {
                format: Format::Deflate,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("offers deflate"), "{e}");
}

#[test]
fn failed_requests_fall_back_to_software_and_are_counted() {
    let s = session(2, Backend::Device, true, Format::Zlib).unwrap();
    let (z, r) = s.compress_report(b"fallback please").unwrap();
    assert!(r.fell_back);
    assert_eq!(r.engine.kind(), "software");
    assert!(r.reason.contains("injected queue error"), "{}", r.reason);
    assert_eq!(
        Library::Zlib.decompress(Format::Zlib, &z, 1 << 20).unwrap(),
        b"fallback please"
    );
    // This device does not decompress, and the session asked for a device only.
    assert!(matches!(s.decompress(&z), Err(Error::NoDevice { .. })));
    let c = s.counters();
    assert_eq!((c.fallbacks, c.software_requests, c.errors), (1, 1, 1));

    let strict = session(2, Backend::Device, false, Format::Zlib).unwrap();
    assert!(matches!(strict.compress(b"x"), Err(Error::Device(_))));
    assert_eq!(strict.counters().errors, 1);
}

#[test]
fn a_stream_that_fails_before_any_input_is_redone_in_software() {
    let s = session(2, Backend::Auto, true, Format::Gzip).unwrap();
    let mut c = s.compressor().unwrap();
    let mut z = Vec::new();
    c.compress_vec(b"streamed", &mut z, Flush::Finish).unwrap();
    assert!(c.report().fell_back);
    assert_eq!(s.decompress(&z).unwrap(), b"streamed");
}

#[test]
fn a_stream_that_fails_mid_way_errors_instead_of_corrupting() {
    let s = session(3, Backend::Auto, true, Format::Gzip).unwrap();
    let mut c = s.compressor().unwrap();
    let mut z = Vec::new();
    c.compress_vec(b"first part went to the device", &mut z, Flush::Sync)
        .unwrap();
    let e = c.compress_vec(b"second part", &mut z, Flush::Finish).unwrap_err();
    assert!(matches!(e, Error::StreamLost(_)), "{e}");
    assert!(e.to_string().contains("restart the stream"), "{e}");
}
