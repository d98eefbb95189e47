//! Placetel's notify API: a form body through `placetel::event` to the journal's rules.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringside_core::call::Provider;
use ringside_core::journal::{self, Enrichment};
use ringside_providers::{placetel, Params};
use time::macros::datetime;

fuzz_target!(|data: &[u8]| {
    let Ok(params) = Params::from_form(data) else {
        return;
    };
    if let Ok(event) = placetel::event(&params) {
        ringside_fuzz::check_event(&event);
        let now = datetime!(2026-01-05 09:00 UTC);
        let _ = journal::apply(
            Provider::Placetel,
            None,
            &event,
            &Enrichment::default(),
            now,
        );
    }
});
