//! Empty inputs and empty streams with a ZIP device: a ZIP request carries at least one
//! input byte, so they are completed in software under every backend (`Device` and no
//! fallback included) with a reason that says so; `Backend::Device` still fails without a
//! device.

mod common;

use uadk_zip::software::Library;
use uadk_zip::{Backend, Config, Error, Flush, Format, Session};

fn session(format: Format, backend: Backend) -> uadk_zip::Result<Session> {
    Session::new(Config {
        format,
        level: 1,
        backend,
        fallback: false,
        ..Config::default()
    })
}

#[test]
fn empty_inputs_and_streams_complete_in_software_on_a_device_only_session() {
    for version in [2, 3] {
        let e = common::env("device_zero_length", &format!("v{version}"), &[version]);
        let formats: &[Format] = if version == 2 {
            &[Format::Zlib, Format::Gzip]
        } else {
            &[Format::Deflate, Format::Zlib, Format::Gzip]
        };
        for &format in formats {
            let what = format!("v{version} {format}");
            let s = session(format, Backend::Device).unwrap();
            // One-shot.
            let (z, r) = s.compress_report(b"").unwrap();
            assert_eq!(r.engine.kind(), "software", "{what}: {}", r.reason);
            assert!(
                r.reason
                    .starts_with("0-byte input: not expressible as a ZIP request, completed in software"),
                "{what}: {}",
                r.reason
            );
            assert!(!r.fell_back);
            assert_eq!(Library::Zlib.decompress(format, &z, 16).unwrap(), b"", "{what}");
            assert_eq!(
                s.decompress(&z).unwrap(),
                b"",
                "{what}: the empty stream read back"
            );
            // A stream that ends without input: the empty final flush.
            let mut c = s.compressor().unwrap();
            assert_eq!(c.report().engine.kind(), "device", "{what}");
            let mut zs = Vec::new();
            c.compress_vec(b"", &mut zs, Flush::None).unwrap();
            c.compress_vec(b"", &mut zs, Flush::Finish).unwrap();
            assert!(c.is_finished());
            assert_eq!(
                c.report().engine.kind(),
                "software",
                "{what}: {}",
                c.report().reason
            );
            assert!(
                c.report().reason.contains("not expressible as a ZIP request"),
                "{what}"
            );
            assert_eq!(
                Library::Zlib.decompress(format, &zs, 16).unwrap(),
                b"",
                "{what} stream"
            );
            // Empty compressed input is bad input on every backend.
            assert!(
                matches!(s.decompress(b""), Err(Error::EmptyInput { .. })),
                "{what}"
            );
            let c = s.counters();
            assert_eq!((c.fallbacks, c.errors), (0, 1), "{what}: {c:?}");
            assert!(c.software_requests >= 2, "{what}: {c:?}");
        }
        drop(e);
    }
    // And with no device at all, Backend::Device is still an error.
    assert!(matches!(
        session(Format::Gzip, Backend::Device),
        Err(Error::NoDevice { .. })
    ));
}
