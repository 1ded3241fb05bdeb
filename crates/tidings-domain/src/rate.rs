//! Rate limits kept where every node of a cluster counts against the same budget (Redis), so that
//! N nodes do not grant N times a limit.

use std::num::NonZeroU32;
use std::time::Duration;

use async_trait::async_trait;

/// A limiter the nodes share.
#[async_trait]
pub trait SharedLimiter: Send + Sync {
    /// Counts one event of `key` against `limit` per `period` (in bursts of up to `limit`):
    /// `Ok(None)` when it may go, `Ok(Some(wait))` when it is over and may go after `wait`, `Err`
    /// when the shared store did not answer (the caller then counts on its own).
    async fn check(&self, key: &str, limit: NonZeroU32, period: Duration)
    -> Result<Option<Duration>, String>;
}
