//! The tickets JSON-lines importer: a file's bytes to tickets, line by line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringside_core::directory::tickets_jsonl;

fuzz_target!(|data: &[u8]| {
    for ticket in tickets_jsonl(data, &ringside_fuzz::country()).flatten() {
        ringside_fuzz::check_ticket(&ticket);
    }
});
