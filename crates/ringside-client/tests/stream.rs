//! The stream task against a small WebSocket server on 127.0.0.1:0 that plays the hub.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use ringside_client::backoff::BackoffPolicy;
use ringside_client::endpoint::HubEndpoint;
use ringside_client::state::{ClientState, DEFAULT_POPUP_WINDOW};
use ringside_client::stream::{subscribe, StreamConfig, StreamHandle, StreamUpdate};
use ringside_core::stream::{ServerMessage, Snapshot, StreamFrame};
use time::OffsetDateTime;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

const TOKEN: &str = "agent-token-1";
/// Upper bound for anything a test waits for; the real waits are milliseconds.
const PATIENCE: Duration = Duration::from_secs(5);

type ServerSocket = WebSocketStream<TcpStream>;

/// What the fake hub saw of an upgrade request.
#[derive(Debug)]
struct Upgrade {
    query: Option<String>,
    authorization: Option<String>,
}

struct FakeHub {
    listener: TcpListener,
}

impl FakeHub {
    async fn start() -> Self {
        FakeHub {
            listener: TcpListener::bind("127.0.0.1:0").await.unwrap(),
        }
    }

    fn endpoint(&self) -> HubEndpoint {
        let url = format!("http://{}", self.listener.local_addr().unwrap());
        HubEndpoint::new(&url, TOKEN).unwrap()
    }

    /// Accepts the next upgrade, answering it with `status` (101 accepts).
    async fn accept_with(
        &self,
        reject: Option<(StatusCode, &str)>,
    ) -> (Upgrade, Option<ServerSocket>) {
        let (tcp, _) = within(self.listener.accept()).await.unwrap();
        let mut seen = None;
        #[allow(clippy::result_large_err)] // the callback's type is tungstenite's
        let callback = |request: &Request, response: Response| {
            seen = Some(Upgrade {
                query: request.uri().query().map(str::to_owned),
                authorization: request
                    .headers()
                    .get("authorization")
                    .map(|v| v.to_str().unwrap().to_owned()),
            });
            match reject {
                None => Ok(response),
                Some((status, body)) => {
                    let mut error = ErrorResponse::new(Some(body.to_owned()));
                    *error.status_mut() = status;
                    Err(error)
                }
            }
        };
        let socket = within(tokio_tungstenite::accept_hdr_async(tcp, callback))
            .await
            .ok();
        (seen.expect("an upgrade request"), socket)
    }

    async fn accept(&self) -> (Upgrade, ServerSocket) {
        let (upgrade, socket) = self.accept_with(None).await;
        (upgrade, socket.expect("handshake"))
    }
}

async fn within<F: std::future::Future>(future: F) -> F::Output {
    tokio::time::timeout(PATIENCE, future)
        .await
        .expect("timed out")
}

fn config() -> StreamConfig {
    StreamConfig {
        ping_interval: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(2),
        backoff: BackoffPolicy {
            base: Duration::from_millis(10),
            cap: Duration::from_millis(50),
            reset_after: Duration::from_secs(10),
        },
        buffer: 16,
    }
}

fn new_state() -> Arc<Mutex<ClientState>> {
    Arc::new(Mutex::new(ClientState::new("alice", DEFAULT_POPUP_WINDOW)))
}

fn snapshot(epoch: &str, seq: u64) -> ServerMessage {
    ServerMessage::Snapshot(Snapshot {
        epoch: epoch.into(),
        seq,
        recovered: false,
        active_calls: vec![],
        open_missed_calls: vec![],
        presence: vec![],
    })
}

fn presence_event(epoch: &str, seq: u64) -> ServerMessage {
    let frame = serde_json::from_value(serde_json::json!({
        "type": "event", "epoch": epoch, "seq": seq, "at": "2026-01-05T09:00:00Z",
        "kind": "presence",
        "presence": {"login": "bob", "name": "Bob", "role": "agent", "numbers": [],
                     "online": true, "dnd": false, "on_call": null}
    }))
    .unwrap();
    let StreamFrame::Event(event) = frame else {
        unreachable!()
    };
    ServerMessage::Event(event)
}

