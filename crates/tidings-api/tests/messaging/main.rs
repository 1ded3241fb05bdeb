//! Contacts, conversations and messages through HTTP, on SQLite and PostgreSQL: the guarantees
//! (gapless order, idempotent retries, forward-only status), access rules and tenant isolation.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a panic is how a test fails")]

mod attachments;
mod contacts;
mod conversations;
mod guarantees;
mod identity_verification;
mod meta;
mod outbox;
mod retention;
mod shapes;
#[path = "../support/mod.rs"]
mod support;
mod uploads;
mod webhooks;
