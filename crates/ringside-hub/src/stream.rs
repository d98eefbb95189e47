//! `GET /api/v1/stream`: the live event stream over a WebSocket.
//!
//! On connect the client may send the last `(epoch, seq)` it applied as query parameters; the
//! hub replays every later event from its durable log (within each batch of up to 1,000
//! events, each call only in its latest state), or sends a snapshot, in parts
//! ([`ringside_core::stream`]), when that is impossible: another epoch, a pruned log, a first
//! connect, or a position the hub never reached. The last means the log went back (a
//! database restored from a backup): the hub starts a new epoch first, so that every client
//! of the old one gets a snapshot too. Then it forwards live events; an event of a new epoch
//! is replaced by a snapshot.
//!
//! Every send has a deadline of one heartbeat interval: a client that does not read is
//! dropped, and so is one that falls behind the live channel; either resumes when it
//! connects again. The hub pings every `heartbeat_secs`, drops a connection not heard from
//! for three intervals, and closes it at the next heartbeat once its agent is removed or its
//! token replaced.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Extension, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use ringside_core::stream::{EventBody, StreamEvent, StreamFrame, MAX_FRAME_BYTES};
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use crate::api_error::ApiError;
use crate::extract::Agent;
use crate::recorder::Published;
use crate::server::ConnectionSlot;
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

/// Upgrades an authenticated request to the stream, unless its agent has as many streams
/// open as it may (429).
pub async fn upgrade(
    State(hub): State<Arc<Hub>>,
    Agent(agent): Agent,
    headers: HeaderMap,
    connection: Option<Extension<ConnectionSlot>>,
    resume: Result<Query<Resume>, QueryRejection>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let Query(resume) = resume?;
    let ws = ws?;
    let Some(stream_slot) = hub.stream_slots.take(&agent.login) else {
        return Err(ApiError::too_many(format!(
            "{} has {} live streams open, the most one agent may have \
             (limits.streams_per_agent); close one first",
            agent.login,
            hub.stream_slots.per_agent()
        )));
    };
    let token_hash = crate::extract::bearer(&headers)
        .map(token::hash)
        .unwrap_or_default();
    let holder = Holder {
        login: agent.login,
        token_hash,
    };
    Ok(ws
        // A client sends only pongs and a close: a small read buffer, since the library
        // zeroes it on every read attempt, and the stream task tries one at every event.
        .read_buffer_size(512)
        .write_buffer_size(0)
        // One frame at a time is written (no buffering) and none is larger than this.
        .max_write_buffer_size(MAX_FRAME_BYTES + 1024)
        .max_message_size(64 * 1024)
        .max_frame_size(64 * 1024)
        .on_upgrade(move |socket| async move {
            // Both slots are held for as long as the stream is open.
            let _slots = (stream_slot, connection);
            serve(hub, holder, resume, socket).await
        }))
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
    /// The client did not take a frame within the deadline, or fell behind the live channel.
    TooSlow,
    /// The hub could not read its state.
    Failed,
    /// The agent was removed or the token replaced.
    Revoked,
}

async fn serve(hub: Arc<Hub>, holder: Holder, resume: Resume, socket: WebSocket) {
    // Subscribed before anything else, so that a stop during the catch-up is not missed.
    let mut stopping = hub.stopping.subscribe();
    if *stopping.borrow_and_update() {
        return;
    }
    let mut live = hub.recorder.subscribe();
    let login = holder.login.clone();
    // Counted at once and until this task ends, however it ends; the presence event follows,
    // before the catch-up unless the writer is slow: that must not hold the stream back.
    let counted = hub.recorder.stream_opened(&login);
    let deadline = Duration::from_secs(hub.settings.config.heartbeat_secs);
    match tokio::time::timeout(deadline, hub.recorder.settled()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!("stream of {login}: presence not recorded yet: {e}"),
        Err(_) => {
            tracing::warn!("stream of {login}: presence not recorded yet: the writer is slow")
        }
    }
    let mut client = Client { socket, deadline };
    let ended = run(&hub, &holder, &mut client, &mut live, &mut stopping, resume).await;
    tracing::debug!("stream of {login} ended: {ended:?}");
    drop(counted);
}

/// The socket of one client, with the deadline of each send.
struct Client {
    socket: WebSocket,
    deadline: Duration,
}

impl Client {
    /// Sends one frame; a client that does not take it within the deadline is too slow.
    async fn send(&mut self, message: Message) -> Result<(), End> {
        match tokio::time::timeout(self.deadline, self.socket.send(message)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(End::Gone),
            Err(_) => Err(End::TooSlow),
        }
    }

