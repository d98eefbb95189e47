//! Periodic housekeeping: closes the calls the phone system never ended — left ringing past
//! `ring_timeout_secs` (closed as missed, so the journal has no endless "ringing" rows and
//! popups close) or answered more than twelve hours ago (a lost hangup, which would keep the
//! agent "on a call") — and, hourly, prunes the stream's event log.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::state::Hub;

/// After this long an answered call whose hangup never came is closed, so that its agent is
/// not "on a call" forever.
const MAX_TALK: time::Duration = time::Duration::hours(12);

/// How long stream events are kept for replay.
const EVENT_RETENTION: time::Duration = time::Duration::days(7);
/// The fewest events kept, however old.
const EVENTS_KEPT: i64 = 10_000;
/// How often the event log is pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(60 * 60);

/// Runs forever; spawn it.
pub async fn run(hub: Arc<Hub>) {
    let timeout = hub.settings.config.ring_timeout_secs;
    let every = Duration::from_secs((timeout / 4).clamp(1, 5));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut pruned: Option<Instant> = None;
    loop {
        tick.tick().await;
        close_forgotten_calls(&hub).await;
        if pruned.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
            prune_events(&hub).await;
            pruned = Some(Instant::now());
        }
    }
}

async fn close_forgotten_calls(hub: &Hub) {
    let now = Hub::now();
    let ringing = now - time::Duration::seconds(hub.settings.config.ring_timeout_secs as i64);
    match hub
        .recorder
        .expire_calls(ringing, now - MAX_TALK, now)
        .await
    {
        Ok(0) => {}
        Ok(n) => tracing::info!("closed {n} call(s) the phone system never ended"),
        Err(e) => tracing::error!("janitor could not close calls: {e}"),
    }
}

async fn prune_events(hub: &Hub) {
    let cutoff = Hub::now() - EVENT_RETENTION;
    if let Err(e) = hub.recorder.prune_events(cutoff, EVENTS_KEPT).await {
        tracing::error!("janitor could not prune the event log: {e}");
    }
}
