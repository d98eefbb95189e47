//! Noticing that the computer slept: the monotonic clock stops while the machine is
//! suspended, the wall clock does not. When the wall clock ran ahead of the monotonic one
//! by more than a threshold between two looks, the machine was asleep (or its clock was
//! set), and the stream should reconnect at once instead of waiting for its heartbeat to
//! time out.

use std::time::{Duration, Instant, SystemTime};

/// How often the app looks at the clocks.
pub const WAKE_CHECK_INTERVAL: Duration = Duration::from_secs(5);

/// How far the wall clock must run ahead to count as a sleep.
pub const WAKE_THRESHOLD: Duration = Duration::from_secs(10);

/// Compares the two clocks between looks.
#[derive(Debug, Clone)]
pub struct WakeDetector {
    monotonic: Instant,
    wall: SystemTime,
}

impl WakeDetector {
    /// Starts from the clocks as they read now.
    pub fn new(monotonic: Instant, wall: SystemTime) -> Self {
        WakeDetector { monotonic, wall }
    }

    /// Takes a new reading; `true` when the machine slept (or the clock jumped) since the
    /// last one.
    pub fn woke(&mut self, monotonic: Instant, wall: SystemTime) -> bool {
        let awake = monotonic.saturating_duration_since(self.monotonic);
        let passed = wall.duration_since(self.wall);
        self.monotonic = monotonic;
        self.wall = wall;
        match passed {
            Ok(passed) => passed.saturating_sub(awake) > WAKE_THRESHOLD,
            // The wall clock went backwards: it was set, and connections may be stale.
            Err(back) => back.duration() > WAKE_THRESHOLD,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_in_step_mean_awake() {
        let (m, w) = (Instant::now(), SystemTime::now());
        let mut detector = WakeDetector::new(m, w);
        let step = WAKE_CHECK_INTERVAL;
        assert!(!detector.woke(m + step, w + step + Duration::from_secs(1)));
    }

    #[test]
    fn a_wall_clock_far_ahead_means_a_sleep() {
        let (m, w) = (Instant::now(), SystemTime::now());
        let mut detector = WakeDetector::new(m, w);
        let step = WAKE_CHECK_INTERVAL;
        assert!(detector.woke(m + step, w + step + Duration::from_secs(3600)));
        assert!(
            !detector.woke(m + step * 2, w + step * 2 + Duration::from_secs(3600)),
            "only once per sleep"
        );
    }

    #[test]
    fn a_clock_set_back_counts_too() {
        let (m, w) = (Instant::now(), SystemTime::now());
        let mut detector = WakeDetector::new(m, w);
        assert!(detector.woke(m + WAKE_CHECK_INTERVAL, w - Duration::from_secs(600)));
    }
}
