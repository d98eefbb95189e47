//! Periodic housekeeping: closes calls left ringing past `ring_timeout_secs` as missed (so the
//! journal has no endless "ringing" rows and popups close), and prunes the stream's event log.

use std::sync::Arc;
use std::time::Duration;

use crate::state::Hub;

/// How long stream events are kept for replay.
const EVENT_RETENTION: time::Duration = time::Duration::days(7);
/// The fewest events kept, however old.
const EVENTS_KEPT: i64 = 10_000;

/// Runs forever; spawn it.
pub async fn run(hub: Arc<Hub>) {
    let timeout = hub.settings.config.ring_timeout_secs;
    let every = Duration::from_secs((timeout / 4).clamp(1, 5));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        sweep(&hub).await;
    }
}

/// One round of housekeeping.
pub async fn sweep(hub: &Hub) {
    let now = Hub::now();
    let cutoff = now - time::Duration::seconds(hub.settings.config.ring_timeout_secs as i64);
    match hub.recorder.expire_ringing(cutoff, now).await {
        Ok(0) => {}
        Ok(n) => tracing::info!("closed {n} call(s) left ringing as missed"),
        Err(e) => tracing::error!("janitor could not close ringing calls: {e}"),
    }
    if let Err(e) = hub
        .recorder
        .prune_events(now - EVENT_RETENTION, EVENTS_KEPT)
        .await
    {
        tracing::error!("janitor could not prune the event log: {e}");
    }
}
