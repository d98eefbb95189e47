//! The vCard importer: a file's text to contacts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringside_core::directory::parse_vcards;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(contacts) = parse_vcards(text, &ringside_fuzz::country()) {
        contacts.iter().for_each(ringside_fuzz::check_contact);
    }
});
