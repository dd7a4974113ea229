//! Fuzz target: the rule parser never panics, and what it prints parses back to the same rule.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(expr) = pylon::rule::parse(text) {
        let printed = expr.to_string();
        let again = pylon::rule::parse(&printed).expect("a printed rule parses");
        assert_eq!(again.to_string(), printed, "printing is stable");
    }
});
