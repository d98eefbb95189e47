//! `ringside-hub serve` told to reload (SIGHUP), the real binary: a caller added to the
//! block list is refused from the next call on, without a restart; a configuration that
//! does not load leaves the rules in force and the hub serving.
#![cfg(unix)]

mod common;

use std::path::Path;
use std::time::Duration;

use common::process::{free_port, serve_logging_to};
use serde_json::{json, Value};

/// The configuration of the test's hub, with `extra` after the generic endpoint.
fn write_config(config: &Path, data: &Path, port: u16, extra: &str) {
    let text = common::config_text(
        data,
        &format!(
            "listen = \"127.0.0.1:{port}\"\n{}{extra}",
            common::GENERIC_ON
        ),
    );
    std::fs::write(config, text).unwrap();
}

/// A new inbound call from the spammer's number; the hub's answer to the PBX.
async fn new_call(base: &str, call_id: &str) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/v1/cti/{}", common::TOKEN))
        .form(&[
            ("event", "newCall"),
            ("direction", "in"),
            ("callId", call_id),
            ("from", "491715000000"),
            ("to", "4930600000000"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// Sends SIGHUP to `pid` and waits (at most 10 s) until the log says of the reload what
/// `expected` says, the `n`th time.
async fn hang_up(pid: u32, log: &Path, expected: &str, n: usize) {
    // SAFETY: kill has no memory preconditions; the pid is our own child's.
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGHUP) }, 0);
    for _ in 0..500 {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.matches(expected).count() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "the log never said {expected:?}: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

#[tokio::test]
async fn a_reload_puts_a_new_block_list_in_force_and_a_broken_file_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (config, data, log) = (
        dir.path().join("ringside.toml"),
        dir.path().join("data"),
        dir.path().join("hub.log"),
    );
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    write_config(&config, &data, port, "");
    let mut hub = serve_logging_to(&config, &base, std::fs::File::create(&log).unwrap()).await;

    assert_eq!(new_call(&base, "r1").await, json!({}), "not blocked yet");

    write_config(
        &config,
        &data,
        port,
        "[inbound]\nblock = [{ caller_id = \"491715000000\", note = \"spam\" }]\n",
    );
    hang_up(hub.id(), &log, "1 blocked caller(s)", 1).await;
    assert_eq!(
        new_call(&base, "r2").await,
        json!({"action": "reject", "reason": "busy"}),
        "blocked from the next call on"
    );

    std::fs::write(&config, "listen = [not toml").unwrap();
    hang_up(hub.id(), &log, "the rules in force stay", 1).await;
    assert_eq!(
        new_call(&base, "r3").await,
        json!({"action": "reject", "reason": "busy"}),
        "the block list in force stays"
    );
    assert!(hub.try_wait().unwrap().is_none(), "the hub still serves");
    hub.kill().unwrap();
    hub.wait().unwrap();
}
