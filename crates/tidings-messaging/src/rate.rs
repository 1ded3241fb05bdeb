//! A rate limit by key: counted in this process (GCRA through `governor`), or across the cluster
//! through a [`SharedLimiter`] when one is given, falling back to this process's count while the
//! shared store does not answer.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use tidings_domain::SharedLimiter;

/// How many keys a local limiter remembers before it forgets those not seen lately.
const REMEMBERED_KEYS: usize = 100_000;

/// `limit` events per `period` per key, in bursts of up to `limit`.
#[derive(Clone)]
pub struct Limiter {
    name: &'static str,
    limit: NonZeroU32,
    period: Duration,
    local: Arc<DefaultKeyedRateLimiter<String>>,
    shared: Option<Arc<dyn SharedLimiter>>,
}

impl Limiter {
    /// A limit named `name` (it prefixes its keys in the shared store); `None` when `limit` is 0.
    pub fn new(name: &'static str, limit: u32, period: Duration) -> Option<Self> {
        let limit = NonZeroU32::new(limit)?;
        let quota = Quota::with_period(period / limit.get())?.allow_burst(limit);
        let local = Arc::new(governor::RateLimiter::keyed(quota));
        Some(Self { name, limit, period, local, shared: None })
    }

    /// Counts across the cluster through `shared`.
    pub fn shared(mut self, shared: Option<Arc<dyn SharedLimiter>>) -> Self {
        self.shared = shared;
        self
    }

    /// The limit's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Counts one event of `key`; `Err(wait)` when it is over its limit.
    pub async fn check(&self, key: &str) -> Result<(), Duration> {
        if let Some(shared) = &self.shared {
            match shared.check(&format!("{}:{key}", self.name), self.limit, self.period).await {
                Ok(None) => return Ok(()),
                Ok(Some(wait)) => return Err(wait),
                Err(error) => {
                    tracing::debug!(%error, limit = self.name, "shared rate limit unavailable; counting here")
                }
            }
        }
        let outcome = self.local.check_key(&key.to_owned());
        if self.local.len() > REMEMBERED_KEYS {
            self.local.retain_recent();
        }
        outcome.map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}
