//! Fuzz target: Docker labels (`key=value` lines) → one container's config never panics, and a
//! config it accepts is one the validator can read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pylon::config::labels::{container_config, ContainerInfo, LabelSettings};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let labels = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let container = ContainerInfo {
        name: "fuzz".into(),
        labels,
        ports: vec![8080],
        host_network: true,
        ..ContainerInfo::default()
    };
    if let Ok(Some(config)) = container_config(&container, &LabelSettings::default()) {
        let static_config = pylon::config::StaticConfig::default();
        let _ = pylon::config::validate(&static_config, &config, "fuzz");
    }
});