/// The frames the hub sends for a message: an event's one, or a snapshot's parts.
fn frames(message: &ServerMessage) -> Vec<String> {
    match message.clone() {
        ServerMessage::Event(event) => {
            vec![serde_json::to_string(&StreamFrame::Event(event)).unwrap()]
        }
        ServerMessage::Snapshot(snapshot) => snapshot.into_frames().frames,
    }
}

async fn send(socket: &mut ServerSocket, message: &ServerMessage) {
    for text in frames(message) {
        socket.send(Message::text(text)).await.unwrap();
    }
}

async fn next(updates: &mut mpsc::Receiver<StreamUpdate>) -> Option<StreamUpdate> {
    within(updates.recv()).await
}

async fn expect_connected(updates: &mut mpsc::Receiver<StreamUpdate>) {
    assert_eq!(next(updates).await, Some(StreamUpdate::Connecting));
    assert_eq!(next(updates).await, Some(StreamUpdate::Connected));
}

async fn expect_message(updates: &mut mpsc::Receiver<StreamUpdate>) -> ServerMessage {
    match next(updates).await {
        Some(StreamUpdate::Message(message)) => message,
        other => panic!("expected a message, got {other:?}"),
    }
}

fn apply(state: &Mutex<ClientState>, message: ServerMessage) {
    state
        .lock()
        .unwrap()
        .apply(message, OffsetDateTime::now_utc());
}

async fn start(
    hub: &FakeHub,
    config: StreamConfig,
) -> (
    Arc<Mutex<ClientState>>,
    StreamHandle,
    mpsc::Receiver<StreamUpdate>,
) {
    let state = new_state();
    let (handle, updates) = subscribe(hub.endpoint(), config, state.clone());
    (state, handle, updates)
}

#[tokio::test]
async fn sends_the_token_and_resumes_from_the_applied_position() {
    let hub = FakeHub::start().await;
    let (state, handle, mut updates) = start(&hub, config()).await;

    let (upgrade, mut socket) = hub.accept().await;
    assert_eq!(
        upgrade.authorization.as_deref(),
        Some("Bearer agent-token-1")
    );
    assert_eq!(upgrade.query, None, "a first connect has no position");
    expect_connected(&mut updates).await;

    send(&mut socket, &snapshot("e1", 5)).await;
    send(&mut socket, &presence_event("e1", 6)).await;
    assert_eq!(expect_message(&mut updates).await, snapshot("e1", 5));
    let event = expect_message(&mut updates).await;
    assert_eq!(event, presence_event("e1", 6));
    // Only the snapshot is applied before the connection drops: seq 6 was received, not applied.
    apply(&state, snapshot("e1", 5));
    drop(socket);

    match next(&mut updates).await {
        Some(StreamUpdate::Disconnected { reason, retry_in }) => {
            assert_eq!(reason.code(), "connection_lost");
            assert!(retry_in <= Duration::from_millis(10), "{retry_in:?}");
        }
        other => panic!("expected a disconnect, got {other:?}"),
    }
    let (upgrade, mut socket) = hub.accept().await;
    assert_eq!(upgrade.query.as_deref(), Some("epoch=e1&seq=5"));
    assert_eq!(
        upgrade.authorization.as_deref(),
        Some("Bearer agent-token-1")
    );
    expect_connected(&mut updates).await;

    // The hub replays seq 6; once applied, reconnect_now resumes after it.
    send(&mut socket, &event).await;
    apply(&state, expect_message(&mut updates).await);
    handle.reconnect_now();
    let (upgrade, _socket) = hub.accept().await;
    assert_eq!(upgrade.query.as_deref(), Some("epoch=e1&seq=6"));
    expect_connected(&mut updates).await;

    handle.shutdown().await;
}

