//! Running one open connection: put snapshots together from their parts, hand every event
//! and every whole snapshot to the app, ping, and notice a dead connection, until it breaks
//! or the app steers otherwise. A snapshot cut off by the end of the connection is never
//! handed on: the app keeps its state and the next connection resumes from it.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use ringside_core::stream::{SnapshotAssembly, StreamFrame};
use tokio::sync::mpsc;
use tokio::time::{interval_at, sleep_until, timeout_at, Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message;

use super::connect::Socket;
use super::control::{Command, Control};
use super::StreamUpdate;
use crate::error::{with_causes, ClientError};

/// How long a polite close may take on shutdown.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// Why a connection ended.
#[derive(Debug)]
pub(super) enum Ended {
    /// It broke or went silent; reconnect after a backoff.
    Lost(ClientError),
    /// The app asked to reconnect now.
    ReconnectNow,
    /// The app asked to stop, or stopped listening.
    Stop,
}

/// Reads `socket` until it ends, sending each hub message to `updates`. Pings every
/// `ping_interval`; a connection where nothing arrived for twice that is dead.
pub(super) async fn run(
    mut socket: Socket,
    updates: &mpsc::Sender<StreamUpdate>,
    control: &mut Control,
    ping_interval: Duration,
) -> Ended {
    let silence_limit = ping_interval * 2;
    let mut ping = interval_at(Instant::now() + ping_interval, ping_interval);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_heard = Instant::now();
    let mut assembly = SnapshotAssembly::new();
    loop {
        let dead_at = last_heard + silence_limit;
        tokio::select! {
            biased;
            command = control.next() => {
                return match command {
                    Command::ReconnectNow => Ended::ReconnectNow,
                    Command::Shutdown => {
                        let _ = tokio::time::timeout(CLOSE_TIMEOUT, socket.close(None)).await;
                        Ended::Stop
                    }
                };
            }
            frame = socket.next() => {
                let message = match frame {
                    Some(Ok(message)) => message,
                    Some(Err(error)) => return lost(with_causes(&error)),
                    None => return lost("the hub closed the connection".into()),
                };
                last_heard = Instant::now();
                let Some((frame, bytes)) = decode(message) else { continue };
                match assembly.feed(frame, bytes) {
                    Ok(None) => {}
                    Ok(Some(message)) => {
                        if updates.send(StreamUpdate::Message(message)).await.is_err() {
                            return Ended::Stop;
                        }
                    }
                    Err(error) => return Ended::Lost(ClientError::InvalidResponse {
                        detail: format!("the hub's stream: {error}"),
                    }),
                }
            }
            _ = ping.tick() => {
                // Bounded by the silence limit: a full send buffer means a dead peer too.
                match timeout_at(dead_at, socket.send(Message::Ping(Default::default()))).await {
                    Ok(Ok(())) => {}
                    Ok(Err(error)) => return lost(with_causes(&error)),
                    Err(_) => return Ended::Lost(ClientError::HeartbeatTimeout(silence_limit)),
                }
            }
            () = sleep_until(dead_at) => {
                return Ended::Lost(ClientError::HeartbeatTimeout(silence_limit));
            }
        }
    }
}

fn lost(detail: String) -> Ended {
    Ended::Lost(ClientError::ConnectionLost { detail })
}

/// The hub's frame in a WebSocket message, if any, with its length. Pings are answered by
/// the WebSocket layer; a frame this client cannot read (a newer hub) is skipped rather than
/// fatal, since reconnecting would only replay it.
fn decode(message: Message) -> Option<(StreamFrame, usize)> {
    match message {
        Message::Text(text) => match serde_json::from_str(text.as_str()) {
            Ok(frame) => Some((frame, text.len())),
            Err(error) => {
                tracing::warn!(%error, "skipping a stream message this client cannot read");
                None
            }
        },
        Message::Binary(_) => {
            tracing::warn!("skipping a binary stream frame");
            None
        }
        Message::Ping(_) | Message::Pong(_) | Message::Close(_) | Message::Frame(_) => None,
    }
}
