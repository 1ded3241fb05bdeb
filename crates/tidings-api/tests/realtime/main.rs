//! The realtime protocol through real WebSocket clients against a server listening on a free port,
//! on SQLite and PostgreSQL.

mod cancellation;
mod delivery;
mod live;
mod robustness;
mod security;
