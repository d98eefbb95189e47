//! Where the connection stands, from finding the hub to following its stream, with the one
//! thing each phase waits for. The session task keeps one phase and waits on it next to its
//! commands.

use std::future::{pending, Future};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ringside_core::api::Me;
use tokio::sync::mpsc;

use super::settings::EndpointLookup;
use crate::backoff::Backoff;
use crate::endpoint::HubEndpoint;
use crate::error::ClientError;
use crate::rest::HubClient;
use crate::state::ClientState;
use crate::stream::{StreamHandle, StreamUpdate};
use ringside_clock::Clock;

/// A future the session task owns and polls until it is done.
pub(super) type Pending<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// One phase of the connection.
pub(super) enum Phase {
    /// No connection, and none under way (not started, refused, or its stream ended).
    Idle,
    /// The shell looks for the hub.
    Finding(Pending<EndpointLookup>),
    /// `GET /me` checks the token, after the backoff's delay when an attempt failed.
    Checking(Box<Checking>),
    /// Following the stream.
    Live(Live),
}

/// The token check under way.
pub(super) struct Checking {
    /// The hub.
    pub(super) endpoint: HubEndpoint,
    /// Its agent API.
    pub(super) client: HubClient,
    /// The delays between rounds of attempts (one per node).
    pub(super) backoff: Backoff,
    /// Attempts that failed so far.
    pub(super) failed: usize,
    /// The current attempt (its delay included).
    attempt: Pending<Result<Me, ClientError>>,
}

impl Checking {
    /// The check of `client`'s token on `endpoint`, starting at once.
    pub(super) fn start(endpoint: HubEndpoint, client: HubClient, backoff: Backoff) -> Checking {
        let attempt = attempt(client.clone(), None);
        Checking {
            endpoint,
            client,
            backoff,
            failed: 0,
            attempt,
        }
    }

    /// Tries again once `clock` has let `delay` pass.
    pub(super) fn retry(mut self, clock: &dyn Clock, delay: Duration) -> Checking {
        self.attempt = attempt(self.client.clone(), Some(clock.sleep(delay)));
        self
    }
}

/// One `GET /me`, after `wait` when given.
fn attempt(
    client: HubClient,
    wait: Option<ringside_clock::Sleep>,
) -> Pending<Result<Me, ClientError>> {
    Box::pin(async move {
        if let Some(wait) = wait {
            wait.await;
        }
        client.me().await
    })
}

/// A live connection: the reduced state and the stream.
pub(super) struct Live {
    /// The hub, whose current node the stream follows.
    pub(super) endpoint: HubEndpoint,
    /// What the stream has told, shared with the stream task (which resumes from it).
    pub(super) state: Arc<Mutex<ClientState>>,
    /// Dropping it ends the stream.
    pub(super) stream: StreamHandle,
    /// What the stream reports.
    pub(super) updates: mpsc::Receiver<StreamUpdate>,
}

/// What a phase waited for.
pub(super) enum Event {
    /// The shell found the hub, or not.
    Found(EndpointLookup),
    /// `GET /me` answered.
    Checked(Result<Me, ClientError>),
    /// The stream reported.
    Update(StreamUpdate),
    /// The stream task ended; nothing follows.
    StreamEnded,
}

impl Phase {
    /// Waits for what the phase waits for; `Idle` waits forever. Cancel-safe: every future
    /// lives in the phase, so a command that comes first loses nothing. After an event
    /// of `Finding` or `Checking` the phase must change: their future is spent.
    pub(super) async fn next(&mut self) -> Event {
        match self {
            Phase::Idle => pending().await,
            Phase::Finding(finding) => Event::Found(finding.as_mut().await),
            Phase::Checking(checking) => Event::Checked(checking.attempt.as_mut().await),
            Phase::Live(live) => match live.updates.recv().await {
                Some(update) => Event::Update(update),
                None => Event::StreamEnded,
            },
        }
    }
}
