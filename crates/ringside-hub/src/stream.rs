//! `GET /api/v1/stream`: the live event stream over a WebSocket.
//!
//! On connect the client may send the last `(epoch, seq)` it applied as query parameters; the
//! hub replays every later event from its durable log (within each batch of up to 1,000
//! events, each call only in its latest state), or sends a snapshot when that is impossible
//! (another epoch, a pruned log, a position the hub never reached, a first connect) or when
//! the client falls behind the live channel. Then it forwards live events. The hub pings every
//! `heartbeat_secs`, drops a connection not heard from for three intervals, and closes it at
//! the next heartbeat once its agent is removed or its token replaced.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::Response;
use ringside_core::stream::{EventBody, ServerMessage, StreamEvent};
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use crate::api::{Agent, ApiError};
use crate::recorder::Published;
use crate::state::Hub;
use crate::token;

/// Events read from the log per query while replaying.
const REPLAY_CHUNK: i64 = 1000;

/// The resume position, as query parameters.
#[derive(Debug, Default, Deserialize)]
pub struct Resume {
    epoch: Option<String>,
    seq: Option<u64>,
}

/// Upgrades an authenticated request to the stream.
pub async fn upgrade(
    State(hub): State<Arc<Hub>>,
    Agent(agent): Agent,
    headers: HeaderMap,
    resume: Result<Query<Resume>, QueryRejection>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let Query(resume) = resume?;
    let ws = ws?;
    let token_hash = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|token| token::hash(token.trim()))
        .unwrap_or_default();
    let holder = Holder {
        login: agent.login,
        token_hash,
    };
    Ok(ws
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_write_buffer_size(1024 * 1024)
        .max_message_size(64 * 1024)
        .max_frame_size(64 * 1024)
        .on_upgrade(move |socket| serve(hub, holder, resume, socket)))
}

/// Whose stream it is, to end it when the agent is removed or the token replaced.
#[derive(Debug)]
struct Holder {
    login: String,
    token_hash: String,
}

impl Holder {
    /// Whether the token still belongs to the agent.
    fn still_valid(&self, hub: &Hub) -> bool {
        match hub.store.agent_by_token_hash(&self.token_hash) {
            Ok(Some(agent)) => agent.login == self.login,
            Ok(None) => false,
            // A failing read ends nothing: the next heartbeat checks again.
            Err(_) => true,
        }
    }
}

/// Why a connection ended.
#[derive(Debug)]
enum End {
    /// The client went away or the socket failed.
    Gone,
    /// The hub could not read its state.
    Failed,
    /// The agent was removed or the token replaced.
    Revoked,
}

async fn serve(hub: Arc<Hub>, holder: Holder, resume: Resume, mut socket: WebSocket) {
    // Subscribed before anything else, so that a stop during the catch-up is not missed.
    let mut stopping = hub.stopping.subscribe();
    if *stopping.borrow_and_update() {
        return;
    }
    let mut live = hub.recorder.subscribe();
    let login = holder.login.clone();
    let ended = match hub.recorder.connected(&login, Hub::now()).await {
        Ok(()) => run(&hub, &holder, &mut socket, &mut live, &mut stopping, resume).await,
        Err(e) => {
            tracing::error!("stream of {login}: presence not recorded: {e}");
            End::Failed
        }
    };
    tracing::debug!("stream of {login} ended: {ended:?}");
    // Also after a failed `connected`: its count may have changed before the commit failed.
    if let Err(e) = hub.recorder.disconnected(&login, Hub::now()).await {
        tracing::error!("stream of {login}: presence not recorded: {e}");
    }
}

