//! The real `ringside-hub` binary, killed and started again: every answered webhook survives,
//! and stream clients resume from the same event log in the same epoch.

mod common;

use std::time::Duration;

use common::call_of;
use common::process::{free_port, get_json, hub_command, serve};
use futures_util::StreamExt;
use ringside_core::call::CallState;
use ringside_core::stream::{ServerMessage, SnapshotAssembly};
use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

async fn post(base: &str, fields: &[(&str, &str)]) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/v1/cti/{}", common::TOKEN))
        .form(fields)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_killed_hub_loses_nothing_it_answered() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let config = dir.path().join("ringside.toml");
    let text = common::config_text(&dir.path().join("data"), common::GENERIC_ON)
        .replace("127.0.0.1:0", &format!("127.0.0.1:{port}"));
    std::fs::write(&config, text).unwrap();

    let added = hub_command(&config)
        .args(["agent", "add", "anna", "--name", "Anna Agent", "--admin"])
        .output()
        .unwrap();
    assert!(added.status.success(), "{added:?}");
    let stdout = String::from_utf8(added.stdout).unwrap();
    let token = stdout.lines().last().unwrap().trim().to_owned();
    assert_eq!(token.len(), 43, "the token is the last line: {stdout}");

    let mut hub = serve(&config, &base).await;
    let mut request = format!("ws://127.0.0.1:{port}/api/v1/stream")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("Authorization", format!("Bearer {token}").parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request.clone())
        .await
        .unwrap();
    let snapshot = next_message(&mut socket).await;
    let ServerMessage::Snapshot(snapshot) = snapshot else {
        panic!("snapshot first")
    };
    let call = [
        ("direction", "in"),
        ("callId", "survivor"),
        ("from", "4930609854180"),
        ("to", "4930600000000"),
    ];
    let with_event = |event: &'static str| {
        let mut fields = vec![("event", event)];
        fields.extend_from_slice(&call);
        fields
    };
    post(&base, &with_event("newCall")).await;
    post(&base, &with_event("answer")).await;
    drop(socket);

    hub.kill().unwrap(); // SIGKILL: no graceful shutdown
    hub.wait().unwrap();

    let mut hub = serve(&config, &base).await;
    let journal = get_json(&format!("{base}/api/v1/journal"), &token).await;
    let entries = journal["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["call_id"], "survivor");
    assert_eq!(entries[0]["state"], "answer");

    // Resume from the snapshot taken before the kill: same epoch, replay from the log.
    let mut resume = format!(
        "ws://127.0.0.1:{port}/api/v1/stream?epoch={}&seq={}",
        snapshot.epoch, snapshot.seq
    )
    .into_client_request()
    .unwrap();
    *resume.headers_mut() = request.headers().clone();
    let (mut socket, _) = tokio_tungstenite::connect_async(resume).await.unwrap();
    let mut states = Vec::new();
    loop {
        let message = next_message(&mut socket).await;
        let ServerMessage::Event(_) = &message else {
            panic!("replay expected, got {message:?}")
        };
        if let Some(call) = call_of(&message) {
            states.push(call.state);
            if call.state == CallState::Answered {
                break;
            }
        }
    }
    assert_eq!(
        states,
        vec![CallState::Answered],
        "the call, in its latest state"
    );

    post(&base, &with_event("hangup")).await;
    let after = loop {
        let message = next_message(&mut socket).await;
        if let Some(call) = call_of(&message) {
            break call.clone();
        }
    };
    assert_eq!(after.state, CallState::Ended);
    assert!(after.duration_talking_time.is_some());
    hub.kill().unwrap();
    hub.wait().unwrap();
}

async fn next_message(
    socket: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> ServerMessage {
    // Each call starts where a message starts: the frames of a snapshot come together.
    let mut assembly = SnapshotAssembly::new();
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a message within 5 s")
            .expect("stream open")
            .expect("a frame");
        if let Message::Text(text) = frame {
            if let Some(message) = common::assemble(&mut assembly, &text) {
                return message;
            }
        }
    }
}
