//! Fuzz target: TOML text → the static and dynamic models, then validation, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pylon::config::{from_tree, DynamicConfig, StaticConfig};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(value) = toml::from_str::<toml::Value>(text) else {
        return;
    };
    let static_config = from_tree::<StaticConfig>(value.clone(), "fuzz").ok();
    if let Ok(dynamic) = from_tree::<DynamicConfig>(value, "fuzz") {
        let s = static_config.unwrap_or_default();
        let _ = pylon::config::validate(&s, &dynamic, "fuzz");
    }
});
