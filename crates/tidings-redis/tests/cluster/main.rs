//! Nodes of a cluster on one Redis: the bus, presence and rate limits, through the crate's public interface.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a panic is how a test fails")]

mod bus;
mod presence;
mod rate_limit;

use std::time::Duration;

/// How long a test waits for something to reach another node.
const WAIT: Duration = Duration::from_secs(10);

/// The Redis the tests use; `None` (skipped with a notice) when unset, except under CI.
fn redis_url() -> Option<String> {
    match std::env::var("TIDINGS_TEST_REDIS_URL") {
        Ok(url) => Some(url),
        Err(_) => {
            assert!(std::env::var_os("CI").is_none(), "TIDINGS_TEST_REDIS_URL must be set when CI is");
            eprintln!("notice: TIDINGS_TEST_REDIS_URL is not set; the Redis tests are skipped");
            None
        }
    }
}
