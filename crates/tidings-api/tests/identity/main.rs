//! Identity and access through HTTP, on SQLite and PostgreSQL: accounts, tokens, the team, apps and
//! API keys, and every attack the issue lists.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a panic is how a test fails")]

mod accounts;
mod audit;
mod keys;
mod lists;
mod lockout;
mod ordered;
mod password_reset;
mod session_cookie;
mod setup;
#[path = "../support/mod.rs"]
mod support;
mod team;
mod tokens;
