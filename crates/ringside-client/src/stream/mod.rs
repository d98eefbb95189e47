//! The live event stream: one background task that keeps a WebSocket to the hub open,
//! resumes from the position the app's [`ClientState`] has applied, checks the connection
//! with heartbeats and reconnects with backoff, reporting everything as [`StreamUpdate`]s.

mod connect;
mod connection;
mod control;
mod task;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ringside_core::stream::ServerMessage;
use tokio::sync::mpsc;

use crate::backoff::BackoffPolicy;
use crate::endpoint::HubEndpoint;
use crate::error::ClientError;
use crate::state::ClientState;
pub use control::StreamHandle;

/// How the stream connects and decides that a connection is dead.
#[derive(Debug, Clone)]
pub struct StreamConfig {
    /// How often the client pings; a connection where nothing arrived for twice this long
    /// is dead (the hub pings every 15 s too).
    pub ping_interval: Duration,
    /// How long opening a connection (DNS, TCP, TLS, upgrade) may take.
    pub connect_timeout: Duration,
    /// Reconnect delays.
    pub backoff: BackoffPolicy,
    /// How many updates may wait for the app before the stream stops reading the socket.
    pub buffer: usize,
}

impl Default for StreamConfig {
    /// Pings every 15 s, 10 s to connect, the default backoff, 256 buffered updates.
    fn default() -> Self {
        StreamConfig {
            ping_interval: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(10),
            backoff: BackoffPolicy::default(),
            buffer: 256,
        }
    }
}

/// What the stream reports to the app, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamUpdate {
    /// A connection attempt starts.
    Connecting,
    /// The hub accepted the connection; messages follow.
    Connected,
    /// A message from the hub, to apply to the [`ClientState`].
    Message(ServerMessage),
    /// The connection failed or broke; the next attempt starts in `retry_in` unless
    /// [`StreamHandle::reconnect_now`] is called first.
    Disconnected {
        /// Why.
        reason: ClientError,
        /// The delay before the next attempt.
        retry_in: Duration,
    },
    /// The stream stopped for good, e.g. the token was revoked; the settings must change
    /// before a new [`subscribe`]. No update follows.
    Terminated(ClientError),
}

/// Starts the stream task (on the current tokio runtime) and returns its handle and its
/// updates.
///
/// The app applies every [`StreamUpdate::Message`] to `state`; each (re)connection resumes
/// from `state`'s position, so that what was received but not yet applied is replayed
/// (the reducer ignores what it already has). The task ends on
/// [`StreamHandle::shutdown`], when the handle or the receiver is dropped, or after
/// [`StreamUpdate::Terminated`].
pub fn subscribe(
    endpoint: HubEndpoint,
    config: StreamConfig,
    state: Arc<Mutex<ClientState>>,
) -> (StreamHandle, mpsc::Receiver<StreamUpdate>) {
    let (updates, receiver) = mpsc::channel(config.buffer.max(1));
    let (control, handle_parts) = control::channel();
    let task = tokio::spawn(
        task::Subscription {
            endpoint,
            config,
            state,
            updates,
            control,
        }
        .run(),
    );
    (handle_parts.into_handle(task), receiver)
}
