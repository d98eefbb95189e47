//! The client's decoding of the hub's stream messages (a WebSocket text frame), and writing
//! a decoded message back, as the hub does.
//
// When the chunked-snapshot assembly lands in `ringside_core::stream`, feed the decoded
// messages through it here.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringside_core::stream::ServerMessage;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = serde_json::from_slice::<ServerMessage>(data) {
        let _ = serde_json::to_vec(&message);
    }
});
