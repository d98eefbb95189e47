//! The tickets CSV importer: a file's bytes to tickets, row by row.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringside_core::directory::tickets_csv;

fuzz_target!(|data: &[u8]| {
    let Ok(rows) = tickets_csv(data, &ringside_fuzz::country()) else {
        return;
    };
    for ticket in rows.flatten() {
        ringside_fuzz::check_ticket(&ticket);
    }
});