async fn run(
    hub: &Hub,
    holder: &Holder,
    socket: &mut WebSocket,
    live: &mut tokio::sync::broadcast::Receiver<Arc<Published>>,
    stopping: &mut tokio::sync::watch::Receiver<bool>,
    resume: Resume,
) -> End {
    let mut sent = match catch_up(hub, socket, resume).await {
        Ok(seq) => seq,
        Err(end) => return end,
    };
    let heartbeat = Duration::from_secs(hub.settings.config.heartbeat_secs);
    let mut ping = tokio::time::interval_at(Instant::now() + heartbeat, heartbeat);
    let mut heard = Instant::now();
    loop {
        tokio::select! {
            _ = stopping.changed() => {
                let _ = socket.send(Message::Close(None)).await;
                return End::Gone;
            }
            published = live.recv() => match published {
                Ok(event) if event.seq > sent => {
                    if send(socket, event.json.clone()).await.is_err() {
                        return End::Gone;
                    }
                    sent = event.seq;
                }
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => match snapshot(hub, socket).await {
                    Ok(seq) => sent = seq,
                    Err(end) => return end,
                },
                Err(RecvError::Closed) => return End::Gone,
            },
            _ = ping.tick() => {
                if heard.elapsed() > heartbeat * 3 {
                    return End::Gone;
                }
                if !holder.still_valid(hub) {
                    let _ = socket.send(Message::Close(None)).await;
                    return End::Revoked;
                }
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    return End::Gone;
                }
            }
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return End::Gone,
                Some(Ok(_)) => heard = Instant::now(),
            },
        }
    }
}

/// Brings a new connection up to date; returns the last seq it has.
async fn catch_up(hub: &Hub, socket: &mut WebSocket, resume: Resume) -> Result<u64, End> {
    let (Some(epoch), Some(mut sent)) = (resume.epoch, resume.seq) else {
        return snapshot(hub, socket).await;
    };
    let last = hub.store.last_seq().await.map_err(|e| {
        tracing::error!("stream replay failed: {e}");
        End::Failed
    })?;
    if epoch != hub.store.epoch() || sent > last {
        return snapshot(hub, socket).await;
    }
    loop {
        let chunk = hub
            .store
            .events_after(sent, REPLAY_CHUNK)
            .await
            .map_err(|e| {
                tracing::error!("stream replay failed: {e}");
                End::Failed
            })?;
        let Some(events) = chunk else {
            return snapshot(hub, socket).await;
        };
        let complete = (events.len() as i64) < REPLAY_CHUNK;
        for event in latest_versions(events) {
            sent = event.seq;
            let json = serde_json::to_string(&ServerMessage::Event(event))
                .expect("stream events serialize");
            send(socket, json).await.map_err(|_| End::Gone)?;
        }
        if complete {
            return Ok(sent);
        }
    }
}

/// Drops the call events that a later event in the same batch supersedes: each carries the
/// whole call, so the client loses nothing, and a call that rang and ended while the client
/// was away never reaches it as ringing (it would pop up for a call already over).
fn latest_versions(events: Vec<StreamEvent>) -> Vec<StreamEvent> {
    let call_of = |event: &StreamEvent| match &event.body {
        EventBody::Call { call } => Some(call.id),
        EventBody::Presence { .. } | EventBody::AgentRemoved { .. } => None,
    };
    let mut last_index = HashMap::new();
    for (index, event) in events.iter().enumerate() {
        if let Some(id) = call_of(event) {
            last_index.insert(id, index);
        }
    }
    events
        .into_iter()
        .enumerate()
        .filter(|(index, event)| call_of(event).is_none_or(|id| last_index[&id] == *index))
        .map(|(_, event)| event)
        .collect()
}

async fn snapshot(hub: &Hub, socket: &mut WebSocket) -> Result<u64, End> {
    let snapshot = hub.recorder.snapshot().await.map_err(|e| {
        tracing::error!("stream snapshot failed: {e}");
        End::Failed
    })?;
    let seq = snapshot.seq;
    let json =
        serde_json::to_string(&ServerMessage::Snapshot(snapshot)).expect("snapshots serialize");
    send(socket, json).await.map_err(|_| End::Gone)?;
    Ok(seq)
}

async fn send(socket: &mut WebSocket, json: String) -> Result<(), axum::Error> {
    socket.send(Message::Text(json.into())).await
}
