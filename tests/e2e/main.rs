//! End-to-end tests: the real `tidings-server` binary, started on a free port, talked to over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a panic is how a test fails")]

mod appointments;
mod cluster;
mod outbox;
mod push;
mod realtime;
mod server;
mod socketio;
mod startup;
mod tracing;
mod web;
