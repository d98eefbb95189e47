//! sipgate.io's push API: a form body through `sipgate::event` to the journal's rules.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringside_core::call::Provider;
use ringside_core::journal::{self, Enrichment};
use ringside_providers::{sipgate, Params};
use time::macros::datetime;

fuzz_target!(|data: &[u8]| {
    let Ok(params) = Params::from_form(data) else {
        return;
    };
    if let Ok(Some(event)) = sipgate::event(&params) {
        ringside_fuzz::check_event(&event);
        let now = datetime!(2026-01-05 09:00 UTC);
        let _ = journal::apply(Provider::Sipgate, None, &event, &Enrichment::default(), now);
    }
});
