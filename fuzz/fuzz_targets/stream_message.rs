//! The client's decoding of the hub's stream: each line of the input is one WebSocket text
//! frame, decoded as a `StreamFrame` and fed to a `SnapshotAssembly` as the client does, so
//! that frames out of order, snapshots cut off or beyond the bounds are exercised; a decoded
//! frame is also written back, as the hub does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringside_core::stream::{SnapshotAssembly, StreamFrame};

fuzz_target!(|data: &[u8]| {
    let mut assembly = SnapshotAssembly::new();
    for line in data.split(|&b| b == b'\n') {
        let Ok(frame) = serde_json::from_slice::<StreamFrame>(line) else {
            continue;
        };
        let _ = serde_json::to_vec(&frame);
        let _ = assembly.feed(frame, line.len());
    }
});
