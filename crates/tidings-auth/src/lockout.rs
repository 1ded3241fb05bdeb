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
    /// Whether an account locked until `locked_until` refuses logins at `now`.
    pub fn is_locked(&self, locked_until: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
        locked_until.is_some_and(|until| until > now)
    }

    /// Whether the `failures`-th consecutive failure should lock the account.
    pub fn should_lock(&self, failures: i32) -> bool {
        i64::from(failures) >= i64::from(self.max_failures)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_at_the_limit_and_expires() {
        let policy = LockoutPolicy::default();
        assert!(!policy.should_lock(4));
        assert!(policy.should_lock(5));
        let now = Utc::now();
        assert!(!policy.is_locked(None, now));
        assert!(policy.is_locked(Some(now + policy.lock_for), now));
        assert!(!policy.is_locked(Some(now - Duration::seconds(1)), now));
    }
}
