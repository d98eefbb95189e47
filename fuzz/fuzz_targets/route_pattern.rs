//! The outbound routing table: a `dest` pattern (up to the first 0 byte) against a dialed
//! number (the rest). Matching must stay linear, whatever the number of `*`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringside_core::routing::{outbound_caller_id, Route};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (pattern, number) = text.split_once('\0').unwrap_or((text, ""));
    let routes = [Route {
        dest: pattern.to_owned(),
        caller_id: "routed".to_owned(),
        note: None,
    }];
    let found = outbound_caller_id(&routes, Some("default"), number);
    if !pattern.contains('*') && !number.is_empty() {
        // Without a star the pattern is the number itself.
        let expected = if pattern == number {
            "routed"
        } else {
            "default"
        };
        assert_eq!(found, Some(expected));
    }
});
