//! Fuzz target: Docker provider constraints (`pylon::provider::docker::constraints`) never
//! panic when parsed or matched. The first line is the expression; the other lines are the
//! container's labels (`key=value`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pylon::provider::docker::constraints::Constraint;
use std::collections::BTreeMap;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.lines();
    let expression = lines.next().unwrap_or("");
    let labels: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if let Ok(constraint) = Constraint::parse(expression) {
        let _ = constraint.matches(&labels);
        let _ = constraint.matches(&BTreeMap::new());
    }
});