/// A snapshot of `calls` open missed calls, each with a long caller number, so that it takes
/// several parts.
fn big_snapshot(epoch: &str, seq: u64, calls: i64) -> ServerMessage {
    let call = |id: i64| -> ringside_core::call::Call {
        serde_json::from_value(serde_json::json!({
            "id": id, "provider": "generic", "call_id": format!("c{id}"), "direction": "in",
            "state": "hangup", "from": "4".repeat(2_000), "from_comment": null,
            "from_pretty": "4".repeat(2_000), "to": "4930600000000", "to_comment": null,
            "to_pretty": "+49 30 600000000", "queue": null, "comment": "cancel",
            "done": false, "initialized_at": null, "start_at": null, "end_at": null,
            "duration_waiting_time": null, "duration_talking_time": null,
            "answered_by": null, "offered_to": null, "caller": null,
            "created_at": "2026-01-05T09:00:00Z", "updated_at": "2026-01-05T09:00:00Z"
        }))
        .unwrap()
    };
    ServerMessage::Snapshot(Snapshot {
        epoch: epoch.into(),
        seq,
        open_missed_calls: (1..=calls).map(call).collect(),
        ..Snapshot::default()
    })
}

#[tokio::test]
async fn a_snapshot_in_parts_arrives_whole_and_a_cut_off_one_never() {
    let hub = FakeHub::start().await;
    let (state, handle, mut updates) = start(&hub, config()).await;
    let (_, mut socket) = hub.accept().await;
    expect_connected(&mut updates).await;
    send(&mut socket, &snapshot("e1", 5)).await;
    apply(&state, expect_message(&mut updates).await);

    // The connection drops in the middle of the next snapshot: nothing of it reaches the app.
    let big = big_snapshot("e1", 9, 200);
    let parts = frames(&big);
    assert!(parts.len() > 4, "several parts: {}", parts.len());
    for text in &parts[..parts.len() - 2] {
        socket.send(Message::text(text.clone())).await.unwrap();
    }
    drop(socket);
    match next(&mut updates).await {
        Some(StreamUpdate::Disconnected { .. }) => {}
        other => panic!("expected a disconnect and no message, got {other:?}"),
    }
    let (upgrade, mut socket) = hub.accept().await;
    assert_eq!(upgrade.query.as_deref(), Some("epoch=e1&seq=5"));
    expect_connected(&mut updates).await;

    // Sent whole, it arrives as one snapshot.
    send(&mut socket, &big).await;
    assert_eq!(expect_message(&mut updates).await, big);
    handle.shutdown().await;
}

#[tokio::test]
async fn frames_out_of_order_drop_the_connection_and_keep_the_state() {
    let hub = FakeHub::start().await;
    let (state, handle, mut updates) = start(&hub, config()).await;
    let (_, mut socket) = hub.accept().await;
    expect_connected(&mut updates).await;
    send(&mut socket, &snapshot("e1", 5)).await;
    apply(&state, expect_message(&mut updates).await);

    let parts = frames(&big_snapshot("e1", 9, 3));
    socket.send(Message::text(parts[0].clone())).await.unwrap();
    let event = frames(&presence_event("e1", 6)).remove(0);
    socket.send(Message::text(event)).await.unwrap();
    match next(&mut updates).await {
        Some(StreamUpdate::Disconnected { reason, .. }) => {
            assert_eq!(reason.code(), "invalid_response")
        }
        other => panic!("expected a disconnect, got {other:?}"),
    }
    let (upgrade, _socket) = hub.accept().await;
    assert_eq!(upgrade.query.as_deref(), Some("epoch=e1&seq=5"));
    handle.shutdown().await;
}

#[tokio::test]
async fn a_401_is_terminal() {
    let hub = FakeHub::start().await;
    let (_state, _handle, mut updates) = start(&hub, config()).await;

    let body = r#"{"error":"token revoked","code":"unauthorized"}"#;
    let (upgrade, socket) = hub
        .accept_with(Some((StatusCode::UNAUTHORIZED, body)))
        .await;
    assert!(socket.is_none());
    assert_eq!(
        upgrade.authorization.as_deref(),
        Some("Bearer agent-token-1")
    );

    assert_eq!(next(&mut updates).await, Some(StreamUpdate::Connecting));
    match next(&mut updates).await {
        Some(StreamUpdate::Terminated(error)) => {
            assert_eq!(error.code(), "unauthorized");
            assert_eq!(error.to_string(), "token revoked");
        }
        other => panic!("expected termination, got {other:?}"),
    }
    assert_eq!(next(&mut updates).await, None, "the task ended");
    let retry = tokio::time::timeout(Duration::from_millis(300), hub.listener.accept()).await;
    assert!(retry.is_err(), "no retry with a revoked token");
}

