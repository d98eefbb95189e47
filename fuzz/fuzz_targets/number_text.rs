//! Phone numbers: a PBX field normalized to E.164 and shown, and numbers found in free
//! text; the first byte picks the default country.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringside_core::number::{self, DefaultCountry};

const COUNTRIES: [&str; 6] = ["DE", "US", "AT", "GB", "IT", "RU"];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let iso = COUNTRIES[usize::from(pick) % COUNTRIES.len()];
    let country = DefaultCountry::from_iso(iso).expect("a known country");
    if let Some(found) = number::normalize(text, &country) {
        ringside_fuzz::check_number(&found);
        // Normalizing is idempotent: the E.164 form is its own normal form.
        assert_eq!(
            number::normalize(found.as_str(), &country).as_ref(),
            Some(&found)
        );
    }
    let _ = number::display(text, &country);
    for found in number::extract(text, &country) {
        ringside_fuzz::check_number(&found);
    }
});
