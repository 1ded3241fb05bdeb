//! The store conformance suite: the same assertions against SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a panic is how a test fails")]

mod conversations;
mod keys;
mod messages;
mod tenancy;
mod tokens;
mod units;
mod users;
