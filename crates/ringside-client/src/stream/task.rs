//! The stream task's life: connect, run the connection, wait out the backoff, again, until
//! stopped or refused for good. With several hub nodes, a failed or lost connection moves
//! to the next node at once; the backoff waits only after every node failed in turn.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ringside_core::stream::ResumeFrom;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::connection::{self, Ended};
use super::control::{Command, Control};
use super::{connect, StreamConfig, StreamUpdate};
use crate::backoff::Backoff;
use crate::endpoint::HubEndpoint;
use crate::state::ClientState;

/// Everything the task owns.
pub(super) struct Subscription {
    pub(super) endpoint: HubEndpoint,
    pub(super) config: StreamConfig,
    pub(super) state: Arc<Mutex<ClientState>>,
    pub(super) updates: mpsc::Sender<StreamUpdate>,
    pub(super) control: Control,
}

/// The app stopped listening or asked to stop.
struct Stopped;

impl Subscription {
    /// Runs until stopped; every exit is a clean one.
    pub(super) async fn run(mut self) {
        let _ = self.reconnect_loop().await;
        tracing::debug!("stream stopped");
    }

    async fn reconnect_loop(&mut self) -> Result<(), Stopped> {
        let mut backoff = Backoff::new(self.config.backoff);
        // Attempts that failed since the last connection: a round over every node is tried
        // without a delay, and the backoff waits between rounds.
        let mut failed = 0;
        loop {
            self.report(StreamUpdate::Connecting).await?;
            let resume = self.applied_position();
            tracing::debug!(?resume, "connecting to the hub stream");
            let opened = tokio::select! {
                biased;
                command = self.control.next() => {
                    stop_on_shutdown(command)?;
                    backoff.reset();
                    continue;
                }
                opened = connect::open(&self.endpoint, resume.as_ref(), self.config.connect_timeout) => opened,
            };
            let reason = match opened {
                Ok(socket) => {
                    failed = 0;
                    self.report(StreamUpdate::Connected).await?;
                    tracing::info!("connected to the hub stream");
                    let since = Instant::now();
                    let ping_interval = self.config.ping_interval;
                    match connection::run(socket, &self.updates, &mut self.control, ping_interval)
                        .await
                    {
                        Ended::Stop => return Err(Stopped),
                        Ended::ReconnectNow => {
                            backoff.reset();
                            continue;
                        }
                        Ended::Lost(reason) => {
                            backoff.connection_ended(since.elapsed());
                            reason
                        }
                    }
                }
                Err(error) if error.is_terminal() => {
                    tracing::warn!(%error, "the hub refused the stream for good");
                    self.report(StreamUpdate::Terminated(error)).await?;
                    return Ok(());
                }
                Err(error) => error,
            };
            failed += 1;
            let retry_in = if self.endpoint.fail_over(failed) {
                Duration::ZERO
            } else {
                backoff.next_delay(&mut rand::rng())
            };
            tracing::warn!(%reason, ?retry_in, next = %self.endpoint.base_url(), "hub stream disconnected");
            self.report(StreamUpdate::Disconnected { reason, retry_in })
                .await?;
            tokio::select! {
                biased;
                command = self.control.next() => {
                    stop_on_shutdown(command)?;
                    backoff.reset();
                }
                () = tokio::time::sleep(retry_in) => {}
            }
        }
    }

    /// What the app's reducer has applied: the hub replays from there.
    fn applied_position(&self) -> Option<ResumeFrom> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.position().cloned()
    }

    async fn report(&self, update: StreamUpdate) -> Result<(), Stopped> {
        self.updates.send(update).await.map_err(|_| Stopped)
    }
}

fn stop_on_shutdown(command: Command) -> Result<(), Stopped> {
    match command {
        Command::Shutdown => Err(Stopped),
        Command::ReconnectNow => Ok(()),
    }
}
