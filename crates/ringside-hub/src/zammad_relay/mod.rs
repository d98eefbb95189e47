//! The relay to Zammad's caller log: a task beside the hub that delivers the outbox the
//! writer fills (`store::outbox`) to Zammad's generic CTI endpoint, so that Zammad's own
//! caller log, notifications and "who is on a call" follow every call the hub accepts. It
//! never delays a webhook: the webhook's change only queues the events, in its transaction.
//!
//! Each call's events go in order, one at a time; calls go side by side, and a call waiting
//! for a retry holds back only its own later events. An item leaves the outbox only once
//! Zammad has answered it ([`delivery`] says what the answer means): after a crash the item
//! is sent again, and Zammad's 500 to a `newCall` sent before ("already exists!", a text
//! Zammad masks in production) counts as delivered.
//! What can succeed later (Zammad unreachable, 5xx, 429) is retried with backoff on the
//! hub's clock, for at most [`GIVE_UP_AFTER`]; what never will (401, 422, "No such call_id")
//! is marked failed with Zammad's reason, and a refused `newCall` fails its call's later
//! events with it (Zammad would refuse them all). Failed items are kept a week for the admin
//! (`GET /api/v1/admin/zammad/relay`), who can send them again once Zammad is fixed
//! (`POST /api/v1/admin/zammad/relay/retry`).
//!
//! The same outbox carries calls logged as tickets (`[zammad] log_calls`, and an agent's
//! one click): items with the event `ticket`, each its own queue, delivered through
//! Zammad's REST API by [`tickets`] with the API token, and recorded on the call once
//! Zammad has the ticket.

pub mod delivery;
pub mod probe;
pub mod tickets;

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinSet;

use self::delivery::Outcome;
use crate::state::Hub;
use crate::store::lease::{self, Work};
use crate::store::{call_tickets, OutboxItem};
use crate::zammad::client::{Retry, ZammadClient};

/// The most calls delivered side by side.
const BATCH: i64 = 32;
/// The first retry's wait; each further one doubles it.
const FIRST_RETRY: Duration = Duration::from_secs(1);
/// The longest wait between two tries of one item.
const MAX_RETRY: Duration = Duration::from_secs(300);
/// An item still not delivered this long after it was queued is marked failed: Zammad's
/// caller log would show it far too late to help anybody.
pub const GIVE_UP_AFTER: time::Duration = time::Duration::hours(24);
/// How long failed items are kept for the admin.
const KEEP_FAILED: time::Duration = time::Duration::days(7);
/// How often failed items are pruned, and the longest the relay sleeps without looking.
const IDLE: Duration = Duration::from_secs(60 * 60);

/// How long the relay of a hub on several nodes waits without looking at the outbox: what
/// another node asks of it comes as a signal, which a listener that lost its session
/// misses.
const SHARED_IDLE: Duration = Duration::from_secs(2);

/// The wait before try number `attempts + 1`.
fn backoff(attempts: u32) -> Duration {
    FIRST_RETRY
        .saturating_mul(1u32.checked_shl(attempts.min(16)).unwrap_or(u32::MAX))
        .min(MAX_RETRY)
}

/// Where the relay's items go: the CTI endpoint (with its token in the path), and the
/// REST client for ticket jobs.
struct Targets {
    endpoint: String,
    rest: Option<ZammadClient>,
    url: String,
}

/// Runs until the hub stops; spawn it when `[zammad] relay` is on or calls can be logged
/// as tickets.
pub async fn run(hub: Arc<Hub>) {
    let config = &hub.settings.config.zammad;
    let rest = if config.tickets_possible() {
        // One try per delivery: the outbox retries, with backoff.
        let once = Retry {
            attempts: 1,
            first_wait: FIRST_RETRY,
        };
        match ZammadClient::new(config, once) {
            Ok(client) => Some(client),
            Err(e) => {
                tracing::error!("call tickets: {e}");
                None
            }
        }
    } else {
        None
    };
    let targets = Arc::new(Targets {
        endpoint: config.cti_endpoint(),
        rest,
        url: config.url.clone(),
    });
    // Subscribed before the first look, so that no change queued after it goes unnoticed.
    let mut changes = hub.recorder.subscribe();
    let mut stopping = hub.stopping.subscribe();
    let wake = hub.recorder.relay_wake().unwrap_or_default();
    let mut pruned: Option<OffsetDateTime> = None;
    // One node of a hub on PostgreSQL delivers for all of them.
    let lease = hub.store.lease(Work::ZammadRelay);
    let idle = if hub.store.is_shared() {
        SHARED_IDLE
    } else {
        IDLE
    };
    loop {
        if !lease.held().await {
            tokio::select! {
                _ = hub.clock.sleep(lease::RETRY) => continue,
                _ = stopping.wait_for(|stopping| *stopping) => return,
            }
        }
        let now = hub.clock.now();
        if pruned.is_none_or(|at| now - at >= IDLE) {
            pruned = Some(now);
            if let Err(e) = hub.recorder.prune_relay_failures(now - KEEP_FAILED).await {
                tracing::warn!("pruning the Zammad relay's failed items: {e}");
            }
        }
        let due = match hub.store.relay_due(now, BATCH).await {
            Ok(due) => due,
            Err(e) => {
                tracing::error!("reading the Zammad relay's outbox: {e}");
                Vec::new()
            }
        };
        if !due.is_empty() {
            if !deliver_all(&hub, &targets, due).await {
                // The writer refused (busy or closing): wait a moment instead of spinning.
                hub.clock.sleep(FIRST_RETRY).await;
            }
            continue;
        }
        let wait = match hub.store.relay_next_due().await {
            Ok(Some(next)) => Duration::try_from(next - now).unwrap_or(Duration::ZERO),
            Ok(None) => idle,
            Err(e) => {
                tracing::error!("reading the Zammad relay's outbox: {e}");
                FIRST_RETRY
            }
        }
        .min(idle);
        if wait.is_zero() {
            continue;
        }
        tokio::select! {
            () = hub.clock.sleep(wait) => {}
            change = changes.recv() => {
                if matches!(change, Err(RecvError::Closed)) {
                    return;
                }
            }
            () = wake.notified() => {}
            _ = stopping.wait_for(|stopping| *stopping) => return,
        }
    }
}

