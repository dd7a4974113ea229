//! Fuzz target: the ClientHello `server_name` extension parser
//! (`pylon::tls::client_hello::parse_server_name`) never panics, and a name it returns is a
//! normalised host name (printable ASCII, lower case, no empty label, no trailing dot).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pylon::tls::client_hello::{parse_server_name, Requested};

fuzz_target!(|data: &[u8]| {
    if let Requested::Name(name) = parse_server_name(data) {
        assert!(!name.is_empty());
        assert!(name.bytes().all(|b| b.is_ascii_graphic()), "{name:?}");
        assert!(!name.bytes().any(|b| b.is_ascii_uppercase()), "{name:?}");
        assert!(!name.split('.').any(str::is_empty), "{name:?}");
    }
});
