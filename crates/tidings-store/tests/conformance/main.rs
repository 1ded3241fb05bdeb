//! The store conformance suite: the same assertions against SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a panic is how a test fails")]

use tidings_domain::{RepoErrorKind, RepoResult};

mod appointments;
mod checkpoints;
mod conversations;
mod devices;
mod errors;
mod feed;
mod integrations;
mod jobs;
mod keys;
mod messages;
mod outbox;
mod paging;
mod password_resets;
mod tenancy;
mod tokens;
mod units;
mod uploads;
mod users;

/// The kind of a failed call's error, `None` for a success: compared in assertions whose failure
/// then shows both kinds.
pub fn error_kind<T>(result: &RepoResult<T>) -> Option<RepoErrorKind> {
    result.as_ref().err().map(tidings_domain::RepoError::kind)
}
