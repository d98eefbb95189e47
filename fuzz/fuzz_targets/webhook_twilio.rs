//! Twilio's requests about calls: a body (form data, or JSON when the first byte is odd)
//! through `twilio::classify` to the journal event and the dialed line it reports.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringside_core::call::Provider;
use ringside_core::journal::{self, Enrichment};
use ringside_providers::{twilio, Params};
use time::macros::datetime;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, body)) = data.split_first() else {
        return;
    };
    let params = if kind % 2 == 1 {
        Params::from_json(body)
    } else {
        Params::from_form(body)
    };
    let Ok(params) = params else {
        return;
    };
    let Ok(request) = twilio::classify(&params) else {
        return;
    };
    if let Some(event) = request.journal_event() {
        ringside_fuzz::check_event(&event);
        let now = datetime!(2026-01-05 09:00 UTC);
        let _ = journal::apply(Provider::Twilio, None, &event, &Enrichment::default(), now);
    }
});
