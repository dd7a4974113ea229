//! Fuzz target: the Docker `defaultRule` template (`pylon::config::labels::template`) never
//! panics when checked or rendered, and `normalize` gives a name of letters, digits and inner
//! `-` only. The first line is the template; the other lines are labels (`key=value`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pylon::config::labels::template::{check, normalize, render, Model};
use std::collections::BTreeMap;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (template, rest) = text.split_once('\n').unwrap_or((text, ""));
    let labels: BTreeMap<String, String> = rest
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let _ = check(template);
    let model = Model {
        name: "fuzz-app",
        container_name: rest.lines().next().unwrap_or("fuzz"),
        labels: &labels,
    };
    if let Ok(rule) = render(template, &model) {
        // a rendered rule goes to the rule parser next
        let _ = pylon::rule::parse(&rule);
    }
    let name = normalize(template);
    assert!(
        name.chars().all(|c| c.is_alphanumeric() || c == '-'),
        "{name:?}"
    );
    assert!(!name.starts_with('-') && !name.ends_with('-'), "{name:?}");
});
