//! Periodic housekeeping: closes the calls the phone system never ended — left ringing past
//! `ring_timeout_secs` (closed as missed, so the journal has no endless "ringing" rows and
//! popups close) or answered more than twelve hours ago (a lost hangup, which would keep the
//! agent "on a call") — and, hourly, prunes the stream's event log.

use std::future::Future;
use std::sync::{Arc, Mutex};
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
    // One pass at a time, so that the janitor never has more than one change waiting for
    // the writer.
    let pruned: Arc<Mutex<Option<Instant>>> = Arc::default();
    repeat(every, move || {
        let (hub, pruned) = (hub.clone(), pruned.clone());
        async move {
            close_forgotten_calls(&hub).await;
            let due = lock(&pruned).is_none_or(|at| at.elapsed() >= PRUNE_EVERY);
            if due {
                *lock(&pruned) = Some(Instant::now());
                prune_events(&hub).await;
            }
        }
    })
    .await;
}

/// The lock, also after a pass panicked while holding it.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs `pass` now and then every `every` (at least a millisecond), forever. Each pass runs as
/// a task of its own: one that panics is logged, and the next runs on time.
async fn repeat<F, P>(every: Duration, mut pass: F)
where
    F: FnMut() -> P,
    P: Future<Output = ()> + Send + 'static,
{
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = tokio::spawn(pass()).await {
            tracing::error!("a janitor pass failed: {e}");
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn a_failing_pass_does_not_stop_the_next() {
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = runs.clone();
        let janitor = tokio::spawn(repeat(Duration::from_millis(10), move || {
            let counted = counted.clone();
            async move {
                if counted.fetch_add(1, Ordering::SeqCst) == 0 {
                    panic!("the first pass fails");
                }
            }
        }));
        let three_passes = async {
            while runs.load(Ordering::SeqCst) < 3 {
                tokio::task::yield_now().await;
            }
        };
        tokio::time::timeout(Duration::from_secs(10), three_passes)
            .await
            .expect("passes go on after one failed");
        assert!(!janitor.is_finished());
        janitor.abort();
    }

    #[tokio::test]
    async fn a_zero_period_does_not_panic() {
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = runs.clone();
        let janitor = tokio::spawn(repeat(Duration::ZERO, move || {
            let counted = counted.clone();
            async move {
                counted.fetch_add(1, Ordering::SeqCst);
            }
        }));
        let two_passes = async {
            while runs.load(Ordering::SeqCst) < 2 {
                tokio::task::yield_now().await;
            }
        };
        tokio::time::timeout(Duration::from_secs(10), two_passes)
            .await
            .expect("passes run");
        assert!(!janitor.is_finished());
        janitor.abort();
    }
}
