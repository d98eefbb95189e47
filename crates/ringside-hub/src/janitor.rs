//! Periodic housekeeping: closes the calls the phone system never ended — left ringing past
//! `ring_timeout_secs` (closed as missed, so the journal has no endless "ringing" rows and
//! popups close) or answered more than twelve hours ago (a lost hangup, which would keep the
//! agent "on a call") — and, hourly, prunes the stream's event log.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;

use crate::state::Hub;
use crate::store::lease::Work;
use ringside_clock::Clock;

/// After this long an answered call whose hangup never came is closed, so that its agent is
/// not "on a call" forever.
const MAX_TALK: time::Duration = time::Duration::hours(12);

/// How long stream events are kept for replay.
const EVENT_RETENTION: time::Duration = time::Duration::days(7);
/// The fewest events kept, however old.
const EVENTS_KEPT: i64 = 10_000;
/// How often the event log is pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(60 * 60);

/// Runs forever, on the hub's clock; spawn it.
pub async fn run(hub: Arc<Hub>) {
    let timeout = hub.settings.config.ring_timeout_secs;
    let every = Duration::from_secs((timeout / 4).clamp(1, 5));
    // One pass at a time, so that the janitor never has more than one change waiting for
    // the writer.
    let pruned: Arc<Mutex<Option<OffsetDateTime>>> = Arc::default();
    let clock = hub.clock.clone();
    // One node of a hub on PostgreSQL does this for all of them.
    let lease = hub.store.lease(Work::Janitor);
    repeat(&*clock, every, move || {
        let (hub, pruned, lease) = (hub.clone(), pruned.clone(), lease.clone());
        async move {
            if !lease.held().await {
                return;
            }
            close_forgotten_calls(&hub).await;
            reap_nodes(&hub).await;
            let now = hub.clock.now();
            let due = lock(&pruned).is_none_or(|at| now - at >= PRUNE_EVERY);
            if due {
                *lock(&pruned) = Some(now);
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

/// Runs `pass` now and then every `every` (at least a millisecond) on `clock`, forever: the
/// next pass starts `every` after the last one started, or at once when that one took
/// longer. Each pass runs as a task of its own: one that panics is logged, and the next runs
/// on time.
async fn repeat<F, P>(clock: &dyn Clock, every: Duration, mut pass: F)
where
    F: FnMut() -> P,
    P: Future<Output = ()> + Send + 'static,
{
    let every = every.max(Duration::from_millis(1));
    loop {
        let started = clock.now();
        if let Err(e) = tokio::spawn(pass()).await {
            tracing::error!("a janitor pass failed: {e}");
        }
        let spent = clock.now() - started;
        // A clock set back counts as no time spent.
        let spent = Duration::try_from(spent).unwrap_or(Duration::ZERO);
        clock.sleep(every.saturating_sub(spent)).await;
    }
}

async fn close_forgotten_calls(hub: &Hub) {
    let now = hub.clock.now();
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

/// Tells the team that the agents streaming only from a node that died are offline.
async fn reap_nodes(hub: &Hub) {
    match hub.recorder.reap_nodes().await {
        Ok(0) => {}
        Ok(n) => tracing::warn!("{n} agent(s) streamed from a node that stopped: now offline"),
        Err(e) => tracing::error!("janitor could not forget stopped nodes: {e}"),
    }
}

async fn prune_events(hub: &Hub) {
    let cutoff = hub.clock.now() - EVENT_RETENTION;
    if let Err(e) = hub.recorder.prune_events(cutoff, EVENTS_KEPT).await {
        tracing::error!("janitor could not prune the event log: {e}");
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use ringside_clock::ManualClock;

    /// A janitor of `pass`es every `every` on a manual clock, and how many passes started.
    fn counted(
        every: Duration,
        pass: impl Fn(usize) + Send + Sync + 'static,
    ) -> (ManualClock, Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
        let clock = ManualClock::starting_at(OffsetDateTime::UNIX_EPOCH);
        let runs = Arc::new(AtomicUsize::new(0));
        let (counted, pass) = (runs.clone(), Arc::new(pass));
        let ticking = clock.clone();
        let janitor = tokio::spawn(async move {
            repeat(&ticking, every, move || {
                let (counted, pass) = (counted.clone(), pass.clone());
                async move { pass(counted.fetch_add(1, Ordering::SeqCst)) }
            })
            .await
        });
        (clock, runs, janitor)
    }

    #[tokio::test]
    async fn a_failing_pass_does_not_stop_the_next() {
        let every = Duration::from_secs(5);
        let (clock, runs, janitor) = counted(every, |n| {
            if n == 0 {
                panic!("the first pass fails");
            }
        });
        for passes in 1..3 {
            clock.begun(passes).await;
            clock.advance(every);
        }
        clock.begun(3).await;
        assert_eq!(
            runs.load(Ordering::SeqCst),
            3,
            "passes go on after one failed"
        );
        assert!(!janitor.is_finished());
        janitor.abort();
    }

    #[tokio::test]
    async fn the_next_pass_waits_for_its_time() {
        let every = Duration::from_secs(5);
        let (clock, runs, janitor) = counted(every, |_| {});
        clock.begun(1).await;
        assert_eq!(
            runs.load(Ordering::SeqCst),
            1,
            "the first pass runs at once"
        );
        clock.advance(every - Duration::from_millis(1));
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1, "not before its time");
        clock.advance(Duration::from_millis(1));
        clock.begun(2).await;
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        janitor.abort();
    }

    #[tokio::test]
    async fn a_zero_period_does_not_panic() {
        let (clock, runs, janitor) = counted(Duration::ZERO, |_| {});
        clock.begun(1).await;
        clock.advance(Duration::from_millis(1));
        clock.begun(2).await;
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        assert!(!janitor.is_finished());
        janitor.abort();
    }
}
