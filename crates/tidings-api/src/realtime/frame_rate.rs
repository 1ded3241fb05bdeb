//! How many frames a client may send on one live connection: a sustained rate with bursts of three
//! times as many (subscribing to a few conversations at once on connect), through `governor`. A
//! client over it is closed with 1008: no client of ours sends like that, and answering each frame
//! would cost as much as serving it.

use std::num::NonZeroU32;

use governor::{DefaultDirectRateLimiter, Quota};

/// The frame budget of one connection.
pub(crate) struct FrameRate(Option<DefaultDirectRateLimiter>);

impl FrameRate {
    /// `per_second` frames a second, in bursts of three times as many; no limit for 0.
    pub(crate) fn new(per_second: u32) -> Self {
        Self(NonZeroU32::new(per_second).map(|n| {
            let burst = n.saturating_mul(NonZeroU32::MIN.saturating_add(2));
            governor::RateLimiter::direct(Quota::per_second(n).allow_burst(burst))
        }))
    }

    /// Counts one frame; false when the client is over its budget.
    pub(crate) fn allow(&self) -> bool {
        self.0.as_ref().is_none_or(|limiter| limiter.check().is_ok())
    }
}
