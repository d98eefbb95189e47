//! The hub's clock, given to it rather than read from the system, so that what depends on
//! time (the janitor's passes and cutoffs, the time of every change) can be driven by a test:
//! [`SystemClock`] in production, [`ManualClock`] where a test moves time by hand.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::watch;

/// A future the clock resolves once a duration has passed on it.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// What tells the hub the time and lets it wait.
pub trait Clock: Debug + Send + Sync {
    /// The time now.
    fn now(&self) -> OffsetDateTime;

    /// Resolves once `duration` has passed on this clock.
    fn sleep(&self, duration: Duration) -> Sleep;
}

/// The system's clock and Tokio's timer.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A clock that stands still until [`ManualClock::advance`] moves it; for tests, which then
/// see the janitor and presence act at once instead of waiting on the wall clock. It counts
/// the sleeps begun on it, so that a test knows when a task that sleeps between passes (the
/// janitor) has finished a pass and waits for its time.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<watch::Sender<OffsetDateTime>>,
    begun: Arc<watch::Sender<u64>>,
}

impl ManualClock {
    /// A clock that reads `start` until it is moved.
    pub fn new(start: OffsetDateTime) -> Self {
        ManualClock {
            now: Arc::new(watch::Sender::new(start)),
            begun: Arc::new(watch::Sender::new(0)),
        }
    }

    /// Moves the clock on by `by`, waking every sleep that ends by then.
    pub fn advance(&self, by: Duration) {
        self.now.send_modify(|now| *now += by);
    }

    /// How many sleeps have begun on this clock since it was made.
    pub fn sleeps(&self) -> u64 {
        *self.begun.borrow()
    }

    /// Waits until `count` sleeps have begun on this clock since it was made.
    pub async fn begun(&self, count: u64) {
        let mut begun = self.begun.subscribe();
        let _ = begun.wait_for(|n| *n >= count).await;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.now.borrow()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        // The end is fixed before the sleep counts as begun: a test that saw it begin and
        // then moves the clock wakes it.
        let deadline = self.now() + duration;
        let mut now = self.now.subscribe();
        self.begun.send_modify(|n| *n += 1);
        Box::pin(async move {
            let _ = now.wait_for(|now| *now >= deadline).await;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_sleep_ends_when_the_clock_is_moved_past_it() {
        let clock = ManualClock::new(OffsetDateTime::UNIX_EPOCH);
        let sleep = tokio::spawn(clock.sleep(Duration::from_secs(5)));
        clock.begun(1).await;
        clock.advance(Duration::from_secs(4));
        tokio::task::yield_now().await;
        assert!(!sleep.is_finished(), "not yet");
        clock.advance(Duration::from_secs(1));
        sleep.await.unwrap();
        assert_eq!(
            clock.now(),
            OffsetDateTime::UNIX_EPOCH + Duration::from_secs(5)
        );
        assert_eq!(clock.sleeps(), 1);
    }
}
