//! The contacts CSV importer: a file's bytes to contacts, row by row.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringside_core::directory::contacts_csv;

fuzz_target!(|data: &[u8]| {
    let Ok(rows) = contacts_csv(data, &ringside_fuzz::country()) else {
        return;
    };
    for contact in rows.flatten() {
        ringside_fuzz::check_contact(&contact);
    }
});
