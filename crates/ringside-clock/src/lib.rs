//! The time the hub and the client are given rather than read from the system, so that what
//! depends on time (the hub's janitor and the time of every change, the client's retries and
//! the popup kept warm) can be driven by a test: [`SystemClock`] in production, [`ManualClock`]
//! where a test moves time by hand. Tokio's paused time cannot stand in for it: it jumps
//! ahead whenever every task waits, which they do on the real sockets and the real fsync of a
//! hub under test.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::{oneshot, watch};

/// A sleep in progress, as a clock hands it out.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// What tells the time and lets a task wait.
pub trait Clock: Debug + Send + Sync + 'static {
    /// The current wall-clock time.
    fn now(&self) -> OffsetDateTime;

    /// Resolves once `duration` has passed on this clock.
    fn sleep(&self, duration: Duration) -> Sleep;
}

/// The computer's clock and Tokio's timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A clock that stands still until [`ManualClock::advance`] moves it: for tests that decide
/// when a retry, a timer or a periodic pass happens. A test can wait until a task sleeps on
/// it ([`ManualClock::next_sleep`], [`ManualClock::begun`]): then the task has done its work
/// and waits for its time. Cheap to clone; clones share the time.
#[derive(Debug, Clone)]
pub struct ManualClock {
    inner: Arc<Mutex<Timeline>>,
    /// The durations of the sleeps waiting now, oldest first.
    waiting: Arc<watch::Sender<Vec<Duration>>>,
    /// How many sleeps have begun since the clock was made.
    begun: Arc<watch::Sender<u64>>,
}

#[derive(Debug)]
struct Timeline {
    now: OffsetDateTime,
    /// Time passed since the clock was made.
    elapsed: Duration,
    /// Each waiting sleep: when it ends (on `elapsed`'s scale), how long it was, its waker.
    sleepers: Vec<(Duration, Duration, oneshot::Sender<()>)>,
}

impl ManualClock {
    /// A clock that reads `now` until advanced.
    pub fn starting_at(now: OffsetDateTime) -> ManualClock {
        ManualClock {
            inner: Arc::new(Mutex::new(Timeline {
                now,
                elapsed: Duration::ZERO,
                sleepers: Vec::new(),
            })),
            waiting: Arc::new(watch::Sender::new(Vec::new())),
            begun: Arc::new(watch::Sender::new(0)),
        }
    }

    /// Moves the clock `by` ahead and wakes every sleep that has ended.
    pub fn advance(&self, by: Duration) {
        let mut timeline = self.timeline();
        timeline.now += by;
        timeline.elapsed += by;
        let elapsed = timeline.elapsed;
        let (ended, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut timeline.sleepers)
            .into_iter()
            .partition(|(end, _, _)| *end <= elapsed);
        timeline.sleepers = waiting;
        self.publish(&timeline);
        drop(timeline);
        for (_, _, waker) in ended {
            let _ = waker.send(());
        }
    }

    /// Waits until a sleep is waiting on this clock and returns how long it is (the first
    /// one started, when several wait).
    pub async fn next_sleep(&self) -> Duration {
        let mut waiting = self.waiting.subscribe();
        let durations = waiting
            .wait_for(|durations| !durations.is_empty())
            .await
            .expect("the clock holds its sender");
        durations[0]
    }

    /// The durations of the sleeps waiting now, oldest first.
    pub fn sleeping(&self) -> Vec<Duration> {
        self.waiting.borrow().clone()
    }

    /// How many sleeps have begun on this clock since it was made.
    pub fn sleeps(&self) -> u64 {
        *self.begun.borrow()
    }

    /// Waits until `count` sleeps have begun on this clock since it was made: a task that
    /// sleeps between passes has finished as many passes.
    pub async fn begun(&self, count: u64) {
        let mut begun = self.begun.subscribe();
        let _ = begun.wait_for(|n| *n >= count).await;
    }

    fn timeline(&self) -> MutexGuard<'_, Timeline> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Tells the watchers which sleeps wait (dropped ones, whose sleep was cancelled, are
    /// left out).
    fn publish(&self, timeline: &Timeline) {
        let durations = timeline
            .sleepers
            .iter()
            .filter(|(_, _, waker)| !waker.is_closed())
            .map(|(_, duration, _)| *duration)
            .collect();
        self.waiting.send_replace(durations);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        self.timeline().now
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        if duration.is_zero() {
            self.begun.send_modify(|n| *n += 1);
            return Box::pin(std::future::ready(()));
        }
        let (waker, woken) = oneshot::channel();
        {
            // The end is fixed before the sleep counts as begun: a test that saw it begin
            // and then moves the clock wakes it.
            let mut timeline = self.timeline();
            let end = timeline.elapsed + duration;
            timeline.sleepers.push((end, duration, waker));
            self.publish(&timeline);
        }
        self.begun.send_modify(|n| *n += 1);
        Box::pin(async move {
            // A dropped clock never wakes its sleepers; that ends nothing either.
            if woken.await.is_err() {
                std::future::pending::<()>().await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_sleep_ends_only_when_the_clock_is_advanced_past_it() {
        let start = OffsetDateTime::UNIX_EPOCH;
        let clock = ManualClock::starting_at(start);
        let mut sleep = clock.sleep(Duration::from_secs(2));
        assert_eq!(clock.next_sleep().await, Duration::from_secs(2));
        clock.advance(Duration::from_secs(1));
        assert!(futures_util::FutureExt::now_or_never(&mut sleep).is_none());
        clock.advance(Duration::from_secs(1));
        sleep.await;
        assert_eq!(clock.now(), start + Duration::from_secs(2));
        assert!(clock.sleeping().is_empty());
    }

    #[tokio::test]
    async fn a_test_can_wait_for_a_task_to_begin_its_sleep() {
        let clock = ManualClock::starting_at(OffsetDateTime::UNIX_EPOCH);
        let task = {
            let clock = clock.clone();
            tokio::spawn(async move {
                clock.sleep(Duration::from_secs(5)).await;
                clock.sleep(Duration::from_secs(5)).await;
            })
        };
        clock.begun(1).await;
        clock.advance(Duration::from_secs(4));
        tokio::task::yield_now().await;
        assert_eq!(clock.sleeps(), 1, "the first sleep has not ended yet");
        clock.advance(Duration::from_secs(1));
        clock.begun(2).await;
        clock.advance(Duration::from_secs(5));
        task.await.unwrap();
        assert_eq!(clock.sleeps(), 2);
    }
}
