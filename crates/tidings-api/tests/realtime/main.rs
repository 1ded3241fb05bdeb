//! The realtime protocol through real WebSocket clients against a server listening on a free port,
//! on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a panic is how a test fails")]

mod appointments;
mod attachments;
mod cancellation;
mod delivery;
mod feed;
mod forward;
mod live;
mod metrics;
mod publish;
mod push;
mod robustness;
mod security;
mod socketio;
mod socketio_limits;
mod upgrade;
