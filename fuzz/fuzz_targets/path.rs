//! Fuzz target: request-path normalisation (`pylon::proxy::path::normalize`) never panics, and
//! what it accepts is normal: absolute, no `.`/`..` or empty segments, no forbidden bytes, and
//! normalising it again changes nothing (routing and the upstream read the same path).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pylon::proxy::path::normalize;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(path) = normalize(raw) else {
        return;
    };
    if path == "*" {
        assert_eq!(raw, "*");
        return;
    }
    assert!(path.starts_with('/'), "{raw:?} -> {path:?}");
    assert!(
        !path
            .bytes()
            .any(|b| b < 0x20 || b == 0x7f || b == b'\\' || b == b'#'),
        "{raw:?} -> {path:?}"
    );
    for segment in path.split('/').skip(1) {
        assert!(segment != "." && segment != "..", "{raw:?} -> {path:?}");
    }
    assert!(!path.contains("//"), "{raw:?} -> {path:?}");
    let again = normalize(&path).expect("a normalised path is accepted");
    assert_eq!(again, path, "normalising is idempotent for {raw:?}");
});
