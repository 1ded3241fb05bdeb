//! Lockout after repeated failed logins.

use chrono::{DateTime, Duration, Utc};

/// After `max_failures` consecutive failed logins an account refuses logins for `lock_for`. When the
/// lock is set the count starts again, so after the lock expires the user has a fresh set of tries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures that trigger a lock (default 5).
    pub max_failures: u32,
    /// Length of a lock (default 15 minutes).
    pub lock_for: Duration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self { max_failures: 5, lock_for: Duration::minutes(15) }
    }
}

impl LockoutPolicy {
    /// The failure count that locks an account, in the store's integer type.
    pub fn limit(&self) -> i32 {
        i32::try_from(self.max_failures).unwrap_or(i32::MAX)
    }

    /// When a lock that falls at `now` ends.
    pub fn lock_until(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + self.lock_for
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_saturates_and_a_lock_lasts_lock_for() {
        let policy = LockoutPolicy::default();
        assert_eq!(policy.limit(), 5);
        assert_eq!(LockoutPolicy { max_failures: u32::MAX, ..policy }.limit(), i32::MAX);
        let now = Utc::now();
        assert_eq!(policy.lock_until(now), now + Duration::minutes(15));
    }
}
