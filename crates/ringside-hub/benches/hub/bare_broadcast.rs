//! The fan-out's baseline: an axum server with no hub work. A webhook's POST is read as a
//! form, and one frame of the hub's event size, carrying the call id, is handed to every
//! connected WebSocket through a Tokio broadcast channel (one shared buffer, as the hub
//! shares its encoded event) before the POST is answered. No store, no commit, no JSON
//! encoding of a call: what the hub adds to this is the distance the ratio shows.

use std::collections::HashMap;

use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use tokio::runtime::Runtime;
use tokio::sync::broadcast;

use crate::bare_server::BareServer;

#[derive(Clone)]
struct Shared {
    frames: broadcast::Sender<Utf8Bytes>,
    frame_len: usize,
}

/// Serves `GET /api/v1/stream` (a WebSocket that receives every frame) and
/// `POST /api/v1/cti/{token}` (broadcasts a frame of `frame_len` bytes naming the form's
/// `callId`) on `runtime`.
pub fn start(runtime: Runtime, frame_len: usize) -> anyhow::Result<BareServer> {
    let (frames, _) = broadcast::channel(1024);
    let app = Router::new()
        .route("/api/v1/stream", get(stream))
        .route("/api/v1/cti/{token}", post(webhook))
        .with_state(Shared { frames, frame_len });
    BareServer::start(runtime, app)
}

async fn stream(State(shared): State<Shared>, upgrade: WebSocketUpgrade) -> Response {
    let frames = shared.frames.subscribe();
    // The hub's buffer sizes: the library's default 128 KiB read buffer would make the
    // baseline's idle connections far larger than the hub's.
    upgrade
        .read_buffer_size(512)
        .write_buffer_size(0)
        .on_upgrade(move |socket| forward(socket, frames))
}

async fn forward(mut socket: WebSocket, mut frames: broadcast::Receiver<Utf8Bytes>) {
    while let Ok(frame) = frames.recv().await {
        if socket.send(Message::Text(frame)).await.is_err() {
            break;
        }
    }
}

async fn webhook(
    State(shared): State<Shared>,
    Form(form): Form<HashMap<String, String>>,
) -> StatusCode {
    let call_id = form.get("callId").map(String::as_str).unwrap_or_default();
    let mut frame = format!(r#"{{"call_id":"{call_id}","pad":""#);
    let room = shared.frame_len.saturating_sub(frame.len() + 2);
    frame.extend(std::iter::repeat_n('x', room));
    frame.push_str("\"}");
    let _ = shared.frames.send(Utf8Bytes::from(frame));
    StatusCode::OK
}