#[tokio::test]
async fn other_refusals_are_retried() {
    let hub = FakeHub::start().await;
    let (_state, handle, mut updates) = start(&hub, config()).await;

    let (_, _) = hub
        .accept_with(Some((StatusCode::SERVICE_UNAVAILABLE, "{}")))
        .await;
    assert_eq!(next(&mut updates).await, Some(StreamUpdate::Connecting));
    match next(&mut updates).await {
        Some(StreamUpdate::Disconnected { reason, .. }) => assert_eq!(reason.code(), "internal"),
        other => panic!("expected a disconnect, got {other:?}"),
    }
    let (_upgrade, _socket) = hub.accept().await;
    expect_connected(&mut updates).await;
    handle.shutdown().await;
}

#[tokio::test]
async fn a_silent_hub_is_declared_dead_and_the_client_pings() {
    let hub = FakeHub::start().await;
    let config = StreamConfig {
        ping_interval: Duration::from_millis(100),
        ..config()
    };
    let (_state, handle, mut updates) = start(&hub, config).await;

    let (_, mut socket) = hub.accept().await;
    expect_connected(&mut updates).await;
    let frame = within(socket.next()).await.unwrap().unwrap();
    assert!(matches!(frame, Message::Ping(_)), "{frame:?}");
    // The hub now goes silent: it neither reads (so no pong) nor sends.
    match next(&mut updates).await {
        Some(StreamUpdate::Disconnected { reason, .. }) => {
            assert_eq!(reason.code(), "heartbeat_timeout");
        }
        other => panic!("expected a disconnect, got {other:?}"),
    }
    let (_upgrade, _socket2) = hub.accept().await;
    expect_connected(&mut updates).await;
    drop(socket);
    handle.shutdown().await;
}

#[tokio::test]
async fn pongs_keep_a_quiet_connection_alive() {
    let hub = FakeHub::start().await;
    let config = StreamConfig {
        ping_interval: Duration::from_millis(250),
        ..config()
    };
    let (_state, handle, mut updates) = start(&hub, config).await;

    let (_, mut socket) = hub.accept().await;
    expect_connected(&mut updates).await;
    // Reading answers the client's pings with pongs; the connection must survive well past
    // twice the ping interval.
    let reader = tokio::spawn(async move { while let Some(Ok(_)) = socket.next().await {} });
    let quiet = tokio::time::timeout(Duration::from_millis(800), updates.recv()).await;
    assert!(quiet.is_err(), "no update expected, got {quiet:?}");
    handle.shutdown().await;
    within(reader).await.unwrap();
}

#[tokio::test]
async fn shutdown_closes_the_connection_and_ends_the_updates() {
    let hub = FakeHub::start().await;
    let (_state, handle, mut updates) = start(&hub, config()).await;

    let (_, mut socket) = hub.accept().await;
    expect_connected(&mut updates).await;
    let shutdown = tokio::spawn(handle.shutdown());
    let frame = within(socket.next()).await.unwrap().unwrap();
    assert!(matches!(frame, Message::Close(_)), "{frame:?}");
    drop(socket);
    within(shutdown).await.unwrap();
    assert_eq!(next(&mut updates).await, None);
}

#[tokio::test]
async fn dropping_the_handle_stops_the_stream() {
    let hub = FakeHub::start().await;
    let (_state, handle, mut updates) = start(&hub, config()).await;
    let (_, _socket) = hub.accept().await;
    expect_connected(&mut updates).await;
    drop(handle);
    assert_eq!(next(&mut updates).await, None);
}

