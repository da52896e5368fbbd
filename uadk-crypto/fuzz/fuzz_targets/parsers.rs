//! The CLI-facing parsers: hex arguments, algorithm and backend names. They must return
//! errors for garbage, never panic, and hex must round-trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use uadk_crypto::{hex, Algorithm, Backend};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(bytes) = hex::decode("--key", &text) {
        assert_eq!(hex::decode("again", &hex::encode(&bytes)).unwrap(), bytes);
    }
    if let Ok(alg) = Algorithm::from_name(&text) {
        assert_eq!(Algorithm::from_name(alg.name()).unwrap(), alg);
    }
    let _ = text.parse::<Backend>();
});