    /// Sends a frame's JSON; one larger than a client accepts is left out (with an error
    /// logged) rather than breaking the stream for good.
    async fn send_json(&mut self, json: Utf8Bytes) -> Result<(), End> {
        if json.len() > MAX_FRAME_BYTES {
            tracing::error!(
                "a stream message of {} bytes is left out: more than a frame may carry",
                json.len()
            );
            return Ok(());
        }
        self.send(Message::Text(json)).await
    }

    /// Closes politely, within the deadline.
    async fn close(&mut self) {
        let _ = self.send(Message::Close(None)).await;
    }
}

/// The last position a client was sent.
#[derive(Debug, Clone, PartialEq)]
struct Sent {
    epoch: String,
    seq: u64,
}

async fn run(
    hub: &Hub,
    holder: &Holder,
    client: &mut Client,
    live: &mut tokio::sync::broadcast::Receiver<Arc<Published>>,
    stopping: &mut tokio::sync::watch::Receiver<bool>,
    resume: Resume,
) -> End {
    let mut sent = match catch_up(hub, client, resume).await {
        Ok(sent) => sent,
        Err(end) => return end,
    };
    let heartbeat = Duration::from_secs(hub.settings.config.heartbeat_secs);
    let mut ping = tokio::time::interval_at(Instant::now() + heartbeat, heartbeat);
    let mut heard = Instant::now();
    loop {
        tokio::select! {
            _ = stopping.changed() => {
                client.close().await;
                return End::Gone;
            }
            published = live.recv() => match published {
                Ok(event) if event.seq > sent.seq => {
                    if event.epoch == sent.epoch {
                        if let Err(end) = client.send_json(event.json.clone()).await {
                            return end;
                        }
                        sent.seq = event.seq;
                    } else {
                        // A new epoch: positions of the old one mean nothing any more.
                        match snapshot(hub, client).await {
                            Ok(moved) => sent = moved,
                            Err(end) => return end,
                        }
                    }
                }
                Ok(_) => {}
                // Events were lost for this client: it resumes from the log when it is back.
                Err(RecvError::Lagged(_)) => return End::TooSlow,
                Err(RecvError::Closed) => return End::Gone,
            },
            _ = ping.tick() => {
                if heard.elapsed() > heartbeat * 3 {
                    return End::Gone;
                }
                if !holder.still_valid(hub) {
                    client.close().await;
                    return End::Revoked;
                }
                if let Err(end) = client.send(Message::Ping(Default::default())).await {
                    return end;
                }
            }
            incoming = client.socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return End::Gone,
                Some(Ok(_)) => heard = Instant::now(),
            },
        }
    }
}

/// Brings a new connection up to date; returns the last position it has.
async fn catch_up(hub: &Hub, client: &mut Client, resume: Resume) -> Result<Sent, End> {
    let (Some(epoch), Some(seq)) = (resume.epoch, resume.seq) else {
        return snapshot(hub, client).await;
    };
    let (current, last) = hub.store.position().await.map_err(|e| {
        tracing::error!("stream replay failed: {e}");
        End::Failed
    })?;
    if epoch != current {
        return snapshot(hub, client).await;
    }
    if seq > last {
        // The log went back under the same epoch: the database was restored from a backup,
        // and the seqs after `last` will name other events than the ones clients saw.
        tracing::warn!(
            "a client resumes from seq {seq}, after the log's last {last}: starting a new epoch"
        );
        hub.recorder.rotate_epoch(&current).await.map_err(|e| {
            tracing::error!("new epoch not recorded: {e}");
            End::Failed
        })?;
        return snapshot(hub, client).await;
    }
    let mut sent = Sent { epoch, seq };
    loop {
        let chunk = hub
            .store
            .events_after(sent.seq, REPLAY_CHUNK)
            .await
            .map_err(|e| {
                tracing::error!("stream replay failed: {e}");
                End::Failed
            })?;
        let Some(events) = chunk else {
            return snapshot(hub, client).await;
        };
        if events.iter().any(|event| event.epoch != sent.epoch) {
            return snapshot(hub, client).await;
        }
        let complete = (events.len() as i64) < REPLAY_CHUNK;
        for event in latest_versions(events) {
            sent.seq = event.seq;
            let json =
                serde_json::to_string(&StreamFrame::Event(event)).expect("stream events serialize");
            client.send_json(json.into()).await?;
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

async fn snapshot(hub: &Hub, client: &mut Client) -> Result<Sent, End> {
    let snapshot = hub.recorder.snapshot().await.map_err(|e| {
        tracing::error!("stream snapshot failed: {e}");
        End::Failed
    })?;
    let sent = Sent {
        epoch: snapshot.epoch.clone(),
        seq: snapshot.seq,
    };
    let frames = snapshot.into_frames();
    if frames.dropped > 0 {
        tracing::error!(
            "{} snapshot item(s) left out: each is more than a frame may carry",
            frames.dropped
        );
    }
    for json in frames.frames {
        client.send_json(json.into()).await?;
    }
    Ok(sent)
}