#[tokio::test]
async fn reconnect_now_skips_the_backoff_wait() {
    let hub = FakeHub::start().await;
    let config = StreamConfig {
        backoff: BackoffPolicy {
            base: Duration::from_secs(60),
            cap: Duration::from_secs(60),
            reset_after: Duration::from_secs(60),
        },
        ..config()
    };
    let (_state, handle, mut updates) = start(&hub, config).await;
    let (_, socket) = hub.accept().await;
    expect_connected(&mut updates).await;
    drop(socket);
    assert!(matches!(
        next(&mut updates).await,
        Some(StreamUpdate::Disconnected { .. })
    ));
    // The drawn delay may be up to a minute; asking to reconnect must not wait for it.
    handle.reconnect_now();
    let (_upgrade, _socket) = hub.accept().await;
    expect_connected(&mut updates).await;
    handle.shutdown().await;
}

/// One endpoint over both fake hubs' URLs, `first` current.
fn two_nodes(first: &FakeHub, second: &FakeHub) -> HubEndpoint {
    let url = |hub: &FakeHub| format!("http://{}", hub.listener.local_addr().unwrap());
    HubEndpoint::new(&format!("{}, {}", url(first), url(second)), TOKEN).unwrap()
}

/// A backoff far longer than the test's patience: a test that waits for it fails.
fn slow_backoff() -> StreamConfig {
    StreamConfig {
        backoff: BackoffPolicy {
            base: Duration::from_secs(600),
            cap: Duration::from_secs(600),
            reset_after: Duration::from_secs(600),
        },
        ..config()
    }
}

#[tokio::test]
async fn a_lost_node_is_left_for_the_next_at_once_resuming_where_the_client_was() {
    let a = FakeHub::start().await;
    let b = FakeHub::start().await;
    let state = new_state();
    let endpoint = two_nodes(&a, &b);
    let (_handle, mut updates) = subscribe(endpoint.clone(), slow_backoff(), state.clone());

    let (_, mut socket) = a.accept().await;
    expect_connected(&mut updates).await;
    send(&mut socket, &snapshot("e1", 5)).await;
    send(&mut socket, &presence_event("e1", 6)).await;
    apply(&state, expect_message(&mut updates).await);
    apply(&state, expect_message(&mut updates).await);

    // Node A dies: its connection breaks.
    drop(socket);
    let (upgrade, mut socket) = b.accept().await;
    assert_eq!(
        upgrade.query.as_deref(),
        Some("epoch=e1&seq=6"),
        "the other node is asked for what came after the last applied event"
    );
    match next(&mut updates).await {
        Some(StreamUpdate::Disconnected { retry_in, .. }) => {
            assert_eq!(retry_in, Duration::ZERO, "no backoff before the next node")
        }
        other => panic!("expected the disconnect, got {other:?}"),
    }
    expect_connected(&mut updates).await;
    assert_eq!(
        endpoint.base_url().as_str(),
        format!("http://{}/", b.listener.local_addr().unwrap()),
        "the REST calls follow the stream to the node it reached"
    );
    send(&mut socket, &presence_event("e1", 7)).await;
    let ServerMessage::Event(event) = expect_message(&mut updates).await else {
        panic!("an event, not a snapshot");
    };
    assert_eq!(event.seq, 7);
}

#[tokio::test]
async fn the_backoff_waits_only_after_every_node_failed_in_turn() {
    let a = FakeHub::start().await;
    let b = FakeHub::start().await;
    let (_handle, mut updates) = subscribe(two_nodes(&a, &b), slow_backoff(), new_state());

    let busy = Some((StatusCode::SERVICE_UNAVAILABLE, r#"{"error":"busy"}"#));
    a.accept_with(busy).await;
    assert_eq!(next(&mut updates).await, Some(StreamUpdate::Connecting));
    match next(&mut updates).await {
        Some(StreamUpdate::Disconnected { retry_in, .. }) => assert_eq!(retry_in, Duration::ZERO),
        other => panic!("expected a disconnect, got {other:?}"),
    }
    b.accept_with(busy).await;
    assert_eq!(next(&mut updates).await, Some(StreamUpdate::Connecting));
    match next(&mut updates).await {
        Some(StreamUpdate::Disconnected { retry_in, .. }) => {
            assert!(
                retry_in > Duration::ZERO,
                "both nodes failed: the backoff waits"
            )
        }
        other => panic!("expected a disconnect, got {other:?}"),
    }
}
