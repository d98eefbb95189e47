//! Reconnect delays: exponential backoff with full jitter, so that a hub restart does not
//! see every desktop reconnect in the same instant.
//!
//! The n-th retry waits a uniformly random time in `[0, min(cap, base * 2^n)]`; a
//! connection that stayed up for `reset_after` starts the sequence over.

use std::time::Duration;

use rand::Rng;

/// How reconnect delays grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// The ceiling of the first delay.
    pub base: Duration,
    /// The largest ceiling, however many attempts failed.
    pub cap: Duration,
    /// How long a connection must have stayed up for the next loss to count as a first one.
    pub reset_after: Duration,
}

impl Default for BackoffPolicy {
    /// 0.5 s doubling up to 30 s; reset after 30 s of connection.
    fn default() -> Self {
        BackoffPolicy {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
            reset_after: Duration::from_secs(30),
        }
    }
}

/// The state of one reconnect sequence (also used by the app to retry its first request).
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: BackoffPolicy,
    attempt: u32,
}

impl Backoff {
    /// A sequence at its first attempt.
    pub fn new(policy: BackoffPolicy) -> Self {
        Backoff { policy, attempt: 0 }
    }

    /// The largest delay the next attempt may draw.
    fn ceiling(&self) -> Duration {
        let factor = 2u32.saturating_pow(self.attempt);
        self.policy.base.saturating_mul(factor).min(self.policy.cap)
    }

    /// Draws the delay before the next attempt and counts the attempt.
    pub(crate) fn next_delay(&mut self, rng: &mut impl Rng) -> Duration {
        let ceiling = u64::try_from(self.ceiling().as_nanos()).unwrap_or(u64::MAX);
        self.attempt = self.attempt.saturating_add(1);
        Duration::from_nanos(rng.random_range(0..=ceiling))
    }

    /// Draws the next delay with the thread's random generator.
    pub fn next_jittered(&mut self) -> Duration {
        self.next_delay(&mut rand::rng())
    }

    /// Starts over: after a connection that stayed up, or when asked to reconnect now.
    pub(crate) fn reset(&mut self) {
        self.attempt = 0;
    }

    /// Notes a lost connection that was up for `uptime`; a long-lived one resets the sequence.
    pub(crate) fn connection_ended(&mut self, uptime: Duration) {
        if uptime >= self.policy.reset_after {
            self.reset();
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;

    fn policy() -> BackoffPolicy {
        BackoffPolicy {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
            reset_after: Duration::from_secs(10),
        }
    }

    #[test]
    fn ceiling_doubles_up_to_the_cap() {
        let mut backoff = Backoff::new(policy());
        let mut rng = StdRng::seed_from_u64(1);
        let mut ceilings = vec![];
        for _ in 0..10 {
            ceilings.push(backoff.ceiling().as_millis());
            backoff.next_delay(&mut rng);
        }
        assert_eq!(
            ceilings,
            [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000]
        );
    }

    #[test]
    fn never_overflows_after_very_many_attempts() {
        let mut backoff = Backoff::new(policy());
        let mut rng = StdRng::seed_from_u64(2);
        for _ in 0..200 {
            assert!(backoff.next_delay(&mut rng) <= Duration::from_secs(30));
        }
    }

    #[test]
    fn jitter_spreads_over_the_whole_range() {
        let mut rng = StdRng::seed_from_u64(3);
        let delays: Vec<Duration> = (0..1000)
            .map(|_| Backoff::new(policy()).next_delay(&mut rng))
            .collect();
        let ceiling = Duration::from_millis(500);
        assert!(delays.iter().all(|d| *d <= ceiling));
        assert!(
            delays.iter().any(|d| *d < ceiling / 10),
            "full jitter reaches near 0"
        );
        assert!(
            delays.iter().any(|d| *d > ceiling * 9 / 10),
            "and near the ceiling"
        );
        let mean = delays.iter().sum::<Duration>() / 1000;
        assert!(mean > ceiling * 2 / 5 && mean < ceiling * 3 / 5, "{mean:?}");
    }

    #[test]
    fn a_connection_that_stayed_up_resets_the_sequence() {
        let mut backoff = Backoff::new(policy());
        let mut rng = StdRng::seed_from_u64(4);
        for _ in 0..5 {
            backoff.next_delay(&mut rng);
        }
        backoff.connection_ended(Duration::from_secs(9));
        assert_eq!(
            backoff.ceiling(),
            Duration::from_secs(16),
            "too short to reset"
        );
        backoff.connection_ended(Duration::from_secs(10));
        assert_eq!(backoff.ceiling(), Duration::from_millis(500));
    }

    #[test]
    fn reset_starts_over() {
        let mut backoff = Backoff::new(policy());
        let mut rng = StdRng::seed_from_u64(5);
        backoff.next_delay(&mut rng);
        backoff.next_delay(&mut rng);
        backoff.reset();
        assert_eq!(backoff.ceiling(), Duration::from_millis(500));
    }
}
