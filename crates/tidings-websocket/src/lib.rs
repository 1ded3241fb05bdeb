//! Server-side WebSockets for the live doors: an HTTP server whose upgrades are handed to the
//! door that accepted them ([`server`], [`accept`]), and a [`WebSocket`] that owns its TCP stream
//! and holds almost nothing while idle.

mod frame_guard;
pub mod server;
mod socket;
mod upgrade;

pub use socket::{CloseCode, CloseReason, FLUSH_AT, Gone, Inbound, Limits, ReadError, WebSocket, text_frame};
pub use upgrade::{AcceptError, accept};
