//! The time the platform runs on: the system's, or, in a test, the system's
//! moved forward by as much as the test says.
//!
//! Whatever waits on the platform's time (a desktop flow run's end, a
//! lockout's, a token's expiry, a cached read's age) reads it from one
//! [`Clock`], so a test passes a minute with [`TestClock::advance`] instead
//! of sleeping one. A test clock is the system's plus an offset that only
//! grows: it never goes back further than the system's own clock does, and
//! an [`Instant`] from it never goes back.
//!
//! What is timed against the network stays on the real time: socket and
//! request timeouts (tokio's), the cache of outside issuers' keys, TLS
//! certificates (peers check them against their own clocks), and the
//! timestamp an error answer carries, like a log line's.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// The furthest a [`TestClock`] goes ahead of the system: a century.
pub const MOST_AHEAD: Duration = Duration::from_secs(100 * 365 * 86_400);

/// The platform's clock: cheap to clone, shared by everything that stamps
/// or compares times. [`Clock::default`] is the system's.
#[derive(Clone, Default)]
pub struct Clock {
    /// How far ahead of the system's time, in nanoseconds: only a
    /// [`TestClock`] moves it.
    ahead: Option<Arc<AtomicU64>>,
}

impl Clock {
    /// The system's clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// The time of day now.
    pub fn now(&self) -> SystemTime {
        SystemTime::now() + self.ahead()
    }

    /// A point in monotonic time now, for durations.
    pub fn instant(&self) -> Instant {
        Instant::now() + self.ahead()
    }

    fn ahead(&self) -> Duration {
        self.ahead.as_ref().map_or(Duration::ZERO, |ahead| {
            Duration::from_nanos(ahead.load(Ordering::Acquire))
        })
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.ahead {
            None => f.write_str("Clock(system)"),
            Some(_) => write!(f, "Clock(system + {:?})", self.ahead()),
        }
    }
}

/// A clock a test moves forward; [`clock`](Self::clock) is what the code
/// under test is given.
#[derive(Clone, Default)]
pub struct TestClock {
    ahead: Arc<AtomicU64>,
}

impl TestClock {
    pub fn new() -> Self {
        Self::default()
    }

    /// The clock to hand to the platform, its store or a guard.
    pub fn clock(&self) -> Clock {
        Clock {
            ahead: Some(self.ahead.clone()),
        }
    }

    /// Moves every clock made from this one forward by `by`, up to
    /// [`MOST_AHEAD`] in all, where it stays (so no time it gives
    /// overflows).
    pub fn advance(&self, by: Duration) {
        let most = MOST_AHEAD.as_nanos() as u64;
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(most);
        let _ = self
            .ahead
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |ahead| {
                Some(ahead.saturating_add(nanos).min(most))
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_clock_is_the_systems_time() {
        let before = SystemTime::now();
        let now = Clock::system().now();
        assert!(before <= now && now <= SystemTime::now());
    }

    #[test]
    fn a_test_clock_moves_every_clock_made_from_it_and_only_forward() {
        let test = TestClock::new();
        let (clock, other) = (test.clock(), test.clock());
        let (wall, mono) = (SystemTime::now(), Instant::now());
        test.advance(Duration::from_secs(61));
        for clock in [&clock, &other] {
            assert!(clock.now() >= wall + Duration::from_secs(61));
            assert!(clock.instant() >= mono + Duration::from_secs(61));
            // Well under a day of real time has passed.
            assert!(clock.now() < wall + Duration::from_secs(86_400));
        }
        assert!(Clock::system().now() < wall + Duration::from_secs(60));
        test.advance(Duration::MAX);
        test.advance(Duration::from_secs(1));
        assert!(clock.instant() >= mono + MOST_AHEAD, "stays at the most");
        assert!(clock.now() < SystemTime::now() + MOST_AHEAD + Duration::from_secs(60));
    }
}
