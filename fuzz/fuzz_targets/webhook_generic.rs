//! Zammad's generic CTI push API: a body (form data, or JSON when the first byte is odd)
//! through `Params` and `generic::event` to the journal's rules.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringside_core::call::Provider;
use ringside_core::journal::{self, Enrichment};
use ringside_providers::{generic, Params};
use time::macros::datetime;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, body)) = data.split_first() else {
        return;
    };
    let content_type = if kind % 2 == 1 {
        Some("application/json")
    } else {
        Some("application/x-www-form-urlencoded")
    };
    let Ok(params) = Params::from_body(content_type, body) else {
        return;
    };
    if let Ok(event) = generic::event(&params) {
        ringside_fuzz::check_event(&event);
        let now = datetime!(2026-01-05 09:00 UTC);
        let _ = journal::apply(Provider::Generic, None, &event, &Enrichment::default(), now);
    }
});