/// Delivers one item of each call in `due` side by side and records each outcome; false
/// when nothing was posted because the posts could not be noted first.
async fn deliver_all(hub: &Arc<Hub>, targets: &Arc<Targets>, due: Vec<OutboxItem>) -> bool {
    // Noted before anything is posted, so that after a crash a newCall sent again is known
    // to be one Zammad may have.
    let ids: Vec<i64> = due.iter().map(|item| item.id).collect();
    if let Err(e) = hub.recorder.relay_sending(&ids).await {
        tracing::error!("noting the Zammad relay's deliveries: {e}");
        return false;
    }
    let mut deliveries = JoinSet::new();
    for item in due {
        let (hub, targets) = (hub.clone(), targets.clone());
        deliveries.spawn(async move {
            let outcome = match (item.event.as_str(), &targets.rest) {
                (call_tickets::EVENT, Some(rest)) => {
                    tickets::deliver(rest, &targets.url, &item).await
                }
                (call_tickets::EVENT, None) => Outcome::Retry(
                    "call tickets need zammad.url, zammad.token and zammad.ticket_group".into(),
                ),
                _ => delivery::post(&targets.endpoint, &item).await,
            };
            record(&hub, &item, outcome).await;
        });
    }
    while let Some(done) = deliveries.join_next().await {
        if let Err(e) = done {
            tracing::error!("a Zammad relay delivery failed: {e}");
        }
    }
    true
}

/// Writes what became of `item`. A failed write leaves the item pending: it is sent again,
/// which Zammad tolerates for a `newCall` and which the next answer settles otherwise.
async fn record(hub: &Hub, item: &OutboxItem, outcome: Outcome) {
    let now = hub.clock.now();
    let written = match outcome {
        Outcome::Delivered => hub.recorder.relay_delivered(item.id).await,
        Outcome::Logged(ticket) => {
            tracing::info!(
                "call {} logged in Zammad ticket {}",
                item.call_id,
                ticket.number
            );
            hub.recorder
                .ticket_logged(item.id, &item.call_id, ticket, now)
                .await
        }
        Outcome::Retry(reason) if now - item.created_at >= GIVE_UP_AFTER => {
            let reason = format!(
                "gave up after {} hours: {reason}",
                GIVE_UP_AFTER.whole_hours()
            );
            tracing::warn!("Zammad relay: {} {}: {reason}", item.event, item.call_id);
            let whole_call = item.event == "newCall";
            hub.recorder
                .relay_failed(item, whole_call, &reason, now)
                .await
        }
        Outcome::Retry(reason) => {
            let wait = backoff(item.attempts);
            tracing::info!(
                "Zammad relay: {} {} not delivered, next try in {} s: {reason}",
                item.event,
                item.call_id,
                wait.as_secs()
            );
            hub.recorder
                .relay_retry(item.id, now + wait, &reason, now)
                .await
        }
        Outcome::Refused(reason) => {
            tracing::warn!(
                "Zammad relay: {} {} refused: {reason}",
                item.event,
                item.call_id
            );
            let whole_call = item.event == "newCall";
            hub.recorder
                .relay_failed(item, whole_call, &reason, now)
                .await
        }
    };
    if let Err(e) = written {
        tracing::error!(
            "recording the Zammad relay's delivery of {}: {e}",
            item.call_id
        );
    }
    hub.recorder.relay_outcome_recorded(item).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_from_a_second_to_five_minutes() {
        assert_eq!(backoff(0), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(8));
        assert_eq!(backoff(9), MAX_RETRY);
        assert_eq!(backoff(u32::MAX), MAX_RETRY);
    }
}
