//! When a failed call is tried again: exponential backoff with full jitter, up to a number of attempts.

use std::time::Duration;

use rand::Rng;

/// Backoff and attempts of outbox deliveries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The first retry waits up to this long.
    pub base: Duration,
    /// No retry waits longer than this.
    pub cap: Duration,
    /// After this many failed attempts an item is dead.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { base: Duration::from_secs(1), cap: Duration::from_secs(300), max_attempts: 10 }
    }
}

impl RetryPolicy {
    /// The longest wait after failed attempt number `attempt` (1 for the first): `base * 2^(attempt-1)`,
    /// at most `cap`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let doubling = 2u32.saturating_pow(attempt.saturating_sub(1).min(31));
        self.base.saturating_mul(doubling).min(self.cap)
    }

    /// The wait after failed attempt number `attempt`: uniformly random up to [`Self::ceiling`] ("full
    /// jitter"), so that items that failed together do not come back together.
    pub fn delay(&self, attempt: u32, rng: &mut impl Rng) -> Duration {
        let ceiling = self.ceiling(attempt);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rng.random_range(0..=millis))
    }

    /// Whether failed attempt number `attempt` was the last one allowed.
    pub fn exhausted(&self, attempt: u32) -> bool {
        attempt >= self.max_attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_cap_with_full_jitter() {
        let policy = RetryPolicy::default();
        let ceilings: Vec<u64> = (1..=11).map(|a| policy.ceiling(a).as_secs()).collect();
        assert_eq!(ceilings, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(policy.ceiling(1000), Duration::from_secs(300), "no overflow");
        let mut rng = rand::rng();
        let delays: Vec<Duration> = (0..200).map(|_| policy.delay(4, &mut rng)).collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(8)));
        assert!(delays.iter().any(|d| *d < Duration::from_secs(4)), "spread below the ceiling");
        assert!(!policy.exhausted(9) && policy.exhausted(10));
    }
}
