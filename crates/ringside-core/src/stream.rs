//! The messages of the hub's live event stream (`GET /api/v1/stream`, a WebSocket).
//!
//! Every event carries `seq`, increasing per hub, and the hub's `epoch`, which changes only
//! when the event history is lost. A client remembers the last `(epoch, seq)` it applied and
//! sends it as the query parameters `epoch` and `seq` when it connects; the hub replays what
//! was missed, or sends a [`Snapshot`] when it cannot. Messages are JSON text frames tagged by
//! `type`; heartbeats are WebSocket pings in both directions.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::agent::Presence;
use crate::call::Call;

/// A message from the hub to a stream client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// One event from the hub's event log.
    Event(StreamEvent),
    /// The whole current state, sent when replay is impossible or a client fell behind.
    Snapshot(Snapshot),
}

/// One event of the hub's durable event log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamEvent {
    /// The hub's epoch; a different epoch means the client's position is meaningless.
    pub epoch: String,
    /// The event's position in the log, increasing by one per event.
    pub seq: u64,
    /// When the hub recorded the event.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// What happened.
    #[serde(flatten)]
    pub body: EventBody,
}

/// What an event is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventBody {
    /// A call was created or changed; carries the whole call as it now is. Who the call is
    /// meant for is the call's `offered_to` (`null`: everyone).
    Call {
        /// The call after the change.
        call: Box<Call>,
    },
    /// An agent's availability or details changed, or a new agent was added.
    Presence {
        /// The agent's availability after the change.
        presence: Presence,
    },
    /// An agent was removed from the team.
    AgentRemoved {
        /// The removed agent's login.
        login: String,
    },
}

/// The current state, for a client that cannot be brought up to date by replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The hub's epoch.
    pub epoch: String,
    /// The position the snapshot reflects; the client resumes after it.
    pub seq: u64,
    /// `false`: events were missed and this snapshot replaces them. `true` is never sent
    /// today; the field is there so that clients can tell a resync from a first connect.
    pub recovered: bool,
    /// Calls still ringing or answered.
    pub active_calls: Vec<Call>,
    /// Inbound calls that were missed and are not done yet.
    pub open_missed_calls: Vec<Call>,
    /// Every agent's availability.
    pub presence: Vec<Presence>,
}

/// The position a client has applied, sent as query parameters when it connects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResumeFrom {
    /// The epoch of the last applied event.
    pub epoch: String,
    /// The seq of the last applied event.
    pub seq: u64,
}
